/**
 * One 8254 counter, as plain state plus pure functions of (state, clock).
 * Datasheet: Intel 8254, "Modes of Operation" (modes 0–5), "Gate",
 * "Write Operations", "Read Operations".
 *
 * Time is counted in ticks of the PIT's input clock (CLK): `clock` is the
 * number of CLK edges since the VM started — the last edge at or before the
 * instant asked about, never the next one — so every value here is exact and
 * nothing ticks: a counter's value and OUT are computed when asked, and the
 * device arms a timer at the next OUT transition (QEMU's pit_get_count /
 * pit_get_out / pit_get_next_transition_time split).
 *
 * A count written (or triggered) within CLK edge `clock` reaches the counting
 * element on the next CLK pulse, `clock + 1`, and the first decrement is the
 * pulse after that (datasheet, Mode 0: "the initial count will be loaded on
 * the next CLK pulse. This CLK pulse does not decrement the count, so for an
 * initial count of N, OUT does not go high until N + 1 CLK pulses after the
 * initial count is written"). Until then the counting element holds what it
 * held, and OUT its level (`heldValue`, `heldOut`).
 *
 * Where the datasheet leaves something open, QEMU's choice is followed and
 * marked "as QEMU".
 */
import { BCD_MODULUS, BINARY_MODULUS, RwMode, Status } from './registers.ts';

/** Sentinel for "no clock": no pending count, not suspended. */
export const NO_CLOCK = -1;
/** NULL COUNT stays set until a count is loaded by a write or a trigger: a clock that never comes. */
export const UNTIL_COUNT_WRITTEN: number = Number.MAX_SAFE_INTEGER;

/** Latched-count read sequence, as QEMU's count_latched: which byte of the latch comes next. */
export const LatchState = {
  none: 0,
  lsb: 1,
  msb: 2,
  lsbThenMsb: 3,
} as const;

export type I8254CounterState = {
  /** M2–M0 as written (6 and 7 act as modes 2 and 3, and read back as written). */
  modeBits: number;
  bcd: boolean;
  /** RW1–RW0 as written; 0 at power-on, where accesses act as LSB (as QEMU). */
  rwMode: number;
  /** LSB-then-MSB write sequence: the MSB comes next. */
  writeMsbNext: boolean;
  /** The LSB written, waiting for its MSB. */
  writeLatch: number;
  /** LSB-then-MSB read sequence of the unlatched count: the MSB comes next. */
  readMsbNext: boolean;
  /** The output latch after a counter-latch command (already in BCD when counting in BCD). */
  latchedCount: number;
  latchState: number;
  statusLatched: boolean;
  status: number;
  /** The count in effect, 1..65536 (binary) or 1..10000 (BCD); a written 0 is the maximum. */
  count: number;
  /** A count written but not yet in effect (modes 1, 5: until a trigger; 2: until the period ends; 3: until the half-cycle ends), or -1. */
  pendingCount: number;
  /** The clock at which `pendingCount` takes effect in modes 2 and 3. */
  pendingAtClock: number;
  /** `lowHalfFirst` for `pendingCount`: a mode 3 count that takes effect at the end of a high half-cycle. */
  pendingLowHalfFirst: boolean;
  /** Whether a count has been written since the control word. */
  countWritten: boolean;
  /** Whether the counting element is loaded, or will be at `loadClock` (a count written and, in modes 1 and 5, triggered). */
  counting: boolean;
  /** The CLK pulse that loaded `count` into the counting element: the one after the write or trigger. */
  loadClock: number;
  /**
   * Mode 3: the count was loaded at the end of a high half-cycle, so it
   * counts its low half first (datasheet, Mode 3: a count written during
   * counting "will be loaded at the end of the current half-cycle").
   */
  lowHalfFirst: boolean;
  /**
   * The counting element's 16 bits while it is not counting, or until the
   * CLK pulse at `loadClock` loads it, as they would read (BCD digits when
   * held in BCD).
   */
  heldValue: number;
  /** OUT while the counting element holds `heldValue`. */
  heldOut: boolean;
  /** Where GATE went low in modes 0, 2, 3 and 4, which suspends counting; -1 otherwise. */
  suspendedAtClock: number;
  gate: boolean;
  /** NULL COUNT reads 1 while the clock is before this. */
  nullCountUntilClock: number;
};

