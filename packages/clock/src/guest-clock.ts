/**
 * Virtual time as the seeds define it (seed 001, plex86): "the VM needs to
 * see timing based on how many cycles of execution it has used" — the
 * monitor samples the guest's cycle counter at every monitor⇄guest
 * transition, and guest time is the cycles the guest ran, plus the waits of a
 * halted guest until its next deadline. The cycle count is kept exactly; the
 * time in nanoseconds is derived from it (rounded down) at the guest TSC rate.
 */
import type { Nanoseconds } from '@splitvisor/abi';
import { NEVER } from '@splitvisor/abi';

const NS_PER_SECOND = 1_000_000_000;

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/**
 * floor(a / b) for a whole a in [0, 2^53) and a whole b > 0, given 1 / b: a
 * multiply and a correction by one, cheaper than a divide on the run loop's
 * every exit.
 */
function quotient(a: number, b: number, inverse: number): number {
  const q = Math.floor(a * inverse);
  if (q * b > a) return q - 1;
  return (q + 1) * b <= a ? q + 1 : q;
}

/** floor or ceil of a * b / c, exactly, where the product would round in a double. */
function scaleBig(a: number, b: number, c: number, up: boolean): number {
  const n = BigInt(a) * BigInt(b);
  const d = BigInt(c);
  return Number(up ? (n + d - 1n) / d : n / d);
}

export class GuestClock {
  readonly tscHz: number;
  /** 10^9 / tscHz in lowest terms (1/2 at 2 GHz, 5/12 at 2.4 GHz): the products stay small enough for doubles. */
  private readonly nsPerCycleNum: number;
  private readonly nsPerCycleDen: number;
  private readonly inverseNum: number;
  private readonly inverseDen: number;
  private cycles = 0;
  /**
   * `now()` as of `timeCycles` cycles: derived when read, not at every
   * transition, because the run loop counts cycles at every exit but most
   * exits never ask the time.
   */
  private time: Nanoseconds = 0;
  private timeCycles = 0;
  /** The last instant `tscAt` was asked about and its answer (the run loop asks about the same deadline again and again). */
  private lastInstant = Number.NaN;
  private lastInstantTsc = 0;

  constructor(tscHz: number) {
    if (!Number.isInteger(tscHz) || tscHz <= 0 || tscHz > 2 ** 32) throw new RangeError(`a guest TSC rate is a positive integer up to 2^32 Hz, not ${tscHz}`);
    this.tscHz = tscHz;
    const common = gcd(NS_PER_SECOND, tscHz);
    this.nsPerCycleNum = NS_PER_SECOND / common;
    this.nsPerCycleDen = tscHz / common;
    this.inverseNum = 1 / this.nsPerCycleNum;
    this.inverseDen = 1 / this.nsPerCycleDen;
  }

  /** Virtual time: floor(cycles × 10^9 / rate). */
  now(): Nanoseconds {
    if (this.timeCycles !== this.cycles) {
      this.time = this.timeAt(this.cycles);
      this.timeCycles = this.cycles;
    }
    return this.time;
  }

  /** The guest's TSC: cycles since the VM started (exact to 2^53, 26 days at 4 GHz). */
  tsc(): number {
    return this.cycles;
  }

  /** floor(cycles × 10^9 / rate), as whole periods of the reduced ratio plus the rest. */
  private timeAt(cycles: number): Nanoseconds {
    const num = this.nsPerCycleNum;
    const den = this.nsPerCycleDen;
    const periods = quotient(cycles, den, this.inverseDen);
    const rest = cycles - periods * den;
    const product = rest * num;
    return periods * num + (product <= Number.MAX_SAFE_INTEGER ? quotient(product, den, this.inverseDen) : scaleBig(rest, num, den, false));
  }

  /** The cycle count at which time reaches `time`: ceil(time × rate / 10^9). */
  private cyclesAt(time: Nanoseconds): number {
    if (!Number.isFinite(time)) throw new RangeError(`a deadline is an instant of virtual time, not ${time}`);
    const num = this.nsPerCycleNum;
    const den = this.nsPerCycleDen;
    const periods = quotient(time, num, this.inverseNum);
    const rest = time - periods * num;
    const product = rest * den;
    if (product > Number.MAX_SAFE_INTEGER) return periods * den + scaleBig(rest, den, num, true);
    const whole = quotient(product, num, this.inverseNum);
    return periods * den + (whole * num < product ? whole + 1 : whole);
  }

  /** The guest ran `cycles` cycles. Returns the new time. */
  ran(cycles: number): Nanoseconds {
    this.addCycles(cycles);
    return this.now();
  }

  /** As `ran`, without deriving the new time until it is read: the run loop's call at every exit. */
  addCycles(cycles: number): void {
    if (!Number.isInteger(cycles) || cycles < 0) throw new RangeError(`a guest runs a whole, non-negative number of cycles, not ${cycles}`);
    this.cycles += cycles;
  }

  /**
   * The TSC value at which time reaches `time` — the least cycle count whose
   * time is `time` or later (Infinity for NEVER): for a whole `time`,
   * `now() >= time` exactly when `tsc() >= tscAt(time)`, which the run loop
   * tests without deriving the time.
   */
  tscAt(time: Nanoseconds): number {
    if (time === NEVER) return Number.POSITIVE_INFINITY;
    if (time !== this.lastInstant) {
      this.lastInstantTsc = this.cyclesAt(time);
      this.lastInstant = time;
    }
    return this.lastInstantTsc;
  }

  /** How many cycles the guest runs until time reaches `deadline` (0 if it has; Infinity for NEVER). */
  cyclesUntil(deadline: Nanoseconds): number {
    return Math.max(0, this.tscAt(deadline) - this.cycles);
  }

  /** Time jumps to `time` (a halted guest waking at a deadline); never backwards. */
  advanceTo(time: Nanoseconds): void {
    this.cycles = Math.max(this.cycles, this.cyclesAt(time));
  }
}
