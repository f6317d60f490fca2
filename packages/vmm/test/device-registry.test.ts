// A VMM makes its devices only through each domain's build: a build for one placement has only the devices
// placed there, and a device the placement puts where the build cannot make it is not modelled — its ports
// answer as an empty bus, in this thread and in the device host's worker alike (the worker is sent the names).
// A build without the irqchip parts its placement needs is refused in one line, before anything starts.
import { IdleCpu } from '@splitvisor/scripted-guest';
import { describe, expect, it } from 'vitest';
import type { VmBuild, VmMode } from '../src/index.ts';
import { DEVHOST_BUILD, KERNEL_BUILD, MONITOR_BUILD, PC_DEVICES, Vm, VmError } from '../src/index.ts';
import { placement } from './profiles.ts';

/** CMOS register A (0Ah) through the RTC's index and data ports: 26h at power-on, FFh with no RTC there. */
async function registerA(mode: VmMode, build?: VmBuild) {
  const vm = new Vm(placement('kvm-irqchip'), new IdleCpu(), { mode, ...(build === undefined ? {} : { build }) });
  try {
    vm.io('out', 0x70, 1, 0x0a);
    return { value: vm.io('in', 0x71, 1, 0), unmodelled: vm.unmodelled, where: vm.whereIs('rtc'), windows: vm.deviceWindows().filter((w) => w.name === 'rtc').length };
  } finally {
    await vm.close();
  }
}

const { rtc: _rtc, ...withoutRtc } = PC_DEVICES;
const FULL: VmBuild = { kernel: KERNEL_BUILD, monitor: MONITOR_BUILD, devhost: DEVHOST_BUILD };

describe.each<VmMode>(['modelled', 'live'])('a VMM\'s device registry (%s)', (mode) => {
  it('makes every device its registry names', async () => {
    expect(await registerA(mode)).toEqual({ value: 0x26, unmodelled: [], where: 'user', windows: 2 });
  }, 60_000);

  it('leaves a device its registry lacks unmodelled: its ports answer as an empty bus', async () => {
    expect(await registerA(mode, { ...FULL, devhost: { ...DEVHOST_BUILD, devices: withoutRtc } })).toEqual({ value: 0xff, unmodelled: ['rtc'], where: undefined, windows: 0 });
  }, 60_000);
});

describe('a VMM\'s irqchip parts', () => {
  const { legacy: _legacy, ...withoutLegacy } = DEVHOST_BUILD.irqchip;
  it.each<[string, VmBuild, string]>([
    ['kvm-irqchip', { ...FULL, kernel: { ...KERNEL_BUILD, irqchip: {} } }, 'this build has no irqchip in the kernel'],
    ['kvm-split', { ...FULL, devhost: { ...DEVHOST_BUILD, irqchip: withoutLegacy } }, 'this build has no 8259 pair and I/O APIC in the device host'],
    ['plex86', { ...FULL, monitor: { ...MONITOR_BUILD, irqchip: {} } }, 'this build has no irqchip in the monitor'],
  ])('refuses %s on a build without its irqchip', (name, build, message) => {
    expect(() => new Vm(placement(name), new IdleCpu(), { build })).toThrow(VmError);
    expect(() => new Vm(placement(name), new IdleCpu(), { build })).toThrow(message);
  });

  it('leaves a device in the kernel unmodelled when only the device host\'s build has it', () => {
    const vm = new Vm(placement('kvm-irqchip'), new IdleCpu(), { build: { ...FULL, kernel: { ...KERNEL_BUILD, devices: {} } } });
    expect(vm.unmodelled).toEqual(['pit']);
    expect(vm.whereIs('pit')).toBeUndefined();
  });
});
