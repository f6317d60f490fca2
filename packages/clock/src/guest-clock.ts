/**
 * Virtual time as the seeds define it (seed 000, plex86): "the VM needs to
 * see timing based on how many cycles of execution it has used" — the
 * monitor samples the guest's cycle counter at every monitor⇄guest
 * transition, and guest time is the cycles the guest ran, plus the waits of a
 * halted guest until its next deadline. The cycle count is kept exactly; the
 * time in nanoseconds is derived from it (rounded down) at the guest TSC rate.
 */
import type { Nanoseconds } from '@splitvisor/abi';
import { NEVER } from '@splitvisor/abi';

const NS_PER_SECOND = 1_000_000_000;

/** floor or ceil of a * b / c, exactly (BigInt where the product would round in a double). */
function scale(a: number, b: number, c: number, up: boolean): number {
  const product = a * b;
  if (product <= Number.MAX_SAFE_INTEGER) return up ? Math.ceil(product / c) : Math.floor(product / c);
  const n = BigInt(a) * BigInt(b);
  const d = BigInt(c);
  return Number(up ? (n + d - 1n) / d : n / d);
}

export class GuestClock {
  readonly tscHz: number;
  private cycles = 0;

  constructor(tscHz: number) {
    if (!Number.isInteger(tscHz) || tscHz <= 0 || tscHz > 2 ** 32) throw new RangeError(`a guest TSC rate is a positive integer up to 2^32 Hz, not ${tscHz}`);
    this.tscHz = tscHz;
  }

  /** Virtual time: floor(cycles × 10^9 / rate). */
  now(): Nanoseconds {
    const seconds = Math.floor(this.cycles / this.tscHz);
    return seconds * NS_PER_SECOND + scale(this.cycles - seconds * this.tscHz, NS_PER_SECOND, this.tscHz, false);
  }

  /** The guest's TSC: cycles since the VM started (exact to 2^53, 26 days at 4 GHz). */
  tsc(): number {
    return this.cycles;
  }

  /** The cycle count at which time reaches `time`: ceil(time × rate / 10^9). */
  private cyclesAt(time: Nanoseconds): number {
    const seconds = Math.floor(time / NS_PER_SECOND);
    return seconds * this.tscHz + scale(time - seconds * NS_PER_SECOND, this.tscHz, NS_PER_SECOND, true);
  }

  /** The guest ran `cycles` cycles. Returns the new time. */
  ran(cycles: number): Nanoseconds {
    if (!Number.isInteger(cycles) || cycles < 0) throw new RangeError(`a guest runs a whole, non-negative number of cycles, not ${cycles}`);
    this.cycles += cycles;
    return this.now();
  }

  /** How many cycles the guest runs until time reaches `deadline` (0 if it has; Infinity for NEVER). */
  cyclesUntil(deadline: Nanoseconds): number {
    if (deadline === NEVER) return Number.POSITIVE_INFINITY;
    return Math.max(0, this.cyclesAt(deadline) - this.cycles);
  }

  /** Time jumps to `time` (a halted guest waking at a deadline); never backwards. */
  advanceTo(time: Nanoseconds): void {
    this.cycles = Math.max(this.cycles, this.cyclesAt(time));
  }
}
