/**
 * Exact conversion between virtual nanoseconds and the ticks of a device's
 * input clock (1.193182 MHz for the 8254, 3.579545 MHz for the ACPI PM timer,
 * …), QEMU's muldiv64 done in plain numbers: a time is split into whole
 * seconds and the nanoseconds left, so no product exceeds 2^53 for any time
 * a Nanoseconds value can hold and any clock up to 4 GHz.
 */
import type { Nanoseconds } from './time.ts';

const NS_PER_SECOND = 1_000_000_000;

/** How many ticks of a `hz` clock (started at time 0) have occurred by `time`: floor(time * hz / 1e9). */
export function ticksAt(time: Nanoseconds, hz: number): number {
  const seconds = Math.floor(time / NS_PER_SECOND);
  const rest = time - seconds * NS_PER_SECOND;
  return seconds * hz + Math.floor((rest * hz) / NS_PER_SECOND);
}

/** The first time at which `ticksAt(time, hz) >= tick`: ceil(tick * 1e9 / hz). */
export function tickTime(tick: number, hz: number): Nanoseconds {
  const seconds = Math.floor(tick / hz);
  const rest = tick - seconds * hz;
  return seconds * NS_PER_SECOND + Math.ceil((rest * NS_PER_SECOND) / hz);
}
