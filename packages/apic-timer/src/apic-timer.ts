/**
 * The local APIC timer (Intel SDM vol. 3A, §11.5.4): a 32-bit down-counter
 * clocked by the APIC bus clock through the divide configuration, one-shot
 * or periodic; or, in TSC-deadline mode (§11.5.4.1), a comparison of the TSC
 * with IA32_TSC_DEADLINE. The LAPIC composes it: the LAPIC decodes the
 * registers and accepts the vector this timer delivers.
 *
 * Nothing ticks. The current count is a function of (state, time), and one
 * timer is armed at the next expiry. Behaviour follows KVM's in-kernel
 * LAPIC where the SDM leaves room (KVM is the fast path this project
 * measures): the bus clock defaults to 1 GHz; a periodic timer's period is
 * its initial count; changing between TSC-deadline and the other modes
 * disarms the timer and clears both the initial count and the deadline; a
 * change of divisor mid-count keeps the current count and goes on at the new
 * rate (as hardware does); the reserved mode 11b acts as one-shot.
 *
 * Lost ticks (an expiry while the last is still in IRR merges into it, as on
 * hardware): under a pacing policy (the abi's `TickPacer`) each periodic expiry waits
 * for the EOI of the one before — the LAPIC calls `acknowledged()` when the
 * timer's vector is EOIed — and periods that passed while the vCPU was not
 * there to see them are counted, not skipped.
 */
import type { DeviceContext, Nanoseconds, TickPacing, Timer } from '@splitvisor/abi';
import { TickPacer, expectState, tickTime, ticksAt } from '@splitvisor/abi';
import { DIVIDE_CONFIG_BITS, LVT_TIMER_WRITABLE, LvtTimer, TimerMode, divisorOf } from './registers.ts';

export interface ApicTimerConfig {
  /** The APIC bus clock the divider divides (default 1 GHz, as KVM and QEMU). */
  readonly busHz?: number;
  /**
   * The shortest period a periodic timer is allowed (default 200 µs, KVM's
   * min_timer_period_us): a guest cannot make its host fire a timer every
   * nanosecond. 0 turns the clamp off.
   */
  readonly minPeriodNs?: number;
  /** The guest's TSC rate, for TSC-deadline mode (default 1 GHz). */
  readonly tscHz?: number;
  /** Default `discard` (the hardware's): `delay` and `merge` pace expiries by the EOI of the timer's vector. */
  readonly lostTickPolicy?: TickPacing;
}

export type ApicTimerState = {
  readonly model: 'apic-timer';
  readonly version: 2;
  /** LVT timer entry: vector, mask, mode (the writable bits). Power-on: masked. */
  readonly lvt: number;
  readonly divideConfig: number;
  readonly initialCount: number;
  /** The bus tick from which the count runs down from `loadCount`; 0 count means stopped. */
  readonly loadBusTick: number;
  readonly loadCount: number;
  /** IA32_TSC_DEADLINE; 0 is disarmed. */
  readonly tscDeadline: bigint;
  /** Under a pacing policy: an expiry delivered and not yet EOIed, and those waiting behind it. */
  readonly tickInFlight: boolean;
  readonly ticksPending: number;
};

const MODEL = 'apic-timer' as const;
const VERSION = 2;
const MAX_COUNT = 0xffff_ffff;
/** Expiries further ahead than this are not armed (about 104 days: beyond any Nanoseconds). */
const HORIZON_NS = 2 ** 53 - 1;

export class ApicTimer {
  private readonly context: DeviceContext;
  private readonly busHz: number;
  private readonly tscHz: number;
  private readonly minPeriodNs: number;
  private readonly deliver: (vector: number) => void;
  private readonly timer: Timer;
  private readonly pacer: TickPacer;
  private lvt: number = LvtTimer.MASKED;
  private divideConfig = 0;
  private initialCount = 0;
  private loadBusTick = 0;
  private loadCount = 0;
  private tscDeadline = 0n;
  private readonly odd = { reservedTimerMode: 0, deadlineWritesOutsideDeadlineMode: 0, initialCountWritesInDeadlineMode: 0, periodClamped: 0 };

  /** `deliver` receives the LVT vector at each expiry the LVT does not mask. */
  constructor(context: DeviceContext, deliver: (vector: number) => void, config: ApicTimerConfig = {}) {
    this.context = context;
    this.deliver = deliver;
    this.busHz = config.busHz ?? 1_000_000_000;
    this.tscHz = config.tscHz ?? 1_000_000_000;
    this.minPeriodNs = config.minPeriodNs ?? 200_000;
    this.timer = context.timer((now) => { this.expire(now); });
    this.pacer = new TickPacer(config.lostTickPolicy ?? 'discard', () => {
      if ((this.lvt & LvtTimer.MASKED) === 0) this.deliver(this.lvt & LvtTimer.VECTOR_MASK);
    });
  }

