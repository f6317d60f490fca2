// The x86 CPU in real mode: each instruction group on hand-assembled code, the exits the monitor sees, the
// interrupt rules it shares with ScriptedGuest, and faults delivered as a CPU delivers them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Cc, Reg } from '../src/asm.ts';
import { Asm, CC } from '../src/asm.ts';
import type { X86CpuOptions } from '../src/x86-cpu.ts';
import { X86Cpu } from '../src/x86-cpu.ts';
import { UNIT_CPI } from '../src/cpi.ts';

const CODE = 0x1000;
const MEMORY_SIZE = 0x1_0000;

/** The CPU at 0000:1000 running `build`'s code, its stack at 0000:8000, in 64 KiB of RAM. */
function boot(build: (a: Asm) => unknown, options: Partial<X86CpuOptions> = {}): { cpu: X86Cpu; memory: Uint8Array; asm: Asm } {
  const asm = new Asm(CODE);
  build(asm);
  const memory = new Uint8Array(MEMORY_SIZE);
  memory.set(asm.bytes(), CODE);
  return { cpu: new X86Cpu(memory, { cs: 0, ip: CODE, ss: 0, sp: 0x8000, cpi: UNIT_CPI, a20: false, ...options }), memory, asm };
}

/** Runs until it halts (or another exit), failing on anything but `hlt`. */
function runToHlt(cpu: X86Cpu): number {
  const run = cpu.run(Number.POSITIVE_INFINITY);
  expect(run.exit, JSON.stringify(cpu.fault)).toEqual({ kind: 'hlt' });
  return run.cycles;
}

function word(memory: Uint8Array, address: number): number {
  return (memory[address] ?? 0) | ((memory[address + 1] ?? 0) << 8);
}

const F = { CF: 0x1, PF: 0x4, AF: 0x10, ZF: 0x40, SF: 0x80, IF: 0x200, DF: 0x400, OF: 0x800 } as const;
const STATUS = F.CF | F.PF | F.AF | F.ZF | F.SF | F.OF;

function named(flags: number): string[] {
  return Object.entries(F).filter(([, bit]) => (flags & bit) !== 0).map(([name]) => name);
}

