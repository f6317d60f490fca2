// The decoded-instruction cache (block-cache.ts, decode.ts): the same guest with the cache on and off ends in the
// same state, through the same exits, at the same cycles — on generated code built from the forms the cache compiles
// (with memory operands in RAM and in MMIO, prefixes, both address sizes) and on arbitrary bytes; and code that
// changes under a block — rewritten by the guest inside the running block, or by a device's DMA between runs — runs
// as changed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { X86Cpu } from '../src/index.ts';

const CODE = 0x100;
const MMIO = 0x1800;

/** Everything a guest can observe of a CPU, and its RAM. */
function snapshot(cpu: X86Cpu, memory: Uint8Array) {
  return {
    regs: [...cpu.regs],
    eip: cpu.eip,
    eflags: cpu.eflags,
    segments: [cpu.es, cpu.cs, cpu.ss, cpu.ds, cpu.fs, cpu.gs],
    halted: cpu.halted,
    fault: cpu.fault?.reason,
    memory: Buffer.from(memory).toString('base64'),
  };
}

/**
 * Enters 32-bit protected mode from 0000:0080 with flat code (08h) and data (10h) segments, then jumps to 08h:0100h:
 * lgdt [0C00h]; mov eax, cr0; or al, 1; mov cr0, eax; mov ax, 10h; mov ds, ax; mov es, ax; mov ss, ax; jmp dword 08h:100h.
 */
const PROLOGUE = [0x0f, 0x01, 0x16, 0x00, 0x0c, 0x0f, 0x20, 0xc0, 0x0c, 0x01, 0x0f, 0x22, 0xc0, 0xb8, 0x10, 0x00, 0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0, 0x66, 0xea, 0x00, 0x01, 0x00, 0x00, 0x08, 0x00];
/** At 0C00h: the GDTR image (limit 17h, base 0C08h); at 0C08h: the null descriptor, 08h, 10h. */
const GDT = [0x17, 0x00, 0x08, 0x0c, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0x9a, 0xcf, 0, 0xff, 0xff, 0, 0, 0, 0x92, 0xcf, 0];

/**
 * Runs `code` at 0100h on a fresh CPU — in real mode at 0000:0100, or in 32-bit protected mode at 08h:0100h —
 * answering every exit the same way; the exits, cycles and final state.
 */
function runGuest(code: Uint8Array, decodeCache: boolean, budget: number, registers: readonly number[], mode: 'real' | 'protected' = 'real') {
  const memory = new Uint8Array(0x2000);
  memory.set(code, CODE);
  for (let i = 0; i < 0x100; i++) memory[0x1000 + i] = (i * 37) & 0xff; // data the memory operands read
  memory.set(PROLOGUE, 0x80);
  memory.set(GDT, 0x0c00);
  const cpu = new X86Cpu(memory, { cs: 0, ip: mode === 'real' ? CODE : 0x80, sp: 0x0f00, mmio: (address) => address >= MMIO, decodeCache });
  for (let i = 0; i < 1000 && cpu.eip !== CODE; i++) cpu.run(1);
  expect(cpu.eip).toBe(CODE);
  registers.forEach((value, r) => { if (r !== 4) cpu.regs[r] = value; });
  const trace: string[] = [];
  let spent = 0;
  for (let i = 0; i < 60 && spent < budget; i++) {
    const run = cpu.run(budget - spent, i % 3 === 0, i * 1000);
    spent += run.cycles;
    const exit = run.exit;
    const detail = exit.kind === 'io' ? `${exit.direction} ${exit.port}` : exit.kind === 'mmio' ? `${exit.isWrite ? 'w' : 'r'} ${exit.address} ${[...exit.data].join(',')}` : '';
    trace.push(`${run.cycles} ${exit.kind} ${detail}`);
    if (exit.kind === 'shutdown') break;
    if (exit.kind === 'hlt') {
      if (!cpu.interruptible) break;
      cpu.inject(0x08);
    }
    if (exit.kind === 'io' || exit.kind === 'mmio' || exit.kind === 'msr') cpu.complete(new Uint8Array(16).fill(0x5a + i));
  }
  return { trace, state: snapshot(cpu, memory) };
}

