// A device by name, wherever the placement puts it: where it is, its state, its state set — the same calls for a
// device in the kernel, the monitor or the device host (there through the get/set device state ioctls), modelled
// and live.
import type { DeviceState } from '@splitvisor/abi';
import { pitTick } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import type { VmMode } from '../src/index.ts';
import { Vm, VmError } from '../src/index.ts';
import { placement } from './profiles.ts';

/** A VM that ran Linux's HZ=1000 tick for 20 ms under `profile`. */
function ticked(profile: string, mode: VmMode = 'modelled') {
  const { guest, jiffies } = pitTick({ hz: 1000 });
  const vm = new Vm(placement(profile), guest, { mode });
  vm.run(20_000_000);
  return { vm, jiffies, close: () => vm.close() };
}

describe('a device by name', () => {
  it('is where the placement puts it, the irqchip\'s parts included', async () => {
    const kvm = ticked('kvm-irqchip');
    const split = ticked('kvm-split');
    const plex86 = ticked('plex86');
    expect(['pit', 'pic', 'ioapic', 'lapic', 'rtc'].map((d) => kvm.vm.whereIs(d))).toEqual(['kernel', 'kernel', 'kernel', 'kernel', 'user']);
    expect(['pit', 'pic', 'ioapic', 'lapic'].map((d) => split.vm.whereIs(d))).toEqual(['user', 'user', 'user', 'kernel']);
    expect(['pit', 'pic', 'lapic'].map((d) => plex86.vm.whereIs(d))).toEqual(['monitor', 'monitor', 'monitor']);
    expect(kvm.vm.whereIs('no-such-device')).toBeUndefined();
    expect(() => kvm.vm.deviceState('no-such-device')).toThrow(VmError);
    await Promise.all([kvm.close(), split.close(), plex86.close()]);
  });

  it('gives the same 8254 state from the kernel, the monitor and the device host, modelled and live', async () => {
    const states: DeviceState[] = [];
    for (const [profile, mode] of [['kvm-irqchip', 'modelled'], ['plex86', 'modelled'], ['kvm-userspace-pit', 'modelled'], ['kvm-userspace-pit', 'live']] as const) {
      const run = ticked(profile, mode);
      expect(run.jiffies(), profile).toBe(20);
      states.push(run.vm.deviceState('pit'));
      await run.close();
    }
    expect(states[0]).toMatchObject({ model: 'i8254' });
    for (const state of states.slice(1)) expect(state).toEqual(states[0]);
  });

  it('takes a state back wherever the device is, and refuses another model\'s with one line, the device left as it was', async () => {
    for (const [profile, mode] of [['kvm-irqchip', 'modelled'], ['plex86', 'modelled'], ['kvm-userspace-pit', 'modelled'], ['kvm-userspace-pit', 'live']] as const) {
      const run = ticked(profile, mode);
      const pit = run.vm.deviceState('pit');
      const pic = run.vm.deviceState('pic');
      expect(() => { run.vm.setDeviceState('pit', pic); }, profile).toThrow(/pit: state of i8259/);
      expect(run.vm.deviceState('pit'), profile).toEqual(pit);
      run.vm.setDeviceState('pit', pit);
      expect(run.vm.deviceState('pit'), profile).toEqual(pit);
      await run.close();
    }
  });
});
