// Seed 002's verified fast-path programs in a VM: with `io.programs`, the 8254 in userspace (KVM with QEMU's
// PIT) loads its latch-and-read program into the kernel, and Linux's i8253 clocksource reads (latch at 43h, LSB
// and MSB from 40h) stop there. The guest reads exactly the same counts as without, and the device, asked for
// its state, holds what the program did.
import type { Placement } from '@splitvisor/placement';
import { clocksourceRead, pitTick } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import { Vm } from '../src/index.ts';
import { placement } from './profiles.ts';
import { recording } from './recording-cpu.ts';

function withPrograms(programs: boolean, time: Placement['time'] = { kind: 'guest-cycles' }): Placement {
  const base = placement('kvm-userspace-pit');
  return { ...base, time, io: { ...base.io, programs } };
}

function pitReads(programs: boolean) {
  const workload = clocksourceRead({ clocksource: 'pit', reads: 2_000 });
  const values: number[] = [];
  const vm = new Vm(withPrograms(programs), recording(workload.guest, values));
  vm.run(50_000_000);
  const rows = vm.counts.rows();
  const heavyweight = rows.filter((r) => r.device === 'pit' && r.to === 'user' && r.from !== 'user').reduce((n, r) => n + r.count, 0);
  const result = { values, reads: workload.reads(), heavyweight, state: vm.deviceState('pit'), loads: vm.hostActivity()?.programLoads ?? 0 };
  void vm.close();
  return result;
}

describe('the 8254 latch program in a VM', () => {
  it('answers the i8253 clocksource reads in the kernel, the guest reading the same counts', () => {
    const off = pitReads(false);
    const on = pitReads(true);
    expect(on.values).toEqual(off.values);
    expect(on.reads).toBe(2_000);
    expect(off.heavyweight).toBeGreaterThanOrEqual(3 * 2_000); // latch, LSB, MSB: each to userspace
    expect(on.heavyweight).toBeLessThan(off.heavyweight / 10);
    expect(on.loads).toBeGreaterThan(0);
    // The device's state, read through the device host, has what the programs did (the scratch went back first) —
    // but for when it last looked at OUT0, which it does again on each control word it is given.
    expect({ ...on.state, out0Clock: 0 }).toEqual({ ...off.state, out0Clock: 0 });
  });

  it('leaves a guest that programs the 8254 for its tick seeing the same ticks', () => {
    const ticks = (programs: boolean) => {
      const workload = pitTick({ hz: 1000 });
      const vm = new Vm(withPrograms(programs, { kind: 'guest-and-exits' }), workload.guest);
      vm.run(50_000_000);
      void vm.close();
      return workload.jiffies();
    };
    expect(ticks(true)).toBe(ticks(false));
  });
});
