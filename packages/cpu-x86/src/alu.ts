/**
 * The arithmetic an x86 does beyond add, subtract and the logic operations
 * (those are in flags.ts): shifts and rotates, multiplies and divides, the
 * double shifts, the bit scans and the BCD adjusts. Written from the Intel
 * SDM vol. 2 (each instruction's "Operation" and "Flags Affected"). Each
 * function takes the FLAGS it starts from and leaves the result and the new
 * FLAGS in an `AluOut` the CPU owns (nothing is allocated per instruction).
 * Flags the SDM calls undefined are left as they were unless stated.
 */
import { AF, CF, OF, PF, SF, ZF, maskOf, resultFlags, signOf, truncate } from './flags.ts';

export class AluOut {
  value = 0;
  /** A second result: the high half of a product, a remainder. */
  high = 0;
  flags = 0;
}

/** The shift and rotate operations in the ModRM reg field's order (group 2, SDM vol. 2 Table A-6). */
export const ROL = 0;
export const ROR = 1;
export const RCL = 2;
export const RCR = 3;
export const SHL = 4;
export const SHR = 5;
/** reg field 6 is SAL on the 8086's map; the 386 runs it as SHL. */
export const SAL_ALIAS = 6;
export const SAR = 7;

/** A rotate's result: only CF and OF change. */
function rotated(out: AluOut, value: number, cf: number, of: boolean, flags: number): void {
  out.value = value;
  out.flags = (flags & ~(CF | OF)) | cf | (of ? OF : 0);
}

/**
 * A group-2 shift or rotate of `value` (`width` bytes) by `count` (already
 * masked to 5 bits, as the 286 onward do). A count of 0 changes nothing.
 * OF is defined for a count of 1; for larger counts this computes the same
 * expression (the SDM leaves it undefined).
 */
export function shiftRotate(out: AluOut, kind: number, value: number, count: number, width: number, flags: number): void {
  out.value = value;
  out.flags = flags;
  if (count === 0) return;
  const bits = width << 3;
  const sign = signOf(width);
  let r: number;
  let cf: number;
  let of: boolean;
  switch (kind) {
    case ROL: {
      const n = count % bits;
      r = n === 0 ? value : truncate((value << n) | (value >>> (bits - n)), width);
      cf = r & 1;
      of = ((r & sign) !== 0) !== (cf !== 0);
      rotated(out, r, cf, of, flags);
      return;
    }
    case ROR: {
      const n = count % bits;
      r = n === 0 ? value : truncate((value >>> n) | (value << (bits - n)), width);
      cf = (r & sign) !== 0 ? 1 : 0;
      of = ((r & sign) !== 0) !== ((r & (sign >>> 1)) !== 0);
      rotated(out, r, cf, of, flags);
      return;
    }
    case RCL: {
      const n = width === 4 ? count : count % (bits + 1);
      r = value;
      cf = flags & CF;
      for (let i = 0; i < n; i++) {
        const out1 = (r & sign) !== 0 ? 1 : 0;
        r = truncate((r << 1) | cf, width);
        cf = out1;
      }
      of = ((r & sign) !== 0) !== (cf !== 0);
      rotated(out, r, cf, of, flags);
      return;
    }
    case RCR: {
      const n = width === 4 ? count : count % (bits + 1);
      r = value;
      cf = flags & CF;
      // OF from the operand before the rotate: its MSB XOR the carry in (SDM: RCR with a count of 1).
      of = ((r & sign) !== 0) !== (cf !== 0);
      for (let i = 0; i < n; i++) {
        const out1 = r & 1;
        r = (r >>> 1) | (cf !== 0 ? sign : 0);
        cf = out1;
      }
      rotated(out, truncate(r, width), cf, of, flags);
      return;
    }
    case SHL: case SAL_ALIAS: {
      if (count <= bits) {
        cf = count === bits ? value & 1 : (value >>> (bits - count)) & 1;
        r = count === bits ? 0 : truncate(value << count, width);
      } else {
        cf = 0;
        r = 0;
      }
      of = ((r & sign) !== 0) !== (cf !== 0);
      break;
    }
    case SHR: {
      cf = count <= bits ? (count === 0 ? 0 : (value >>> (count - 1)) & 1) : 0;
      r = count >= bits ? 0 : value >>> count;
      of = (value & sign) !== 0;
      break;
    }
    default: { // SAR
      const shifted = width === 4 ? value | 0 : (value & sign) !== 0 ? value - (sign << 1) : value;
      const n = count >= bits ? bits - 1 : count;
      cf = (shifted >> (n === count ? count - 1 : n)) & 1;
      r = truncate(shifted >> n, width);
      of = false;
    }
  }
  out.value = r;
  out.flags = (flags & ~(CF | OF | SF | ZF | PF | AF)) | cf | (of ? OF : 0) | resultFlags(r, width);
}

