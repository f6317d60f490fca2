/**
 * Runs a verified fast-path program (`fast-path-program.ts`) for one access:
 * the kernel's side of seed 002's "download portions of the device model into
 * the kernel". The program reads and writes only `scratch` and its registers;
 * stores land in `scratch` only when it answers — an `exit` leaves the scratch
 * as it found it, so the device in userspace sees the access as if no program
 * had run. The step count is bounded by the program's length (jumps go
 * forward); a program that is not verified is refused here too.
 */
import { ticksAt } from './clock-math.ts';
import type { FastPathProgram, ProgramAccess, ProgramOutcome } from './fast-path-program.ts';
import { Op, REGISTERS, verifyProgram } from './fast-path-program.ts';
import type { Nanoseconds } from './time.ts';

const U32 = 2 ** 32;

function load(scratch: Uint8Array, offset: number, width: number): number {
  let value = 0;
  for (let i = width - 1; i >= 0; i--) value = value * 256 + (scratch[offset + i] ?? 0);
  return value;
}

function store(scratch: Uint8Array, offset: number, width: number, value: number): void {
  for (let i = 0; i < width; i++) scratch[offset + i] = Math.floor(value / 256 ** i) & 0xff;
}

/** Thrown for a program that was not verified: the kernel never runs one. */
export class UnverifiedProgramError extends Error {
  override readonly name = 'UnverifiedProgramError';
}

/**
 * Verifies `program` once and returns its runner: `run(scratch, access, now)`
 * answers the access or exits. `scratch` must be `program.scratchBytes` long.
 */
export function programRunner(program: FastPathProgram): (scratch: Uint8Array, access: ProgramAccess, now: Nanoseconds) => ProgramOutcome {
  const problem = verifyProgram(program);
  if (problem !== undefined) throw new UnverifiedProgramError(problem);
  const code = program.instructions.map((i) => [...i] as [number, number, number, number]);
  const registers = new Array<number>(REGISTERS).fill(0);
  const shadow = new Uint8Array(program.scratchBytes);
  return (scratch, access, now) => {
    if (scratch.length !== program.scratchBytes) throw new RangeError(`scratch of ${scratch.length} bytes for a program of ${program.scratchBytes}`);
    shadow.set(scratch);
    registers.fill(0);
    registers[0] = access.offset >>> 0;
    registers[1] = access.isWrite ? 1 : 0;
    registers[2] = access.value >>> 0;
    registers[3] = access.width >>> 0;
    const r = registers;
    let steps = 0;
    for (let pc = 0; pc < code.length;) {
      const [op, a, b, c] = code[pc] ?? [Op.exit, 0, 0, 0];
      steps++;
      pc++;
      switch (op) {
        case Op.li: r[a] = b; break;
        case Op.mov: r[a] = r[b] ?? 0; break;
        case Op.add: r[a] = ((r[a] ?? 0) + (r[b] ?? 0)) % U32; break;
        case Op.sub: r[a] = ((r[a] ?? 0) - (r[b] ?? 0) + U32) % U32; break;
        case Op.and: r[a] = ((r[a] ?? 0) & (r[b] ?? 0)) >>> 0; break;
        case Op.or: r[a] = ((r[a] ?? 0) | (r[b] ?? 0)) >>> 0; break;
        case Op.xor: r[a] = ((r[a] ?? 0) ^ (r[b] ?? 0)) >>> 0; break;
        case Op.shl: r[a] = ((r[a] ?? 0) << ((r[b] ?? 0) & 31)) >>> 0; break;
        case Op.shr: r[a] = (r[a] ?? 0) >>> ((r[b] ?? 0) & 31); break;
        case Op.mod: r[a] = (r[b] ?? 0) === 0 ? 0 : (r[a] ?? 0) % (r[b] ?? 1); break;
        case Op.ldb: r[a] = load(shadow, b, 1); break;
        case Op.ldw: r[a] = load(shadow, b, 2); break;
        case Op.ldd: r[a] = load(shadow, b, 4); break;
        case Op.stb: store(shadow, a, 1, r[b] ?? 0); break;
        case Op.stw: store(shadow, a, 2, r[b] ?? 0); break;
        case Op.std: store(shadow, a, 4, r[b] ?? 0); break;
        case Op.jeq: if (r[a] === r[b]) pc = c; break;
        case Op.jne: if (r[a] !== r[b]) pc = c; break;
        case Op.jlt: if ((r[a] ?? 0) < (r[b] ?? 0)) pc = c; break;
        case Op.jmp: pc = a; break;
        case Op.ticks: r[a] = ticksAt(now, b) % U32; break;
        case Op.ret:
          scratch.set(shadow);
          return { kind: 'answered', value: r[a] ?? 0, steps };
        default:
          return { kind: 'exit', steps };
      }
    }
    return { kind: 'exit', steps }; // unreachable for a verified program: its last instruction ends it
  };
}
