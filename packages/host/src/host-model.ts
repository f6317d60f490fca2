/**
 * A host running many VMs' vCPUs, for seed 004's question (`004_*.txt`, Eddie
 * Dong on Xen/ia64): should the machine timer be programmed to the nearest
 * guest deadline, or should each vCPU's guest timer be a host soft timer that
 * exists only while the vCPU runs?
 *
 * The model: `pcpus` physical CPUs; `vms` × `vcpusPerVm` vCPUs, vCPU i on
 * physical CPU i mod `pcpus`, each physical CPU running its vCPUs round robin
 * for `sliceNs` each. Every vCPU is busy (CPU-bound: it is always runnable,
 * the case where a vCPU is descheduled while its timer is due) and has a
 * periodic guest timer at `guestHz` (a LAPIC timer in periodic mode), its
 * phase its own (guests boot at different times). A tick is taken by the guest
 * as soon as its vCPU runs with it pending; the handler's EOI follows at once
 * (zero-length handler), so under `delay` a backlog is delivered in a burst
 * on the vCPU's return.
 *
 * The host timer strategies (seed 004):
 * - `nearest-deadline` — each physical CPU's timer is programmed to the
 *   nearest deadline of every vCPU it carries, running or not: every guest
 *   deadline is a host timer interrupt at its exact time, pending the tick
 *   for a vCPU that is not running ("serious scalability issue … 64 times
 *   more HV timer IRQs").
 * - `soft-timers` — a vCPU's guest timer is a host soft timer, removed when
 *   the vCPU is descheduled; when it is scheduled in, the ticks due meanwhile
 *   are found ("if it is due during deschedule time, inject guest timer IRQ")
 *   and the timer re-added: one timer per running vCPU, late deliveries.
 *
 * What a descheduled vCPU's guest time does (Xen's choice): `running` — it
 * is host time, deadlines pass while the vCPU waits, and the lost-tick
 * policy (`discard`, `delay`, `merge`: the abi's `TickPacer`) says what
 * becomes of them; `frozen` — the guest's clock stops while it is preempted,
 * so no deadline passes unseen, and the guest falls behind host time by the
 * time it was not running.
 *
 * Measured: host timer interrupts (per physical CPU, those at one instant
 * counted once), each tick's lateness (host ns from its deadline to the guest
 * taking it), the ticks that came due in host time and those the guests took
 * (the difference is their drift). Nothing reads the wall clock; one run is
 * one pass over an event heap, byte-identical for the same configuration.
 */
import type { Nanoseconds, TickPacing } from '@splitvisor/abi';
import { TickPacer } from '@splitvisor/abi';
import type { QueuedTimer } from '@splitvisor/clock';
import { TimerQueue } from '@splitvisor/clock';
import { Histogram } from '@splitvisor/metrics';

export type HostTimerStrategy = 'nearest-deadline' | 'soft-timers';
export type DescheduledTime = 'running' | 'frozen';

export const HOST_TIMER_STRATEGIES: readonly HostTimerStrategy[] = ['nearest-deadline', 'soft-timers'];
export const DESCHEDULED_TIMES: readonly DescheduledTime[] = ['running', 'frozen'];

/**
 * Xen's four vpt timer modes (xl.cfg `timer_mode`; xen/arch/x86/hvm/vpt.c) as
 * this model's two choices: what a descheduled vCPU's guest time does, and
 * what becomes of the ticks due meanwhile.
 * - `delay_for_missed_ticks` (0): the vCPU's time is held back while it is
 *   preempted (pt_freeze_time), so no deadline passes unseen; here, frozen.
 * - `no_delay_for_missed_ticks` (1): guest time runs on; the missed ticks are
 *   delivered on return — `delay`.
 * - `no_missed_ticks_pending` (2): none held pending — `discard`.
 * - `one_missed_tick_pending` (3): the missed ones collapse into one late
 *   tick — `merge`.
 */
export const XEN_TIMER_MODES: Readonly<Record<string, { readonly descheduled: DescheduledTime; readonly lostTicks: TickPacing }>> = {
  delay_for_missed_ticks: { descheduled: 'frozen', lostTicks: 'delay' },
  no_delay_for_missed_ticks: { descheduled: 'running', lostTicks: 'delay' },
  no_missed_ticks_pending: { descheduled: 'running', lostTicks: 'discard' },
  one_missed_tick_pending: { descheduled: 'running', lostTicks: 'merge' },
};