/**
 * SHLD (left) or SHRD: `dest` shifted by `count` (masked to 5 bits), the
 * vacated bits filled from `source`. A count of 0 changes nothing; a count
 * larger than the operand (16-bit forms) leaves an undefined result — this
 * takes the bits a 32-bit funnel would give.
 */
export function doubleShift(out: AluOut, left: boolean, dest: number, source: number, count: number, width: number, flags: number): void {
  out.value = dest;
  out.flags = flags;
  if (count === 0) return;
  const bits = width << 3;
  const sign = signOf(width);
  let r: number;
  let cf: number;
  if (left) {
    // The pair dest:source as one value 2 × bits wide, shifted left; the result its upper half.
    if (count <= bits) {
      r = count === bits ? source : truncate((dest << count) | (source >>> (bits - count)), width);
      cf = (dest >>> (bits - count)) & 1;
    } else {
      const n = count - bits;
      r = truncate((source << n) | (dest >>> (bits - n)), width);
      cf = (source >>> (bits - n)) & 1;
    }
  } else if (count <= bits) {
    r = count === bits ? source : truncate((dest >>> count) | (source << (bits - count)), width);
    cf = (dest >>> (count - 1)) & 1;
  } else {
    const n = count - bits;
    r = truncate((source >>> n) | (dest << (bits - n)), width);
    cf = (source >>> (n - 1)) & 1;
  }
  const of = ((r & sign) !== 0) !== ((dest & sign) !== 0);
  out.value = r;
  out.flags = (flags & ~(CF | OF | SF | ZF | PF | AF)) | cf | (of ? OF : 0) | resultFlags(r, width);
}

/** The 64-bit product of two unsigned 32-bit values: `value` the low half, `high` the high half. */
function multiply32(out: AluOut, a: number, b: number): void {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const lo = aLo * bLo;
  const mid = aHi * bLo + aLo * bHi; // < 2^33
  const low = lo + (mid % 0x1_0000) * 0x1_0000;
  out.value = low >>> 0;
  out.high = (aHi * bHi + Math.floor(mid / 0x1_0000) + Math.floor(low / 0x1_0000_0000)) >>> 0;
}

/** MUL: `a × b` unsigned; CF and OF set when the high half is not zero. SF ZF AF PF undefined: SF ZF PF from the low half. */
export function mul(out: AluOut, a: number, b: number, width: number, flags: number): void {
  if (width === 4) {
    multiply32(out, a, b);
  } else {
    const p = a * b;
    const bits = width << 3;
    out.value = truncate(p, width);
    out.high = p >>> bits;
  }
  const carry = out.high !== 0 ? CF | OF : 0;
  out.flags = (flags & ~(CF | OF | SF | ZF | PF)) | carry | resultFlags(out.value, width);
}

/** A value of `width` bytes read as signed. */
export function signed(value: number, width: number): number {
  if (width === 4) return value | 0;
  const sign = signOf(width);
  return (value & sign) !== 0 ? value - (sign << 1) : value;
}

/** IMUL: `a × b` signed; CF and OF set when the product does not fit `width` bytes sign-extended. `value` low, `high` high half. */
export function imul(out: AluOut, a: number, b: number, width: number, flags: number): void {
  const sa = signed(a, width);
  const sb = signed(b, width);
  let fits: boolean;
  if (width === 4) {
    const negative = (sa < 0) !== (sb < 0);
    multiply32(out, Math.abs(sa) >>> 0, Math.abs(sb) >>> 0);
    if (negative && (out.value !== 0 || out.high !== 0)) {
      // Two's complement of the 64-bit magnitude.
      const lo = (~out.value + 1) >>> 0;
      out.high = (~out.high + (lo === 0 ? 1 : 0)) >>> 0;
      out.value = lo;
    }
    fits = out.high === ((out.value & 0x8000_0000) !== 0 ? 0xffff_ffff : 0);
  } else {
    const p = sa * sb;
    const bits = width << 3;
    out.value = truncate(p, width);
    out.high = truncate(Math.floor(p / (1 << bits)), width);
    fits = p === signed(out.value, width);
  }
  const carry = fits ? 0 : CF | OF;
  out.flags = (flags & ~(CF | OF | SF | ZF | PF)) | carry | resultFlags(out.value, width);
}