/** Version 1 of the counter's state: no mode 3 half-cycle phase, and OUT while held followed from the mode alone. */
export type I8254CounterStateV1 = Omit<I8254CounterState, 'pendingLowHalfFirst' | 'lowHalfFirst' | 'heldOut'>;

/** Modes 6 and 7 are modes 2 and 3 (the datasheet's X10, X11). */
export function modeOf(c: Pick<I8254CounterState, 'modeBits'>): number {
  return c.modeBits > 5 ? c.modeBits - 4 : c.modeBits;
}

function modulus(c: I8254CounterState): number {
  return c.bcd ? BCD_MODULUS : BINARY_MODULUS;
}

/** A counter as it is at power-on (as QEMU's pit_reset_common: mode 3, count 0 = 2^16, counting). */
export function powerOnCounter(gate: boolean): I8254CounterState {
  return {
    modeBits: 3, bcd: false, rwMode: 0, writeMsbNext: false, writeLatch: 0, readMsbNext: false,
    latchedCount: 0, latchState: LatchState.none, statusLatched: false, status: 0,
    count: BINARY_MODULUS, pendingCount: -1, pendingAtClock: NO_CLOCK, pendingLowHalfFirst: false, countWritten: true,
    counting: true, loadClock: 0, lowHalfFirst: false, heldValue: 0, heldOut: true,
    suspendedAtClock: gate ? NO_CLOCK : 0, gate, nullCountUntilClock: 0,
  };
}

/**
 * A version 1 counter as version 2. Version 1 started counting at the clock
 * of the write, which version 2 reads as a load at that clock (the counting
 * element holds the count there, and is decremented by each later CLK), so
 * `count` and `loadClock` carry over; a pending mode 3 count took effect at
 * the end of a whole period, where its high half begins; OUT while held was
 * the mode's initial level.
 */
export function migrateCounter(c: I8254CounterStateV1): I8254CounterState {
  return { ...c, pendingLowHalfFirst: false, lowHalfFirst: false, heldOut: modeOf(c) !== 0 };
}

/** A count in the counting element: loaded at `loadClock`, in mode 3 perhaps counting its low half first. */
type Load = { readonly count: number; readonly loadClock: number; readonly lowHalfFirst: boolean };

/** Mode 3's OUT is high for the first (N + 1) / 2 CLKs of each period of N (datasheet: "(N + 1)/2 counts" for odd N). */
function highHalf(count: number): number {
  return (count + 1) >> 1;
}

/** The count in effect at `clock`, with a mode 2/3 reload at the end of a period or half-cycle applied. */
function effective(c: I8254CounterState, clock: number): Load {
  if (c.pendingCount >= 0 && c.pendingAtClock !== NO_CLOCK && clock >= c.pendingAtClock && c.suspendedAtClock === NO_CLOCK) {
    return { count: c.pendingCount, loadClock: c.pendingAtClock, lowHalfFirst: c.pendingLowHalfFirst };
  }
  return { count: c.count, loadClock: c.loadClock, lowHalfFirst: c.lowHalfFirst };
}

/** Whether the counting element has been loaded by `clock` (the pulse after a write or trigger). */
function loaded(c: I8254CounterState, clock: number): boolean {
  return c.counting && clock >= c.loadClock;
}

/** CLK pulses that decremented the count since its load: whole pulses only, frozen while GATE suspends counting. */
function elapsed(c: I8254CounterState, clock: number, loadClock: number): number {
  const at = c.suspendedAtClock !== NO_CLOCK ? c.suspendedAtClock : clock;
  return Math.max(0, at - loadClock);
}

/** CLKs into the count's period (modes 2 and 3): a mode 3 count loaded at the end of a high half-cycle starts at its low half. */
function cycleClocks(c: I8254CounterState, clock: number, load: Load): number {
  return elapsed(c, clock, load.loadClock) + (load.lowHalfFirst ? highHalf(load.count) : 0);
}

