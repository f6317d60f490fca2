/**
 * High Precision Event Timer: a 64-bit main counter at 100 MHz and (by
 * default) three timers, each one-shot or periodic, 32- or 64-bit, edge or
 * level, routed to an IOAPIC input or — with legacy replacement — timer 0 to
 * ISA irq 0 and timer 1 to ISA irq 8. IA-PC HPET Specification 1.0a, §2.3.
 *
 * Region `registers`: 1 KiB of MMIO, 32-bit accesses (an 8-byte access is two,
 * split by the bus). Irq outputs: 0–31 are IOAPIC inputs (Tn_INT_ROUTE_CNF);
 * 32 and 33 are ISA irq 0 and ISA irq 8 under legacy replacement
 * (LEGACY_IRQ0, LEGACY_IRQ8), and 34 (LEGACY_ROUTE) is high while
 * LEG_RT_CNF is set — the chipset's select between these and the PIT's and
 * RTC's own lines (§2.7, QEMU's `pit-enable` signal), which the board wires.
 *
 * Comparators match on equality, as the specification says (and as Linux's
 * driver expects): a one-shot comparator already passed fires when the
 * counter comes round to it again — 2^32 ticks later in 32-bit mode, 2^64 in
 * 64-bit — where QEMU fires at once. Nothing ticks: the main counter is a
 * pure function of the time, and one timer is armed at the earliest match.
 *
 * Lost ticks of a periodic, edge-triggered timer: `discard` (default, the
 * hardware's — a pulse the guest has not serviced merges into the next at
 * the irqchip), or paced by the irqchip's ack notifier (`delay`, `merge`:
 * the abi's `TickPacer`, one per timer, periods that passed unserviced
 * counted as ticks).
 */
import type { AccessSize, CounterView, Device, DeviceContext, IoRegion, TickPacing, Timer } from '@splitvisor/abi';
import { TickPacer, expectState, tickTime, ticksAt } from '@splitvisor/abi';
import {
  GenConf, Gcap, HPET_HZ, HPET_PERIOD_FS, HPET_REV_ID, HPET_VENDOR_ID, HpetReg, TN_CONF_WRITABLE, TnConf,
} from './registers.ts';

export const LEGACY_IRQ0 = 32;
export const LEGACY_IRQ8 = 33;
/** High while LEG_RT_CNF is set: the legacy replacement route is selected. */
export const LEGACY_ROUTE = 34;

export interface HpetConfig {
  /** Timers, 3 to 32 (default 3, as QEMU). */
  readonly timers?: number;
  /** Tn_INT_ROUTE_CAP: the IOAPIC inputs each timer may route to (default bit 2 only, as QEMU's pc machine). */
  readonly intRouteCap?: number;
  /** Periodic edge-triggered timers' lost-tick policy (default `discard`); `delay`/`merge` need `irqAcknowledged`. */
  readonly lostTickPolicy?: TickPacing;
}

export type HpetTimerState = {
  /** The writable bits of Timer N Configuration. */
  config: number;
  comparator: bigint;
  /** The periodic increment (QEMU's `period`): every comparator write sets it. */
  period: bigint;
  /** The next match, as an HPET clock tick since time 0; -1 when the counter is halted. */
  matchTick: number;
  /** Under a pacing policy: a tick delivered and not yet acknowledged, and those waiting behind it. */
  tickInFlight: boolean;
  ticksPending: number;
};

export type HpetState = {
  readonly model: 'hpet';
  readonly version: 2;
  readonly genConf: number;
  readonly intStatus: number;
  /** The main counter at `baseTick` (while running), or its value (while halted). */
  readonly counterBase: bigint;
  readonly baseTick: number;
  readonly timers: readonly HpetTimerState[];
};

const MODEL = 'hpet' as const;
const VERSION = 2;
const MASK64 = (1n << 64n) - 1n;
const MASK32 = 0xffff_ffffn;
/** Matches further ahead than this (about 1.4 years at 100 MHz) are not armed: nothing outlives them. */
const HORIZON_TICKS = 2 ** 52;