/**
 * DIV: the double-width `high:low` by `divisor`, unsigned. Returns false
 * for a divide error (#DE: a zero divisor, or a quotient too large);
 * otherwise the quotient in `value`, the remainder in `high`. Flags are
 * undefined and left as they were.
 */
export function div(out: AluOut, high: number, low: number, divisor: number, width: number, flags: number): boolean {
  out.flags = flags;
  if (divisor === 0) return false;
  if (width === 4) {
    const dividend = (BigInt(high) << 32n) | BigInt(low);
    const q = dividend / BigInt(divisor);
    if (q > 0xffff_ffffn) return false;
    out.value = Number(q);
    out.high = Number(dividend % BigInt(divisor));
    return true;
  }
  const dividend = high * (1 << (width << 3)) + low;
  const q = Math.floor(dividend / divisor);
  if (q > maskOf(width)) return false;
  out.value = q;
  out.high = dividend % divisor;
  return true;
}

/** IDIV: signed; the quotient truncates toward zero, the remainder takes the dividend's sign. */
export function idiv(out: AluOut, high: number, low: number, divisor: number, width: number, flags: number): boolean {
  out.flags = flags;
  const d = signed(divisor, width);
  if (d === 0) return false;
  const bits = width << 3;
  if (width === 4) {
    const dividend = BigInt.asIntN(64, (BigInt(high) << 32n) | BigInt(low));
    const q = dividend / BigInt(d);
    if (q > 0x7fff_ffffn || q < -0x8000_0000n) return false;
    out.value = Number(BigInt.asUintN(32, q));
    out.high = Number(BigInt.asUintN(32, dividend % BigInt(d)));
    return true;
  }
  const dividend = signed(high, width) * (1 << bits) + low;
  const q = Math.trunc(dividend / d);
  const limit = signOf(width);
  if (q >= limit || q < -limit) return false;
  out.value = truncate(q, width);
  out.high = truncate(dividend - q * d, width);
  return true;
}

/** BSF (forward) or BSR: the index of the lowest or highest set bit; ZF set and the destination unchanged for a zero source. */
export function bitScan(out: AluOut, forward: boolean, source: number, dest: number, flags: number): void {
  if (source === 0) {
    out.value = dest;
    out.flags = flags | ZF;
    return;
  }
  out.value = forward ? 31 - Math.clz32(source & -source) : 31 - Math.clz32(source);
  out.flags = flags & ~ZF;
}

/** DAA (SDM vol. 2 "DAA—Decimal Adjust AL after Addition"): AL in `value`. OF undefined (cleared here). */
export function daa(out: AluOut, al: number, flags: number): void {
  const oldCf = flags & CF;
  let a = al;
  let f = flags & ~(CF | AF | OF);
  if ((a & 0xf) > 9 || (flags & AF) !== 0) {
    a += 6;
    f |= AF | (a > 0xff ? CF : 0) | oldCf;
    a &= 0xff;
  }
  if (al > 0x99 || oldCf !== 0) {
    a = (a + 0x60) & 0xff;
    f |= CF;
  } else {
    f &= ~CF;
  }
  out.value = a;
  out.flags = (f & ~(SF | ZF | PF)) | resultFlags(a, 1);
}

/** DAS (SDM vol. 2 "DAS—Decimal Adjust AL after Subtraction"). */
export function das(out: AluOut, al: number, flags: number): void {
  const oldCf = flags & CF;
  let a = al;
  let f = flags & ~(CF | AF | OF);
  if ((a & 0xf) > 9 || (flags & AF) !== 0) {
    f |= AF | (a < 6 ? CF : 0) | oldCf;
    a = (a - 6) & 0xff;
  }
  if (al > 0x99 || oldCf !== 0) {
    a = (a - 0x60) & 0xff;
    f |= CF;
  }
  out.value = a;
  out.flags = (f & ~(SF | ZF | PF)) | resultFlags(a, 1);
}

/** AAA or AAS on AX (`value`): the 286 onward adjust AX as a whole (AX ± 106h / AX − 6, AH − 1). */
export function asciiAdjust(out: AluOut, add: boolean, ax: number, flags: number): void {
  let a = ax;
  let f = flags & ~(CF | AF);
  if ((a & 0xf) > 9 || (flags & AF) !== 0) {
    a = add ? a + 0x106 : (a - 6 - 0x100) & 0xffff; // AX − 6, then AH − 1
    f |= CF | AF;
  }
  a &= 0xff0f;
  out.value = a & 0xffff;
  out.flags = (f & ~(SF | ZF | PF)) | resultFlags(a & 0xff, 1);
}
