/**
 * Where the 80286 the vectors were recorded on and a 386 part company in
 * real mode, by the two CPUs' manuals; a 386-class CPU under test may be
 * excused each, by name. Each either skips the vectors it concerns (the 386
 * does something else altogether) or leaves registers or flags out of the
 * comparison (the 386 differs only there).
 *
 * - `lock`: a LOCK prefix before an instruction the 386 cannot lock. The
 *   80386 Programmer's Reference Manual (1986), "LOCK": only ADD ADC AND BT
 *   BTS BTR BTC OR SBB SUB XOR with a memory destination, NOT NEG INC DEC of
 *   memory and XCHG with memory may be locked; any other raises #UD
 *   (interrupt 6 in real mode). The 286 runs them (the vectors show no
 *   exception). Skipped.
 * - `length`: an instruction of more than 10 bytes (repeated prefixes). The
 *   286's limit is 10 bytes (80286 PRM), past which it raises interrupt 13,
 *   as the vectors show; the 386's is 15. Skipped.
 * - `fs-gs`: MOV to or from segment register 4 or 5 (8C/8E, ModRM reg 4–5):
 *   FS and GS on the 386, #UD on the 286. Skipped.
 * - `iopl-nt`: POPF and IRET in real mode. The 286 loads neither IOPL nor NT
 *   there (the suite's README, "Why are some instructions clearing flags");
 *   the 386 loads both (SDM vol. 2, "POPF/POPFD", Operation: the
 *   real-address-mode branch). Bits 12–14 of the final FLAGS are not
 *   compared.
 * - `string-fault`: a string instruction whose word operand lies at offset
 *   FFFFh. Both CPUs raise interrupt 13, but the 286 has already stepped SI,
 *   DI and (under REP) CX for the element, where the 386's fault leaves the
 *   instruction restartable (SDM vol. 3A §6.5, "Exception Classifications":
 *   a fault reports the state before the faulting instruction). SI, DI and
 *   CX are not compared.
 * - `stack-fault`: an access through SS past offset FFFFh — a push or pop, or
 *   a memory operand whose segment is SS. The 286 raises interrupt 13, as
 *   for any segment; the 386 raises #SS, interrupt 12 (SDM vol. 3A §6.15,
 *   "Interrupt 12—Stack Fault Exception"). Skipped: a vector whose interrupt
 *   13 the 386 would raise as 12, that is one whose only data access is
 *   the stack or whose ModRM or offset operand is SS-relative.
 */
import type { MooRegister, MooTest } from './moo.ts';

export const ONLY_286 = ['lock', 'length', 'fs-gs', 'iopl-nt', 'string-fault', 'stack-fault'] as const;
export type Only286 = (typeof ONLY_286)[number];

/** What a vector's comparison leaves out for the 286-only behaviours a CPU is excused. */
export interface Allowance {
  /** The behaviour for which the vector is skipped, if any. */
  readonly skip: Only286 | undefined;
  readonly ignoredFlags: number;
  readonly ignoredRegisters: readonly MooRegister[];
}

export const NO_ALLOWANCE: Allowance = { skip: undefined, ignoredFlags: 0, ignoredRegisters: [] };

const LOCK = 0xf0;
const PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, LOCK, 0xf2, 0xf3]);
/** The segment-override prefixes, by the segment register they select (ES CS SS DS: 0–3). */
const OVERRIDES: ReadonlyMap<number, number> = new Map([[0x26, 0], [0x2e, 1], [0x36, 2], [0x3e, 3]]);
const SS = 2;
/** The longest instruction the 286 runs (80286 PRM: ten bytes, prefixes included). */
const MAX_286_LENGTH = 10;
const IOPL_NT = 0x7000;
/** The undefined-opcode interrupt: a vector that raised it on the 286 raises it on the 386 too. */
const UD = 6;
const OVERRUN = 13;
/** INS OUTS MOVS CMPS STOS LODS SCAS. */
const STRING_FORMS = new Set(['6C', '6D', '6E', '6F', 'A4', 'A5', 'A6', 'A7', 'AA', 'AB', 'AC', 'AD', 'AE', 'AF']);

/**
 * Forms whose only data access is the stack (SS:SP): PUSH and POP of
 * registers, PUSHA POPA, PUSH imm, near and far CALL (direct), RET RETF
 * IRET, PUSHF POPF, ENTER LEAVE. (INT's vector is its operand, not a fault's.)
 */