describe('x86 cpu in real mode', () => {
  describe('arithmetic and flags', () => {
    const al = (cpu: X86Cpu) => cpu.al;
    const ax = (cpu: X86Cpu) => cpu.ax;
    const bl = (cpu: X86Cpu) => cpu.ebx & 0xff;
    const bx = (cpu: X86Cpu) => cpu.bx;
    const cx = (cpu: X86Cpu) => cpu.cx;
    const dx = (cpu: X86Cpu) => cpu.dx;
    const eax = (cpu: X86Cpu) => cpu.eax;
    const cases: [string, (a: Asm) => unknown, (cpu: X86Cpu) => number, number, string[]][] = [
      ['add al: FFh + 1 carries out and wraps to zero', (a) => a.mov('al', 0xff).alu('add', 'al', 1), al, 0x00, ['CF', 'PF', 'AF', 'ZF']],
      ['add al: 7Fh + 1 overflows into the sign', (a) => a.mov('al', 0x7f).alu('add', 'al', 1), al, 0x80, ['AF', 'SF', 'OF']],
      ['add ax: FFFFh + 1 carries', (a) => a.mov('ax', 0xffff).alu('add', 'ax', 1), ax, 0x0000, ['CF', 'PF', 'AF', 'ZF']],
      ['add ax, bx: 8000h + 8000h carries and overflows', (a) => a.mov('ax', 0x8000).mov('bx', 0x8000).alu('add', 'ax', 'bx'), ax, 0x0000, ['CF', 'PF', 'ZF', 'OF']],
      ['adc ax with CF set', (a) => a.mov('ax', 0x00ff).stc().alu('adc', 'ax', 0), ax, 0x0100, ['PF', 'AF']],
      ['sub al: 0 - 1 borrows', (a) => a.mov('al', 0).alu('sub', 'al', 1), al, 0xff, ['CF', 'PF', 'AF', 'SF']],
      ['sub al: 80h - 1 overflows', (a) => a.mov('al', 0x80).alu('sub', 'al', 1), al, 0x7f, ['AF', 'OF']],
      ['sbb cx with CF set', (a) => a.mov('cx', 5).stc().alu('sbb', 'cx', 5), cx, 0xffff, ['CF', 'PF', 'AF', 'SF']],
      ['cmp bx, 8000h: 7FFFh - 8000h overflows, and bx is kept', (a) => a.mov('bx', 0x7fff).alu('cmp', 'bx', 0x8000), bx, 0x7fff, ['CF', 'PF', 'SF', 'OF']],
      ['cmp ax, ax: equal', (a) => a.mov('ax', 0x1234).alu('cmp', 'ax', 'ax'), ax, 0x1234, ['PF', 'ZF']],
      ['inc ax: 7FFFh overflows, CF kept', (a) => a.mov('ax', 0x7fff).stc().inc('ax'), ax, 0x8000, ['CF', 'PF', 'AF', 'SF', 'OF']],
      ['inc ax: FFFFh wraps, CF not set', (a) => a.mov('ax', 0xffff).clc().inc('ax'), ax, 0x0000, ['PF', 'AF', 'ZF']],
      ['dec cx: 8000h overflows', (a) => a.mov('cx', 0x8000).dec('cx'), cx, 0x7fff, ['PF', 'AF', 'OF']],
      ['dec dx: 0 wraps, CF kept clear', (a) => a.mov('dx', 0).dec('dx'), dx, 0xffff, ['PF', 'AF', 'SF']],
      ['inc bl (FE /0): FFh, CF kept', (a) => a.mov('bl', 0xff).stc().db(0xfe, 0xc3), bl, 0x00, ['CF', 'PF', 'AF', 'ZF']],
      ['dec bx (FF /1): 1 to zero', (a) => a.mov('bx', 1).db(0xff, 0xcb), bx, 0x0000, ['PF', 'ZF']],
      ['and clears CF and OF', (a) => a.mov('ax', 0xf0f0).stc().alu('and', 'ax', 0x0ff0), ax, 0x00f0, ['PF']],
      ['or, xor', (a) => a.mov('ax', 0x8001).alu('or', 'ax', 0x0100).alu('xor', 'ax', 0x0001), ax, 0x8100, ['PF', 'SF']],
      ['add bx, -1 (83 /0: imm8 sign-extended)', (a) => a.mov('bx', 0x0010).db(0x83, 0xc3, 0xff), bx, 0x000f, ['CF', 'PF']],
      ['test al, 80h (A8) and test cx, dx (85) set flags and keep their operands', (a) => a.mov('al', 0x81).db(0xa8, 0x80).mov('cx', 0x00f0).mov('dx', 0x0f00).db(0x85, 0xd1), al, 0x81, ['PF', 'ZF']],
      ['66 add eax: FFFFFFFFh + 1 carries', (a) => a.mov('eax', 0xffff_ffff).alu('add', 'eax', 1), eax, 0, ['CF', 'PF', 'AF', 'ZF']],
      ['66 sub eax: 80000000h - 1 overflows', (a) => a.mov('eax', 0x8000_0000).alu('sub', 'eax', 1), eax, 0x7fff_ffff, ['PF', 'AF', 'OF']],
    ];
    for (const [name, build, read, result, flags] of cases) {
      it(name, () => {
        const { cpu } = boot((a) => { build(a); a.hlt(); });
        runToHlt(cpu);
        expect(read(cpu)).toBe(result);
        expect(named(cpu.flags & STATUS)).toEqual(flags);
      });
    }

    it('sets every status flag of ADD, ADC, SUB, SBB and CMP as their definitions say, at each width', () => {
      const ops = [['add', false], ['adc', false], ['sub', true], ['sbb', true], ['cmp', true]] as const;
      fc.assert(fc.property(
        fc.constantFrom(1, 2, 4), fc.constantFrom(...ops), fc.integer({ min: 0, max: 0xffff_ffff }), fc.integer({ min: 0, max: 0xffff_ffff }), fc.boolean(),
        (width, [op, subtract], x, y, carry) => {
          const bits = width * 8;
          const modulus = 2 ** bits;
          const a = x % modulus;
          const b = y % modulus;
          const c = carry && (op === 'adc' || op === 'sbb') ? 1 : 0;
          const [acc, src]: [Reg, Reg] = width === 1 ? ['al', 'bl'] : width === 2 ? ['ax', 'bx'] : ['eax', 'ebx'];
          const { cpu } = boot((asm) => asm.mov(acc, a).mov(src, b).db(carry ? 0xf9 : 0xf8).alu(op, acc, src).hlt());
          runToHlt(cpu);
          const signed = (v: number) => (v >= modulus / 2 ? v - modulus : v);
          const exact = subtract ? a - b - c : a + b + c;
          const r = ((exact % modulus) + modulus) % modulus;
          const signedExact = subtract ? signed(a) - signed(b) - c : signed(a) + signed(b) + c;
          let ones = 0;
          for (let v = r & 0xff; v !== 0; v >>= 1) ones += v & 1;
          const expected = (exact < 0 || exact >= modulus ? F.CF : 0)
            | (ones % 2 === 0 ? F.PF : 0)
            | ((subtract ? (a & 0xf) - (b & 0xf) - c < 0 : (a & 0xf) + (b & 0xf) + c > 0xf) ? F.AF : 0)
            | (r === 0 ? F.ZF : 0)
            | (r >= modulus / 2 ? F.SF : 0)
            | (signedExact < -modulus / 2 || signedExact >= modulus / 2 ? F.OF : 0);
          expect(named(cpu.flags & STATUS)).toEqual(named(expected));
          expect(cpu.eax % modulus).toBe(op === 'cmp' ? a : r);
        },
      ), { numRuns: 300 });
    });
  });

  describe('moves and addressing', () => {
    it('addresses memory through every 16-bit ModRM form, SS for BP-based ones, and segment overrides', () => {
      const { cpu, memory } = boot((a) => a
        .mov('ax', 0x0400).mov('ds', 'ax') // DS base 4000h
        .mov('ax', 0x0500).mov('ss', 'ax') // SS base 5000h
        .mov('ax', 0x0600).mov('es', 'ax') // ES base 6000h
        .mov('bx', 0x10).mov('si', 0x20).mov('di', 0x40).mov('bp', 0x80)
        .mov('ax', 0xa001).db(0x89, 0x00) // mov [bx+si], ax       → DS:30h
        .mov('ax', 0xa002).db(0x89, 0x41, 0x05) // mov [bx+di+5], ax → DS:55h
        .mov('ax', 0xa003).db(0x89, 0x42, 0xff) // mov [bp+si-1], ax → SS:9Fh
        .mov('ax', 0xa004).db(0x89, 0x83, 0x00, 0x01) // mov [bp+di+100h], ax → SS:1C0h
        .mov('ax', 0xa005).db(0x89, 0x04) // mov [si], ax          → DS:20h
        .mov('ax', 0xa006).db(0x89, 0x05) // mov [di], ax          → DS:40h
        .mov('ax', 0xa007).db(0x89, 0x06, 0x34, 0x12) // mov [1234h], ax → DS:1234h
        .mov('ax', 0xa008).db(0x89, 0x46, 0x02) // mov [bp+2], ax   → SS:82h
        .mov('ax', 0xa009).db(0x89, 0x07) // mov [bx], ax          → DS:10h
        .mov('ax', 0xa00a).db(0x26, 0x89, 0x07) // mov es:[bx], ax → ES:10h
        .mov('ax', 0xa00b).db(0x3e, 0x89, 0x46, 0x04) // mov ds:[bp+4], ax → DS:84h
        .mov('ax', 0xa00c).db(0x2e, 0x89, 0x06, 0x00, 0x90) // mov cs:[9000h], ax → CS:9000h
        .db(0xc6, 0x47, 0x02, 0x5a) // mov byte [bx+2], 5Ah → DS:12h
        .db(0x66, 0xc7, 0x06, 0x00, 0x05, 0x78, 0x56, 0x34, 0x12) // mov dword [500h], 12345678h → DS:500h
        .db(0x8b, 0x08) // mov cx, [bx+si]
        .db(0x8a, 0x56, 0x03) // mov dl, [bp+3]  (high byte of a008h)
        .db(0x66, 0xa1, 0x00, 0x05) // mov eax, [500h]
        .db(0x8c, 0xc7) // mov di, es
        .db(0x8d, 0x72, 0xff) // lea si, [bp+si-1]
        .hlt());
      runToHlt(cpu);
      expect([0x4030, 0x4055, 0x509f, 0x51c0, 0x4020, 0x4040, 0x5234, 0x5082, 0x4010, 0x6010, 0x4084, 0x9000].map((at) => word(memory, at)))
        .toEqual([0xa001, 0xa002, 0xa003, 0xa004, 0xa005, 0xa006, 0xa007, 0xa008, 0xa009, 0xa00a, 0xa00b, 0xa00c]);
      expect(memory[0x4012]).toBe(0x5a);
      expect([cpu.cx, cpu.dx & 0xff, cpu.eax, cpu.di, cpu.si, cpu.ds, cpu.ss, cpu.es]).toEqual([0xa001, 0xa0, 0x1234_5678, 0x600, 0x9f, 0x400, 0x500, 0x600]);
    });

    it('keeps the 8- and 16-bit views of the 32-bit registers', () => {
      const { cpu } = boot((a) => a.mov('eax', 0x1122_3344).mov('ah', 0xaa).mov('ebx', 0xdead_beef).mov('bx', 0x0102).hlt());
      runToHlt(cpu);
      expect([cpu.eax, cpu.al, cpu.ah, cpu.ax, cpu.ebx, cpu.bx]).toEqual([0x1122_aa44, 0x44, 0xaa, 0xaa44, 0xdead_0102, 0x0102]);
    });

    it('wraps linear addresses at 1 MiB and reads open bus past the end of RAM', () => {
      const { cpu, memory } = boot((a) => a
        .mov('ax', 0xffff).mov('ds', 'ax') // DS base FFFF0h: offset 20h is 100010h, wrapping to 10h
        .mov('ax', 0x4242).db(0x89, 0x06, 0x20, 0x00) // mov [20h], ax
        .mov('ax', 0x8000).mov('es', 'ax') // ES base 80000h: no RAM there
        .db(0x26, 0x8b, 0x1e, 0x00, 0x00) // mov bx, es:[0]
        .hlt());
      runToHlt(cpu);
      expect(word(memory, 0x10)).toBe(0x4242);
      expect(cpu.bx).toBe(0xffff);
    });

    it('pushes and pops registers and segment registers, and exchanges', () => {
      const { cpu, memory } = boot((a) => a
        .mov('ax', 0x1111).mov('bx', 0x2222).push('ax').push('bx').pop('cx').pop('dx')
        .mov('ax', 0x0123).mov('es', 'ax').db(0x06).db(0x1f) // push es; pop ds
        .db(0x87, 0xd8) // xchg ax, bx  (87 /r: rm=ax, reg=bx)
        .db(0x66, 0x50) // push eax
        .hlt());
      runToHlt(cpu);
      expect([cpu.cx, cpu.dx, cpu.ds, cpu.ax, cpu.bx, cpu.sp]).toEqual([0x2222, 0x1111, 0x0123, 0x2222, 0x0123, 0x8000 - 4]);
      expect(word(memory, 0x7ffc)).toBe(0x2222);
    });
  });

  describe('control flow', () => {
    /** Each condition, from the flags, by its name in the SDM. */
    const holds: Record<Cc, (f: number) => boolean> = {
      o: (f) => (f & F.OF) !== 0, no: (f) => (f & F.OF) === 0,
      b: (f) => (f & F.CF) !== 0, ae: (f) => (f & F.CF) === 0,
      e: (f) => (f & F.ZF) !== 0, ne: (f) => (f & F.ZF) === 0,
      be: (f) => (f & (F.CF | F.ZF)) !== 0, a: (f) => (f & (F.CF | F.ZF)) === 0,
      s: (f) => (f & F.SF) !== 0, ns: (f) => (f & F.SF) === 0,
      p: (f) => (f & F.PF) !== 0, np: (f) => (f & F.PF) === 0,
      l: (f) => ((f & F.SF) === 0) !== ((f & F.OF) === 0), ge: (f) => ((f & F.SF) === 0) === ((f & F.OF) === 0),
      le: (f) => (f & F.ZF) !== 0 || ((f & F.SF) === 0) !== ((f & F.OF) === 0), g: (f) => (f & F.ZF) === 0 && ((f & F.SF) === 0) === ((f & F.OF) === 0),
    };

    it('takes each Jcc, short and near, exactly when its condition holds', () => {
      for (let mask = 0; mask < 32; mask++) {
        const flags = [F.CF, F.PF, F.ZF, F.SF, F.OF].reduce((acc, bit, i) => ((mask >> i) & 1) !== 0 ? acc | bit : acc, 0);
        for (const cc of CC) {
          for (const near of [false, true]) {
            const { cpu } = boot((a) => {
              a.mov('ax', flags).push('ax').popf().mov('bl', 0);
              if (near) a.jNear(cc, 'taken');
              else a.j(cc, 'taken');
              a.mov('bl', 1).label('taken').hlt();
            });
            runToHlt(cpu);
            expect((cpu.bx & 0xff) === 0, `j${cc} ${near ? 'near' : 'short'} with ${named(flags).join(' ')}`).toBe(holds[cc](flags));
          }
        }
      }
    });

    it('runs a counted loop with LOOP, compare-and-branch loops backwards, and JMP short, near and far', () => {
      const { cpu, memory } = boot((a) => a
        .mov('cx', 5).mov('bx', 0)
        .label('count').inc('bx').loop('count') // bx = 5
        .mov('dx', 0)
        .label('up').inc('dx').alu('cmp', 'dx', 300).j('b', 'up') // dx = 300
        .jmp('short').hlt()
        .label('short').jmpNear('near').hlt()
        .label('near').db(0xea, 0x00, 0x30, 0x00, 0x00)); // jmp 0000:3000h
      memory[0x3000] = 0xf4; // hlt
      const cycles = runToHlt(cpu);
      expect([cpu.bx, cpu.cx, cpu.dx, cpu.ip]).toEqual([5, 0, 300, 0x3001]);
      expect(cycles).toBe(2 + 5 * 2 + 1 + 300 * 3 + 3 + 1);
    });

    it('jumps far, calls and returns, and takes INT n through the IVT with IRET back', () => {
      const { cpu, memory, asm } = boot((a) => a
        .mov('sp', 0x8000)
        .call('sub').mov('dx', 0x7777)
        .int(0x41).mov('di', 0x9999)
        .db(0xea, 0x00, 0x00, 0x00, 0x02) // jmp 0200:0000 (linear 2000h)
        .label('sub').mov('bx', 0x1234).ret()
        .label('int41').mov('cx', 0x4141).pushf().pop('si').iret());
      memory.set([0xb8, 0xfe, 0xca, 0xf4], 0x2000); // at 0200:0000: mov ax, 0CAFEh; hlt
      memory.set([asm.at('int41') & 0xff, asm.at('int41') >> 8, 0, 0], 0x41 * 4);
      runToHlt(cpu);
      expect([cpu.bx, cpu.dx, cpu.cx, cpu.di, cpu.ax, cpu.cs, cpu.ip, cpu.sp]).toEqual([0x1234, 0x7777, 0x4141, 0x9999, 0xcafe, 0x0200, 0x0004, 0x8000]);
      expect(cpu.si & F.IF).toBe(0); // the handler ran with IF clear
    });
    it('runs the rest of its set: indirect and far calls, RET n, RETF, LOOPE/LOOPNE/JCXZ, CBW/CWD, XCHG, PUSHF/POPF, PUSH and JMP r/m', () => {
      const TABLE = 0x3000; // near, far offset, far segment, end
      const { cpu, memory, asm } = boot((a) => a
        .mov('si', TABLE)
        .push('ax').db(0xff, 0x14) // push ax; call [si] (its ret 2 drops the ax)
        .db(0xff, 0x5c, 0x02) // call far [si+2]
        .mov('cx', 3).alu('xor', 'ax', 'ax')
        .label('equal').db(0xe1, 0xfe) // loope equal (ZF stays set: runs CX down)
        .mov('cx', 5).mov('ax', 1).alu('cmp', 'ax', 0)
        .label('unequal').db(0xe0, 0xfe) // loopne unequal
        .db(0xe3, 0x01).hlt() // jcxz over the hlt
        .mov('al', 0x80).db(0x98) // cbw
        .db(0x99) // cwd
        .mov('bx', 0x1234).db(0x93) // xchg ax, bx
        .stc().pushf().clc().popf()
        .db(0xff, 0x34).pop('si') // push word [si]; pop si
        .db(0xff, 0x26, (TABLE + 6) & 0xff, (TABLE + 6) >> 8) // jmp [TABLE+6]
        .hlt()
        .label('near').mov('bp', 0x1111).db(0xc2, 0x02, 0x00) // ret 2
        .label('far').mov('di', 0x2222).db(0xcb) // retf
        .label('end').hlt());
      memory.set([asm.at('near'), asm.at('far'), 0, asm.at('end')].flatMap((w) => [w & 0xff, w >> 8]), TABLE);
      runToHlt(cpu);
      expect(cpu.fault).toBeUndefined();
      expect([cpu.ip, cpu.sp, cpu.bp, cpu.di, cpu.cx, cpu.ax, cpu.bx, cpu.dx, cpu.si, cpu.flags & F.CF])
        .toEqual([asm.at('end') + 1, 0x8000, 0x1111, 0x2222, 0, 0x1234, 0xff80, 0xffff, asm.at('near'), F.CF]);
    });

    it('holds interrupts for the instruction after MOV SS, as after STI', () => {
      const { cpu } = boot((a) => a.sti().nop().mov('ss', 'ax').mov('sp', 0x100).hlt());
      cpu.run(3);
      expect(cpu.interruptible).toBe(false); // between the SS and the SP load
      cpu.run(1);
      expect(cpu.interruptible).toBe(true);
    });
  });

  describe('port I/O', () => {
    it('exits on OUT with AL, AX or EAX, and on IN until the data is completed into AL, AX or EAX', () => {
      const { cpu } = boot((a) => a
        .mov('eax', 0x4433_2211).out(0x70, 'al').out(0x80, 'ax').mov('dx', 0x3f8).out('dx', 'eax')
        .in('al', 0x71).in('ax', 'dx').in('eax', 'dx').hlt());
      expect(cpu.run(Number.POSITIVE_INFINITY)).toEqual({ cycles: 2, exit: { kind: 'io', direction: 'out', port: 0x70, size: 1, count: 1, data: Uint8Array.of(0x11) } });
      expect(cpu.run(Number.POSITIVE_INFINITY)).toEqual({ cycles: 1, exit: { kind: 'io', direction: 'out', port: 0x80, size: 2, count: 1, data: Uint8Array.of(0x11, 0x22) } });
      expect(cpu.run(Number.POSITIVE_INFINITY)).toEqual({ cycles: 2, exit: { kind: 'io', direction: 'out', port: 0x3f8, size: 4, count: 1, data: Uint8Array.of(0x11, 0x22, 0x33, 0x44) } });
      expect(cpu.run(Number.POSITIVE_INFINITY)).toEqual({ cycles: 1, exit: { kind: 'io', direction: 'in', port: 0x71, size: 1, count: 1, data: new Uint8Array(0) } });
      expect(cpu.run(Number.POSITIVE_INFINITY).cycles).toBe(0); // no data yet: the same exit again, nothing run
      cpu.complete(Uint8Array.of(0xab));
      expect(cpu.eax).toBe(0x4433_22ab);
      expect(cpu.run(Number.POSITIVE_INFINITY).exit).toMatchObject({ kind: 'io', direction: 'in', port: 0x3f8, size: 2 });
      cpu.complete(Uint8Array.of(0xcd, 0xef));
      expect(cpu.eax).toBe(0x4433_efcd);
      expect(cpu.run(Number.POSITIVE_INFINITY).exit).toMatchObject({ kind: 'io', direction: 'in', port: 0x3f8, size: 4 });
      cpu.complete(Uint8Array.of(1, 2, 3, 4));
      expect(cpu.eax).toBe(0x0403_0201);
      runToHlt(cpu);
    });

    it('does REP OUTS and REP INS as one exit of CX elements, forwards or backwards, and nothing for CX = 0', () => {
      const { cpu, memory } = boot((a) => a
        .mov('ax', 0x0400).mov('ds', 'ax').mov('ax', 0x0600).mov('es', 'ax') // DS base 4000h, ES base 6000h
        .mov('dx', 0x1f0).mov('si', 0x10).mov('cx', 3).rep().outsw() // 3 words from DS:10h
        .mov('di', 0x20).mov('cx', 2).rep().insw() // 2 words into ES:20h
        .std().mov('si', 0x12).mov('cx', 3).rep().outsb() // 3 bytes from DS:12h down
        .cld().mov('cx', 0).rep().insb() // nothing
        .mov('di', 0x30).insb() // one byte, no REP
        .hlt());
      memory.set([0x01, 0x02, 0x03, 0x04, 0x05, 0x06], 0x4010);
      expect(cpu.run(Number.POSITIVE_INFINITY).exit).toEqual({ kind: 'io', direction: 'out', port: 0x1f0, size: 2, count: 3, data: Uint8Array.of(1, 2, 3, 4, 5, 6) });
      expect([cpu.si, cpu.cx]).toEqual([0x16, 0]);
      expect(cpu.run(Number.POSITIVE_INFINITY)).toEqual({ cycles: 3, exit: { kind: 'io', direction: 'in', port: 0x1f0, size: 2, count: 2, data: new Uint8Array(0) } });
      expect(cpu.interruptible).toBe(false);
      cpu.complete(Uint8Array.of(0xa1, 0xa2, 0xa3, 0xa4));
      expect([...memory.subarray(0x6020, 0x6024)]).toEqual([0xa1, 0xa2, 0xa3, 0xa4]);
      expect([cpu.di, cpu.cx]).toEqual([0x24, 0]);
      expect(cpu.run(Number.POSITIVE_INFINITY).exit).toMatchObject({ kind: 'io', direction: 'out', size: 1, count: 3, data: Uint8Array.of(3, 2, 1) });
      expect(cpu.si).toBe(0x0f);
      expect(cpu.run(Number.POSITIVE_INFINITY).exit).toMatchObject({ kind: 'io', direction: 'in', size: 1, count: 1 });
      cpu.complete(Uint8Array.of(0x77));
      expect([memory[0x6030], cpu.di]).toEqual([0x77, 0x31]);
      runToHlt(cpu);
    });

    it('rewrites its own exit records, run result and write buffer on the bench guest\'s out/in loop', () => {
      const { cpu } = boot((a) => a.mov('al', 0).label('top').out(0x21, 'al').in('al', 0x21).inc('ax').jmp('top'));
      const first = cpu.run(Number.POSITIVE_INFINITY);
      const firstExit = first.exit;
      const firstData = first.exit.kind === 'io' ? first.exit.data : undefined;
      expect(firstData?.byteOffset).toBe(0);
      expect(firstData?.buffer.byteLength).toBe(1);
      for (let i = 0; i < 10; i++) {
        const out = cpu.run(Number.POSITIVE_INFINITY);
        expect(out).toBe(first);
        if (i % 2 === 0) {
          expect(out.exit).toMatchObject({ direction: 'in', port: 0x21 });
          cpu.complete(Uint8Array.of(0x40 + i));
        } else {
          expect(out.exit).toBe(firstExit);
          expect(out.exit).toMatchObject({ direction: 'out', port: 0x21, data: Uint8Array.of(0x40 + i) }); // the value read, incremented
          expect(out.exit.kind === 'io' && out.exit.data).toBe(firstData);
        }
      }
    });
  });

  describe('time', () => {
    it('honours the budget exactly: never an instruction past it', () => {
      const { cpu } = boot((a) => a.nop().nop().nop().nop().nop().nop().nop().nop().nop().hlt());
      expect(cpu.run(0)).toEqual({ cycles: 0, exit: { kind: 'budget' } });
      expect(cpu.ip).toBe(CODE);
      expect(cpu.run(3)).toEqual({ cycles: 3, exit: { kind: 'budget' } });
      expect(cpu.ip).toBe(CODE + 3);
      expect(cpu.run(6)).toEqual({ cycles: 6, exit: { kind: 'budget' } });
      expect(cpu.run(1)).toEqual({ cycles: 1, exit: { kind: 'hlt' } });
      expect(cpu.run(100)).toEqual({ cycles: 0, exit: { kind: 'hlt' } }); // halted: nothing runs
    });

    it('counts a string I/O exit as one cycle, and prefixes as part of their instruction', () => {
      const { cpu } = boot((a) => a.mov('cx', 100).rep().outsb().db(0x66, 0x2e, 0x90).hlt());
      expect(cpu.run(Number.POSITIVE_INFINITY)).toMatchObject({ cycles: 2, exit: { kind: 'io', count: 100 } });
      expect(cpu.run(Number.POSITIVE_INFINITY).cycles).toBe(2);
    });

    it('reads the TSC without an exit: the TSC at entry plus the cycles run, its own included', () => {
      const { cpu } = boot((a) => a.rdtsc().mov('ebx', 'eax').nop().rdtsc().hlt());
      runToHlt(cpu);
      const again = boot((a) => a.nop().rdtsc().hlt());
      again.cpu.run(Number.POSITIVE_INFINITY, false, 2 ** 32 + 7);
      expect([cpu.ebx, cpu.eax, cpu.edx]).toEqual([1, 4, 0]);
      expect([again.cpu.eax, again.cpu.edx]).toEqual([9, 1]);
      const late = boot((a) => a.rdtsc().hlt());
      late.cpu.run(Number.POSITIVE_INFINITY, false, 5000);
      expect(late.cpu.eax).toBe(5001);
    });
  });

  describe('interrupts', () => {
    it('blocks interrupts for the instruction after sti, so that sti; hlt cannot lose a wake-up', () => {
      const { cpu } = boot((a) => a.sti().hlt());
      expect(cpu.run(1).exit).toEqual({ kind: 'budget' }); // stopped between sti and hlt
      expect(cpu.interruptible).toBe(false); // in sti's shadow
      expect(cpu.run(1).exit).toEqual({ kind: 'hlt' });
      expect([cpu.halted, cpu.interruptible]).toEqual([true, true]);
    });

    it('stops when an interrupt window opens if asked to, once the shadow of sti is over — and on iret restoring IF', () => {
      const { cpu } = boot((a) => a.nop().sti().nop().nop().cli().in('al', 0x60));
      expect(cpu.run(Number.POSITIVE_INFINITY, true)).toEqual({ exit: { kind: 'irq-window' }, cycles: 3 }); // nop, sti, the shadowed nop
      expect(cpu.interruptible).toBe(true);
      const quiet = boot((a) => a.sti().nop().nop().in('al', 0x60));
      expect(quiet.cpu.run(Number.POSITIVE_INFINITY).exit).toMatchObject({ kind: 'io', port: 0x60 });
      // IF already set: no window opens.
      const already = boot((a) => a.sti().nop().nop().in('al', 0x60));
      already.cpu.run(1);
      expect(already.cpu.run(Number.POSITIVE_INFINITY, true).exit).toMatchObject({ kind: 'io', port: 0x60 });
      // POPF and IRET setting IF open it at once (no shadow).
      const popf = boot((a) => a.mov('ax', F.IF).push('ax').popf().nop().hlt());
      expect(popf.cpu.run(Number.POSITIVE_INFINITY, true)).toEqual({ exit: { kind: 'irq-window' }, cycles: 3 });
    });

    it('takes an injected interrupt through the IVT, ends a halt, runs the handler with IF clear, and IRET restores IF', () => {
      const { cpu, memory, asm } = boot((a) => a
        .sti()
        .label('idle').hlt().jmp('idle')
        .label('handler').db(0xff, 0x06, 0x00, 0x05) // inc word [500h]
        .mov('al', 0x20).out(0x20, 'al') // EOI
        .iret());
      memory.set([asm.at('handler') & 0xff, asm.at('handler') >> 8, 0, 0], 0x20 * 4);
      expect(cpu.run(Number.POSITIVE_INFINITY).exit).toEqual({ kind: 'hlt' });
      expect(cpu.interruptible).toBe(true);
      const halted = cpu.ip;
      cpu.inject(0x20);
      expect([cpu.halted, cpu.interruptible, cpu.ip, cpu.sp]).toEqual([false, false, asm.at('handler'), 0x8000 - 6]);
      expect([word(memory, 0x7ffa), word(memory, 0x7ffc), word(memory, 0x7ffe) & F.IF]).toEqual([halted, 0, F.IF]); // IP, CS, FLAGS
      expect(cpu.run(Number.POSITIVE_INFINITY)).toMatchObject({ cycles: 3, exit: { kind: 'io', port: 0x20, data: Uint8Array.of(0x20) } });
      expect(cpu.run(Number.POSITIVE_INFINITY, true)).toEqual({ cycles: 1, exit: { kind: 'irq-window' } }); // the iret
      expect([cpu.interruptible, cpu.sp, word(memory, 0x500)]).toEqual([true, 0x8000, 1]);
      expect(cpu.run(Number.POSITIVE_INFINITY)).toEqual({ cycles: 2, exit: { kind: 'hlt' } });
      cpu.inject(0x20);
      cpu.run(Number.POSITIVE_INFINITY);
      expect(cpu.run(Number.POSITIVE_INFINITY).exit).toEqual({ kind: 'hlt' });
      expect(word(memory, 0x500)).toBe(2);
    });
  });

  describe('MSRs and MMIO', () => {
    it('exits on wrmsr with EDX:EAX as 8 bytes, and on rdmsr until the value is completed into EDX:EAX', () => {
      const { cpu } = boot((a) => a.mov('ecx', 0x6e0).mov('eax', 3).mov('edx', 0x100).wrmsr().mov('ecx', 0x10).rdmsr().hlt());
      expect(cpu.run(Number.POSITIVE_INFINITY)).toEqual({ cycles: 4, exit: { kind: 'msr', isWrite: true, index: 0x6e0, data: Uint8Array.of(3, 0, 0, 0, 0, 1, 0, 0) } });
      expect(cpu.run(Number.POSITIVE_INFINITY).exit).toEqual({ kind: 'msr', isWrite: false, index: 0x10, data: new Uint8Array(0) });
      expect(cpu.interruptible).toBe(false);
      cpu.complete(Uint8Array.of(0x78, 0x56, 0x34, 0x12, 0xf0, 0xde, 0xbc, 0x9a));
      expect([cpu.eax, cpu.edx]).toEqual([0x1234_5678, 0x9abc_def0]);
      runToHlt(cpu);
    });

    it('exits for any access to MMIO: a write posted with its instruction, a read replayed into the instruction once completed', () => {
      const mmio = (address: number) => address >= 0xd_0000 && address < 0xe_0000;
      const { cpu } = boot((a) => a
        .mov('ax', 0xd000).mov('ds', 'ax')
        .mov('ax', 0xbeef).db(0x89, 0x06, 0x10, 0x00) // mov [10h], ax
        .db(0x8a, 0x3e, 0x20, 0x00) // mov bh, [20h]
        .db(0x66, 0x8b, 0x0e, 0x30, 0x00) // mov ecx, [30h]
        .db(0xc6, 0x06, 0x40, 0x00, 0x5a) // mov byte [40h], 5Ah
        .db(0x03, 0x06, 0x50, 0x00) // add ax, [50h]
        .db(0x81, 0x06, 0x60, 0x00, 0x01, 0x00) // add word [60h], 1: a read, then a write
        .hlt(),
      { mmio });
      expect(cpu.run(Number.POSITIVE_INFINITY)).toEqual({ cycles: 4, exit: { kind: 'mmio', isWrite: true, address: 0xd_0010, length: 2, data: Uint8Array.of(0xef, 0xbe) } });
      expect(cpu.run(Number.POSITIVE_INFINITY).exit).toEqual({ kind: 'mmio', isWrite: false, address: 0xd_0020, length: 1, data: new Uint8Array(0) });
      expect(cpu.interruptible).toBe(false);
      cpu.complete(Uint8Array.of(0x99));
      expect(cpu.run(Number.POSITIVE_INFINITY).exit).toMatchObject({ kind: 'mmio', isWrite: false, address: 0xd_0030, length: 4 });
      expect(cpu.bx).toBe(0x9900);
      cpu.complete(Uint8Array.of(1, 2, 3, 4));
      expect(cpu.run(Number.POSITIVE_INFINITY).exit).toEqual({ kind: 'mmio', isWrite: true, address: 0xd_0040, length: 1, data: Uint8Array.of(0x5a) });
      expect(cpu.ecx).toBe(0x0403_0201);
      expect(cpu.run(Number.POSITIVE_INFINITY).exit).toMatchObject({ kind: 'mmio', isWrite: false, address: 0xd_0050, length: 2 });
      cpu.complete(Uint8Array.of(0x11, 0x01));
      expect(cpu.run(Number.POSITIVE_INFINITY).exit).toMatchObject({ kind: 'mmio', isWrite: false, address: 0xd_0060, length: 2 });
      expect(cpu.ax).toBe(0xbeef + 0x0111);
      cpu.complete(Uint8Array.of(0xff, 0x00));
      expect(cpu.run(Number.POSITIVE_INFINITY).exit).toEqual({ kind: 'mmio', isWrite: true, address: 0xd_0060, length: 2, data: Uint8Array.of(0x00, 0x01) });
      runToHlt(cpu);
      expect(cpu.fault).toBeUndefined();
    });

    it('copies MMIO to RAM with REP MOVS one element an exit, each element its own value (as SeaBIOS copies an option ROM)', () => {
      const mmio = (address: number) => address >= 0xd_0000 && address < 0xe_0000;
      const { cpu, memory } = boot((a) => a
        .mov('ax', 0xd000).mov('ds', 'ax').mov('ax', 0).mov('es', 'ax')
        .mov('si', 0x10).mov('di', 0x6000).mov('cx', 4)
        .cld().rep().db(0xa5) // rep movsw
        .hlt(),
      { mmio });
      const reads: number[] = [];
      for (let i = 0; i < 4; i++) {
        const run = cpu.run(Number.POSITIVE_INFINITY);
        expect(run.exit).toMatchObject({ kind: 'mmio', isWrite: false, length: 2 });
        const address = (run.exit as { address: number }).address;
        reads.push(address);
        cpu.complete(Uint8Array.of(0x10 + i, 0xa0 + i));
      }
      runToHlt(cpu);
      expect(reads).toEqual([0xd_0010, 0xd_0012, 0xd_0014, 0xd_0016]);
      expect([...memory.subarray(0x6000, 0x6008)]).toEqual([0x10, 0xa0, 0x11, 0xa1, 0x12, 0xa2, 0x13, 0xa3]);
      expect([cpu.si, cpu.di, cpu.cx]).toEqual([0x18, 0x6008, 0]);
    });

    it('reads a read-only slot as memory and exits on its writes, as a KVM_MEM_READONLY slot (an option ROM behind its BAR)', () => {
      // RAM is 64 KiB: the slot is the first page above it, at 1000:0000.
      const mmio = (address: number) => address >= MEMORY_SIZE;
      const { cpu, memory } = boot((a) => a
        .mov('ax', 0x1000).mov('ds', 'ax').mov('ax', 0).mov('es', 'ax')
        .mov('si', 0).mov('di', 0x6000).mov('cx', 3)
        .cld().rep().db(0x66, 0xa5) // rep movsd: three dwords out of the slot, no exit
        .db(0xa2, 0x20, 0x00) // mov [20h], al: a write into the slot, an MMIO exit
        .db(0xa0, 0x10, 0x10) // mov al, [1010h]: the next page, not the slot's: MMIO
        .hlt(),
      { mmio });
      const rom = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7) & 0xff);
      cpu.mapReadOnly(0, { base: MEMORY_SIZE, bytes: rom });
      expect(cpu.run(Number.POSITIVE_INFINITY).exit).toEqual({ kind: 'mmio', isWrite: true, address: MEMORY_SIZE + 0x20, length: 1, data: Uint8Array.of(0) });
      expect([...memory.subarray(0x6000, 0x600c)]).toEqual([...rom.subarray(0, 12)]);
      expect(cpu.run(Number.POSITIVE_INFINITY).exit).toMatchObject({ kind: 'mmio', isWrite: false, address: MEMORY_SIZE + 0x1010, length: 1 });
      cpu.complete(Uint8Array.of(0x5a));
      runToHlt(cpu);
      // Deleted, the page is a device's again: the same copy exits.
      cpu.mapReadOnly(0, undefined);
      expect(() => { cpu.mapReadOnly(1, { base: 0x1000, bytes: rom }); }).toThrow(/above RAM/);
      const again = boot((a) => a.mov('ax', 0x1000).mov('ds', 'ax').db(0xa0, 0x00, 0x00).hlt(), { mmio }).cpu;
      again.mapReadOnly(0, { base: MEMORY_SIZE, bytes: rom });
      again.mapReadOnly(0, undefined);
      expect(again.run(Number.POSITIVE_INFINITY).exit).toMatchObject({ kind: 'mmio', isWrite: false, address: MEMORY_SIZE });
    });

    it('runs an instruction stopped on an MMIO read again from its start, so an interrupt cannot come between its read and its completion', () => {
      const mmio = (address: number) => address >= 0xd_0000 && address < 0xe_0000;
      const { cpu } = boot((a) => a.sti().nop().mov('ax', 0xd000).mov('ds', 'ax').db(0xff, 0x36, 0x00, 0x00).hlt(), { mmio }); // push word [0]
      const read = cpu.run(Number.POSITIVE_INFINITY);
      expect(read.exit).toMatchObject({ kind: 'mmio', isWrite: false, address: 0xd_0000 });
      expect(cpu.sp).toBe(0x8000); // nothing pushed yet
      cpu.complete(Uint8Array.of(0x34, 0x12));
      expect(cpu.interruptible).toBe(false);
      runToHlt(cpu);
      expect(cpu.sp).toBe(0x7ffe);
    });
  });

  describe('faults', () => {
    it('delivers #UD through the IVT with the address of the faulting instruction pushed', () => {
      const { cpu, memory } = boot((a) => a.nop().db(0x0f, 0x0b).hlt()); // UD2
      memory.set([0x00, 0x20, 0x00, 0x00], 6 * 4); // vector 6 → 0000:2000
      memory[0x2000] = 0xf4; // hlt
      runToHlt(cpu);
      expect(cpu.ip).toBe(0x2001);
      expect(word(memory, 0x7ffa)).toBe(CODE + 1); // IP of the UD2
      expect(word(memory, 0x7ffc)).toBe(0); // CS
    });

    it('delivers #DE for a divide by zero and #GP for a word at offset FFFFh, each restarting nothing it changed', () => {
      const de = boot((a) => a.mov('ax', 7).mov('bl', 0).db(0xf6, 0xf3).hlt()); // div bl
      de.memory.set([0x00, 0x20, 0x00, 0x00], 0);
      de.memory[0x2000] = 0xf4;
      runToHlt(de.cpu);
      expect([de.cpu.ip, de.cpu.ax, word(de.memory, 0x7ffa)]).toEqual([0x2001, 7, CODE + 5]);
      const gp = boot((a) => a.push('ax').db(0x8b, 0x1e, 0xff, 0xff).hlt()); // mov bx, [FFFFh]
      gp.memory.set([0x00, 0x20, 0x00, 0x00], 13 * 4);
      gp.memory[0x2000] = 0xf4;
      runToHlt(gp.cpu);
      expect([gp.cpu.ip, gp.cpu.sp, word(gp.memory, 0x7ff8)]).toEqual([0x2001, 0x7ff8, CODE + 1]);
    });

    it('shuts down on a triple fault, reporting the state and the last instructions, and stays down', () => {
      const { cpu } = boot((a) => a
        .db(0x0f, 0x01, 0x1e, 0x00, 0x30) // lidt [3000h]: limit 0
        .nop()
        .db(0xcc)); // int3: #GP (outside the IVT's limit), #DF, then a triple fault
      expect(cpu.run(Number.POSITIVE_INFINITY).exit).toEqual({ kind: 'shutdown' });
      expect(cpu.fault).toMatchObject({ cs: 0, eip: CODE + 6, opcode: 0xcc, reason: expect.stringContaining('triple fault') });
      expect(cpu.fault?.state).toContain(`eip=0000${(CODE + 6).toString(16)}`);
      expect(cpu.fault?.lastInstructions.slice(-3)).toEqual([CODE, CODE + 5, CODE + 6]);
      expect(cpu.interruptible).toBe(false);
      expect(cpu.run(Number.POSITIVE_INFINITY)).toEqual({ cycles: 0, exit: { kind: 'shutdown' } });
    });

    it('never throws on arbitrary code, whatever its exits are answered, and keeps to its budget', () => {
      fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.integer({ min: 0, max: 500 }), (code, budget) => {
        const memory = new Uint8Array(0x2000);
        memory.set(code, 0x100);
        const cpu = new X86Cpu(memory, { cs: 0, ip: 0x100, sp: 0x1000, mmio: (address) => address >= 0x1800 });
        let spent = 0;
        for (let i = 0; i < 50 && spent < budget; i++) {
          const run = cpu.run(budget - spent, i % 2 === 0, i * 1000);
          expect(run.cycles).toBeLessThanOrEqual(budget - spent);
          spent += run.cycles;
          const exit = run.exit;
          if (exit.kind === 'shutdown') break;
          if (exit.kind === 'hlt' && cpu.interruptible) cpu.inject(0x08);
          if (exit.kind === 'io' || exit.kind === 'mmio' || exit.kind === 'msr') cpu.complete(new Uint8Array(16).fill(0xa5));
          if (exit.kind === 'hlt' && !cpu.interruptible) break;
        }
      }), { numRuns: 500 });
    });
  });
});