/** The counting element's value at `clock`, in binary (0..modulus-1). */
export function valueAt(c: I8254CounterState, clock: number): number {
  if (!loaded(c, clock)) return c.bcd ? fromBcd(c.heldValue) : c.heldValue;
  const load = effective(c, clock);
  const { count } = load;
  const m = modulus(c);
  switch (modeOf(c)) {
    case 2:
      return (count - (cycleClocks(c, clock, load) % count)) % m;
    case 3:
      // Counts down by two, reloading each half period (as QEMU: the odd-count refinements are not modelled).
      return (count - ((2 * cycleClocks(c, clock, load)) % count)) % m;
    default:
      // Modes 0, 1, 4, 5 count on through zero, wrapping (datasheet: "the counter continues to decrement").
      return (((count - elapsed(c, clock, load.loadClock)) % m) + m) % m;
  }
}

/** The OUT pin at `clock`. */
export function outAt(c: I8254CounterState, clock: number): boolean {
  const mode = modeOf(c);
  // After a control word, OUT takes its mode's initial level until counting starts: low in mode 0, high otherwise.
  if (!c.counting) return c.heldOut;
  if ((mode === 2 || mode === 3) && c.suspendedAtClock !== NO_CLOCK) return true; // GATE low forces OUT high
  if (clock < c.loadClock) return c.heldOut;
  const load = effective(c, clock);
  const { count } = load;
  switch (mode) {
    case 0:
    case 1:
      return elapsed(c, clock, load.loadClock) >= count; // low while counting down, high from terminal count on
    case 2:
      // Low for one CLK as the count reaches 1 (count 1 is illegal in mode 2; kept high, as QEMU's arithmetic gives).
      return count === 1 || cycleClocks(c, clock, load) % count !== count - 1;
    case 3:
      return count === 1 || cycleClocks(c, clock, load) % count < highHalf(count);
    default:
      return elapsed(c, clock, load.loadClock) !== count; // modes 4, 5: a one-CLK low strobe at terminal count
  }
}

/** Where the period running at `clock` began (modes 2 and 3; `clock` at or after the load). */
function periodStart(c: I8254CounterState, clock: number, load: Load): number {
  return clock - (cycleClocks(c, clock, load) % load.count);
}

/** The end of mode 3's half-cycle running at `clock`, and whether the low half comes next. */
function halfCycleEnd(c: I8254CounterState, clock: number, load: Load): { at: number; lowHalfNext: boolean } {
  const start = periodStart(c, clock, load);
  const high = highHalf(load.count);
  if (high < load.count && clock - start < high) return { at: start + high, lowHalfNext: true };
  return { at: start + load.count, lowHalfNext: false };
}

function nextChangeFrom(c: I8254CounterState, clock: number, load: Load): number {
  const { count, loadClock } = load;
  const d = elapsed(c, clock, loadClock);
  switch (modeOf(c)) {
    case 0:
    case 1:
      return d < count ? loadClock + count : NO_CLOCK;
    case 2: {
      if (count === 1) return NO_CLOCK;
      const start = periodStart(c, clock, load);
      return clock - start < count - 1 ? start + count - 1 : start + count;
    }
    case 3:
      return count === 1 ? NO_CLOCK : halfCycleEnd(c, clock, load).at;
    default:
      if (d < count) return loadClock + count;
      if (d === count) return loadClock + count + 1;
      return NO_CLOCK;
  }
}

/** The first clock after `clock` at which OUT changes, or -1 if it never will without a new write or gate edge. */
export function nextTransition(c: I8254CounterState, clock: number): number {
  if (!c.counting) return NO_CLOCK;
  const now = outAt(c, clock);
  if (clock < c.loadClock) {
    // Held until the next CLK pulse loads the count.
    return outAt(c, c.loadClock) !== now ? c.loadClock : nextTransition(c, c.loadClock);
  }
  if (c.suspendedAtClock !== NO_CLOCK) return NO_CLOCK;
  const next = nextChangeFrom(c, clock, effective(c, clock));
  const reload = c.pendingCount >= 0 && c.pendingAtClock !== NO_CLOCK && c.pendingAtClock > clock ? c.pendingAtClock : NO_CLOCK;
  if (reload === NO_CLOCK || (next !== NO_CLOCK && next <= reload)) return next;
  // A mode 2/3 reload with a new count comes first.
  if (outAt(c, reload) !== now) return reload;
  return nextChangeFrom(c, reload, { count: c.pendingCount, loadClock: reload, lowHalfFirst: c.pendingLowHalfFirst });
}