  /** The vector this timer delivers, for the LAPIC to tell an EOI of it. */
  get vector(): number {
    return this.lvt & LvtTimer.VECTOR_MASK;
  }

  /** The guest EOIed the timer's vector: under a pacing policy the next waiting expiry is delivered. */
  acknowledged(): void {
    this.pacer.acknowledged();
  }

  // --- registers --------------------------------------------------------------

  get mode(): number {
    const mode = (this.lvt >> LvtTimer.MODE_SHIFT) & LvtTimer.MODE_MASK;
    return mode === 3 ? TimerMode.oneShot : mode;
  }

  readLvt(): number {
    return this.lvt;
  }

  writeLvt(value: number): void {
    const next = value & LVT_TIMER_WRITABLE;
    if (((next >> LvtTimer.MODE_SHIFT) & LvtTimer.MODE_MASK) === 3) this.odd.reservedTimerMode++;
    const wasDeadline = this.mode === TimerMode.tscDeadline;
    // Between one-shot and periodic the count runs on from where it is: fix it before the mode changes its meaning.
    const busTick = this.busTick();
    if (!wasDeadline) this.restartFrom(busTick, this.countAt(busTick));
    this.lvt = next;
    if (this.mode !== TimerMode.periodic) this.pacer.reset();
    if (wasDeadline !== (this.mode === TimerMode.tscDeadline)) {
      // Switching into or out of TSC-deadline mode disarms the timer (SDM §11.5.4.1; KVM clears both).
      this.initialCount = 0;
      this.loadCount = 0;
      this.tscDeadline = 0n;
    }
    this.arm();
  }

  readDivideConfig(): number {
    return this.divideConfig;
  }

  writeDivideConfig(value: number): void {
    const busTick = this.busTick();
    // The count keeps its value and runs on at the new rate.
    this.restartFrom(busTick, this.countAt(busTick));
    this.divideConfig = value & DIVIDE_CONFIG_BITS;
    this.arm();
  }

  readInitialCount(): number {
    return this.initialCount;
  }

  writeInitialCount(value: number): void {
    if (this.mode === TimerMode.tscDeadline) {
      this.odd.initialCountWritesInDeadlineMode++; // ignored in TSC-deadline mode (SDM §11.5.4.1)
      return;
    }
    this.initialCount = value >>> 0;
    this.pacer.reset(); // a new count starts re-injection afresh
    if (this.periodCount() !== this.initialCount) this.odd.periodClamped++;
    // Writing the initial count (re)starts the count; 0 stops the timer.
    this.restartFrom(this.busTick(), this.mode === TimerMode.periodic ? this.periodCount() : this.initialCount);
    this.arm();
  }

  /** Current Count (read-only): 0 in TSC-deadline mode and once a one-shot has expired. */
  readCurrentCount(): number {
    if (this.mode === TimerMode.tscDeadline) return 0;
    return this.countAt(this.busTick());
  }

  readTscDeadline(): bigint {
    return this.mode === TimerMode.tscDeadline ? this.tscDeadline : 0n;
  }

  writeTscDeadline(value: bigint): void {
    if (this.mode !== TimerMode.tscDeadline) {
      this.odd.deadlineWritesOutsideDeadlineMode++; // ignored outside TSC-deadline mode (as KVM)
      return;
    }
    this.tscDeadline = BigInt.asUintN(64, value);
    this.arm();
  }

  anomalies(): Readonly<Record<string, number>> {
    return { ...this.odd };
  }

  // --- time -------------------------------------------------------------------

  private busTick(now: Nanoseconds = this.context.now()): number {
    return ticksAt(now, this.busHz);
  }

  private restartFrom(busTick: number, count: number): void {
    this.loadBusTick = busTick;
    this.loadCount = count;
  }

  /** Timer ticks since the load: bus ticks through the divider. */
  private elapsed(busTick: number): number {
    return Math.floor((busTick - this.loadBusTick) / divisorOf(this.divideConfig));
  }

  /**
   * The count a periodic timer reloads: the initial count, but no fewer than
   * the minimum period allows (as KVM, whose current count then also follows
   * the clamped period). TMICT still reads as written.
   */
  periodCount(): number {
    if (this.initialCount === 0 || this.minPeriodNs <= 0) return this.initialCount;
    const minCount = Math.ceil((this.minPeriodNs * this.busHz) / 1e9 / divisorOf(this.divideConfig));
    return Math.max(this.initialCount, minCount);
  }

