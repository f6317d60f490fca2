/**
 * The instruction format, decoded once (Intel SDM vol. 2 ch. 2: prefixes,
 * opcode, ModRM, SIB, displacement, immediate; Tables 2-1, 2-2 and 2-3 for
 * the 16- and 32-bit addressing forms): what the decoded-instruction cache
 * (block-cache.ts) keeps so that an instruction run again is not decoded
 * again. It decodes only the forms the cache runs without the interpreter
 * — the common integer forms without LOCK or REP — and says `false` for
 * every other instruction, which the interpreter then runs as it always
 * does. Decoding has no side effects: it reads bytes and fills `out`.
 */

import { signed } from './alu.ts';

/** The segment registers' encoding (SDM vol. 2 Table 3-6 order: ES CS SS DS FS GS). */
const SS = 2;
const DS = 3;
const FS = 4;
const GS = 5;
const BX = 3;
const SP = 4;
const BP = 5;
const SI = 6;
const DI = 7;

/** What a decoded instruction does, as the cache's compiler dispatches on it. */
export const Form = {
  /** ADD OR ADC SBB AND SUB XOR CMP in the Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / eAX,Iz forms (00h–3Dh). */
  Alu: 0,
  /** INC/DEC r (40h–4Fh). */
  IncDec: 1,
  /** PUSH r / POP r (50h–5Fh). */
  PushPop: 2,
  /** Jcc rel8 (70h–7Fh) and rel16/32 (0F 80h–8Fh). */
  Jcc: 3,
  /** Group 1: ALU Eb,Ib / Ev,Iz / Ev,Ib (80h–83h). */
  AluImm: 4,
  /** TEST Eb,Gb / Ev,Gv (84h, 85h). */
  Test: 5,
  /** MOV Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev (88h–8Bh). */
  Mov: 6,
  /** LEA Gv,M (8Dh). */
  Lea: 7,
  /** TEST AL,Ib / eAX,Iz (A8h, A9h). */
  TestAcc: 8,
  /** MOV r,imm (B0h–BFh). */
  MovImm: 9,
  /** RET near (C3h). */
  Ret: 10,
  /** MOV Eb,Ib / Ev,Iz (C6h, C7h with reg 0). */
  MovRmImm: 11,
  /** CALL rel16/32 (E8h). */
  Call: 12,
  /** JMP rel16/32 (E9h) and rel8 (EBh). */
  Jmp: 13,
  /** MOVZX / MOVSX Gv,Eb / Gv,Ew (0F B6h, B7h, BEh, BFh). */
  MovExtend: 14,
} as const;
export type Form = (typeof Form)[keyof typeof Form];

export class DecodedInstruction {
  form: Form = Form.Alu;
  /** Bytes from the first prefix to the end of the immediate. */
  length = 0;
  /** The opcode after any prefixes; 0x0Fxx for a two-byte one. */
  opcode = 0;
  /** 2 or 4. */
  opSize = 2;
  adSize = 2;
  /** The operand width in bytes (1 for the byte forms, else `opSize`). */
  width = 2;
  mod = 3;
  reg = 0;
  rm = 0;
  /** The memory operand (mod ≠ 3): its segment (the override, or the form's default), base and index registers (-1: none), scale shift, displacement. */
  segment = DS;
  base = -1;
  index = -1;
  scale = 0;
  displacement = 0;
  /** The immediate (sign-extended where the form says; relative targets as signed displacements). */
  immediate = 0;
}

/** Reads the byte `offset` bytes into the instruction, or -1 past what may be read (the page's end, the segment's limit). */
export type ByteAt = (offset: number) => number;

/** 16-bit addressing (Table 2-1): each r/m's base and index, and whether BP makes SS the default segment. */
const BASE16 = [BX, BX, BP, BP, SI, DI, BP, BX];
const INDEX16 = [SI, DI, SI, DI, -1, -1, -1, -1];

/** `count` bytes from `n` as a little-endian unsigned value, or -1 when one cannot be read. */
function readLe(at: ByteAt, n: number, count: number): number {
  let value = 0;
  for (let i = count - 1; i >= 0; i--) {
    const byte = at(n + i);
    if (byte < 0) return -1;
    value = value * 256 + byte;
  }
  return value;
}

/**
 * Decodes the instruction whose bytes `at` gives, in code whose default
 * operand and address size is `code32`'s: `true` with `out` filled for a
 * form the cache runs, `false` for any other (or when a byte cannot be read).
 */