/** Rising edges of OUT in (from, to] — what a periodic timer delivered while nobody looked. */
export function risingEdgesBetween(c: I8254CounterState, from: number, to: number): number {
  if (c.counting && from < c.loadClock && c.loadClock <= to) {
    // Held until the load: an edge there if OUT rises with it, then the count's own.
    return (!outAt(c, from) && outAt(c, c.loadClock) ? 1 : 0) + risingEdgesBetween(c, c.loadClock, to);
  }
  const mode = modeOf(c);
  const load = effective(c, to);
  if ((mode === 2 || mode === 3) && c.counting && c.suspendedAtClock === NO_CLOCK && load.loadClock <= from && load.count > 1) {
    // A new period (and a rising edge) starts every `count` CLKs.
    const origin = periodStart(c, from, load);
    return Math.floor((to - origin) / load.count) - Math.floor((from - origin) / load.count);
  }
  return !outAt(c, from) && outAt(c, to) ? 1 : 0;
}

export function nullCountAt(c: I8254CounterState, clock: number): boolean {
  return clock < c.nullCountUntilClock;
}

export function statusAt(c: I8254CounterState, clock: number): number {
  return (outAt(c, clock) ? Status.OUTPUT : 0) | (nullCountAt(c, clock) ? Status.NULL_COUNT : 0)
    | (c.rwMode << 4) | (c.modeBits << 1) | (c.bcd ? 1 : 0);
}

/**
 * Where counter 0's period began, for the latch program: the count's load,
 * or the period it is in at `clock` (a mode 3 count that began with its low
 * half is half a period into one). Before the load, the load itself.
 */
export function periodStartAt(c: I8254CounterState, clock: number): number {
  const load = effective(c, clock);
  return clock < load.loadClock ? load.loadClock : periodStart(c, clock, load);
}

// --- BCD ------------------------------------------------------------------

/** Four BCD digits to binary. A nibble above 9 is taken at face value (the datasheet leaves it undefined). */
export function fromBcd(value: number): number {
  return ((value >> 12) & 0xf) * 1000 + ((value >> 8) & 0xf) * 100 + ((value >> 4) & 0xf) * 10 + (value & 0xf);
}

export function toBcd(value: number): number {
  return ((Math.floor(value / 1000) % 10) << 12) | ((Math.floor(value / 100) % 10) << 8) | ((Math.floor(value / 10) % 10) << 4) | (value % 10);
}

export function isBcd(value: number): boolean {
  for (let v = value; v > 0; v >>= 4) if ((v & 0xf) > 9) return false;
  return true;
}

/** The count register's value as the guest reads it: BCD-encoded when counting in BCD. */
export function encodedValueAt(c: I8254CounterState, clock: number): number {
  if (!c.counting) return c.heldValue; // the register's bits as they stand, whatever the BCD flag now says
  const value = valueAt(c, clock);
  return c.bcd ? toBcd(value) : value;
}

// --- changes --------------------------------------------------------------

/** Freezes the counting element at its value now, OUT at `out` (control word; first byte of a mode 0 rewrite). */
function hold(c: I8254CounterState, clock: number, out: boolean): void {
  c.heldValue = encodedValueAt(c, clock);
  c.heldOut = out;
  c.counting = false;
  c.suspendedAtClock = NO_CLOCK;
  c.pendingCount = -1;
  c.pendingAtClock = NO_CLOCK;
  c.pendingLowHalfFirst = false;
}

/** Applies a mode 2/3 reload whose period or half-cycle has ended, so state stays small. */
function settle(c: I8254CounterState, clock: number): void {
  const load = effective(c, clock);
  if (load.loadClock !== c.loadClock) {
    c.count = load.count;
    c.loadClock = load.loadClock;
    c.lowHalfFirst = load.lowHalfFirst;
    c.pendingCount = -1;
    c.pendingAtClock = NO_CLOCK;
    c.pendingLowHalfFirst = false;
  }
}