  private countAt(busTick: number): number {
    if (this.loadCount === 0) return 0;
    const elapsed = this.elapsed(busTick);
    if (elapsed < this.loadCount) return this.loadCount - elapsed;
    const period = this.periodCount();
    if (this.mode !== TimerMode.periodic || period === 0) return 0;
    return period - ((elapsed - this.loadCount) % period);
  }

  /** The TSC at `now`: guest cycles since VM start. */
  tscAt(now: Nanoseconds = this.context.now()): bigint {
    return BigInt(ticksAt(now, this.tscHz));
  }

  /** When the next expiry is due, or undefined. */
  nextExpiry(now: Nanoseconds = this.context.now()): Nanoseconds | undefined {
    if (this.mode === TimerMode.tscDeadline) {
      if (this.tscDeadline === 0n) return undefined;
      const tsc = this.tscAt(now);
      if (this.tscDeadline <= tsc) return now;
      if (this.tscDeadline > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
      return tickTime(Number(this.tscDeadline), this.tscHz);
    }
    if (this.loadCount === 0) return undefined;
    const busTick = this.busTick(now);
    const elapsed = this.elapsed(busTick);
    let due: number;
    const period = this.periodCount();
    if (elapsed < this.loadCount) due = this.loadCount;
    else if (this.mode === TimerMode.periodic && period > 0) {
      due = this.loadCount + (Math.floor((elapsed - this.loadCount) / period) + 1) * period;
    } else return undefined;
    return tickTime(this.loadBusTick + due * divisorOf(this.divideConfig), this.busHz);
  }

  private arm(): void {
    const now = this.context.now();
    const due = this.nextExpiry(now);
    if (due === undefined || due > HORIZON_NS) this.timer.cancel();
    else if (due <= now && this.mode === TimerMode.tscDeadline) this.expire(now); // a deadline already passed fires at once
    else this.timer.arm(due);
  }

  private expire(now: Nanoseconds): void {
    if (this.mode === TimerMode.tscDeadline) {
      if (this.tscDeadline === 0n || this.tscDeadline > this.tscAt(now)) {
        this.arm();
        return;
      }
      this.tscDeadline = 0n; // the timer disarms itself and clears IA32_TSC_DEADLINE
    } else if (this.mode !== TimerMode.periodic) {
      // One-shot: the count rests at 0.
      const busTick = this.busTick(now);
      if (this.countAt(busTick) !== 0) {
        this.arm();
        return;
      }
      this.loadCount = 0;
    }
    if ((this.lvt & LvtTimer.MASKED) === 0) {
      // Periods that ended after this one before the timer could fire (its vCPU was not running) are ticks too.
      if (this.pacer.paced && this.mode === TimerMode.periodic) {
        const ticks = 1 + this.expiriesBetween(now, this.context.now());
        for (let i = 0; i < ticks; i++) this.pacer.tick();
      } else {
        this.deliver(this.lvt & LvtTimer.VECTOR_MASK); // one-shot and deadline expiries are the guest's own: never held
      }
    }
    this.arm();
  }

  /** Periodic mode: how many expiries fall in (from, to]. */
  private expiriesBetween(from: Nanoseconds, to: Nanoseconds): number {
    const period = this.periodCount();
    if (to <= from || period === 0 || this.loadCount === 0) return 0;
    const count = (t: Nanoseconds) => {
      const elapsed = this.elapsed(this.busTick(t));
      return elapsed < this.loadCount ? 0 : Math.floor((elapsed - this.loadCount) / period) + 1;
    };
    return count(to) - count(from);
  }

  // --- state ------------------------------------------------------------------

  getState(): ApicTimerState {
    return {
      model: MODEL, version: VERSION, lvt: this.lvt, divideConfig: this.divideConfig, initialCount: this.initialCount,
      loadBusTick: this.loadBusTick, loadCount: this.loadCount, tscDeadline: this.tscDeadline,
      tickInFlight: this.pacer.ticks.inFlight, ticksPending: this.pacer.ticks.pending,
    };
  }

  setState(state: ApicTimerState): void {
    expectState(state, MODEL, VERSION);
    this.lvt = state.lvt;
    this.divideConfig = state.divideConfig;
    this.initialCount = Math.min(state.initialCount, MAX_COUNT);
    this.loadBusTick = state.loadBusTick;
    this.loadCount = state.loadCount;
    this.tscDeadline = state.tscDeadline;
    this.pacer.restore({ inFlight: state.tickInFlight, pending: state.ticksPending });
    this.arm();
  }
}