/** What the model allows: enough for seed 004's 16 × 4 and for 1,024 vCPUs of 64 each. */
export const HOST_LIMITS = { pcpus: 256, vms: 1024, vcpusPerVm: 64, vcpus: 4096 } as const;

export interface HostModelConfig {
  readonly pcpus: number;
  readonly vms: number;
  readonly vcpusPerVm: number;
  /** Each vCPU's periodic guest timer, Hz (default 1000). */
  readonly guestHz?: number;
  /** The round-robin slice, ns (default 10 ms). */
  readonly sliceNs?: number;
  readonly strategy: HostTimerStrategy;
  /** Default `running`. */
  readonly descheduled?: DescheduledTime;
  /** Default `discard`. */
  readonly lostTicks?: TickPacing;
  readonly durationNs: Nanoseconds;
}

export interface HostModelResult {
  readonly vcpus: number;
  readonly hostTimerInterrupts: number;
  readonly contextSwitches: number;
  /** Host ns from each tick's deadline to the guest taking it. */
  readonly lateness: Histogram;
  /** Ticks whose deadline passed in host time, over every vCPU. */
  readonly ticksDue: number;
  /** Ticks the guests took. */
  readonly ticksTaken: number;
  /**
   * Ticks due by the end that the guest had not taken and its policy had not
   * dropped: delivered or held for a vCPU not running then, or (soft timers)
   * due while it was descheduled and not looked at yet.
   */
  readonly ticksOutstanding: number;
}

/** A problem with the configuration, named by its field. */
export class HostModelError extends Error {
  override readonly name = 'HostModelError';
}

/** A whole number in [min, max], or a HostModelError naming `field`. */
function whole(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new HostModelError(`${field}: a whole number from ${min} to ${max}, not ${value}`);
  return value;
}

interface Vcpu {
  readonly pcpu: number;
  /** Its timer's first deadline is `phase + period`. */
  readonly phase: Nanoseconds;
  readonly pacer: TickPacer;
  /** Its guest timer, armed in host time. */
  readonly timer: QueuedTimer;
  /** The host-time deadline of the tick the pacer is delivering. */
  tickDeadline: Nanoseconds;
  /** The next deadline, in the vCPU's guest time. */
  nextDeadline: Nanoseconds;
  /** Guest time behind host time (time preempted, when its clock is frozen then). */
  lag: Nanoseconds;
  running: boolean;
  descheduledAt: Nanoseconds;
  /** Deadlines (host ns) of ticks delivered to the vCPU and not yet taken, oldest first. */
  readonly waiting: Nanoseconds[];
  /** Deadlines of the ticks its policy holds back (one per tick under `delay`, the first of those merged under `merge`). */
  readonly held: Nanoseconds[];
}

