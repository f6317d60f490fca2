// Verified fast-path programs: the verifier admits only programs that end within one step per instruction and
// touch nothing but their scratch; the interpreter runs them so. Fuzzed with 100 000 random programs, each either
// refused with a reason or run to its end within its bound, the bytes around its scratch untouched.
import { describe, expect, it } from 'vitest';
import type { FastPathProgram, Instruction } from '../src/fast-path-program.ts';
import { MAX_INSTRUCTIONS, Op, verifyProgram } from '../src/fast-path-program.ts';
import { ProgramBuilder, ProgramError, r0, r1, r2, r4, r5, r6 } from '../src/program-builder.ts';
import { UnverifiedProgramError, programRunner } from '../src/program-interpreter.ts';

/** A small deterministic generator (mulberry32): the fuzz is the same on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const read = (offset = 0, width = 1) => ({ offset, isWrite: false, value: 0, width });

describe('the verifier', () => {
  it('refuses, with a reason, a backward jump, a scratch access outside the scratch, a register past r7, and a program that runs off its end', () => {
    const cases: [Instruction[], RegExp][] = [
      [[[Op.li, 0, 1, 0], [Op.jmp, 0, 0, 0], [Op.ret, 0, 0, 0]], /instruction 1: jmp: target 0 is not an instruction after this one/],
      [[[Op.ldd, 0, 2, 0], [Op.ret, 0, 0, 0]], /instruction 0: ldd: 4 bytes at 2 are not inside its 4-byte scratch/],
      [[[Op.mov, 8, 0, 0], [Op.ret, 0, 0, 0]], /instruction 0: mov: destination r8 is no register/],
      [[[Op.li, 0, 1, 0]], /the last instruction must be ret or exit/],
      [[[Op.li, 0, 2 ** 32, 0], [Op.ret, 0, 0, 0]], /not a 32-bit value/],
      [[[99, 0, 0, 0], [Op.ret, 0, 0, 0]], /no opcode 99/],
      [[], /no instructions/],
      [Array.from({ length: MAX_INSTRUCTIONS + 1 }, (): Instruction => [Op.exit, 0, 0, 0]), /at most 64/],
    ];
    for (const [instructions, reason] of cases) expect(verifyProgram({ instructions, scratchBytes: 4 })).toMatch(reason);
    expect(() => programRunner({ instructions: [[Op.li, 0, 1, 0]], scratchBytes: 0 })).toThrow(UnverifiedProgramError);
  });
});

describe('the interpreter', () => {
  it('answers with a register, commits its stores when it answers and undoes them when it exits', () => {
    const program = new ProgramBuilder(2)
      .li(r4, 0x5a).stb(0, r4) // a store before the decision
      .li(r5, 1).jeq(r1, r5, 'write')
      .ldb(r6, 1).ret(r6)
      .label('write').exit()
      .build();
    const run = programRunner(program);
    const scratch = Uint8Array.of(0, 0x42);
    expect(run(scratch, read(), 0)).toEqual({ kind: 'answered', value: 0x42, steps: 6 });
    expect([...scratch]).toEqual([0x5a, 0x42]);
    scratch[0] = 0;
    expect(run(scratch, { offset: 0, isWrite: true, value: 7, width: 1 }, 0)).toEqual({ kind: 'exit', steps: 5 });
    expect([...scratch]).toEqual([0, 0x42]); // the store was undone
  });

  it('computes in 32 bits: wrapping adds and subtracts, mod by 0 is 0, ticks of a clock since time 0', () => {
    const run = (build: (p: ProgramBuilder) => ProgramBuilder) => programRunner(build(new ProgramBuilder(0)).ret(r0).build())(new Uint8Array(0), read(), 1_000_000_000);
    expect(run((p) => p.li(r0, 0xffff_ffff).li(r1, 2).add(r0, r1))).toMatchObject({ value: 1 });
    expect(run((p) => p.li(r0, 1).li(r1, 2).sub(r0, r1))).toMatchObject({ value: 0xffff_ffff });
    expect(run((p) => p.li(r0, 7).li(r1, 0).mod(r0, r1))).toMatchObject({ value: 0 });
    expect(run((p) => p.ticks(r0, 1_193_182))).toMatchObject({ value: 1_193_182 }); // one second of the 8254's clock
    expect(() => new ProgramBuilder(0).jmp('nowhere').exit().build()).toThrow(ProgramError);
    expect(() => new ProgramBuilder(1).ldw(r2, 0).ret(r2).build()).toThrow(/2 bytes at 0 are not inside its 1-byte scratch/);
  });
});

describe('100 000 random programs', () => {
  it('each is refused with a reason, or runs to its end within its length, touching only its scratch', () => {
    const next = random(0x5eed);
    const int = (n: number) => Math.floor(next() * n);
    const GUARD = 16;
    let accepted = 0;
    let refused = 0;
    for (let n = 0; n < 100_000; n++) {
      const scratchBytes = int(12);
      const length = 1 + int(12);
      const instructions: Instruction[] = [];
      const reg = () => (next() < 0.97 ? int(8) : 8 + int(3));
      for (let pc = 0; pc < length; pc++) {
        // A plausible instruction of a random opcode — registers, offsets around the scratch, targets around pc —
        // now and then with one field replaced by anything at all.
        const op = int(23);
        const target = pc + int(length - pc + 1);
        const offset = int(scratchBytes + 3);
        const shapes: Record<number, Instruction> = {
          [Op.li]: [op, reg(), int(2 ** 32), 0], [Op.ldb]: [op, reg(), offset, 0], [Op.ldw]: [op, reg(), offset, 0], [Op.ldd]: [op, reg(), offset, 0],
          [Op.stb]: [op, offset, reg(), 0], [Op.stw]: [op, offset, reg(), 0], [Op.std]: [op, offset, reg(), 0],
          [Op.jeq]: [op, reg(), reg(), target], [Op.jne]: [op, reg(), reg(), target], [Op.jlt]: [op, reg(), reg(), target],
          [Op.jmp]: [op, target, 0, 0], [Op.ticks]: [op, reg(), 1 + int(2 ** 31), 0], [Op.ret]: [op, reg(), 0, 0], [Op.exit]: [op, 0, 0, 0],
        };
        const [o, a, b, c] = shapes[op] ?? [op, reg(), reg(), 0];
        const instruction: [number, number, number, number] = [o, a, b, c];
        if (next() < 0.05) instruction[int(4)] = [-1, 0.5, 2 ** 32, 99, 1e9, Number.NaN][int(6)] ?? 0;
        instructions.push(instruction);
      }
      if (next() < 0.6) instructions[length - 1] = next() < 0.5 ? [Op.ret, int(8), 0, 0] : [Op.exit, 0, 0, 0];
      const program: FastPathProgram = { instructions, scratchBytes };
      const problem = verifyProgram(program);
      if (problem !== undefined) {
        refused++;
        expect(problem.length).toBeGreaterThan(5);
        continue;
      }
      accepted++;
      const memory = new Uint8Array(GUARD + scratchBytes + GUARD).fill(0xa5);
      const scratch = memory.subarray(GUARD, GUARD + scratchBytes);
      for (let i = 0; i < scratchBytes; i++) scratch[i] = int(256);
      const before = [...scratch];
      const outcome = programRunner(program)(scratch, { offset: int(8), isWrite: next() < 0.5, value: int(2 ** 32), width: 1 + int(4) }, int(2 ** 40));
      expect(outcome.steps).toBeLessThanOrEqual(length);
      if (outcome.kind === 'exit') expect([...scratch]).toEqual(before);
      else expect(outcome.value).toBeLessThan(2 ** 32);
      const guards = [...memory.subarray(0, GUARD), ...memory.subarray(GUARD + scratchBytes)];
      if (!guards.every((byte) => byte === 0xa5)) expect.fail(`program ${n} wrote outside its scratch`);
    }
    expect(accepted).toBeGreaterThan(5_000);
    expect(refused).toBeGreaterThan(5_000);
  });
});
