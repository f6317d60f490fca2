// pnpm bench: guest instructions per second of the x86 CPU on a tight ALU loop, in real mode (16-bit code) and in
// 32-bit protected mode (flat segments), with the decoded-instruction cache (the default) and without it (every
// instruction decoded each time), against a baseline in the same run: the same arithmetic as a plain JavaScript loop
// (what V8 does with the work itself, no decoding). Guest MIPS = 1000 / ns per instruction.
import { measureSync, report } from '@splitvisor/bench';
import { UNIT_CPI, X86Cpu } from '../src/index.ts';

const BATCH = 1_000_000;

/**
 * `add ax, bx; xor cx, ax; inc dx; dec si; jnz` at 0000:1000 — five instructions an iteration, a taken jnz each
 * time but one in 65536, where a `jmp` takes it back to the loop.
 */
function realModeLoop(decodeCache: boolean): X86Cpu {
  const memory = new Uint8Array(0x1_0000);
  memory.set([0x01, 0xd8, 0x31, 0xc1, 0x42, 0x4e, 0x75, 0xf8, 0xeb, 0xf6], 0x1000);
  return new X86Cpu(memory, { cs: 0, ip: 0x1000, cpi: UNIT_CPI, decodeCache });
}

/** The same loop in 32-bit code: a GDT, CR0.PE, a far jump, then `add eax, ebx; xor ecx, eax; inc edx; dec esi; jnz`. */
function protectedModeLoop(decodeCache: boolean): X86Cpu {
  const memory = new Uint8Array(0x1_0000);
  memory.set([
    0x0f, 0x01, 0x16, 0x00, 0x20, // lgdt [2000h]
    0x0f, 0x20, 0xc0, 0x0c, 0x01, 0x0f, 0x22, 0xc0, // mov eax, cr0; or al, 1; mov cr0, eax
    0x66, 0xea, 0x00, 0x11, 0x00, 0x00, 0x08, 0x00, // jmp dword 08h:1100h
  ], 0x1000);
  memory.set([0x01, 0xd8, 0x31, 0xc1, 0x42, 0x4e, 0x75, 0xf8, 0xeb, 0xf6], 0x1100);
  memory.set([0x17, 0x00, 0x08, 0x20, 0x00, 0x00], 0x2000); // GDT limit 17h, base 2008h
  memory.set([0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0x9a, 0xcf, 0], 0x2008); // null; 08h: flat 32-bit code
  const cpu = new X86Cpu(memory, { cs: 0, ip: 0x1000, cpi: UNIT_CPI, decodeCache });
  cpu.run(4); // into protected mode
  return cpu;
}

/** The loop's arithmetic as JavaScript, per instruction it stands for. */
function plainLoop(): () => number {
  let ax = 0;
  let bx = 3;
  let cx = 0;
  let dx = 0;
  let si = 0;
  return () => {
    for (let i = 0; i < BATCH; i += 5) {
      ax = (ax + bx) & 0xffff;
      cx ^= ax;
      dx = (dx + 1) & 0xffff;
      si = (si - 1) & 0xffff;
      if (si === 0) bx++;
    }
    return ax + cx + dx;
  };
}

const real = realModeLoop(true);
const pm = protectedModeLoop(true);
const realDecoded = realModeLoop(false);
const pmDecoded = protectedModeLoop(false);
const plain = plainLoop();
// Each operation runs BATCH instructions (or their JavaScript stand-ins): the medians are divided down to one.
const options = { opsPerBatch: 1, batches: 15, warmupBatches: 3 };
const perInstruction = (op: () => unknown): number => measureSync(op, options).medianNs / BATCH;
const baseline = { medianNs: perInstruction(plain) };
const realMode = { medianNs: perInstruction(() => real.run(BATCH)) };
const protectedMode = { medianNs: perInstruction(() => pm.run(BATCH)) };
const realModeDecoded = { medianNs: perInstruction(() => realDecoded.run(BATCH)) };
const protectedModeDecoded = { medianNs: perInstruction(() => pmDecoded.run(BATCH)) };
const mips = (ns: number) => `${(1000 / ns).toFixed(1)} guest MIPS`;
report('x86 CPU: a tight ALU loop (add, xor, inc, dec, jnz)', [
  { name: 'plain JavaScript loop (per instruction it stands for)', medianNs: baseline.medianNs },
  { name: 'real mode, 16-bit code', medianNs: realMode.medianNs, note: mips(realMode.medianNs) },
  { name: 'protected mode, 32-bit code', medianNs: protectedMode.medianNs, note: mips(protectedMode.medianNs) },
  { name: 'real mode, no decoded-instruction cache', medianNs: realModeDecoded.medianNs, note: mips(realModeDecoded.medianNs) },
  { name: 'protected mode, no decoded-instruction cache', medianNs: protectedModeDecoded.medianNs, note: mips(protectedModeDecoded.medianNs) },
], 'plain JavaScript loop (per instruction it stands for)');