export class Hpet implements Device<HpetState> {
  readonly model: 'hpet' = MODEL;
  readonly regions: readonly IoRegion[] = [{ name: 'registers', space: 'mmio', length: 0x400, sizes: [4] }];
  private readonly context: DeviceContext;
  private readonly timer: Timer;
  private readonly intRouteCap: number;
  private genConf = 0;
  private intStatus = 0;
  private counterBase = 0n;
  private baseTick = 0;
  private timers: HpetTimerState[];
  /** Each timer's lost-tick pacing (its two numbers travel in the timer's state). */
  private readonly pacers: readonly TickPacer[];
  /** The level last driven on each output: a live handle, re-derived from state on restore. */
  private driven = new Map<number, boolean>();
  private readonly odd = { counterWritesWhileRunning: 0, unsupportedRoutes: 0, reservedWrites: 0, fsbWrites: 0 };

  constructor(context: DeviceContext, config: HpetConfig = {}) {
    const count = config.timers ?? 3;
    if (!Number.isInteger(count) || count < 3 || count > 32) throw new RangeError(`an HPET has 3 to 32 timers, not ${count}`);
    this.context = context;
    this.intRouteCap = config.intRouteCap ?? 1 << 2;
    this.timer = context.timer(() => { this.service(); });
    // Comparators reset to all ones (spec §2.3.9.2); everything else to 0.
    this.timers = Array.from({ length: count }, () => ({ config: 0, comparator: MASK64, period: 0n, matchTick: -1, tickInFlight: false, ticksPending: 0 }));
    this.pacers = this.timers.map((_, index) => new TickPacer(config.lostTickPolicy ?? 'discard', () => { this.pulse(index); }));
  }

  /** The irqchip took the interrupt on `output`: paced timers routed there deliver their next waiting tick. */
  irqAcknowledged(output: number): void {
    this.timers.forEach((t, index) => {
      if (this.outputOf(index, this.genConf, t.config) === output) this.pacers[index]?.acknowledged();
    });
  }

  /** The irqchip unmasked `output`: a tick held for an acknowledgement that can no longer come is let go. */
  irqUnmasked(output: number): void {
    this.timers.forEach((t, index) => {
      if (this.outputOf(index, this.genConf, t.config) === output) this.pacers[index]?.released();
    });
  }

  private tick(): number {
    return ticksAt(this.context.now(), HPET_HZ);
  }

  private running(): boolean {
    return (this.genConf & GenConf.ENABLE_CNF) !== 0;
  }

  /** The main counter at HPET tick `tick`. */
  private counterAt(tick: number): bigint {
    return this.running() ? (this.counterBase + BigInt(tick - this.baseTick)) & MASK64 : this.counterBase;
  }

  private static width(t: HpetTimerState): bigint {
    return (t.config & TnConf.MODE32_CNF) !== 0 ? MASK32 : MASK64;
  }

  // --- registers ------------------------------------------------------------

  read(_region: string, offset: number, _size: AccessSize): number {
    this.catchUp();
    const word = offset & ~3;
    const high = (offset & 4) !== 0;
    const value = this.register64(word & ~7);
    return Number(high ? value >> 32n : value & MASK32);
  }

  private register64(offset: number): bigint {
    const tick = this.tick();
    switch (offset) {
      case HpetReg.GCAP_ID:
        return (BigInt(HPET_PERIOD_FS) << 32n) | BigInt(((HPET_VENDOR_ID << Gcap.VENDOR_ID_SHIFT) | Gcap.LEG_RT_CAP
          | Gcap.COUNT_SIZE_CAP | ((this.timers.length - 1) << Gcap.NUM_TIM_CAP_SHIFT) | HPET_REV_ID) >>> 0);
      case HpetReg.GEN_CONF:
        return BigInt(this.genConf);
      case HpetReg.GINTR_STA:
        return BigInt(this.intStatus >>> 0);
      case HpetReg.MAIN_CNT:
        return this.counterAt(tick);
      default:
        break;
    }
    const t = this.timerAt(offset);
    if (t === undefined) return 0n;
    switch ((offset - HpetReg.TIMER_BASE) % HpetReg.TIMER_STRIDE) {
      case HpetReg.TN_CONF:
        return (BigInt(this.intRouteCap >>> 0) << 32n) | BigInt(t.config | TnConf.PER_INT_CAP | TnConf.SIZE_CAP);
      case HpetReg.TN_CMP:
        return t.comparator & Hpet.width(t);
      default:
        return 0n; // FSB route: no FSB delivery (Tn_FSB_INT_DEL_CAP is 0), so reserved
    }
  }

