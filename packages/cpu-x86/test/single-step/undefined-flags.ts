/**
 * The FLAGS bits Intel's manuals leave undefined after each instruction form
 * of the 80286 real-mode suite: a vector's value for them is what one
 * Harris 80C286 happened to leave, which no other x86 need match, so the
 * harness compares neither the final FLAGS' nor a pushed FLAGS image's
 * undefined bits.
 *
 * Source: Intel 80286 Programmer's Reference Manual (1987), Appendix B
 * ("Flags Affected" of each instruction), which the Intel 64 and IA-32 SDM
 * vol. 2 repeats for these instructions:
 *   AND OR XOR TEST      AF undefined.
 *   DAA DAS              OF undefined.
 *   AAA AAS              OF SF ZF PF undefined.
 *   AAM AAD              OF AF CF undefined.
 *   MUL IMUL             SF ZF AF PF undefined.
 *   DIV IDIV             CF OF SF ZF AF PF undefined.
 *   ROL ROR RCL RCR      a count (masked to 5 bits) of 0 changes no flag; of
 *                        more than 1 leaves OF undefined.
 *   SAL SHL SHR SAR      a count of 0 changes no flag; a non-zero count
 *                        leaves AF undefined, one of more than 1 OF too; SHL
 *                        and SHR leave CF undefined when the count is at
 *                        least the operand's width (SDM vol. 2, SAL/SAR/SHL/SHR,
 *                        "Flags Affected").
 * BSF, BSR, BT and the other 386 forms with undefined flags do not exist on
 * the 286 and have no vectors.
 */
import type { MooTest } from './moo.ts';

/** FLAGS bits (80286 PRM Figure 2-4 / SDM vol. 1 Figure 3-8). */
export const CF = 0x0001;
export const PF = 0x0004;
export const AF = 0x0010;
export const ZF = 0x0040;
export const SF = 0x0080;
export const OF = 0x0800;

const LOGIC = AF;
const DECIMAL_ADJUST = OF;
const ASCII_ADJUST = OF | SF | ZF | PF;
const ASCII_MULDIV = OF | AF | CF;
const MULTIPLY = SF | ZF | AF | PF;
const DIVIDE = CF | OF | SF | ZF | AF | PF;

/** Forms whose undefined flags do not depend on their operands, by the suite's file name. */
const FIXED: Readonly<Record<string, number>> = {
  // OR, AND, XOR in each of their six encodings.
  ...Object.fromEntries(['08', '09', '0A', '0B', '0C', '0D', '20', '21', '22', '23', '24', '25', '30', '31', '32', '33', '34', '35'].map((form) => [form, LOGIC])),
  // Group 1 (80–83) /1 OR, /4 AND, /6 XOR.
  ...Object.fromEntries(['80', '81', '82', '83'].flatMap((group) => ['1', '4', '6'].map((reg) => [`${group}.${reg}`, LOGIC]))),
  // TEST: 84 85 A8 A9, and F6/F7 /0 with its alias /1.
  '84': LOGIC, '85': LOGIC, 'A8': LOGIC, 'A9': LOGIC,
  'F6.0': LOGIC, 'F6.1': LOGIC, 'F7.0': LOGIC, 'F7.1': LOGIC,
  '27': DECIMAL_ADJUST, '2F': DECIMAL_ADJUST,
  '37': ASCII_ADJUST, '3F': ASCII_ADJUST,
  'D4': ASCII_MULDIV, 'D5': ASCII_MULDIV,
  // MUL, IMUL (one-operand), and the 186's three-operand IMUL.
  'F6.4': MULTIPLY, 'F6.5': MULTIPLY, 'F7.4': MULTIPLY, 'F7.5': MULTIPLY, '69': MULTIPLY, '6B': MULTIPLY,
  'F6.6': DIVIDE, 'F6.7': DIVIDE, 'F7.6': DIVIDE, 'F7.7': DIVIDE,
};

/** Segment overrides, LOCK, REPNE and REP: the prefixes the suite puts before an instruction. */
const PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, 0xf0, 0xf2, 0xf3]);

/**
 * The offset of the byte after the ModRM operand of the instruction in
 * `bytes` (16-bit addressing, SDM vol. 2 Table 2-1): where an imm8 after it
 * lies.
 */
function afterModrm(bytes: Uint8Array): number {
  let offset = 0;
  while (PREFIXES.has(bytes[offset] ?? -1)) offset++;
  const modrm = bytes[offset + 1] ?? 0;
  const mod = modrm >> 6;
  const rm = modrm & 7;
  const displacement = mod === 1 ? 1 : mod === 2 || (mod === 0 && rm === 6) ? 2 : 0;
  return offset + 2 + displacement;
}

/** Group 2's operations by the ModRM reg field (/6 is the 286's undocumented alias of SHL). */
const ROTATE_LAST = 3;
const SHL = 4;
const SHR = 5;
const SAL_ALIAS = 6;

/**
 * The undefined FLAGS bits of one shift or rotate (C0 C1 D0–D3): the 286
 * masks the count to 5 bits (80286 PRM, "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR").
 */
function shiftFlags(opcode: number, reg: number, test: MooTest): number {
  let count: number;
  if (opcode === 0xd0 || opcode === 0xd1) count = 1;
  else if (opcode === 0xd2 || opcode === 0xd3) count = test.initial.regs.cx & 0xff;
  else count = test.bytes[afterModrm(test.bytes)] ?? 0;
  count &= 0x1f;
  if (count === 0) return 0;
  const overflow = count > 1 ? OF : 0;
  if (reg <= ROTATE_LAST) return overflow;
  const width = (opcode & 1) === 0 ? 8 : 16;
  const carry = (reg === SHL || reg === SHR || reg === SAL_ALIAS) && count >= width ? CF : 0;
  return AF | overflow | carry;
}

/**
 * The FLAGS bits to leave out of the comparison for `test` of the suite's
 * form `form` (its file name without `.MOO.gz`: `D3.4`, `27`).
 */
export function undefinedFlags(form: string, test: MooTest): number {
  const fixed = FIXED[form];
  if (fixed !== undefined) return fixed;
  const [opcodeText, regText] = form.split('.');
  const opcode = Number.parseInt(opcodeText ?? '', 16);
  if (regText !== undefined && [0xc0, 0xc1, 0xd0, 0xd1, 0xd2, 0xd3].includes(opcode)) {
    return shiftFlags(opcode, Number.parseInt(regText, 16), test);
  }
  return 0;
}