/** One instruction of a form the cache compiles, as bytes: prefixes, opcode, ModRM (with SIB and displacement), immediate. */
const instruction = fc.record({
  prefix: fc.constantFrom([], [0x66], [0x67], [0x26], [0x2e], [0x36], [0x66, 0x67], [0x67, 0x3e]),
  opcode: fc.constantFrom(
    [0x00], [0x01], [0x02], [0x03], [0x04], [0x05], [0x08], [0x09], [0x0a], [0x0b], [0x10], [0x11], [0x12], [0x13],
    [0x18], [0x19], [0x1a], [0x1b], [0x20], [0x21], [0x22], [0x23], [0x28], [0x29], [0x2a], [0x2b], [0x30], [0x31],
    [0x32], [0x33], [0x38], [0x39], [0x3a], [0x3b], [0x3c], [0x3d], [0x40], [0x43], [0x4d], [0x4f], [0x50], [0x53],
    [0x58], [0x5d], [0x74], [0x75], [0x72], [0x7f], [0x80], [0x81], [0x82], [0x83], [0x84], [0x85], [0x88], [0x89],
    [0x8a], [0x8b], [0x8d], [0xa8], [0xa9], [0xb0], [0xb7], [0xb8], [0xbe], [0xc3], [0xc6], [0xc7], [0xe8], [0xe9],
    [0xeb], [0x0f, 0x84], [0x0f, 0x8e], [0x0f, 0xb6], [0x0f, 0xb7], [0x0f, 0xbe], [0x0f, 0xbf],
  ),
  modrm: fc.integer({ min: 0, max: 255 }),
  sib: fc.integer({ min: 0, max: 255 }),
  tail: fc.uint8Array({ minLength: 4, maxLength: 4 }),
  immediate: fc.uint8Array({ minLength: 4, maxLength: 4 }),
}).map(({ prefix, opcode, modrm, sib, tail, immediate }) => [...prefix, ...opcode, modrm, sib, ...tail, ...immediate]);

/** Register values that put memory operands in the data page, past it, or in the MMIO page. */
const registers = fc.array(fc.constantFrom(0, 1, 0x10, 0x7f, 0x1000, 0x1010, 0x17fe, 0x1800, 0x1830, 0xffff, 0x8000_0000, 0xffff_ffff), { minLength: 8, maxLength: 8 });

describe('the decoded-instruction cache', () => {
  it('runs generated code of the compiled forms exactly as the interpreter does', () => {
    fc.assert(fc.property(fc.array(instruction, { minLength: 1, maxLength: 24 }), registers, fc.integer({ min: 1, max: 400 }), (instructions, regs, budget) => {
      const code = Uint8Array.from(instructions.flat());
      expect(runGuest(code, true, budget, regs)).toEqual(runGuest(code, false, budget, regs));
    }), { numRuns: 1500 });
  });

  it('runs generated code of the compiled forms in 32-bit protected mode exactly as the interpreter does', () => {
    fc.assert(fc.property(fc.array(instruction, { minLength: 1, maxLength: 24 }), registers, fc.integer({ min: 1, max: 400 }), (instructions, regs, budget) => {
      const code = Uint8Array.from(instructions.flat());
      expect(runGuest(code, true, budget, regs, 'protected')).toEqual(runGuest(code, false, budget, regs, 'protected'));
    }), { numRuns: 1500 });
  });

  it('runs arbitrary bytes exactly as the interpreter does', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 96 }), registers, fc.integer({ min: 1, max: 400 }), (code, regs, budget) => {
      expect(runGuest(code, true, budget, regs)).toEqual(runGuest(code, false, budget, regs));
    }), { numRuns: 1500 });
  });

  it('runs an instruction rewritten before it is reached as rewritten', () => {
    const code = Uint8Array.of(
      0x2e, 0xc6, 0x06, 0x0a, 0x01, 0x41, // 0100: mov byte [cs:010Ah], 41h   (rewrites the inc at 010Ah)
      0x40, // 0106: inc ax
      0x40, // 0107: inc ax
      0x90, 0x90, // 0108: nop nop (not compiled: the first block ends before them)
      0x48, // 010A: dec ax → inc cx once rewritten
      0xf4, // 010B: hlt
    );
    for (const decodeCache of [true, false]) {
      const memory = new Uint8Array(0x2000);
      memory.set(code, CODE);
      const cpu = new X86Cpu(memory, { cs: 0, ip: CODE, decodeCache });
      expect(cpu.run(Number.POSITIVE_INFINITY).exit.kind).toBe('hlt');
      expect([cpu.ax, cpu.cx]).toEqual([2, 1]);
    }
  });

  it('runs a store into the next instruction of its own block as the new instruction', () => {
    // One block: 0100 mov byte [0106h], 41h; 0105 inc ax; 0106 inc ax, which the first rewrites to inc cx. 0107: hlt.
    const memory = new Uint8Array(0x2000);
    memory.set([0xc6, 0x06, 0x06, 0x01, 0x41, 0x40, 0x40, 0xf4], CODE);
    const cpu = new X86Cpu(memory, { cs: 0, ip: CODE });
    expect(cpu.run(Number.POSITIVE_INFINITY).exit.kind).toBe('hlt');
    expect([cpu.ax, cpu.cx]).toEqual([1, 1]);
  });

  it('runs code a device rewrote between runs (DMA) as rewritten', () => {
    // A loop: inc ax; jmp back. Run it, then overwrite its first byte as a DMA would (not through the CPU).
    const memory = new Uint8Array(0x2000);
    memory.set([0x40, 0xeb, 0xfd], CODE);
    const cpu = new X86Cpu(memory, { cs: 0, ip: CODE });
    cpu.run(100);
    const ax = cpu.ax;
    expect(ax).toBeGreaterThan(10);
    memory[CODE] = 0x41; // inc cx
    cpu.eip = CODE;
    cpu.run(100);
    expect(cpu.ax).toBe(ax);
    expect(cpu.cx).toBe(50); // 100 cycles: 50 × (inc cx, jmp)
  });
});
