/**
 * Verified fast-path programs — seed 002's "if the kernel supported a
 * bytecode/jit facility I'd happily use that to download portions of the
 * device model into the kernel", made safe the way eBPF is: a device in
 * userspace hands the kernel a small program for specific accesses, and the
 * kernel runs it on the lightweight path only after a verifier has proved it
 * cannot loop, cannot touch anything but its own scratch state and the
 * access's operands, and ends.
 *
 * The machine: eight 32-bit registers; on entry r0 is the offset of the
 * access within the program's range, r1 is 1 for a write and 0 for a read,
 * r2 the value written (0 for a read), r3 the access's width in bytes, and
 * r4–r7 are 0. The scratch is the device's few bytes (at most
 * `MAX_SCRATCH_BYTES`) that the device and the kernel share; loads and
 * stores name constant offsets into it. Jumps go forward only, so a program
 * runs at most one step per instruction. It ends with `ret` (the access is
 * answered: a read with the register's value; a write is done) or `exit`
 * (the access goes on to the device in userspace as if there were no
 * program, and the scratch stores of this run are undone).
 *
 * Instructions are four numbers: the opcode and three operands.
 */

/** The most instructions in a program. */
export const MAX_INSTRUCTIONS = 64;
/** The most bytes of scratch state a program may have. */
export const MAX_SCRATCH_BYTES = 256;
/** Registers r0–r7. */
export const REGISTERS = 8;

export const Op = {
  /** li rd, imm — rd = imm (0 … 2^32 − 1). */
  li: 0,
  /** mov rd, rs */
  mov: 1,
  /** add rd, rs — rd = (rd + rs) mod 2^32; likewise sub, and, or, xor. */
  add: 2,
  sub: 3,
  and: 4,
  or: 5,
  xor: 6,
  /** shl rd, rs — rd = (rd << (rs & 31)) mod 2^32; shr the logical right shift. */
  shl: 7,
  shr: 8,
  /** mod rd, rs — rd = rd mod rs, or 0 when rs is 0. */
  mod: 9,
  /** ldb rd, off — rd = scratch[off]; ldw a 16-bit, ldd a 32-bit little-endian load. */
  ldb: 10,
  ldw: 11,
  ldd: 12,
  /** stb off, rs — scratch[off] = rs & 0xff; stw, std: 16 and 32 bits, little-endian. */
  stb: 13,
  stw: 14,
  std: 15,
  /** jeq ra, rb, target — to instruction `target` (after this one) if ra = rb; jne if not; jlt if ra < rb (unsigned). */
  jeq: 16,
  jne: 17,
  jlt: 18,
  /** jmp target — to instruction `target` (after this one). */
  jmp: 19,
  /** ticks rd, hz — rd = the edges of an `hz` clock (1 … 2^31) since time 0, mod 2^32 (`ticksAt`). */
  ticks: 20,
  /** ret rs — the access is answered: a read with rs (its low `width` bytes), a write done. */
  ret: 21,
  /** exit — the access goes on to the device; this run's stores are undone. */
  exit: 22,
} as const;
export type Op = (typeof Op)[keyof typeof Op];

/** One instruction: the opcode and its three operands (unused ones 0). */
export type Instruction = readonly [op: number, a: number, b: number, c: number];

/** A program as a device hands it over: its instructions, the size of its scratch. */
export interface FastPathProgram {
  readonly instructions: readonly Instruction[];
  readonly scratchBytes: number;
}

/** The operands of the access a program runs for. */
export interface ProgramAccess {
  readonly offset: number;
  readonly isWrite: boolean;
  readonly value: number;
  readonly width: number;
}

export type ProgramOutcome =
  | { readonly kind: 'answered'; readonly value: number; readonly steps: number }
  | { readonly kind: 'exit'; readonly steps: number };

const OP_NAMES: readonly string[] = Object.keys(Op);
const isRegister = (n: number) => Number.isInteger(n) && n >= 0 && n < REGISTERS;
const isU32 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff;

