/**
 * Motorola MC146818A real-time clock plus RAM, as the PC wires it: index
 * port 70h (bit 7 of the byte written there is the PC's NMI mask, not the
 * chip's), data port 71h, IRQ on ISA irq 8. Datasheet: Motorola MC146818A
 * (the sections are named where they are used).
 *
 * Regions: `index` (port 70h, 1 byte) and `data` (port 71h, 1 byte). Irq
 * output 0: IRQ (= register C's IRQF), which the board wires to irq 8.
 *
 * Time is a pure function of the state and virtual time. The state holds
 * the calendar as of `syncedAt` and the instant (`chainOrigin`) at which the
 * divider chain stood at a 1 Hz edge; reads fold the updates and periodic
 * taps since `syncedAt` into the calendar and the flags. One timer is armed,
 * and only at an instant that changes the irq line: the next tap while PIE
 * is set and PF clear, the next update while UIE is set and UF clear, the
 * next alarm while AIE is set and AF clear, the next re-injected tick. A
 * clock nobody listens to costs nothing.
 *
 * Lost periodic interrupts (a tap that comes while PF is still set, i.e.
 * before the guest has acknowledged the previous one by reading register C):
 * - `discard`: lost, as on the chip (and QEMU's default);
 * - `slew`: counted and re-injected, as QEMU's `-rtc driftfix=slew`: when the
 *   guest acknowledges one by reading register C, the next owed tick is
 *   raised at once — at most 20 times between two taps (QEMU's
 *   RTC_REINJECT_ON_ACK_COUNT) — and beyond that one period/(owed+1) (owed
 *   capped at 7) after the acknowledgement. Owed ticks are dropped when the
 *   periodic interrupt is disabled and rescaled when its rate changes.
 */
import type { AccessSize, Device, DeviceContext, DeviceProgram, FastPathHints, IoRegion, Nanoseconds, Timer } from '@splitvisor/abi';
import { expectState } from '@splitvisor/abi';
import type { PcCmosConfig } from '../pc-cmos/pc-cmos.ts';
import { CmosByte, pcCmosImage } from '../pc-cmos/pc-cmos.ts';
import type { RtcDateTime, TimeBytes, TimeFormat } from './calendar.ts';
import {
  CALENDAR_FIRST, CALENDAR_SPAN, encodeValue, fieldsFromSeconds, parseTime, renderTime, secondsFromFields, secondsToAlarm,
  wrapCalendar,
} from './calendar.ts';
import {
  FIRST_UPDATE_AFTER_RESET, dividerInTestMode, dividerRunning, nextTapEdge, nextUpdate, periodClocks, periodNs,
  tapEdgesBetween, updateInProgress, updatesBetween,
} from './divider.ts';
import { CMOS_BYTES, NVRAM_START, RegA, RegB, RegC, RegD, RtcReg } from './registers.ts';
import { Holds, TimeScratch, scratchBytes, servedIndices, timePrograms } from './time-program.ts';

export type LostTickPolicy = 'discard' | 'slew';

export interface Mc146818Config {
  /**
   * What the clock shows when the device is created: a UTC date and time
   * broken into fields, or whole seconds since 1970-01-01 00:00:00 UTC
   * (default 2000-01-01 00:00:00). Never the host's clock: the board decides.
   */
  readonly start?: RtcDateTime | number;
  /** How far into that second the divider chain stands at creation, 0 ≤ ns < 10^9 (default 0): the first update comes 10^9 − ns later. */
  readonly startNanoseconds?: number;
  /**
   * The CMOS byte counted as the century, in the data mode of the other
   * time bytes (default 32h: the PC/AT's and the ACPI FADT CENTURY location,
   * as QEMU); null: no century byte (the bare MC146818, whose calendar has
   * 100 years) and 32h is plain RAM.
   */
  readonly centuryRegister?: number | null;
  /** The RAM's contents at power-on: the PC's setup bytes (default: pcCmosImage's defaults). */
  readonly cmos?: PcCmosConfig;
  /** Default `discard`. */
  readonly lostTickPolicy?: LostTickPolicy;
}