  private timerAt(offset: number): HpetTimerState | undefined {
    if (offset < HpetReg.TIMER_BASE) return undefined;
    return this.timers[Math.floor((offset - HpetReg.TIMER_BASE) / HpetReg.TIMER_STRIDE)];
  }

  write(_region: string, offset: number, _size: AccessSize, value: number): void {
    this.catchUp();
    const word = offset & ~3;
    const high = (word & 4) !== 0;
    const base = word & ~7;
    const tick = this.tick();
    const v = BigInt(value >>> 0);
    /** The 64-bit register with this half replaced. */
    const merged = (old: bigint) => (high ? (old & MASK32) | (v << 32n) : (old & ~MASK32 & MASK64) | v);
    switch (base) {
      case HpetReg.GCAP_ID:
        this.odd.reservedWrites++; // read-only
        return;
      case HpetReg.GEN_CONF:
        if (!high) this.writeGenConf(value & (GenConf.ENABLE_CNF | GenConf.LEG_RT_CNF), tick);
        return;
      case HpetReg.GINTR_STA:
        if (!high) this.clearStatus(value >>> 0);
        return;
      case HpetReg.MAIN_CNT:
        // Software must halt the counter before writing it (§2.3.7); a write while running is lost, as in QEMU.
        if (this.running()) this.odd.counterWritesWhileRunning++;
        else this.counterBase = merged(this.counterBase);
        return;
      default:
        break;
    }
    const t = this.timerAt(base);
    if (t === undefined) {
      this.odd.reservedWrites++;
      return;
    }
    const index = this.timers.indexOf(t);
    switch ((base - HpetReg.TIMER_BASE) % HpetReg.TIMER_STRIDE) {
      case HpetReg.TN_CONF:
        if (!high) this.writeTimerConfig(t, index, value >>> 0);
        break;
      case HpetReg.TN_CMP: {
        // As QEMU: every write sets the periodic increment; the comparator itself only in one-shot
        // mode or once after Tn_VAL_SET_CNF. In 32-bit mode the high half is ignored.
        const mode32 = (t.config & TnConf.MODE32_CNF) !== 0;
        if (mode32 && high) break;
        const periodic = (t.config & TnConf.TYPE_CNF) !== 0;
        const setValue = (t.config & TnConf.VAL_SET_CNF) !== 0;
        if (!periodic || setValue) t.comparator = mode32 ? v : merged(t.comparator);
        t.period = mode32 ? v : merged(t.period);
        t.config &= ~TnConf.VAL_SET_CNF;
        break;
      }
      default:
        this.odd.fsbWrites++;
        return;
    }
    this.rescheduleTimer(t, tick);
    this.arm();
  }

  private writeGenConf(next: number, tick: number): void {
    const wasRunning = this.running();
    if (wasRunning && (next & GenConf.ENABLE_CNF) === 0) this.counterBase = this.counterAt(tick); // halt
    if (!wasRunning && (next & GenConf.ENABLE_CNF) !== 0) this.baseTick = tick; // start counting from here
    this.genConf = next;
    for (const t of this.timers) this.rescheduleTimer(t, tick);
    this.syncLines();
    this.arm();
  }

  private writeTimerConfig(t: HpetTimerState, index: number, value: number): void {
    const oldConfig = t.config;
    let config = (value & TN_CONF_WRITABLE) | (value & TnConf.VAL_SET_CNF);
    const route = (config >> TnConf.INT_ROUTE_SHIFT) & TnConf.INT_ROUTE_MASK;
    if ((this.intRouteCap & (1 << route)) === 0) {
      // Not a route this timer supports: the field keeps its value (spec §2.3.8, Tn_INT_ROUTE_CNF).
      if (route !== ((oldConfig >> TnConf.INT_ROUTE_SHIFT) & TnConf.INT_ROUTE_MASK)) this.odd.unsupportedRoutes++;
      config = (config & ~(TnConf.INT_ROUTE_MASK << TnConf.INT_ROUTE_SHIFT)) | (oldConfig & (TnConf.INT_ROUTE_MASK << TnConf.INT_ROUTE_SHIFT));
    }
    if ((config & TnConf.MODE32_CNF) !== 0 && (oldConfig & TnConf.MODE32_CNF) === 0) t.comparator &= MASK32;
    t.config = config;
    // Switching to edge clears a pending level (QEMU drops the status bit too).
    if ((config & TnConf.INT_TYPE_CNF) === 0) this.intStatus &= ~(1 << index);
    this.syncLines();
  }