/**
 * Loads `count` on the CLK pulse after `clock` (datasheet: "loaded on the
 * next CLK pulse"; "the Counter will be loaded on the next CLK pulse after a
 * trigger"), the counting element holding its value and OUT its level until
 * then, and suspended if GATE is low in a mode where that stops the count.
 */
function start(c: I8254CounterState, count: number, clock: number): void {
  const mode = modeOf(c);
  if (!c.counting || clock >= c.loadClock) {
    c.heldValue = encodedValueAt(c, clock);
    // Mode 0: OUT stays high from terminal count only "until a new count … is written".
    c.heldOut = mode !== 0 && outAt(c, clock);
  }
  c.count = count;
  c.loadClock = clock + 1;
  c.lowHalfFirst = false;
  c.counting = true;
  c.pendingCount = -1;
  c.pendingAtClock = NO_CLOCK;
  c.pendingLowHalfFirst = false;
  c.suspendedAtClock = !c.gate && mode !== 1 && mode !== 5 ? clock : NO_CLOCK;
}

/** A control word for this counter: mode, read/write mode, BCD. */
export function writeControl(c: I8254CounterState, rwMode: number, modeBits: number, bcd: boolean, clock: number): void {
  // Datasheet: a control word resets the control logic and sets OUT to its mode's initial state at once — low in mode 0, high otherwise.
  hold(c, clock, modeOf({ modeBits }) !== 0);
  c.rwMode = rwMode;
  c.modeBits = modeBits;
  c.bcd = bcd;
  c.writeMsbNext = false;
  c.readMsbNext = false;
  // A latched count is held until read "or until the Counter is reprogrammed" (datasheet, Counter Latch Command).
  c.latchState = LatchState.none;
  c.countWritten = false;
  c.nullCountUntilClock = UNTIL_COUNT_WRITTEN;
}

/** Loads a complete count as written (0 means the maximum). Returns false if it was not valid BCD. */
export function writeCount(c: I8254CounterState, written: number, clock: number): boolean {
  const valid = !c.bcd || isBcd(written);
  const raw = c.bcd ? fromBcd(written) : written;
  const count = raw === 0 ? modulus(c) : raw;
  const mode = modeOf(c);
  c.countWritten = true;
  if (c.counting && clock < c.loadClock) {
    // A load is due at the next CLK pulse (a write or trigger within this clock): it takes the newest count.
    c.count = count;
    c.nullCountUntilClock = c.loadClock;
    return valid;
  }
  if (mode === 1 || mode === 5) {
    // Loaded into the counting element only by the next GATE trigger.
    c.pendingCount = count;
    c.pendingAtClock = NO_CLOCK;
    c.nullCountUntilClock = UNTIL_COUNT_WRITTEN;
    return valid;
  }
  if ((mode === 2 || mode === 3) && c.counting) {
    // Datasheet: a new count takes effect at the end of the current period (mode 2) or half-cycle (mode 3), or at the next GATE trigger.
    settle(c, clock);
    c.pendingCount = count;
    if (c.suspendedAtClock !== NO_CLOCK) {
      c.pendingAtClock = NO_CLOCK;
      c.pendingLowHalfFirst = false;
      c.nullCountUntilClock = UNTIL_COUNT_WRITTEN;
    } else {
      const load = effective(c, clock);
      if (mode === 3) {
        const end = halfCycleEnd(c, clock, load);
        c.pendingAtClock = end.at;
        c.pendingLowHalfFirst = end.lowHalfNext;
      } else {
        c.pendingAtClock = periodStart(c, clock, load) + load.count;
        c.pendingLowHalfFirst = false;
      }
      c.nullCountUntilClock = c.pendingAtClock;
    }
    return valid;
  }
  // Modes 0 and 4 load on the next CLK pulse; so does the first count after a control word in modes 2 and 3.
  start(c, count, clock);
  c.nullCountUntilClock = c.loadClock;
  return valid;
}