export type Mc146818State = {
  readonly model: 'mc146818';
  readonly version: 1;
  /** The register selected through port 70h (bits 6–0). */
  readonly index: number;
  /** Bit 7 of the last byte written to port 70h: the PC's NMI disable. */
  readonly nmiDisabled: boolean;
  /**
   * The 128 bytes: registers, alarm bytes and RAM. The time bytes (and the
   * century) hold the time only while the clock stands still (SET, or the
   * divider not counting); while it runs they are rendered from `calendar`.
   * Register C holds PF, AF and UF as of `syncedAt` (IRQF follows from them
   * and register B); register A holds no UIP.
   */
  readonly cmos: Uint8Array;
  /** While the clock runs: seconds since 1970-01-01 00:00:00 (proleptic Gregorian) shown at `syncedAt`. */
  readonly calendar: number;
  /** Days the day-of-week byte runs ahead of the weekday of the date (the chip counts it on its own). */
  readonly weekdayOffset: number;
  /** A virtual instant at which the divider chain stood at a 1 Hz edge. */
  readonly chainOrigin: Nanoseconds;
  /** Updates and periodic taps up to this instant are in `calendar` and register C. */
  readonly syncedAt: Nanoseconds;
  /** `slew`: periodic interrupts lost and not yet re-injected. */
  readonly ticksOwed: number;
  /** `slew`: re-injections on acknowledgement since the last tap. */
  readonly reinjectionsOnAck: number;
  /** `slew`: when the next owed tick is re-injected by the timer, or −1. */
  readonly reinjectAt: Nanoseconds;
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
/** The state without its name: what the model folds and renders. */
type Clock = Mutable<Omit<Mc146818State, 'model' | 'version'>>;

const MODEL = 'mc146818' as const;
const VERSION = 1;
/** QEMU's RTC_REINJECT_ON_ACK_COUNT. */
const MAX_REINJECTIONS_ON_ACK = 20;
/** Re-injection runs at most this many times faster than the period. */
const MAX_REINJECTION_SPEEDUP = 8;
const NMI_DISABLE = 0x80;
const DEFAULT_START: RtcDateTime = { year: 2000, month: 1, day: 1, hour: 0, minute: 0, second: 0 };

const REGIONS: readonly IoRegion[] = [
  { name: 'index', space: 'port', length: 1, sizes: [1] },
  { name: 'data', space: 'port', length: 1, sizes: [1] },
];

/**
 * Writes to the index port only select a register: they may wait in a
 * coalesced ring until the next data access, as QEMU registers its
 * `rtc-index` region for KVM's coalesced PIO.
 */
const HINTS: FastPathHints = { coalescedWrites: [{ region: 'index', offset: 0, length: 1 }] };

const TIME_FIELDS: Readonly<Partial<Record<number, keyof TimeBytes>>> = {
  [RtcReg.SECONDS]: 'seconds',
  [RtcReg.MINUTES]: 'minutes',
  [RtcReg.HOURS]: 'hours',
  [RtcReg.DAY_OF_WEEK]: 'dayOfWeek',
  [RtcReg.DATE_OF_MONTH]: 'dateOfMonth',
  [RtcReg.MONTH]: 'month',
  [RtcReg.YEAR]: 'year',
};

function byteAt(c: Clock, index: number): number {
  return c.cmos[index] ?? 0;
}

function formatOf(regB: number): TimeFormat {
  return { binary: (regB & RegB.DM) !== 0, hour24: (regB & RegB.HOUR_24) !== 0 };
}

/** Updates run: the divider counts and SET is clear. */
function ticking(regA: number, regB: number): boolean {
  return dividerRunning(regA) && (regB & RegB.SET) === 0;
}

function irqf(c: Clock): boolean {
  return (byteAt(c, RtcReg.C) & byteAt(c, RtcReg.B) & RegC.FLAGS) !== 0;
}

/** The tap the periodic flag follows, in time-base clocks; 0 when none (rate 0, or the divider not counting). */
function periodicClocks(c: Clock): number {
  const a = byteAt(c, RtcReg.A);
  return dividerRunning(a) ? periodClocks(a) : 0;
}

/** Whether owed ticks can be delivered at all: PIE on a counting tap. */
function periodicInterruptOn(c: Clock): boolean {
  return periodicClocks(c) !== 0 && (byteAt(c, RtcReg.B) & RegB.PIE) !== 0;
}

function setFlags(c: Clock, flags: number): void {
  c.cmos[RtcReg.C] = byteAt(c, RtcReg.C) | flags;
}

/**
 * Brings `c` to `now`: periodic taps set PF (and, under `slew` with PIE,
 * count as owed when PF was still set), a due re-injection sets PF, and,
 * while updates run, each 1 Hz edge advances the calendar and sets UF, and
 * AF if the new time matches the alarm (datasheet, "Update Cycle": the
 * alarm is compared after each update). Folding to t1 then t2 equals
 * folding to t2.
 */
function fold(c: Clock, now: Nanoseconds, slew: boolean): void {
  if (now <= c.syncedAt) return;
  const a = byteAt(c, RtcReg.A);
  const b = byteAt(c, RtcReg.B);
  const clocks = periodicClocks(c);
  if (clocks !== 0) {
    const pie = (b & RegB.PIE) !== 0;
    if (slew && pie && c.ticksOwed > 0 && c.reinjectAt >= 0 && c.reinjectAt <= now && (byteAt(c, RtcReg.C) & RegC.PF) === 0
      && c.reinjectAt < nextTapEdge(c.chainOrigin, clocks, c.syncedAt)) {
      setFlags(c, RegC.PF);
      c.ticksOwed--;
      c.reinjectAt = -1;
    }
    const taps = tapEdgesBetween(c.chainOrigin, clocks, c.syncedAt, now);
    if (taps > 0) {
      const lost = (byteAt(c, RtcReg.C) & RegC.PF) !== 0 ? taps : taps - 1;
      setFlags(c, RegC.PF);
      if (slew && pie) {
        c.ticksOwed += lost;
        c.reinjectionsOnAck = 0;
        c.reinjectAt = -1;
      }
    }
  }
  if (ticking(a, b)) {
    const updates = updatesBetween(c.chainOrigin, c.syncedAt, now);
    if (updates > 0) {
      if ((byteAt(c, RtcReg.C) & RegC.AF) === 0 && secondsToAlarm(c.calendar, alarmOf(c), formatOf(b)) <= updates) setFlags(c, RegC.AF);
      c.calendar = wrapCalendar(c.calendar + updates);
      setFlags(c, RegC.UF);
    }
  }
  c.syncedAt = now;
}

function alarmOf(c: Clock): { seconds: number; minutes: number; hours: number } {
  return { seconds: byteAt(c, RtcReg.SECONDS_ALARM), minutes: byteAt(c, RtcReg.MINUTES_ALARM), hours: byteAt(c, RtcReg.HOURS_ALARM) };
}

/** The next instant after `c.syncedAt` at which the irq line may rise, or Infinity. */
function nextEvent(c: Clock, slew: boolean): Nanoseconds {
  const a = byteAt(c, RtcReg.A);
  const b = byteAt(c, RtcReg.B);
  const flags = byteAt(c, RtcReg.C);
  let next = Number.POSITIVE_INFINITY;
  const clocks = periodicClocks(c);
  if (clocks !== 0 && (b & RegB.PIE) !== 0 && (flags & RegC.PF) === 0) {
    next = nextTapEdge(c.chainOrigin, clocks, c.syncedAt);
    if (slew && c.ticksOwed > 0 && c.reinjectAt >= 0) next = Math.min(next, c.reinjectAt);
  }
  if (ticking(a, b)) {
    if ((b & RegB.UIE) !== 0 && (flags & RegC.UF) === 0) next = Math.min(next, nextUpdate(c.chainOrigin, c.syncedAt));
    if ((b & RegB.AIE) !== 0 && (flags & RegC.AF) === 0) {
      const seconds = secondsToAlarm(c.calendar, alarmOf(c), formatOf(b));
      if (Number.isFinite(seconds)) next = Math.min(next, nextUpdate(c.chainOrigin, c.syncedAt) + (seconds - 1) * 1_000_000_000);
    }
  }
  return next;
}

export class Mc146818 implements Device<Mc146818State> {
  readonly model: 'mc146818' = MODEL;
  readonly regions: readonly IoRegion[] = REGIONS;
  readonly hints: FastPathHints = HINTS;
  /** The index/data pair for the time registers, answered in the kernel (`time-program.ts`). */
  readonly programs: readonly DeviceProgram[];
  private readonly context: DeviceContext;
  private readonly timer: Timer;
  private readonly slew: boolean;
  /** The century byte's index, or undefined when there is none. */
  private readonly centuryIndex: number | undefined;
  private c: Clock;
  /** The level last driven on the irq output: a live handle, re-derived on restore. */
  private line = false;
  private readonly odd = { openBusReads: 0, readOnlyWrites: 0, invalidTimeValues: 0, dividerTestModes: 0 };

  constructor(context: DeviceContext, config: Mc146818Config = {}) {
    this.context = context;
    this.slew = (config.lostTickPolicy ?? 'discard') === 'slew';
    const century = config.centuryRegister === undefined ? CmosByte.CENTURY : config.centuryRegister;
    if (century !== null && (!Number.isInteger(century) || century < NVRAM_START || century >= CMOS_BYTES)) {
      throw new RangeError(`the century byte must be a RAM byte (0Eh–7Fh), not ${century}`);
    }
    this.centuryIndex = century ?? undefined;
    const { index, data } = timePrograms(this.centuryIndex);
    this.programs = [{ region: 'index', offset: 0, length: 1, program: index }, { region: 'data', offset: 0, length: 1, program: data }];
    const startNs = config.startNanoseconds ?? 0;
    if (!Number.isInteger(startNs) || startNs < 0 || startNs >= 1_000_000_000) throw new RangeError(`startNanoseconds must be 0 ≤ ns < 10^9, not ${startNs}`);
    const cmos = pcCmosImage(config.cmos);
    cmos[RtcReg.A] = (cmos[RtcReg.A] ?? 0) & ~RegA.UIP;
    cmos[RtcReg.C] = 0;
    cmos[RtcReg.D] = RegD.VRT;
    const now = context.now();
    this.c = {
      index: 0, nmiDisabled: false, cmos, calendar: startSeconds(config.start ?? DEFAULT_START), weekdayOffset: 0,
      chainOrigin: now - startNs, syncedAt: now, ticksOwed: 0, reinjectionsOnAck: 0, reinjectAt: -1,
    };
    // A clock that starts stopped (SET, or the divider held) shows its start date in the time bytes.
    if (!ticking(byteAt(this.c, RtcReg.A), byteAt(this.c, RtcReg.B))) this.freeze();
    this.timer = context.timer((time) => { this.service(time); });
    this.driveLine(true);
    this.arm();
  }

  /** Bit 7 of the last index written: the PC's NMI mask (the board may gate NMI with it). */
  get nmiDisabled(): boolean {
    return this.c.nmiDisabled;
  }

  // --- the fast-path programs ----------------------------------------------------

  /** The index written last, and the time registers' values with how long they hold (until the next update; or, stopped, until a write). */
  programScratch(): Uint8Array {
    const scratch = new Uint8Array(scratchBytes(this.centuryIndex));
    scratch[TimeScratch.index] = this.c.index;
    scratch[TimeScratch.nmiDisabled] = this.c.nmiDisabled ? 1 : 0;
    const now = this.context.now();
    const view = new DataView(scratch.buffer);
    if (this.running()) {
      scratch[TimeScratch.holds] = Holds.untilUpdate;
      view.setUint32(TimeScratch.until, nextUpdate(this.c.chainOrigin, now) % 2 ** 32, true);
    } else {
      scratch[TimeScratch.holds] = Holds.untilWrite;
    }
    servedIndices(this.centuryIndex).forEach((at, slot) => { scratch[TimeScratch.values + slot] = this.peek(at); });
    return scratch;
  }

  /** The index and NMI mask the index program wrote. */
  adoptProgramScratch(scratch: Uint8Array): void {
    this.c.index = (scratch[TimeScratch.index] ?? 0) & 0x7f;
    this.c.nmiDisabled = scratch[TimeScratch.nmiDisabled] === 1;
  }

  // --- ports ------------------------------------------------------------------

  read(region: string, _offset: number, _size: AccessSize): number {
    if (region === 'index') {
      // The index register is write-only; QEMU answers FFh (as the floating ISA bus would).
      this.odd.openBusReads++;
      return 0xff;
    }
    const now = this.context.now();
    this.sync(now);
    if (this.c.index === RtcReg.C) return this.readRegisterC(now);
    const value = registerAt(this.c, this.c.index, now, this.centuryIndex);
    // Folding may have set flags a timer was waiting for (if the domain ran it late): keep the timer a function of the state.
    this.arm();
    return value;
  }

  write(region: string, _offset: number, _size: AccessSize, value: number): void {
    const byte = value & 0xff;
    if (region === 'index') {
      // As QEMU: the index keeps 7 bits (128 bytes, no bank at 72h/73h); bit 7 is the NMI mask.
      this.c.index = byte & 0x7f;
      this.c.nmiDisabled = (byte & NMI_DISABLE) !== 0;
      return;
    }
    const now = this.context.now();
    this.sync(now);
    const index = this.c.index;
    if (index === RtcReg.A) this.writeRegisterA(byte, now);
    else if (index === RtcReg.B) this.writeRegisterB(byte);
    else if (index === RtcReg.C || index === RtcReg.D) this.odd.readOnlyWrites++;
    else if (this.timeField(index) !== undefined && this.running()) this.setTime(index, byte);
    else this.c.cmos[index] = byte;
    this.driveLine();
    this.arm();
  }

  /**
   * What a read of register `index` would answer now, without its side
   * effects (a read of register C clears it; this does not). For tests and
   * monitors.
   */
  peek(index: number): number {
    const copy: Clock = { ...this.c, cmos: this.c.cmos.slice() };
    const now = this.context.now();
    fold(copy, now, this.slew);
    const at = index & 0x7f;
    if (at === RtcReg.C) return (byteAt(copy, RtcReg.C) & RegC.FLAGS) | (irqf(copy) ? RegC.IRQF : 0);
    return registerAt(copy, at, now, this.centuryIndex);
  }

  // --- registers --------------------------------------------------------------

  private running(): boolean {
    return ticking(byteAt(this.c, RtcReg.A), byteAt(this.c, RtcReg.B));
  }

  private timeField(index: number): keyof TimeBytes | undefined {
    return index === this.centuryIndex ? 'century' : TIME_FIELDS[index];
  }

  /** Register C: every flag is cleared by the read, and IRQ released (datasheet, "Register C"). */
  private readRegisterC(now: Nanoseconds): number {
    const c = this.c;
    const value = (byteAt(c, RtcReg.C) & RegC.FLAGS) | (irqf(c) ? RegC.IRQF : 0);
    c.cmos[RtcReg.C] = 0;
    this.driveLine();
    if (this.slew && c.ticksOwed > 0 && periodicInterruptOn(c)) {
      if (c.reinjectionsOnAck < MAX_REINJECTIONS_ON_ACK) {
        // The guest acknowledged one: the next owed tick follows at once (a fresh edge on irq 8).
        c.reinjectionsOnAck++;
        c.ticksOwed--;
        setFlags(c, RegC.PF);
        c.reinjectAt = -1;
        this.driveLine();
      } else {
        const speedup = Math.min(c.ticksOwed, MAX_REINJECTION_SPEEDUP - 1) + 1;
        c.reinjectAt = now + Math.max(1, Math.floor(periodNs(periodicClocks(c)) / speedup));
      }
    }
    this.arm();
    return value;
  }

  private writeRegisterA(byte: number, now: Nanoseconds): void {
    const c = this.c;
    const old = byteAt(c, RtcReg.A);
    const next = byte & ~RegA.UIP; // UIP is read-only
    if (dividerInTestMode(next)) this.odd.dividerTestModes++;
    const b = byteAt(c, RtcReg.B);
    const oldClocks = periodicClocks(c);
    if (ticking(old, b) && !ticking(next, b)) this.freeze();
    // Released from reset (or a test mode), the chain restarts at its half-second point:
    // "the first update cycle begins one-half second later" (datasheet, DV2–DV0).
    if (!dividerRunning(old) && dividerRunning(next)) c.chainOrigin = now - FIRST_UPDATE_AFTER_RESET;
    c.cmos[RtcReg.A] = next;
    if (!ticking(old, b) && ticking(next, b)) this.thaw();
    const newClocks = periodicClocks(c);
    if (!periodicInterruptOn(c)) this.forgiveTicks();
    else if (oldClocks !== 0 && oldClocks !== newClocks) {
      // A new rate: the time owed stays owed, in ticks of the new period.
      c.ticksOwed = Math.floor((c.ticksOwed * oldClocks) / newClocks);
    }
  }

  private writeRegisterB(byte: number): void {
    const c = this.c;
    const a = byteAt(c, RtcReg.A);
    const old = byteAt(c, RtcReg.B);
    // "The SET bit going high clears the UIE bit" (datasheet, UIE); as QEMU, on every write with SET.
    const next = (byte & RegB.SET) !== 0 ? byte & ~RegB.UIE : byte;
    if (ticking(a, old) && !ticking(a, next)) this.freeze();
    c.cmos[RtcReg.B] = next;
    // The time bytes are read in the format they are now in (DM and 24/12 as just written).
    if (!ticking(a, old) && ticking(a, next)) this.thaw();
    if (!periodicInterruptOn(c)) this.forgiveTicks();
  }

  private forgiveTicks(): void {
    this.c.ticksOwed = 0;
    this.c.reinjectionsOnAck = 0;
    this.c.reinjectAt = -1;
  }

  /** A time byte written while the clock runs: the clock continues from the new time, the divider undisturbed. */
  private setTime(index: number, byte: number): void {
    const field = this.timeField(index);
    if (field === undefined) return;
    const format = formatOf(byteAt(this.c, RtcReg.B));
    const bytes = { ...renderTime(this.c.calendar, this.c.weekdayOffset, format), [field]: byte };
    this.adopt(bytes, format);
  }

  /** Updates stop (SET, or the divider held): the time bytes take the time as it is now. */
  private freeze(): void {
    const c = this.c;
    const bytes = renderTime(c.calendar, c.weekdayOffset, formatOf(byteAt(c, RtcReg.B)));
    for (const [index, field] of Object.entries(TIME_FIELDS)) {
      if (field !== undefined) c.cmos[Number(index)] = bytes[field];
    }
    if (this.centuryIndex !== undefined) c.cmos[this.centuryIndex] = bytes.century;
  }

  /** Updates resume: the clock continues from whatever the time bytes say. */
  private thaw(): void {
    const c = this.c;
    const format = formatOf(byteAt(c, RtcReg.B));
    const at = (index: number) => byteAt(c, index);
    const century = this.centuryIndex === undefined
      ? encodeValue(Math.floor(fieldsFromSeconds(c.calendar).year / 100), format.binary)
      : at(this.centuryIndex);
    this.adopt({
      seconds: at(RtcReg.SECONDS), minutes: at(RtcReg.MINUTES), hours: at(RtcReg.HOURS), dayOfWeek: at(RtcReg.DAY_OF_WEEK),
      dateOfMonth: at(RtcReg.DATE_OF_MONTH), month: at(RtcReg.MONTH), year: at(RtcReg.YEAR), century,
    }, format);
  }

  private adopt(bytes: TimeBytes, format: TimeFormat): void {
    const parsed = parseTime(bytes, format);
    if (!parsed.valid) {
      this.odd.invalidTimeValues++;
      this.context.log.warn(`mc146818: time bytes out of range (${JSON.stringify(bytes)}), carried into the next field`);
    }
    this.c.calendar = parsed.seconds;
    this.c.weekdayOffset = parsed.weekdayOffset;
  }

  // --- time and the irq line --------------------------------------------------

  private sync(now: Nanoseconds): void {
    fold(this.c, now, this.slew);
    this.driveLine();
  }

  private service(now: Nanoseconds): void {
    this.sync(now);
    this.arm();
  }

  private arm(): void {
    const next = nextEvent(this.c, this.slew);
    if (next === Number.POSITIVE_INFINITY) this.timer.cancel();
    else this.timer.arm(next);
  }

  /** Drives IRQ to IRQF, only when its level changes (or when told to, on restore). */
  private driveLine(force = false): void {
    const level = irqf(this.c);
    if (!force && level === this.line) return;
    this.line = level;
    this.context.setIrq(0, level);
  }

  // --- state ------------------------------------------------------------------

  getState(): Mc146818State {
    return { model: MODEL, version: VERSION, ...this.c, cmos: this.c.cmos.slice() };
  }

  setState(state: Mc146818State): void {
    expectState(state, MODEL, VERSION);
    if (state.cmos.length !== CMOS_BYTES) throw new RangeError(`mc146818 state holds ${state.cmos.length} CMOS bytes, not ${CMOS_BYTES}`);
    const { model: _model, version: _version, ...clock } = state;
    this.c = { ...clock, cmos: state.cmos.slice() };
    this.driveLine(true);
    this.arm();
  }

  anomalies(): Readonly<Record<string, number>> {
    return { ...this.odd };
  }
}

/** Register `index` as a read answers it at `now` (`c` already folded to `now`), register C excepted. */
function registerAt(c: Clock, index: number, now: Nanoseconds, centuryIndex: number | undefined): number {
  const a = byteAt(c, RtcReg.A);
  const b = byteAt(c, RtcReg.B);
  switch (index) {
    case RtcReg.A:
      return a | (ticking(a, b) && updateInProgress(c.chainOrigin, now) ? RegA.UIP : 0);
    case RtcReg.D:
      return RegD.VRT;
    default:
      break;
  }
  const field = index === centuryIndex ? 'century' : TIME_FIELDS[index];
  if (field !== undefined && ticking(a, b)) return renderTime(c.calendar, c.weekdayOffset, formatOf(b))[field];
  return byteAt(c, index);
}

function startSeconds(start: RtcDateTime | number): number {
  if (typeof start === 'number') {
    if (!Number.isSafeInteger(start) || start < CALENDAR_FIRST || start >= CALENDAR_FIRST + CALENDAR_SPAN) {
      throw new RangeError(`start must be whole seconds within years 0000–9999, not ${start}`);
    }
    return start;
  }
  const seconds = secondsFromFields(start);
  const back = fieldsFromSeconds(seconds);
  const exact = back.year === start.year && back.month === start.month && back.day === start.day && back.hour === start.hour
    && back.minute === start.minute && back.second === start.second;
  if (!exact || start.year < 0 || start.year > 9999) throw new RangeError(`start is not a valid date and time: ${JSON.stringify(start)}`);
  return seconds;
}
