/**
 * Exact conversion between virtual nanoseconds and the ticks of a clock
 * (1.193182 MHz for the 8254, 3.579545 MHz for the ACPI PM timer, a guest
 * TSC at a few GHz, …): QEMU's muldiv64 in plain numbers. A time is split
 * into whole seconds and the nanoseconds left; the product of the remainder
 * and the rate is exact in a double for every rate the PC's devices use, and
 * falls back to BigInt where it would not be (rates whose odd part is large,
 * such as a 2.9 GHz TSC). Exact for any integer rate up to 2^32 Hz while the
 * tick count is a safe integer (26 days of a 4 GHz TSC, centuries of the
 * PIT); `ticksAtBig` goes beyond.
 */
import type { Nanoseconds } from './time.ts';

const NS_PER_SECOND = 1_000_000_000;
const NS_PER_SECOND_BIG = 1_000_000_000n;

/** floor(a * b / c) for non-negative integers, exactly. */
function mulDiv(a: number, b: number, c: number): number {
  const product = a * b;
  if (product <= Number.MAX_SAFE_INTEGER) return Math.floor(product / c);
  return Number((BigInt(a) * BigInt(b)) / BigInt(c));
}

/** ceil(a * b / c) for non-negative integers, exactly. */
function mulDivUp(a: number, b: number, c: number): number {
  const product = a * b;
  if (product <= Number.MAX_SAFE_INTEGER) return Math.ceil(product / c);
  const big = BigInt(c);
  return Number((BigInt(a) * BigInt(b) + big - 1n) / big);
}

/** How many ticks of a `hz` clock (started at time 0) have occurred by `time`: floor(time * hz / 1e9). */
export function ticksAt(time: Nanoseconds, hz: number): number {
  const seconds = Math.floor(time / NS_PER_SECOND);
  const rest = time - seconds * NS_PER_SECOND;
  return seconds * hz + mulDiv(rest, hz, NS_PER_SECOND);
}

/** The first time at which `ticksAt(time, hz) >= tick`: ceil(tick * 1e9 / hz). */
export function tickTime(tick: number, hz: number): Nanoseconds {
  const seconds = Math.floor(tick / hz);
  const rest = tick - seconds * hz;
  return seconds * NS_PER_SECOND + mulDivUp(rest, NS_PER_SECOND, hz);
}

/** `ticksAt` as a BigInt, for counters that outgrow 2^53 ticks (a 64-bit TSC). */
export function ticksAtBig(time: Nanoseconds, hz: number): bigint {
  return (BigInt(time) * BigInt(hz)) / NS_PER_SECOND_BIG;
}