/** Runs the model; deterministic. */
export function runHostModel(config: HostModelConfig): HostModelResult {
  const pcpus = whole('pcpus', config.pcpus, 1, HOST_LIMITS.pcpus);
  const vms = whole('vms', config.vms, 1, HOST_LIMITS.vms);
  const perVm = whole('vcpusPerVm', config.vcpusPerVm, 1, HOST_LIMITS.vcpusPerVm);
  const total = whole('vcpus (vms × vcpusPerVm)', vms * perVm, 1, HOST_LIMITS.vcpus);
  const hz = whole('guestHz', config.guestHz ?? 1000, 1, 100_000);
  const slice = whole('sliceNs', config.sliceNs ?? 10_000_000, 1_000, 1_000_000_000);
  const duration = whole('durationNs', config.durationNs, 1, 3_600e9);
  const { strategy } = config;
  if (!HOST_TIMER_STRATEGIES.includes(strategy)) throw new HostModelError(`strategy: ${strategy} is not one of ${HOST_TIMER_STRATEGIES.join(', ')}`);
  const frozen = (config.descheduled ?? 'running') === 'frozen';
  const period = 1e9 / hz;

  const queue = new TimerQueue();
  const lateness = new Histogram();
  let now = 0;
  let irqs = 0;
  let switches = 0;
  let taken = 0;
  const lastIrq = new Float64Array(pcpus).fill(-1);
  /** A host timer interrupt on `pcpu` now (several expiries at one instant are one interrupt). */
  const interrupt = (pcpu: number) => {
    if (lastIrq[pcpu] === now) return;
    lastIrq[pcpu] = now;
    irqs++;
  };

  /** The guest takes whatever is pending: each tick's lateness, and under pacing the next one (its EOI is at once). */
  const take = (v: Vcpu) => {
    while (v.running && v.waiting.length > 0) {
      const deadline = v.waiting.shift() ?? now;
      lateness.record(Math.max(0, Math.round(now - deadline)));
      taken++;
      // The EOI: a held tick, if any, is delivered — with its own deadline.
      const held = v.pacer.ticks.pending;
      if (held > 0) v.tickDeadline = v.held[0] ?? now;
      v.pacer.acknowledged();
      if (v.pacer.ticks.pending < held) v.held.shift();
    }
  };

  /** A tick due at host time `deadline`: through the lost-tick policy, into the vCPU's IRR. */
  const tick = (v: Vcpu, deadline: Nanoseconds) => {
    v.tickDeadline = deadline;
    const held = v.pacer.ticks.pending;
    v.pacer.tick();
    if (v.pacer.ticks.pending > held) v.held.push(deadline);
  };

  const vcpus: Vcpu[] = [];
  for (let index = 0; index < total; index++) {
    // Each guest's timer at its own phase (a golden-ratio spread: deterministic, never aligned).
    const phase = Math.floor(((index * 0.618_033_988_749_895) % 1) * period);
    const v: Vcpu = {
      pcpu: index % pcpus, phase, nextDeadline: phase + period, lag: 0, running: false, descheduledAt: 0, waiting: [], held: [], tickDeadline: 0,
      pacer: new TickPacer(config.lostTicks ?? 'discard', () => {
        // Into the vCPU's IRR: unpaced, a tick already there and not yet taken absorbs this one.
        if (v.waiting.length === 0 || v.pacer.paced) v.waiting.push(v.tickDeadline);
      }),
      timer: queue.timer(() => {
        interrupt(v.pcpu);
        tick(v, now);
        take(v);
        v.nextDeadline += period;
        arm(v);
      }),
    };
    vcpus.push(v);
  }

  /** The guest timer's next expiry in host time, armed if the strategy has it armed now. */
  function arm(v: Vcpu): void {
    const armed = v.running || (strategy === 'nearest-deadline' && !frozen);
    if (armed) v.timer.arm(v.nextDeadline + v.lag);
    else v.timer.cancel();
  }

  /** vCPU `v` is scheduled in: a frozen clock resumes; a soft timer finds the ticks due meanwhile. */
  const scheduleIn = (v: Vcpu) => {
    v.running = true;
    if (frozen) v.lag += now - v.descheduledAt;
    else if (strategy === 'soft-timers') {
      // The deadlines that passed while the timer was off: each one a tick the policy sees now.
      while (v.nextDeadline <= now) {
        tick(v, v.nextDeadline);
        v.nextDeadline += period;
      }
    }
    arm(v);
    take(v);
  };

  const scheduleOut = (v: Vcpu) => {
    v.running = false;
    v.descheduledAt = now;
    arm(v);
  };

  // Round robin: each physical CPU's vCPUs in turn, a slice each.
  const queues: Vcpu[][] = Array.from({ length: pcpus }, () => []);
  for (const v of vcpus) queues[v.pcpu]?.push(v);
  const turn = new Int32Array(pcpus);
  const slices = queues.map((mine, pcpu) => {
    const timer: QueuedTimer = queue.timer(() => {
      interrupt(pcpu);
      if (mine.length > 1) {
        const out = mine[turn[pcpu] ?? 0];
        turn[pcpu] = ((turn[pcpu] ?? 0) + 1) % mine.length;
        const next = mine[turn[pcpu] ?? 0];
        if (out !== undefined) scheduleOut(out);
        if (next !== undefined) scheduleIn(next);
        switches++;
      }
      timer.arm(now + slice);
    });
    return timer;
  });
  for (const v of vcpus) arm(v);
  queues.forEach((mine, pcpu) => {
    const first = mine[0];
    if (first !== undefined) scheduleIn(first);
    if (mine.length > 1) slices[pcpu]?.arm(slice);
  });

  queue.advanceTo(duration, (deadline) => { now = deadline; });

  let due = 0;
  // Every deadline up to `duration` in host time: phase + k × period, k ≥ 1.
  for (const v of vcpus) due += Math.max(0, Math.floor((duration - v.phase) / period));
  let outstanding = 0;
  for (const v of vcpus) {
    outstanding += v.waiting.length + v.pacer.ticks.pending;
    const next = v.nextDeadline + v.lag;
    if (!frozen && next <= duration) outstanding += Math.floor((duration - next) / period) + 1;
  }
  return { vcpus: total, hostTimerInterrupts: irqs, contextSwitches: switches, lateness, ticksDue: due, ticksTaken: taken, ticksOutstanding: outstanding };
}