/** A byte written to the counter's data port, through its read/write mode. Returns false for an invalid BCD count. */
export function writeData(c: I8254CounterState, value: number, clock: number): boolean {
  switch (c.rwMode) {
    case RwMode.msb:
      return writeCount(c, value << 8, clock);
    case RwMode.lsbThenMsb:
      if (!c.writeMsbNext) {
        c.writeLatch = value;
        c.writeMsbNext = true;
        // Mode 0: writing the first byte stops the count (datasheet, Mode 0), so OUT falls now.
        if (modeOf(c) === 0 && c.counting) hold(c, clock, false);
        return true;
      }
      c.writeMsbNext = false;
      return writeCount(c, c.writeLatch | (value << 8), clock);
    default:
      // LSB, and RW 00 at power-on (as QEMU).
      return writeCount(c, value, clock);
  }
}

/** A byte read from the counter's data port: latched status, latched count, or the live count. */
export function readData(c: I8254CounterState, clock: number): number {
  if (c.statusLatched) {
    c.statusLatched = false;
    return c.status;
  }
  switch (c.latchState) {
    case LatchState.lsb:
      c.latchState = LatchState.none;
      return c.latchedCount & 0xff;
    case LatchState.msb:
      c.latchState = LatchState.none;
      return (c.latchedCount >> 8) & 0xff;
    case LatchState.lsbThenMsb:
      c.latchState = LatchState.msb;
      return c.latchedCount & 0xff;
    default:
      break;
  }
  const value = encodedValueAt(c, clock);
  switch (c.rwMode) {
    case RwMode.msb:
      return (value >> 8) & 0xff;
    case RwMode.lsbThenMsb:
      c.readMsbNext = !c.readMsbNext;
      return c.readMsbNext ? value & 0xff : (value >> 8) & 0xff;
    default:
      return value & 0xff;
  }
}

/** Counter latch command; ignored while an earlier latched count is unread (datasheet). */
export function latchCount(c: I8254CounterState, clock: number): void {
  if (c.latchState !== LatchState.none) return;
  c.latchedCount = encodedValueAt(c, clock);
  // As QEMU: the latch is read per the read/write mode, and RW 00 at power-on latches nothing.
  c.latchState = c.rwMode;
}

/** Status latch (read-back); ignored while an earlier latched status is unread. */
export function latchStatus(c: I8254CounterState, clock: number): void {
  if (c.statusLatched) return;
  c.status = statusAt(c, clock);
  c.statusLatched = true;
}

/** GATE input (datasheet, "Gate": sampled on the rising edge of CLK, so a change counts from the next CLK pulse). */
export function setGate(c: I8254CounterState, level: boolean, clock: number): void {
  if (level === c.gate) return;
  const rising = level;
  c.gate = level;
  const mode = modeOf(c);
  switch (mode) {
    case 0:
    case 4:
      // GATE low suspends counting; high resumes where it stopped. A count written while GATE is low is still loaded (datasheet, Mode 0).
      if (!c.counting) return;
      if (!rising) c.suspendedAtClock = clock;
      else if (c.suspendedAtClock !== NO_CLOCK) {
        const counted = Math.max(0, c.suspendedAtClock - c.loadClock);
        c.loadClock = Math.max(c.loadClock, clock - counted);
        c.suspendedAtClock = NO_CLOCK;
      }
      return;
    case 2:
    case 3:
      // GATE low stops counting and forces OUT high; the rising edge reloads the count.
      if (!rising) {
        if (c.counting) {
          settle(c, clock);
          c.suspendedAtClock = clock;
          // A count waiting for the period's or half-cycle's end now waits for the trigger.
          if (c.pendingCount >= 0) c.nullCountUntilClock = UNTIL_COUNT_WRITTEN;
        }
        return;
      }
      if (!c.countWritten) return;
      start(c, c.pendingCount >= 0 ? c.pendingCount : c.count, clock);
      c.nullCountUntilClock = Math.min(c.nullCountUntilClock, c.loadClock);
      return;
    default:
      // Modes 1 and 5: the rising edge triggers (retriggers) the count.
      if (!rising || !c.countWritten) return;
      start(c, c.pendingCount >= 0 ? c.pendingCount : c.count, clock);
      c.nullCountUntilClock = Math.min(c.nullCountUntilClock, c.loadClock);
  }
}
