/**
 * Several vCPUs on one virtual timeline, deterministically. Each vCPU has
 * its own clock (guest time is the cycles it ran, seed 000) and its own run
 * loop; they share the domains. The scheduler always runs the vCPU whose
 * clock is furthest behind, and only up to the clock of the next one, so
 * the devices see accesses in time order whichever vCPU makes them — a
 * conservative discrete-event schedule, the modelled counterpart of vCPU
 * threads running side by side.
 *
 * A halted vCPU does not hold the others back: its clock waits where it
 * halted. When an interrupt becomes pending for it (an IPI another vCPU
 * sent, a timer), the vCPU that caused it stops at that exit, the halted
 * one's clock jumps to the time of the event that woke it, and from then
 * on it runs in turn. When every vCPU is halted, the one furthest behind
 * waits for the next deadline, firing the timers due on the way.
 */
import type { GuestCpu, Nanoseconds } from '@splitvisor/abi';
import type { GuestClock } from '@splitvisor/clock';
import type { InterruptSource, RunLoopConfig, RunSummary } from './run-loop.ts';
import { RunLoop } from './run-loop.ts';

export interface VcpusConfig {
  /** Each vCPU's run loop, without `peers` (the scheduler gives it) and with its own `vcpu` index, `cpu`, `clock` and `interrupts`. */
  readonly vcpus: readonly Omit<RunLoopConfig, 'peers' | 'vcpu'>[];
  /** The devices' time now: the running vCPU's clock, never going back. A woken vCPU resumes at it. */
  readonly eventTime: () => Nanoseconds;
  /** Called before vCPU `index` runs: the domains learn whose local APIC an access at FEE0_0000h reaches. */
  readonly select: (index: number) => void;
}

interface Vcpu {
  readonly loop: RunLoop;
  readonly cpu: GuestCpu;
  readonly clock: GuestClock;
  readonly interrupts: InterruptSource;
}

export class Vcpus {
  private readonly vcpus: Vcpu[];
  private readonly eventTime: () => Nanoseconds;
  private readonly select: (index: number) => void;
  private readonly shared: { userDeadline: Nanoseconds; userDeadlineOwner: string | undefined };
  private running = 0;
  /** Which vCPUs were runnable when the running one's slice began (its end was set by them). */
  private runnableAtStart: boolean[] = [];
  private last: RunSummary[];

  constructor(config: VcpusConfig) {
    if (config.vcpus.length === 0) throw new RangeError('a machine needs at least one vCPU');
    this.eventTime = config.eventTime;
    this.select = config.select;
    this.shared = { userDeadline: config.vcpus[0]?.userDeadline ?? 0, userDeadlineOwner: config.vcpus[0]?.userDeadlineOwner };
    const yieldNow = () => this.wokenSinceStart();
    this.vcpus = config.vcpus.map((vcpu, index) => ({
      loop: new RunLoop({ ...vcpu, vcpu: index, peers: { shared: this.shared, yieldNow } }),
      cpu: vcpu.cpu,
      clock: vcpu.clock,
      interrupts: vcpu.interrupts,
    }));
    this.last = this.vcpus.map(() => ({ hostCycles: 0, descheduled: 0, exits: 0, interrupts: 0, windows: 0, halts: 0, until: 0, shutdown: false }));
  }

  /** vCPU `index`'s run loop (for accesses made from outside, as qtest's, on the bootstrap processor's). */
  loop(index: number): RunLoop {
    const vcpu = this.vcpus[index];
    if (vcpu === undefined) throw new RangeError(`no vCPU ${index}`);
    return vcpu.loop;
  }

  /** Runs every vCPU to virtual time `until`; the summary adds up theirs. Shut down when every vCPU has. */
  runUntil(until: Nanoseconds): RunSummary {
    const done = new Set<number>();
    for (;;) {
      this.wake();
      const index = this.next(until, done);
      if (index < 0) break;
      const vcpu = this.vcpus[index];
      if (vcpu === undefined) break;
      // Up to the next runnable vCPU's clock: nothing it does can then come before what this one does.
      let end = until;
      this.vcpus.forEach((other, i) => {
        if (i !== index && !done.has(i) && this.runnable(other)) end = Math.min(end, other.clock.now());
      });
      // Clocks level with each other: a nanosecond's progress, so the turn moves on.
      if (end <= vcpu.clock.now()) end = Math.min(until, vcpu.clock.now() + 1);
      this.running = index;
      this.runnableAtStart = this.vcpus.map((other) => this.runnable(other));
      this.select(index);
      const summary = vcpu.loop.runUntil(end);
      this.last[index] = summary;
      if (summary.shutdown) done.add(index);
    }
    // The halted vCPUs waited to the end as well.
    for (const vcpu of this.vcpus) if (vcpu.clock.now() < until && vcpu.cpu.halted) vcpu.clock.advanceTo(until);
    return this.summary(until, done.size === this.vcpus.length);
  }

  /** Whether a vCPU runs rather than waits: not halted, or halted with an interrupt it can take. */
  private runnable(vcpu: Vcpu): boolean {
    return !vcpu.cpu.halted || this.wakeable(vcpu);
  }

  private wakeable(vcpu: Vcpu): boolean {
    return vcpu.cpu.halted && vcpu.cpu.interruptible && vcpu.interrupts.pending();
  }

  /** Whether an interrupt woke a halted vCPU since the running one's slice began: its end no longer holds. */
  private wokenSinceStart(): boolean {
    return this.vcpus.some((vcpu, i) => i !== this.running && this.runnableAtStart[i] !== true && this.wakeable(vcpu));
  }

  /** A woken vCPU was halted until the event that woke it: its clock jumps there. */
  private wake(): void {
    const now = this.eventTime();
    for (const vcpu of this.vcpus) if (this.wakeable(vcpu) && vcpu.clock.now() < now) vcpu.clock.advanceTo(now);
  }

  /**
   * The runnable vCPU furthest behind `until`; with none, the halted one
   * furthest behind (it waits for the next deadline, firing the timers due);
   * -1 when every vCPU has reached `until` or shut down.
   */
  private next(until: Nanoseconds, done: ReadonlySet<number>): number {
    let best = -1;
    let bestTsc = Number.POSITIVE_INFINITY;
    let idle = -1;
    let idleTsc = Number.POSITIVE_INFINITY;
    this.vcpus.forEach((vcpu, i) => {
      if (done.has(i) || vcpu.clock.now() >= until) return;
      const tsc = vcpu.clock.tsc();
      if (this.runnable(vcpu)) {
        // Level with another, a vCPU just woken goes first: what woke it happened before whatever the other does next.
        if (tsc < bestTsc || (tsc === bestTsc && this.wakeable(vcpu) && best >= 0 && !this.wakeable(this.vcpus[best] ?? vcpu))) {
          best = i;
          bestTsc = tsc;
        }
      } else if (tsc < idleTsc) {
        idle = i;
        idleTsc = tsc;
      }
    });
    return best >= 0 ? best : idle;
  }

  private summary(until: Nanoseconds, shutdown: boolean): RunSummary {
    // Each vCPU is a host thread of its own: the host time is the longest of theirs.
    const total = { hostCycles: 0, descheduled: 0, exits: 0, interrupts: 0, windows: 0, halts: 0 };
    for (const s of this.last) {
      total.hostCycles = Math.max(total.hostCycles, s.hostCycles);
      total.descheduled += s.descheduled;
      total.exits += s.exits;
      total.interrupts += s.interrupts;
      total.windows += s.windows;
      total.halts += s.halts;
    }
    return { ...total, until, shutdown };
  }
}
