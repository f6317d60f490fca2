/**
 * Virtual time, in integer nanoseconds since the VM was created. A plain
 * number stays exact up to 2^53 ns (about 104 days of guest time), which is
 * also where the codec draws the line.
 */
export type Nanoseconds = number;

/** A deadline that never comes: no timer armed. */
export const NEVER: Nanoseconds = Number.POSITIVE_INFINITY;

/** Whether `value` is a valid instant of virtual time. */
export function isNanoseconds(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}
