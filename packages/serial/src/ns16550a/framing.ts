/**
 * How long a character occupies the line, from LCR and the divisor latch.
 * PC16550D §8.2 (baud generator: RCLK ÷ (16 × divisor)) and §8.6 (LCR: word
 * length, stop bits, parity). Pure functions: the device and its tests both
 * call them.
 */
import type { Nanoseconds } from '@splitvisor/abi';
import { tickTime } from '@splitvisor/abi';
import { CLOCKS_PER_BIT, Fcr, Lcr, RCLK_HZ, RX_TRIGGER_LEVELS } from './registers.ts';

/**
 * The divisor the baud generator divides by. The datasheet allows 1 to 2^16 − 1;
 * a 0 in the latch (on the way between writing DLL and DLM, or left there) is
 * taken as 2^16, the period of a 16-bit down-counter reloaded with 0.
 */
export function effectiveDivisor(divisor: number): number {
  return divisor === 0 ? 0x1_0000 : divisor;
}

/** Baud rate for a divisor: 115 200 / divisor on the PC. */
export function baudRate(divisor: number): number {
  return RCLK_HZ / (CLOCKS_PER_BIT * effectiveDivisor(divisor));
}

/**
 * Half-bit times in one frame: a start bit, 5–8 data bits, an optional parity
 * bit and 1, 1.5 (5-bit words with STB) or 2 stop bits. 8N1 is 20 (10 bits).
 */
export function frameHalfBits(lcr: number): number {
  const dataBits = 5 + (lcr & Lcr.WLS_MASK);
  const parityBits = (lcr & Lcr.PEN) !== 0 ? 1 : 0;
  const stopHalfBits = (lcr & Lcr.STB) === 0 ? 2 : dataBits === 5 ? 3 : 4;
  return 2 * (1 + dataBits + parityBits) + stopHalfBits;
}

/** One character time in virtual nanoseconds (rounded up to the ns): 86 806 ns for 8N1 at 115 200 baud. */
export function characterTime(lcr: number, divisor: number): Nanoseconds {
  const clocks = (frameHalfBits(lcr) * CLOCKS_PER_BIT * effectiveDivisor(divisor)) / 2;
  return tickTime(clocks, RCLK_HZ);
}

/** The RX FIFO trigger level selected by FCR bits 7–6. */
export function triggerLevel(fcr: number): number {
  return RX_TRIGGER_LEVELS[(fcr & Fcr.TRIGGER_MASK) >> Fcr.TRIGGER_SHIFT] ?? 1;
}