export function decode(at: ByteAt, code32: boolean, out: DecodedInstruction): boolean {
  const size = code32 ? 4 : 2;
  let opSize = size;
  let adSize = size;
  let segment = -1;
  let n = 0;
  let op = at(n++);
  for (;;) {
    if (op === 0x26 || op === 0x2e || op === 0x36 || op === 0x3e) segment = (op >> 3) & 3;
    else if (op === 0x64 || op === 0x65) segment = op === 0x64 ? FS : GS;
    else if (op === 0x66) opSize = 6 - size;
    else if (op === 0x67) adSize = 6 - size;
    else break; // LOCK (F0h) and REP (F2h, F3h) are the interpreter's, as is every opcode below that is not listed
    if (n >= 4) return false;
    op = at(n++);
  }
  if (op < 0) return false;
  out.opSize = opSize;
  out.adSize = adSize;
  out.opcode = op;
  out.mod = 3;
  out.immediate = 0;
  let hasModrm = false;
  let immediate = 0; // bytes of immediate
  let signedImmediate = false;
  let width = (op & 1) === 0 ? 1 : opSize;
  if (op < 0x40 && (op & 7) < 6) {
    out.form = Form.Alu;
    hasModrm = (op & 7) < 4;
    if (!hasModrm) immediate = width;
  } else if (op >= 0x40 && op < 0x60) {
    out.form = op < 0x50 ? Form.IncDec : Form.PushPop;
    width = opSize;
  } else if (op >= 0x70 && op < 0x80) {
    out.form = Form.Jcc;
    immediate = 1;
    signedImmediate = true;
  } else if (op >= 0x80 && op <= 0x83) {
    out.form = Form.AluImm;
    hasModrm = true;
    immediate = op === 0x81 ? width : 1;
    signedImmediate = op === 0x83;
  } else if (op === 0x84 || op === 0x85) {
    out.form = Form.Test;
    hasModrm = true;
  } else if (op >= 0x88 && op <= 0x8b) {
    out.form = Form.Mov;
    hasModrm = true;
  } else if (op === 0x8d) {
    out.form = Form.Lea;
    hasModrm = true;
    width = opSize;
  } else if (op === 0xa8 || op === 0xa9) {
    out.form = Form.TestAcc;
    immediate = width;
  } else if (op >= 0xb0 && op < 0xc0) {
    out.form = Form.MovImm;
    width = op < 0xb8 ? 1 : opSize;
    immediate = width;
  } else if (op === 0xc3) {
    out.form = Form.Ret;
    width = opSize;
  } else if (op === 0xc6 || op === 0xc7) {
    out.form = Form.MovRmImm;
    hasModrm = true;
    immediate = width;
  } else if (op === 0xe8 || op === 0xe9 || op === 0xeb) {
    out.form = op === 0xe8 ? Form.Call : Form.Jmp;
    immediate = op === 0xeb ? 1 : opSize;
    signedImmediate = true;
  } else if (op === 0x0f) {
    const second = at(n++);
    if (second >= 0x80 && second < 0x90) {
      out.form = Form.Jcc;
      immediate = opSize;
      signedImmediate = true;
    } else if (second === 0xb6 || second === 0xb7 || second === 0xbe || second === 0xbf) {
      out.form = Form.MovExtend;
      hasModrm = true;
      width = (second & 1) === 0 ? 1 : 2; // the source's width
    } else {
      return false;
    }
    out.opcode = 0x0f00 | second;
  } else {
    return false;
  }
  out.width = width;
  if (hasModrm) {
    const b = at(n++);
    if (b < 0) return false;
    const mod = b >> 6;
    out.mod = mod;
    out.reg = (b >> 3) & 7;
    out.rm = b & 7;
    if (op === 0x8d && mod === 3) return false; // LEA of a register: #UD, the interpreter's
    if ((op === 0xc6 || op === 0xc7) && out.reg !== 0) return false;
    if (mod !== 3) {
      const taken = adSize === 2 ? modrm16(at, n, mod, b & 7, out) : modrm32(at, n, mod, b & 7, out);
      if (taken < 0) return false;
      n += taken;
      if (segment >= 0) out.segment = segment;
    }
  }
  if (immediate > 0) {
    const value = readLe(at, n, immediate);
    if (value < 0) return false;
    n += immediate;
    out.immediate = signedImmediate ? signed(value, immediate) : value;
  }
  out.length = n;
  return true;
}

/** Fills the 16-bit memory operand (Table 2-1) from the bytes after ModRM; the bytes it took, or -1. */
function modrm16(at: ByteAt, n: number, mod: number, rm: number, out: DecodedInstruction): number {
  out.scale = 0;
  out.index = INDEX16[rm] ?? -1;
  out.base = BASE16[rm] ?? -1;
  out.segment = rm === 2 || rm === 3 ? SS : DS;
  // A 16-bit displacement's sign does not matter: the offset wraps at 64 KiB.
  const bytes = rm === 6 && mod === 0 ? 2 : mod;
  if (rm === 6 && mod === 0) out.base = -1;
  else if (rm === 6) out.segment = SS;
  const d = bytes === 0 ? 0 : readLe(at, n, bytes);
  if (d < 0) return -1;
  out.displacement = bytes === 1 ? signed(d, 1) : d;
  return bytes;
}

/** Fills the 32-bit memory operand (Tables 2-2 and 2-3) from the bytes after ModRM; the bytes it took, or -1. */
function modrm32(at: ByteAt, n: number, mod: number, rm: number, out: DecodedInstruction): number {
  let taken = 0;
  out.segment = DS;
  out.index = -1;
  out.scale = 0;
  out.displacement = 0;
  if (rm === 4) {
    const sib = at(n);
    if (sib < 0) return -1;
    taken = 1;
    const index = (sib >> 3) & 7;
    const base = sib & 7;
    out.index = index === SP ? -1 : index;
    out.scale = sib >> 6;
    if (base === BP && mod === 0) {
      out.base = -1;
      const d = readLe(at, n + taken, 4);
      if (d < 0) return -1;
      out.displacement = d | 0;
      taken += 4;
    } else {
      out.base = base;
      if (base === SP || base === BP) out.segment = SS;
    }
  } else if (rm === BP && mod === 0) {
    out.base = -1;
    const d = readLe(at, n, 4);
    if (d < 0) return -1;
    out.displacement = d | 0;
    return 4;
  } else {
    out.base = rm;
    if (rm === BP) out.segment = SS;
  }
  if (mod !== 0) {
    const bytes = mod === 1 ? 1 : 4;
    const d = readLe(at, n + taken, bytes);
    if (d < 0) return -1;
    out.displacement += signed(d, bytes);
    taken += bytes;
  }
  return taken;
}
