// Seed 002: the device host registers the PM timer's and HPET's free-running counters with the kernel, which then
// answers reads of them without a userspace exit — and must answer exactly what the device would, including after
// the guest stops, rewrites or restarts a counter (the host re-registers before that write's reply).
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import { describe, expect, it } from 'vitest';
import { Vm } from '../src/index.ts';
import { placement } from './profiles.ts';

const HPET = 0xfed0_0000;

function counterReader(name: string) {
  const values: number[] = [];
  const guest = new ScriptedGuest((function* main(): GuestProgram {
    const read = function* (op: { op: 'in'; port: number; size: 4 } | { op: 'read'; address: number; length: 4 }): Generator<typeof op, void, number> {
      values.push(yield op);
    };
    for (let i = 0; i < 3; i++) {
      yield* read({ op: 'in', port: 0x608, size: 4 });
      yield { op: 'compute', cycles: 7_777 };
    }
    yield { op: 'write', address: HPET + 0x10, value: 1 }; // ENABLE_CNF: the main counter runs
    for (let i = 0; i < 3; i++) {
      yield { op: 'compute', cycles: 12_345 };
      yield* read({ op: 'read', address: HPET + 0xf0, length: 4 });
    }
    yield { op: 'write', address: HPET + 0x10, value: 0 }; // halted: reads return where it stopped
    yield { op: 'compute', cycles: 50_000 };
    yield* read({ op: 'read', address: HPET + 0xf0, length: 4 });
    yield { op: 'write', address: HPET + 0xf0, value: 0x1000 }; // rewritten while halted
    yield* read({ op: 'read', address: HPET + 0xf0, length: 4 });
    yield { op: 'write', address: HPET + 0x10, value: 1 }; // and started again
    yield { op: 'compute', cycles: 40_000 };
    yield* read({ op: 'read', address: HPET + 0xf0, length: 4 });
  })());
  const vm = new Vm(placement(name), guest);
  vm.run(10_000_000);
  return { values, exits: Object.fromEntries(vm.counts.exitsByDevice()), registered: vm.hostActivity()?.fastPaths };
}

describe('kernel counters (seed 002)', () => {
  it('serves PM timer and HPET counter reads in the kernel with exactly the values the devices give', () => {
    const plain = counterReader('kvm-irqchip');
    const served = counterReader('kvm-kernel-counters');
    expect(served.values).toEqual(plain.values);
    expect(plain.values[7]).toBe(0x1000); // rewritten while halted
    expect(plain.values[8]).toBeGreaterThan(0x1000); // running again
    expect(plain.exits['pm-timer']).toEqual({ monitor: 3, kernel: 3, user: 3 });
    expect(served.exits['pm-timer']).toEqual({ monitor: 3, kernel: 3 });
    // HPET: its 6 reads served in the kernel; the 4 writes still reach the device in userspace.
    expect(served.exits.hpet).toEqual({ monitor: 10, kernel: 10, user: 4 });
    expect(served.registered).toBe(2 + 4); // PM timer and HPET at power-on; HPET again at enable, halt, rewrite, restart
  });
});