/** Bytes a load or store of `op` moves, or 0 when it is neither. */
function memoryWidth(op: number): number {
  switch (op) {
    case Op.ldb: case Op.stb: return 1;
    case Op.ldw: case Op.stw: return 2;
    case Op.ldd: case Op.std: return 4;
    default: return 0;
  }
}

/**
 * Why `program` may not run in the kernel, or undefined when it may: every
 * opcode known, every register r0–r7, every scratch offset inside its
 * scratch, every jump forward to an instruction of the program, every
 * immediate a 32-bit value, and the last instruction `ret` or `exit` — so
 * every path ends there within one step per instruction.
 */
export function verifyProgram(program: FastPathProgram): string | undefined {
  const { instructions, scratchBytes } = program;
  if (!Number.isInteger(scratchBytes) || scratchBytes < 0 || scratchBytes > MAX_SCRATCH_BYTES) return `scratch of ${scratchBytes} bytes: expected 0 to ${MAX_SCRATCH_BYTES}`;
  if (instructions.length === 0) return 'no instructions';
  if (instructions.length > MAX_INSTRUCTIONS) return `${instructions.length} instructions: at most ${MAX_INSTRUCTIONS}`;
  for (let pc = 0; pc < instructions.length; pc++) {
    const problem = verifyInstruction(instructions[pc], pc, instructions.length, scratchBytes);
    if (problem !== undefined) return `instruction ${pc}: ${problem}`;
  }
  const last = instructions[instructions.length - 1]?.[0];
  if (last !== Op.ret && last !== Op.exit) return `instruction ${instructions.length - 1}: the last instruction must be ret or exit (a program may not run off its end)`;
  return undefined;
}

function verifyInstruction(instruction: Instruction | undefined, pc: number, length: number, scratchBytes: number): string | undefined {
  if (instruction?.length !== 4) return 'not four numbers';
  const [op, a, b, c] = instruction;
  if (!Number.isInteger(op) || op < 0 || op >= OP_NAMES.length) return `no opcode ${op}`;
  const name = OP_NAMES[op] ?? '';
  const unused = (...operands: number[]) => (operands.every((n) => n === 0) ? undefined : `${name}: its unused operands must be 0`);
  const register = (n: number, which: string) => (isRegister(n) ? undefined : `${name}: ${which} r${n} is no register (r0–r7)`);
  const target = (t: number) => (Number.isInteger(t) && t > pc && t < length ? undefined : `${name}: target ${t} is not an instruction after this one`);
  switch (op) {
    case Op.li:
      return register(a, 'destination') ?? (isU32(b) ? undefined : `li: ${b} is not a 32-bit value`) ?? unused(c);
    case Op.mov: case Op.add: case Op.sub: case Op.and: case Op.or: case Op.xor: case Op.shl: case Op.shr: case Op.mod:
      return register(a, 'destination') ?? register(b, 'source') ?? unused(c);
    case Op.ldb: case Op.ldw: case Op.ldd: case Op.stb: case Op.stw: case Op.std: {
      const width = memoryWidth(op);
      const isLoad = op <= Op.ldd;
      const [reg, offset] = isLoad ? [a, b] : [b, a];
      if (!(Number.isInteger(offset) && offset >= 0 && offset + width <= scratchBytes)) return `${name}: ${width} bytes at ${offset} are not inside its ${scratchBytes}-byte scratch`;
      return register(reg, isLoad ? 'destination' : 'source') ?? unused(c);
    }
    case Op.jeq: case Op.jne: case Op.jlt:
      return register(a, 'first') ?? register(b, 'second') ?? target(c);
    case Op.jmp:
      return target(a) ?? unused(b, c);
    case Op.ticks:
      return register(a, 'destination') ?? (Number.isInteger(b) && b >= 1 && b <= 2 ** 31 ? undefined : `ticks: a clock of ${b} Hz (expected 1 … 2^31)`) ?? unused(c);
    case Op.ret:
      return register(a, 'source') ?? unused(b, c);
    case Op.exit:
      return unused(a, b, c);
    default:
      return `no opcode ${op}`;
  }
}
