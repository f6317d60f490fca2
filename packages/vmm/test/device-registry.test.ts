// A VMM makes its devices only through its registry: a build for one placement names only the devices placed
// there, and a device the placement names that the registry lacks is not modelled — its ports answer as an
// empty bus, in this thread and in the device host's worker alike (the worker is sent the names).
import { IdleCpu } from '@splitvisor/scripted-guest';
import { describe, expect, it } from 'vitest';
import type { DeviceRegistry, VmMode } from '../src/index.ts';
import { PC_DEVICES, Vm } from '../src/index.ts';
import { placement } from './profiles.ts';

/** CMOS register A (0Ah) through the RTC's index and data ports: 26h at power-on, FFh with no RTC there. */
async function registerA(mode: VmMode, devices?: DeviceRegistry) {
  const vm = new Vm(placement('kvm-irqchip'), new IdleCpu(), { mode, ...(devices === undefined ? {} : { devices }) });
  try {
    vm.io('out', 0x70, 1, 0x0a);
    return { value: vm.io('in', 0x71, 1, 0), unmodelled: vm.unmodelled, where: vm.whereIs('rtc'), windows: vm.deviceWindows().filter((w) => w.name === 'rtc').length };
  } finally {
    await vm.close();
  }
}

const { rtc: _rtc, ...withoutRtc } = PC_DEVICES;

describe.each<VmMode>(['modelled', 'live'])('a VMM\'s device registry (%s)', (mode) => {
  it('makes every device its registry names', async () => {
    expect(await registerA(mode)).toEqual({ value: 0x26, unmodelled: [], where: 'user', windows: 2 });
  }, 60_000);

  it('leaves a device its registry lacks unmodelled: its ports answer as an empty bus', async () => {
    expect(await registerA(mode, withoutRtc)).toEqual({ value: 0xff, unmodelled: ['rtc'], where: undefined, windows: 0 });
  }, 60_000);
});
