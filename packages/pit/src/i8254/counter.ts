/**
 * One 8254 counter, as plain state plus pure functions of (state, clock).
 * Datasheet: Intel 8254, "Modes of Operation" (modes 0–5), "Gate",
 * "Write Operations", "Read Operations".
 *
 * Time is counted in ticks of the PIT's input clock (CLK): `clock` is the
 * number of CLK edges since the VM started, so every value here is exact and
 * nothing ticks — a counter's value and OUT are computed when asked, and the
 * device arms a timer at the next OUT transition (QEMU's pit_get_count /
 * pit_get_out / pit_get_next_transition_time split).
 *
 * Where the datasheet leaves something open, QEMU's choice is followed and
 * marked "as QEMU". Not modelled, as in QEMU: the one-CLK delay between a
 * write (or trigger) and the count reaching the counting element — counting
 * starts at the clock of the write.
 */
import { BCD_MODULUS, BINARY_MODULUS, RwMode, Status } from './registers.ts';

/** Sentinel for "no clock": no pending count, not suspended. */
export const NO_CLOCK = -1;
/** NULL COUNT stays set until a count is written: a clock that never comes. */
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
  /** A count written but not yet in effect (modes 1, 5: until a trigger; 2, 3: until the period ends), or -1. */
  pendingCount: number;
  /** The clock at which `pendingCount` takes effect in modes 2 and 3. */
  pendingAtClock: number;
  /** Whether a count has been written since the control word. */
  countWritten: boolean;
  /** Whether the counting element is running from `loadClock` (a count is loaded and, in modes 1 and 5, triggered). */
  counting: boolean;
  loadClock: number;
  /** The counting element's 16 bits while it is not counting, as they would read (BCD digits when held in BCD). */
  heldValue: number;
  /** Where GATE went low in modes 0, 2, 3 and 4, which suspends counting; -1 otherwise. */
  suspendedAtClock: number;
  gate: boolean;
  /** NULL COUNT reads 1 while the clock is before this. */
  nullCountUntilClock: number;
};

/** Modes 6 and 7 are modes 2 and 3 (the datasheet's X10, X11). */
export function modeOf(c: I8254CounterState): number {
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
    count: BINARY_MODULUS, pendingCount: -1, pendingAtClock: NO_CLOCK, countWritten: true, counting: true, loadClock: 0,
    heldValue: 0, suspendedAtClock: gate ? NO_CLOCK : 0, gate, nullCountUntilClock: 0,
  };
}

/** The count and load clock in effect at `clock`, with a mode 2/3 reload at the end of a period applied. */
function effective(c: I8254CounterState, clock: number): { count: number; loadClock: number } {
  if (c.pendingCount >= 0 && c.pendingAtClock !== NO_CLOCK && clock >= c.pendingAtClock && c.suspendedAtClock === NO_CLOCK) {
    return { count: c.pendingCount, loadClock: c.pendingAtClock };
  }
  return { count: c.count, loadClock: c.loadClock };
}

/** CLK edges counted since the load: frozen while GATE suspends counting. */
function elapsed(c: I8254CounterState, clock: number, loadClock: number): number {
  const at = c.suspendedAtClock !== NO_CLOCK ? c.suspendedAtClock : clock;
  return Math.max(0, at - loadClock);
}

/** The counting element's value at `clock`, in binary (0..modulus-1). */
export function valueAt(c: I8254CounterState, clock: number): number {
  if (!c.counting) return c.bcd ? fromBcd(c.heldValue) : c.heldValue;
  const { count, loadClock } = effective(c, clock);
  const d = elapsed(c, clock, loadClock);
  const m = modulus(c);
  switch (modeOf(c)) {
    case 2:
      return (count - (d % count)) % m;
    case 3:
      // Counts down by two, reloading each half period (as QEMU: the odd-count refinements are not modelled).
      return (count - ((2 * d) % count)) % m;
    default:
      // Modes 0, 1, 4, 5 count on through zero, wrapping (datasheet: "the counter continues to decrement").
      return (((count - d) % m) + m) % m;
  }
}

/** The OUT pin at `clock`. */
export function outAt(c: I8254CounterState, clock: number): boolean {
  const mode = modeOf(c);
  // After a control word, OUT takes its mode's initial level until counting starts: low in mode 0, high otherwise.
  if (!c.counting) return mode !== 0;
  if ((mode === 2 || mode === 3) && c.suspendedAtClock !== NO_CLOCK) return true; // GATE low forces OUT high
  const { count, loadClock } = effective(c, clock);
  const d = elapsed(c, clock, loadClock);
  switch (mode) {
    case 0:
    case 1:
      return d >= count; // low while counting down, high from terminal count on
    case 2:
      // Low for one CLK as the count reaches 1 (count 1 is illegal in mode 2; kept high, as QEMU's arithmetic gives).
      return count === 1 || d % count !== count - 1;
    case 3:
      return count === 1 || d % count < (count + 1) >> 1; // high for the first (N+1)/2 CLKs of each period
    default:
      return d !== count; // modes 4, 5: a one-CLK low strobe at terminal count
  }
}

function nextChangeFrom(c: I8254CounterState, clock: number, count: number, loadClock: number): number {
  const d = elapsed(c, clock, loadClock);
  switch (modeOf(c)) {
    case 0:
    case 1:
      return d < count ? loadClock + count : NO_CLOCK;
    case 2: {
      if (count === 1) return NO_CLOCK;
      const phase = d % count;
      const periodStart = loadClock + d - phase;
      return phase < count - 1 ? periodStart + count - 1 : periodStart + count;
    }
    case 3: {
      if (count === 1) return NO_CLOCK;
      const phase = d % count;
      const periodStart = loadClock + d - phase;
      return phase < (count + 1) >> 1 ? periodStart + ((count + 1) >> 1) : periodStart + count;
    }
    default:
      if (d < count) return loadClock + count;
      if (d === count) return loadClock + count + 1;
      return NO_CLOCK;
  }
}

