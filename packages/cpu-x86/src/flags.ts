/**
 * The x86 FLAGS register and its arithmetic status flags (Intel SDM vol. 1
 * §3.4.3, "EFLAGS Register", and Appendix A, "EFLAGS Cross-Reference"):
 * the bit positions, and the status flags an addition, a subtraction or a
 * logical operation leaves. Operands and results are unsigned values of the
 * operation's width in bytes (1, 2 or 4); the caller computes the result.
 */

/** Bit layout of FLAGS (SDM vol. 1 Figure 3-8). Bit 1 is reserved and reads as 1. */
export const CF = 0x0001; // carry
export const PF = 0x0004; // parity of the low byte (set: even number of 1 bits)
export const AF = 0x0010; // auxiliary carry out of bit 3
export const ZF = 0x0040; // zero
export const SF = 0x0080; // sign
export const TF = 0x0100; // trap (single-step)
export const IF = 0x0200; // interrupt enable
export const DF = 0x0400; // direction (string operations count down)
export const OF = 0x0800; // signed overflow
/** The reserved bit 1, always set. */
export const FLAGS_FIXED = 0x0002;
/** The bits of the 16-bit FLAGS an 8086-class real-mode CPU keeps (POPF and IRET load these). */
export const FLAGS_WRITABLE = CF | PF | AF | ZF | SF | TF | IF | DF | OF;
/** The status flags an arithmetic instruction sets. */
export const ARITH = CF | PF | AF | ZF | SF | OF;

/** PF for each value of a result's low byte. */
const PARITY = new Uint8Array(256);
for (let v = 0; v < 256; v++) {
  let ones = 0;
  for (let b = v; b !== 0; b >>= 1) ones += b & 1;
  PARITY[v] = (ones & 1) === 0 ? PF : 0;
}

/** The largest value of `width` bytes. */
export function maskOf(width: number): number {
  return width === 1 ? 0xff : width === 2 ? 0xffff : 0xffff_ffff;
}

/** The sign bit of `width` bytes. */
export function signOf(width: number): number {
  return width === 1 ? 0x80 : width === 2 ? 0x8000 : 0x8000_0000;
}

/** `value` truncated to `width` bytes, unsigned (`value` may be negative or exceed the width, within ±2^53). */
export function truncate(value: number, width: number): number {
  return width === 4 ? value >>> 0 : value & maskOf(width);
}

/** ZF, SF and PF of a result. */
export function resultFlags(result: number, width: number): number {
  return (result === 0 ? ZF : 0) | ((result & signOf(width)) !== 0 ? SF : 0) | (PARITY[result & 0xff] ?? 0);
}

/** The status flags of `result = a + b + carryIn` (ADD, ADC, INC — INC keeps CF: mask it off). */
export function addFlags(a: number, b: number, carryIn: number, result: number, width: number): number {
  return resultFlags(result, width)
    | (a + b + carryIn > maskOf(width) ? CF : 0)
    | ((a ^ b ^ result) & AF)
    | (((a ^ result) & (b ^ result) & signOf(width)) !== 0 ? OF : 0);
}

/** The status flags of `result = a - b - borrowIn` (SUB, SBB, CMP, NEG, DEC — DEC keeps CF: mask it off). */
export function subFlags(a: number, b: number, borrowIn: number, result: number, width: number): number {
  return resultFlags(result, width)
    | (a < b + borrowIn ? CF : 0)
    | ((a ^ b ^ result) & AF)
    | (((a ^ b) & (a ^ result) & signOf(width)) !== 0 ? OF : 0);
}

/** The status flags of AND, OR, XOR, TEST: CF and OF clear, AF left clear (the SDM leaves it undefined). */
export function logicFlags(result: number, width: number): number {
  return resultFlags(result, width);
}
