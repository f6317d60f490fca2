/**
 * A small real-mode assembler: a useful part of the mnemonics X86Cpu decodes, to their
 * bytes (Intel SDM vol. 2: the one-byte opcode map, Table A-2; the 16-bit
 * ModRM forms, Table 2-1; 66h, the operand-size prefix), with labels for the
 * branches. Guests for tests and benches are written in it rather than as
 * byte arrays; it covers what those guests use, not the instruction set.
 */
const REG8 = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'] as const;
const REG16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'] as const;
const REG32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
const SREG = ['es', 'cs', 'ss', 'ds'] as const;
const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'] as const;
/** Jcc's conditions in the order of their encoding (70h + n, 0F 80h + n). */
export const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'] as const;
export type Reg8 = (typeof REG8)[number];
export type Reg16 = (typeof REG16)[number];
export type Reg32 = (typeof REG32)[number];
export type Reg = Reg8 | Reg16 | Reg32;
export type Sreg = (typeof SREG)[number];
export type AluOp = (typeof ALU)[number];
export type Cc = (typeof CC)[number];

/** The register's number and width in bytes. */
function reg(r: Reg): [number, 1 | 2 | 4] {
  const i8 = (REG8 as readonly string[]).indexOf(r);
  if (i8 >= 0) return [i8, 1];
  const i16 = (REG16 as readonly string[]).indexOf(r);
  return i16 >= 0 ? [i16, 2] : [(REG32 as readonly string[]).indexOf(r), 4];
}

function le(value: number, width: number): number[] {
  return Array.from({ length: width }, (_, i) => Math.floor(value / 256 ** i) & 0xff);
}

export class Asm {
  private readonly code: number[] = [];
  private readonly labels = new Map<string, number>();
  private readonly fixups: { at: number; width: 1 | 2; label: string }[] = [];

  /** The offset (IP) of the first byte. */
  readonly origin: number;

  constructor(origin: number) {
    this.origin = origin;
  }

  get here(): number {
    return this.origin + this.code.length;
  }

  db(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  label(name: string): this {
    this.labels.set(name, this.here);
    return this;
  }

  /** The offset of `name` (resolved when the code is built). */
  at(name: string): number {
    const at = this.labels.get(name);
    if (at === undefined) throw new Error(`no label ${name}`);
    return at;
  }

  private rel(opcode: number[], width: 1 | 2, label: string): this {
    this.db(...opcode);
    this.fixups.push({ at: this.code.length, width, label });
    return this.db(...new Array<number>(width).fill(0));
  }

  private sized(width: number, ...bytes: number[]): this {
    return width === 4 ? this.db(0x66, ...bytes) : this.db(...bytes);
  }

  nop(): this { return this.db(0x90); }
  hlt(): this { return this.db(0xf4); }
  cli(): this { return this.db(0xfa); }
  sti(): this { return this.db(0xfb); }
  clc(): this { return this.db(0xf8); }
  stc(): this { return this.db(0xf9); }
  cld(): this { return this.db(0xfc); }
  std(): this { return this.db(0xfd); }
  pushf(): this { return this.db(0x9c); }
  popf(): this { return this.db(0x9d); }
  iret(): this { return this.db(0xcf); }
  ret(): this { return this.db(0xc3); }
  rdtsc(): this { return this.db(0x0f, 0x31); }
  wrmsr(): this { return this.db(0x0f, 0x30); }
  rdmsr(): this { return this.db(0x0f, 0x32); }
  int(vector: number): this { return this.db(0xcd, vector); }
  rep(): this { return this.db(0xf3); }
  insb(): this { return this.db(0x6c); }
  insw(): this { return this.db(0x6d); }
  outsb(): this { return this.db(0x6e); }
  outsw(): this { return this.db(0x6f); }

  /** MOV reg, imm (B0+r, B8+r) or MOV reg, reg (89 /r) or MOV sreg, reg16 (8E /r). */
  mov(dst: Reg | Sreg, src: number | Reg): this {
    if ((SREG as readonly string[]).includes(dst)) {
      const [s] = reg(src as Reg16);
      return this.db(0x8e, 0xc0 | (SREG.indexOf(dst as Sreg) << 3) | s);
    }
    const [d, width] = reg(dst as Reg);
    if (typeof src === 'number') return width === 1 ? this.db(0xb0 + d, src) : this.sized(width, 0xb8 + d, ...le(src, width));
    const [s] = reg(src);
    return this.sized(width, width === 1 ? 0x88 : 0x89, 0xc0 | (s << 3) | d);
  }

  /** ADD … CMP reg, imm (04+8k/05+8k for the accumulator, else 80/81 /k) or reg, reg (00+8k/01+8k /r). */
  alu(op: AluOp, dst: Reg, src: number | Reg): this {
    const k = ALU.indexOf(op);
    const [d, width] = reg(dst);
    if (typeof src !== 'number') {
      const [s] = reg(src);
      return this.sized(width, k * 8 + (width === 1 ? 0 : 1), 0xc0 | (s << 3) | d);
    }
    if (d === 0) return this.sized(width, k * 8 + (width === 1 ? 4 : 5), ...le(src, width));
    return this.sized(width, width === 1 ? 0x80 : 0x81, 0xc0 | (k << 3) | d, ...le(src, width));
  }

  inc(r: Reg16): this { return this.db(0x40 + reg(r)[0]); }
  dec(r: Reg16): this { return this.db(0x48 + reg(r)[0]); }
  push(r: Reg16): this { return this.db(0x50 + reg(r)[0]); }
  pop(r: Reg16): this { return this.db(0x58 + reg(r)[0]); }

  /** OUT port, AL/AX/EAX (E6/E7 imm8, EE/EF with DX). */
  out(port: number | 'dx', src: 'al' | 'ax' | 'eax'): this {
    const width = reg(src)[1];
    return port === 'dx' ? this.sized(width, width === 1 ? 0xee : 0xef) : this.sized(width, width === 1 ? 0xe6 : 0xe7, port);
  }

  /** IN AL/AX/EAX, port (E4/E5 imm8, EC/ED with DX). */
  in(dst: 'al' | 'ax' | 'eax', port: number | 'dx'): this {
    const width = reg(dst)[1];
    return port === 'dx' ? this.sized(width, width === 1 ? 0xec : 0xed) : this.sized(width, width === 1 ? 0xe4 : 0xe5, port);
  }

  jmp(label: string): this { return this.rel([0xeb], 1, label); }
  jmpNear(label: string): this { return this.rel([0xe9], 2, label); }
  call(label: string): this { return this.rel([0xe8], 2, label); }
  loop(label: string): this { return this.rel([0xe2], 1, label); }
  j(cc: Cc, label: string): this { return this.rel([0x70 + CC.indexOf(cc)], 1, label); }
  jNear(cc: Cc, label: string): this { return this.rel([0x0f, 0x80 + CC.indexOf(cc)], 2, label); }

  bytes(): Uint8Array {
    const out = Uint8Array.from(this.code);
    for (const { at, width, label } of this.fixups) {
      const rel = this.at(label) - (this.origin + at + width);
      if (width === 1 && (rel < -128 || rel > 127)) throw new Error(`${label} is out of reach of a short jump`);
      out.set(le(rel & (width === 1 ? 0xff : 0xffff), width), at);
    }
    return out;
  }
}