/** The first clock after `clock` at which OUT changes, or -1 if it never will without a new write or gate edge. */
export function nextTransition(c: I8254CounterState, clock: number): number {
  if (!c.counting || c.suspendedAtClock !== NO_CLOCK) return NO_CLOCK;
  const now = outAt(c, clock);
  const { count, loadClock } = effective(c, clock);
  const next = nextChangeFrom(c, clock, count, loadClock);
  const reload = c.pendingCount >= 0 && c.pendingAtClock !== NO_CLOCK && c.pendingAtClock > clock ? c.pendingAtClock : NO_CLOCK;
  if (reload === NO_CLOCK || (next !== NO_CLOCK && next <= reload)) return next;
  // A mode 2/3 reload with a new count comes first.
  if (outAt(c, reload) !== now) return reload;
  return nextChangeFrom(c, reload, c.pendingCount, reload);
}

/** Rising edges of OUT in (from, to] — what a periodic timer delivered while nobody looked. */
export function risingEdgesBetween(c: I8254CounterState, from: number, to: number): number {
  const mode = modeOf(c);
  const { count, loadClock } = effective(c, to);
  if ((mode === 2 || mode === 3) && c.counting && c.suspendedAtClock === NO_CLOCK && loadClock <= from && count > 1) {
    // A new period (and a rising edge) starts every `count` CLKs.
    return Math.floor((to - loadClock) / count) - Math.floor((from - loadClock) / count);
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

/** Freezes the counting element at its value now (control word; first byte of a mode 0 rewrite). */
function hold(c: I8254CounterState, clock: number): void {
  c.heldValue = encodedValueAt(c, clock);
  c.counting = false;
  c.suspendedAtClock = NO_CLOCK;
  c.pendingCount = -1;
  c.pendingAtClock = NO_CLOCK;
}

/** Applies a mode 2/3 reload whose period has ended, so state stays small. */
function settle(c: I8254CounterState, clock: number): void {
  const { count, loadClock } = effective(c, clock);
  if (count !== c.count || loadClock !== c.loadClock) {
    c.count = count;
    c.loadClock = loadClock;
    c.pendingCount = -1;
    c.pendingAtClock = NO_CLOCK;
  }
}

/** Starts counting `count` from `clock`, suspended if GATE is low in a mode where that stops the count. */
function start(c: I8254CounterState, count: number, clock: number): void {
  const mode = modeOf(c);
  c.count = count;
  c.loadClock = clock;
  c.counting = true;
  c.pendingCount = -1;
  c.pendingAtClock = NO_CLOCK;
  c.suspendedAtClock = !c.gate && mode !== 1 && mode !== 5 ? clock : NO_CLOCK;
}

/** A control word for this counter: mode, read/write mode, BCD. */
export function writeControl(c: I8254CounterState, rwMode: number, modeBits: number, bcd: boolean, clock: number): void {
  hold(c, clock);
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
  if (mode === 1 || mode === 5) {
    // Loaded into the counting element only by the next GATE trigger.
    c.pendingCount = count;
    c.pendingAtClock = NO_CLOCK;
    c.nullCountUntilClock = UNTIL_COUNT_WRITTEN;
    return valid;
  }
  if ((mode === 2 || mode === 3) && c.counting) {
    // Datasheet: a new count takes effect at the end of the current period (or at the next GATE trigger).
    settle(c, clock);
    c.pendingCount = count;
    if (c.suspendedAtClock !== NO_CLOCK) {
      c.pendingAtClock = NO_CLOCK;
      c.nullCountUntilClock = UNTIL_COUNT_WRITTEN;
    } else {
      const d = clock - c.loadClock;
      c.pendingAtClock = c.loadClock + (Math.floor(d / c.count) + 1) * c.count;
      c.nullCountUntilClock = c.pendingAtClock;
    }
    return valid;
  }
  // Modes 0 and 4 load at once; so does the first count after a control word in modes 2 and 3.
  start(c, count, clock);
  c.nullCountUntilClock = clock + 1;
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
        if (modeOf(c) === 0 && c.counting) hold(c, clock);
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

/** GATE input. Returns whether OUT may have changed. */
export function setGate(c: I8254CounterState, level: boolean, clock: number): void {
  if (level === c.gate) return;
  const rising = level;
  c.gate = level;
  const mode = modeOf(c);
  switch (mode) {
    case 0:
    case 4:
      // GATE low suspends counting; high resumes where it stopped.
      if (!c.counting) return;
      if (!rising) c.suspendedAtClock = clock;
      else if (c.suspendedAtClock !== NO_CLOCK) {
        c.loadClock += clock - c.suspendedAtClock;
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
        }
        return;
      }
      if (!c.countWritten) return;
      start(c, c.pendingCount >= 0 ? c.pendingCount : c.count, clock);
      c.nullCountUntilClock = Math.min(c.nullCountUntilClock, clock + 1);
      return;
    default:
      // Modes 1 and 5: the rising edge triggers (retriggers) the count.
      if (!rising || !c.countWritten) return;
      start(c, c.pendingCount >= 0 ? c.pendingCount : c.count, clock);
      c.nullCountUntilClock = Math.min(c.nullCountUntilClock, clock + 1);
  }
}
