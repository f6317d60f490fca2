/**
 * The divider chain as pure functions of time. MC146818A datasheet,
 * "Divider Stages", table 4 (divider configurations), table 5 (periodic
 * interrupt rates) and table 6 (update cycle times).
 *
 * The chain counts the 32.768 kHz time base; its 1 Hz output starts each
 * update cycle, and its taps set PF. Everything here is measured from the
 * chain's `origin`: a virtual instant at which the chain stood at a 1 Hz edge.
 * Edges of the 1 Hz output fall at origin + k seconds; the tap of a period
 * of p clocks at the first instant the chain has counted a multiple of p.
 *
 * UIP rises 244 µs (8 clocks of 32.768 kHz) before the update and the update
 * happens at the 1 Hz edge, in an instant. On the chip the update then takes
 * 1984 µs, during which UIP stays high and the time bytes are in transition
 * ("undefined" when read); QEMU models the update as instantaneous with UIP
 * high only for the 244 µs before it, and so does this model.
 */
import { tickTime, ticksAt } from '@splitvisor/abi';
import type { Nanoseconds } from '@splitvisor/abi';
import { Divider, RegA } from './registers.ts';

/** The time base the PC's board supplies. */
export const TIME_BASE_HZ = 32_768;
const NS_PER_SECOND = 1_000_000_000;
/** UIP is high for this many clocks before each update (table 6: 244 µs). */
export const UIP_CLOCKS = 8;
/** After the divider reset is released, the first update begins half a second later. */
export const FIRST_UPDATE_AFTER_RESET: Nanoseconds = NS_PER_SECOND / 2;

/**
 * Whether the chain counts with register A's DV field. 000 and 001 select
 * other crystals (the PC has only the 32.768 kHz one): QEMU lets the clock
 * run as normal for them, and so does this model. 11x holds the chain in
 * reset; 011 and 10x are test modes, in which nothing counts here (as QEMU).
 */
export function dividerRunning(regA: number): boolean {
  return ((regA >> RegA.DV_SHIFT) & RegA.DV_MASK) <= Divider.TIME_BASE_32KHZ;
}

export function dividerInReset(regA: number): boolean {
  return ((regA >> RegA.DV_SHIFT) & Divider.RESET) === Divider.RESET;
}

/** DV 011, 100, 101: the datasheet's test modes. */
export function dividerInTestMode(regA: number): boolean {
  return !dividerRunning(regA) && !dividerInReset(regA);
}

/**
 * The periodic tap of rate select `rs` as a count of time-base clocks (0 =
 * none). With the 32.768 kHz time base, 1 and 2 give 256 and 128 Hz (the
 * same taps as 8 and 9); 3–15 give 8192 Hz down to 2 Hz (table 5).
 */
export function periodClocks(rs: number): number {
  const r = rs & RegA.RS_MASK;
  if (r === 0) return 0;
  return r <= 2 ? 1 << (r + 6) : 1 << (r - 1);
}

/** The period of a tap of `clocks` time-base clocks, in (fractional) nanoseconds. */
export function periodNs(clocks: number): number {
  return (clocks * NS_PER_SECOND) / TIME_BASE_HZ;
}

function chainClocks(origin: Nanoseconds, time: Nanoseconds): number {
  return ticksAt(time - origin, TIME_BASE_HZ);
}

/** 1 Hz edges (updates) in (from, to]. */
export function updatesBetween(origin: Nanoseconds, from: Nanoseconds, to: Nanoseconds): number {
  return Math.floor((to - origin) / NS_PER_SECOND) - Math.floor((from - origin) / NS_PER_SECOND);
}

/** The first update after `after`. */
export function nextUpdate(origin: Nanoseconds, after: Nanoseconds): Nanoseconds {
  return origin + (Math.floor((after - origin) / NS_PER_SECOND) + 1) * NS_PER_SECOND;
}

/** Edges of a tap of `clocks` clocks in (from, to]. */
export function tapEdgesBetween(origin: Nanoseconds, clocks: number, from: Nanoseconds, to: Nanoseconds): number {
  return Math.floor(chainClocks(origin, to) / clocks) - Math.floor(chainClocks(origin, from) / clocks);
}

/** The first edge of a tap of `clocks` clocks after `after`. */
export function nextTapEdge(origin: Nanoseconds, clocks: number, after: Nanoseconds): Nanoseconds {
  return origin + tickTime((Math.floor(chainClocks(origin, after) / clocks) + 1) * clocks, TIME_BASE_HZ);
}

/** Whether UIP reads 1 at `time` on a counting chain with updates enabled: the last 8 clocks before a 1 Hz edge. */
export function updateInProgress(origin: Nanoseconds, time: Nanoseconds): boolean {
  return chainClocks(origin, time) % TIME_BASE_HZ >= TIME_BASE_HZ - UIP_CLOCKS;
}