const STACK_FORMS = new Set([
  '06', '07', '0E', '16', '17', '1E', '1F', '50', '51', '52', '53', '54', '55', '56', '57',
  '58', '59', '5A', '5B', '5C', '5D', '5E', '5F', '60', '61', '68', '6A', '9A', '9C', '9D',
  'C2', 'C3', 'C8', 'C9', 'CA', 'CB', 'CF', 'E8',
]);
/** One-byte opcodes with a ModRM byte (80286 PRM opcode map, SDM vol. 2 Table A-2). */
const MODRM_OPCODES = new Set([
  0x00, 0x01, 0x02, 0x03, 0x08, 0x09, 0x0a, 0x0b, 0x10, 0x11, 0x12, 0x13, 0x18, 0x19, 0x1a, 0x1b,
  0x20, 0x21, 0x22, 0x23, 0x28, 0x29, 0x2a, 0x2b, 0x30, 0x31, 0x32, 0x33, 0x38, 0x39, 0x3a, 0x3b,
  0x62, 0x69, 0x6b, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c,
  0x8d, 0x8e, 0x8f, 0xc0, 0xc1, 0xc4, 0xc5, 0xc6, 0xc7, 0xd0, 0xd1, 0xd2, 0xd3,
  0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xf6, 0xf7, 0xfe, 0xff,
]);
/** MOV AL/AX to or from a direct offset, and XLAT: DS-relative memory without ModRM. */
const OFFSET_OPCODES = new Set([0xa0, 0xa1, 0xa2, 0xa3, 0xd7]);

interface Decoded {
  readonly lock: boolean;
  /** The last segment override's segment register (0–3), or -1. */
  readonly override: number;
  readonly opcode: number;
  readonly mod: number;
  readonly reg: number;
  readonly rm: number;
}

/** The prefixes, opcode and ModRM fields of a vector's instruction. */
function decode(bytes: Uint8Array): Decoded {
  let offset = 0;
  let lock = false;
  let override = -1;
  for (let byte = bytes[offset] ?? -1; PREFIXES.has(byte); byte = bytes[++offset] ?? -1) {
    if (byte === LOCK) lock = true;
    override = OVERRIDES.get(byte) ?? override;
  }
  const modrm = bytes[offset + 1] ?? 0;
  return { lock, override, opcode: bytes[offset] ?? 0, mod: modrm >> 6, reg: (modrm >> 3) & 7, rm: modrm & 7 };
}

/** Whether the instruction's explicit memory operand is SS-relative (SDM vol. 2 Table 2-1: BP-based forms default to SS). */
function operandInStack({ override, opcode, mod, rm }: Decoded): boolean {
  if (OFFSET_OPCODES.has(opcode)) return override === SS;
  if (!MODRM_OPCODES.has(opcode) || mod === 3) return false;
  if (override !== -1) return override === SS;
  return rm === 2 || rm === 3 || (rm === 6 && mod !== 0);
}

/** Whether the 386 accepts LOCK before this instruction (80386 PRM, "LOCK"). */
function lockable({ opcode, mod, reg }: Decoded): boolean {
  if (mod === 3) return false; // the destination must be memory
  switch (opcode) {
    case 0x00: case 0x01: case 0x08: case 0x09: case 0x10: case 0x11: case 0x18: case 0x19:
    case 0x20: case 0x21: case 0x28: case 0x29: case 0x30: case 0x31:
    case 0x86: case 0x87:
      return true;
    case 0x80: case 0x81: case 0x82: case 0x83: return reg !== 7; // not CMP
    case 0xf6: case 0xf7: return reg === 2 || reg === 3; // NOT NEG
    case 0xfe: case 0xff: return reg === 0 || reg === 1; // INC DEC
    default: return false;
  }
}

/** How `test`, a vector of form `form`, is compared on a CPU excused the behaviours in `excused`. */
export function allowanceFor(form: string, test: MooTest, excused: ReadonlySet<Only286>): Allowance {
  if (excused.size === 0) return NO_ALLOWANCE;
  const decoded = decode(test.bytes);
  const vector = test.exception?.vector;
  if (excused.has('lock') && decoded.lock && vector !== UD && !lockable(decoded)) return { ...NO_ALLOWANCE, skip: 'lock' };
  // The suite's bytes are the instruction and the HLT after it.
  if (excused.has('length') && test.bytes.length - 1 > MAX_286_LENGTH) return { ...NO_ALLOWANCE, skip: 'length' };
  if (excused.has('fs-gs') && (decoded.opcode === 0x8c || decoded.opcode === 0x8e) && (decoded.reg === 4 || decoded.reg === 5)) {
    return { ...NO_ALLOWANCE, skip: 'fs-gs' };
  }
  if (excused.has('iopl-nt') && (form === '9D' || form === 'CF')) return { ...NO_ALLOWANCE, ignoredFlags: IOPL_NT };
  if (excused.has('string-fault') && STRING_FORMS.has(form) && vector === OVERRUN) {
    return { ...NO_ALLOWANCE, ignoredRegisters: ['si', 'di', 'cx'] };
  }
  if (excused.has('stack-fault') && vector === OVERRUN && (STACK_FORMS.has(form) || operandInStack(decoded))) {
    return { ...NO_ALLOWANCE, skip: 'stack-fault' };
  }
  return NO_ALLOWANCE;
}