  private clearStatus(bits: number): void {
    this.intStatus &= ~bits;
    this.syncLines();
  }

  // --- interrupts -----------------------------------------------------------

  /** Where timer `index` delivers under general configuration `genConf`. */
  private outputOf(index: number, genConf: number, config: number): number {
    if ((genConf & GenConf.LEG_RT_CNF) !== 0 && index < 2) return index === 0 ? LEGACY_IRQ0 : LEGACY_IRQ8;
    return (config >> TnConf.INT_ROUTE_SHIFT) & TnConf.INT_ROUTE_MASK;
  }

  /** A level-triggered, enabled timer with its status set drives its line — while the HPET runs (§2.3.5: ENABLE_CNF off disables every timer interrupt). */
  private levelAsserted(index: number): boolean {
    const t = this.timers[index];
    return this.running() && t !== undefined && (t.config & TnConf.INT_TYPE_CNF) !== 0 && (this.intStatus & (1 << index)) !== 0
      && (t.config & TnConf.INT_ENB_CNF) !== 0;
  }

  /**
   * Drives every output to the OR of the level-triggered timers asserting it
   * (timers may share a route), changing only lines whose level changes.
   */
  private syncLines(): void {
    const wanted = new Map<number, boolean>();
    this.timers.forEach((t, i) => {
      const output = this.outputOf(i, this.genConf, t.config);
      wanted.set(output, (wanted.get(output) ?? false) || this.levelAsserted(i));
    });
    if ((this.genConf & GenConf.LEG_RT_CNF) !== 0 || this.driven.has(LEGACY_ROUTE)) wanted.set(LEGACY_ROUTE, (this.genConf & GenConf.LEG_RT_CNF) !== 0);
    for (const output of new Set([...this.driven.keys(), ...wanted.keys()])) {
      const level = wanted.get(output) ?? false;
      if ((this.driven.get(output) ?? false) === level) continue;
      this.driven.set(output, level);
      this.context.setIrq(output, level);
    }
  }

  /** Timer `index` matched `ticks` times since it was last serviced (more than once only when serviced late). */
  private fire(index: number, ticks: number): void {
    const t = this.timers[index];
    if (t === undefined) return;
    if ((t.config & TnConf.INT_ENB_CNF) === 0) {
      // "The timer will still operate and generate appropriate status bits" (Tn_INT_ENB_CNF): level timers set theirs.
      if ((t.config & TnConf.INT_TYPE_CNF) !== 0) this.intStatus |= 1 << index;
      return;
    }
    if ((t.config & TnConf.INT_TYPE_CNF) !== 0) {
      // Level: Tn_INT_STS set, line held until software writes 1 to it.
      this.intStatus |= 1 << index;
      this.syncLines();
      return;
    }
    const pacer = this.pacers[index];
    if (pacer?.paced === true && (t.config & TnConf.TYPE_CNF) !== 0) {
      for (let i = 0; i < ticks; i++) pacer.tick();
      return;
    }
    this.pulse(index);
  }

  /** Edge: a pulse — unless a level source holds the line high, where an edge cannot show. */
  private pulse(index: number): void {
    const t = this.timers[index];
    if (t === undefined) return;
    const output = this.outputOf(index, this.genConf, t.config);
    if (this.driven.get(output) === true) return;
    this.context.setIrq(output, true);
    this.context.setIrq(output, false);
  }

  // --- time -----------------------------------------------------------------

