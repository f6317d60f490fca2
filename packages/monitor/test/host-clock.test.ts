// Guest time on the host clock (the `wall` policy run live): the run loop follows a host clock it is given.
// Here that clock is virtual — host work between resumes and a late wake-up are numbers the test chooses — so
// what the guest sees is exact: its time moves up to the host's at every resume, a halt sleeps on the host clock
// and wakes when the host wakes it, and a guest whose cycles ran faster than they count is not slowed.
import type { Nanoseconds } from '@splitvisor/abi';
import { NEVER } from '@splitvisor/abi';
import { GuestClock } from '@splitvisor/clock';
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import { describe, expect, it } from 'vitest';
import type { HostClock } from '../src/index.ts';
import { MonitorDomain, RunLoop } from '../src/index.ts';
import { machineWith, scriptedTick } from './pc-machine.ts';

const TSC_HZ = 2_000_000_000;

/** A host clock in virtual time: every read finds `workNs` more host time gone (the host's own work); a wait wakes `slackNs` after it was due. */
class VirtualHostClock implements HostClock {
  time: Nanoseconds = 0;
  readonly waits: Nanoseconds[] = [];
  private readonly workNs: number;
  private readonly slackNs: number;
  constructor(workNs: number, slackNs: number) {
    this.workNs = workNs;
    this.slackNs = slackNs;
  }
  now(): Nanoseconds {
    this.time += this.workNs;
    return this.time;
  }
  waitUntil(time: Nanoseconds): void {
    this.waits.push(time);
    if (time > this.time) this.time = time + this.slackNs;
  }
}

/** Linux's tick at HZ=1000 on the 8254 (in the kernel), idle between ticks; `seen` is the TSC at each tick. */
const idleTick = () => scriptedTick({ timestamps: true });

/** 10 ms of a guest that computes 1 000 000 cycles and writes a POST code (an exit to the device host), over and over, on `host`. */
function busyOn(host: HostClock) {
  let steps = 0;
  const guest = new ScriptedGuest((function* main(): GuestProgram {
    for (;;) {
      yield { op: 'compute', cycles: 1_000_000 };
      yield { op: 'out', port: 0x80, value: steps++ & 0xff };
    }
  })());
  const clock = new GuestClock(TSC_HZ);
  machineWith(guest, clock, 'kernel', undefined, { charge: { kind: 'host', clock: host } }).runUntil(10_000_000);
  return { steps, clock };
}

describe('guest time on the host clock', () => {
  it('a halt sleeps on the host clock until the next tick; the guest wakes when the host wakes it, late by the host\'s slack', () => {
    const modelled = idleTick();
    machineWith(modelled.guest, new GuestClock(TSC_HZ), 'kernel').runUntil(20_500_000);
    const host = new VirtualHostClock(0, 30_000);
    const live = idleTick();
    const clock = new GuestClock(TSC_HZ);
    const summary = machineWith(live.guest, clock, 'kernel', undefined, { charge: { kind: 'host', clock: host } }).runUntil(20_500_000);
    expect(live.seen).toHaveLength(modelled.seen.length); // the 8254 keeps its own schedule: no tick lost to 30 µs
    // Each tick is taken later than the cycles alone would have it, by the slack of the wake-up for the 8254's
    // first event of the period — OUT falling, one input clock (838 ns, 1 676 cycles) before the edge that interrupts.
    const oneClock = Math.round(TSC_HZ / 1_193_182);
    for (const [i, tsc] of live.seen.entries()) expect(Math.abs(tsc - (modelled.seen[i] ?? 0) - (60_000 - oneClock))).toBeLessThanOrEqual(2); // ns rounding
    expect(host.waits).toHaveLength(21); // one sleep a tick, and the last for the 21st, due after 20.5 ms
    expect(summary.hostCycles).toBe(clock.tscAt(host.time));
  });

  it('the host\'s work between resumes is the guest\'s stolen time; a guest ahead of the host runs on', () => {
    // A guest that only computes: its 1 000 000-cycle steps take no host time here, so it is ahead and never sleeps.
    const instant = new VirtualHostClock(0, 0);
    const fast = busyOn(instant);
    expect(instant.waits).toEqual([]);
    expect(fast.steps).toBe(19); // 10 ms of its own cycles: 20 steps of 0.5 ms, the last one's write at 10 ms
    // The host spends 1 ms of its own between resumes, more than a step: the guest's time moves up to it each time.
    const slow = new VirtualHostClock(1_000_000, 0);
    const stolen = busyOn(slow);
    expect(stolen.steps).toBeLessThan(fast.steps); // the same 10 ms of guest time holds fewer of its steps
    expect(stolen.clock.now()).toBeLessThanOrEqual(slow.time);
  });

  it('is kept for one vCPU the model does not deschedule', () => {
    const { guest } = idleTick();
    const clock = new GuestClock(TSC_HZ);
    expect(() => new RunLoop({
      cpu: guest,
      clock,
      domains: [new MonitorDomain(() => clock.now())],
      user: { exit: () => ({ completion: new Uint8Array(0), deadline: NEVER, requestInterruptWindow: false }) },
      interrupts: { pending: () => false, acknowledge: () => 0 },
      deviceAt: () => null,
      charge: { kind: 'host', clock: new VirtualHostClock(0, 0) },
      descheduled: { everyNs: 10_000_000, forNs: 1_000_000 },
    })).toThrow(RangeError);
  });
});
