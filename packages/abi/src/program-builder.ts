/**
 * Writing a fast-path program without raw numbers: one method per
 * instruction, registers as `r0`…`r7`, jump targets as labels resolved by
 * `build()`, scratch offsets by name from a layout. `build()` verifies the
 * result and throws with the verifier's reason, so a device's program is
 * known good before it is ever offered to a kernel.
 */
import type { FastPathProgram, Instruction } from './fast-path-program.ts';
import { Op, verifyProgram } from './fast-path-program.ts';

export type Register = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;
export const r0: Register = 0;
export const r1: Register = 1;
export const r2: Register = 2;
export const r3: Register = 3;
export const r4: Register = 4;
export const r5: Register = 5;
export const r6: Register = 6;
export const r7: Register = 7;

/** A program that would not verify, with the verifier's reason. */
export class ProgramError extends Error {
  override readonly name = 'ProgramError';
}

type Pending = { readonly op: number; readonly a: number | string; readonly b: number; readonly c: number | string };

export class ProgramBuilder {
  private readonly code: Pending[] = [];
  private readonly labels = new Map<string, number>();
  private readonly scratchBytes: number;

  constructor(scratchBytes: number) {
    this.scratchBytes = scratchBytes;
  }

  private emit(op: number, a: number | string = 0, b = 0, c: number | string = 0): this {
    this.code.push({ op, a, b, c });
    return this;
  }

  /** The next instruction is `name`'s target. */
  label(name: string): this {
    if (this.labels.has(name)) throw new ProgramError(`label ${name} twice`);
    this.labels.set(name, this.code.length);
    return this;
  }

  li(rd: Register, value: number): this { return this.emit(Op.li, rd, value); }
  mov(rd: Register, rs: Register): this { return this.emit(Op.mov, rd, rs); }
  add(rd: Register, rs: Register): this { return this.emit(Op.add, rd, rs); }
  sub(rd: Register, rs: Register): this { return this.emit(Op.sub, rd, rs); }
  and(rd: Register, rs: Register): this { return this.emit(Op.and, rd, rs); }
  or(rd: Register, rs: Register): this { return this.emit(Op.or, rd, rs); }
  xor(rd: Register, rs: Register): this { return this.emit(Op.xor, rd, rs); }
  shl(rd: Register, rs: Register): this { return this.emit(Op.shl, rd, rs); }
  shr(rd: Register, rs: Register): this { return this.emit(Op.shr, rd, rs); }
  mod(rd: Register, rs: Register): this { return this.emit(Op.mod, rd, rs); }
  ldb(rd: Register, offset: number): this { return this.emit(Op.ldb, rd, offset); }
  ldw(rd: Register, offset: number): this { return this.emit(Op.ldw, rd, offset); }
  ldd(rd: Register, offset: number): this { return this.emit(Op.ldd, rd, offset); }
  stb(offset: number, rs: Register): this { return this.emit(Op.stb, offset, rs); }
  stw(offset: number, rs: Register): this { return this.emit(Op.stw, offset, rs); }
  std(offset: number, rs: Register): this { return this.emit(Op.std, offset, rs); }
  jeq(ra: Register, rb: Register, target: string): this { return this.emit(Op.jeq, ra, rb, target); }
  jne(ra: Register, rb: Register, target: string): this { return this.emit(Op.jne, ra, rb, target); }
  jlt(ra: Register, rb: Register, target: string): this { return this.emit(Op.jlt, ra, rb, target); }
  jmp(target: string): this { return this.emit(Op.jmp, target); }
  ticks(rd: Register, hz: number): this { return this.emit(Op.ticks, rd, hz); }
  ret(rs: Register): this { return this.emit(Op.ret, rs); }
  exit(): this { return this.emit(Op.exit); }

  /** The program, its labels resolved; verified, or a ProgramError with the verifier's reason. */
  build(): FastPathProgram {
    const resolve = (operand: number | string): number => {
      if (typeof operand === 'number') return operand;
      const at = this.labels.get(operand);
      if (at === undefined) throw new ProgramError(`no label ${operand}`);
      return at;
    };
    const instructions = this.code.map(({ op, a, b, c }): Instruction => [op, resolve(a), b, resolve(c)]);
    const program = { instructions, scratchBytes: this.scratchBytes };
    const problem = verifyProgram(program);
    if (problem !== undefined) throw new ProgramError(problem);
    return program;
  }
}