  /** The next tick at which the counter equals the comparator (in the timer's width). */
  private rescheduleTimer(t: HpetTimerState, tick: number): void {
    if (!this.running()) {
      t.matchTick = -1;
      return;
    }
    const mask = Hpet.width(t);
    const distance = Number((t.comparator - this.counterAt(tick)) & mask);
    // Equality matches: a comparator equal to the counter now fires now; one just passed, after the wrap.
    t.matchTick = tick + distance;
  }

  /**
   * Whether a match of timer `index` can change what the guest sees at once:
   * an interrupt, or a status bit not yet set. Other timers (interrupt off,
   * status already set) are brought up to date lazily, when read — so a
   * periodic timer with a tiny period and its interrupt off costs nothing.
   */
  private eventful(index: number): boolean {
    const t = this.timers[index];
    if (t === undefined) return false;
    if ((t.config & TnConf.INT_ENB_CNF) !== 0) return true;
    return (t.config & TnConf.INT_TYPE_CNF) !== 0 && (this.intStatus & (1 << index)) === 0;
  }

  private arm(): void {
    const now = this.tick();
    let earliest = Number.POSITIVE_INFINITY;
    this.timers.forEach((t, index) => {
      if (t.matchTick >= 0 && t.matchTick - now < HORIZON_TICKS && this.eventful(index)) earliest = Math.min(earliest, t.matchTick);
    });
    if (earliest === Number.POSITIVE_INFINITY) this.timer.cancel();
    else if (earliest <= now) this.service(); // a match this very tick (a comparator written equal to the counter)
    else this.timer.arm(tickTime(earliest, HPET_HZ));
  }

  /** Brings lazily serviced timers up to date (their comparators, and the status their matches set). */
  private catchUp(): void {
    const now = this.tick();
    if (this.timers.some((t) => t.matchTick >= 0 && t.matchTick <= now)) this.service();
  }

  /** Fires every timer whose match has come, advancing periodic comparators, then re-arms. */
  private service(): void {
    const now = this.tick();
    this.timers.forEach((t, index) => {
      if (t.matchTick < 0 || t.matchTick > now) return;
      const mask = Hpet.width(t);
      const period = t.period & mask;
      const periodic = (t.config & TnConf.TYPE_CNF) !== 0 && period !== 0n;
      // The comparator steps on by the period, past now if this service came late (as QEMU's catch-up loop).
      const steps = periodic ? Math.floor((now - t.matchTick) / Number(period)) + 1 : 1;
      this.fire(index, steps);
      if (periodic) {
        t.comparator = (t.comparator + BigInt(steps) * period) & mask;
        t.matchTick += steps * Number(period);
      } else {
        t.matchTick += Number(mask) + 1; // one-shot: the counter comes round to the comparator again after the wrap
      }
    });
    this.arm();
  }

  // --- fast path and state --------------------------------------------------

  counterViews(): readonly CounterView[] {
    return [{
      region: 'registers', offset: HpetReg.MAIN_CNT, widthBits: 64, frequencyHz: HPET_HZ,
      base: this.counterBase, epoch: tickTime(this.baseTick, HPET_HZ), running: this.running(),
    }];
  }

  getState(): HpetState {
    return {
      model: MODEL, version: VERSION, genConf: this.genConf, intStatus: this.intStatus, counterBase: this.counterBase,
      baseTick: this.baseTick,
      timers: this.timers.map((t, index) => ({ ...t, tickInFlight: this.pacers[index]?.ticks.inFlight ?? false, ticksPending: this.pacers[index]?.ticks.pending ?? 0 })),
    };
  }

  setState(state: HpetState): void {
    expectState(state, MODEL, VERSION);
    if (state.timers.length !== this.timers.length) throw new RangeError(`state has ${state.timers.length} timers, this HPET ${this.timers.length}`);
    this.genConf = state.genConf;
    this.intStatus = state.intStatus;
    this.counterBase = state.counterBase;
    this.baseTick = state.baseTick;
    this.timers = state.timers.map((t) => ({ ...t }));
    this.timers.forEach((t, index) => { this.pacers[index]?.restore({ inFlight: t.tickInFlight, pending: t.ticksPending }); });
    this.driven = new Map();
    this.syncLines();
    this.arm();
  }

  anomalies(): Readonly<Record<string, number>> {
    return { ...this.odd };
  }
}
