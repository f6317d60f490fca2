// Several vCPUs on one timeline: whatever each one runs, the domains see their accesses in time order, each at
// the time of the vCPU that made it; a halted vCPU holds no one back and wakes at the time of what woke it.
import { NEVER } from '@splitvisor/abi';
import type { Access as DomainAccess } from '@splitvisor/abi';
import { GuestClock } from '@splitvisor/clock';
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LocalDomain } from '../src/index.ts';
import { Vcpus } from '../src/index.ts';

const HZ = 1_000_000_000; // one cycle a nanosecond

interface Access { readonly cpu: number; readonly port: number; readonly time: number }

/** Two or more vCPUs over a kernel domain that logs each port write with the devices' time; port 0x99 sends an IPI to CPU 1. */
function machine(programs: readonly (() => GuestProgram)[]) {
  const clocks = programs.map(() => new GuestClock(HZ));
  const pending = programs.map(() => false);
  const log: Access[] = [];
  let running = 0;
  let deviceTime = 0;
  const now = () => {
    deviceTime = Math.max(deviceTime, clocks[running]?.now() ?? 0);
    return deviceTime;
  };
  const kernel: LocalDomain = {
    place: 'kernel',
    access: ({ address, isWrite }: DomainAccess) => {
      if (isWrite) log.push({ cpu: running, port: address, time: now() });
      if (address === 0x99) pending[1] = true;
      return 'log';
    },
    holdsNothing: false,
    watch: () => undefined,
    runDue: () => undefined,
    nextDeadline: () => NEVER,
  };
  const none: LocalDomain = { place: 'monitor', access: () => undefined, runDue: () => undefined, nextDeadline: () => NEVER, holdsNothing: true, watch: () => undefined };
  const guests = programs.map((program) => new ScriptedGuest(program()).on(0x30, function* ipi(): GuestProgram {
    yield { op: 'out', port: 0x31, value: 1 };
  }));
  const vcpus = new Vcpus({
    vcpus: guests.map((cpu, i) => ({
      cpu,
      clock: clocks[i] ?? new GuestClock(HZ),
      domains: [none, kernel],
      user: { exit: () => { throw new Error('nothing reaches userspace here'); } },
      interrupts: { pending: () => pending[i] === true, acknowledge: () => { pending[i] = false; return 0x30; } },
      deviceAt: () => 'log',
      userDeadline: NEVER,
    })),
    eventTime: now,
    select: (index) => { running = index; },
  });
  return { vcpus, log, clocks };
}

/** Writes to `port` after each of `gaps` cycles of work. */
const writer = (port: number, gaps: readonly number[]) => function* program(): GuestProgram {
  for (const cycles of gaps) {
    yield { op: 'compute', cycles };
    yield { op: 'out', port, value: 0 };
  }
};

describe('Vcpus', () => {
  it('lets the domains see every access in time order, at the time of the vCPU that made it', () => {
    fc.assert(fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 500 }), { maxLength: 30 }), { minLength: 2, maxLength: 4 }), (plans) => {
      const { vcpus, log } = machine(plans.map((gaps, cpu) => writer(0x10 + cpu, gaps)));
      vcpus.runUntil(1_000_000);
      const times = log.map((a) => a.time);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      plans.forEach((gaps, cpu) => {
        // Each write lands after its own work and the cycle of every op before it.
        let t = 0;
        const expected = gaps.map((cycles) => {
          t += 1 + cycles + 1; // the compute op's own cycle, the work, the out's cycle (the access is seen as it retires)
          return t;
        });
        expect(log.filter((a) => a.cpu === cpu).map((a) => a.time), `cpu ${cpu}`).toEqual(expected);
      });
    }), { numRuns: 200 });
  });

  it('wakes a halted vCPU at the time of the IPI that wakes it, without holding the sender back', () => {
    const { vcpus, log, clocks } = machine([
      writer(0x99, [1000, 5000]),
      function* ap(): GuestProgram {
        yield { op: 'sti' };
        for (;;) yield { op: 'hlt' };
      },
    ]);
    const summary = vcpus.runUntil(100_000);
    expect(log.map((a) => [a.cpu, a.port, a.time])).toEqual([[0, 0x99, 1002], [1, 0x31, 1003], [0, 0x99, 6004], [1, 0x31, 6005]]);
    expect(summary).toMatchObject({ interrupts: 2, shutdown: false });
    expect(clocks[1]?.now()).toBe(100_000); // halted to the end
  });

  it('refuses a machine without vCPUs', () => {
    expect(() => new Vcpus({ vcpus: [], eventTime: () => 0, select: () => undefined })).toThrow(RangeError);
  });
});
