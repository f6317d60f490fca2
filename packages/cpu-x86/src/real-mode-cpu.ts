/**
 * An x86 real-mode interpreter: the GuestCpu that runs real machine code
 * from guest RAM — the 8086's instruction set (a useful part of it) with the
 * 386's operand-size prefix where it matters for I/O, and RDTSC, RDMSR and
 * WRMSR. Written from the Intel SDM: vol. 1 §3.4.3 (FLAGS); vol. 2 (the
 * instructions' encodings and operation, Table 2-1 for the 16-bit ModRM
 * forms, STI for its one-instruction interrupt shadow); vol. 3A §6.8.3 (the
 * MOV SS / POP SS shadow), §20.1.1 (real-address mode: linear address =
 * segment × 16 + offset) and §20.1.4 (interrupts through the IVT at 0).
 *
 * Addresses: a linear address wraps at 1 MiB (20 address lines, A20 masked,
 * as the 8086); an address at or past the end of `memory` is open bus (reads
 * 0xFF, writes are dropped). A word at segment offset FFFFh takes its high
 * byte from the next linear address (the 8086's behaviour, not the 286's
 * #GP). All FLAGS status bits are modelled (CF PF AF ZF SF OF) and IF and
 * DF; TF is kept but never traps.
 *
 * What exits: IN/OUT and INS/OUTS as 'io' (REP string I/O as one exit of
 * CX elements), RDMSR/WRMSR as 'msr', HLT, and MOV to or from an address
 * the board's `mmio` says is a device as 'mmio'. Any other instruction with
 * a memory operand on MMIO, an opcode outside the set, or a #UD or #GP it
 * would raise stops the CPU: 'shutdown', with the reason in `fault` (a real
 * CPU would take an exception; this one reports where it left its depth).
 *
 * Decoding follows the one-byte opcode map (SDM vol. 2 Appendix A, Table
 * A-2): `execute` switches on an opcode's row (its high nibble) to one
 * method per row (rows 0–3, the ALU block, share one), and each switches on
 * the column; IN/OUT, the exits' path, have their own. A few small switches
 * dispatch far faster in V8 than one of ~150 cases, and leave each method
 * room to inline its helpers.
 *
 * As ScriptedGuest: a run's result, its exit record and an `out`'s or
 * write's data are this CPU's own, rewritten by the next `run`. Nothing is
 * allocated per instruction or per exit (a write's buffer is allocated once
 * per length).
 */
import type { AccessSize, GuestAccessSize, GuestCpu, GuestExit, GuestRun } from '@splitvisor/abi';
import { BUDGET, HLT, IRQ_WINDOW, NO_DATA, OP_CYCLES, SHUTDOWN, WriteBuffers, ioExitRecord, mmioExitRecord, msrExitRecord, runRecord } from '@splitvisor/abi';
import { ARITH, CF, DF, FLAGS_FIXED, FLAGS_WRITABLE, IF, TF, ZF, SF, OF, PF, addFlags, logicFlags, subFlags, truncate } from './flags.ts';

export interface RealModeCpuOptions {
  /** CS:IP of the first instruction. */
  readonly cs: number;
  readonly ip: number;
  /** SS:SP (default 0000:0000: the first push lands at 0000:FFFE). */
  readonly ss?: number;
  readonly sp?: number;
  /** DS and ES (default 0). */
  readonly ds?: number;
  readonly es?: number;
  /** Whether a physical address belongs to a device (decided on an access's first byte): MOV to or from it exits as 'mmio'. */
  readonly mmio?: (address: number) => boolean;
}

/** Why the CPU stopped with 'shutdown'. */
export interface RealModeFault {
  /** CS:IP of the instruction (its first prefix byte). */
  readonly cs: number;
  readonly ip: number;
  /** Its opcode after any prefixes; 0x0Fxx for a two-byte opcode. */
  readonly opcode: number;
  readonly reason: string;
}



/** 20 address lines. */
const ADDRESS_MASK = 0xf_ffff;
/** What a read of no memory returns. */
const OPEN_BUS = 0xff;

/** General registers in the encoding's order (the ModRM reg field; SDM vol. 2 Table 3-1). */
const CX = 1;
const BX = 3;
const SP = 4;
const BP = 5;
const SI = 6;
const DI = 7;
/** Segment registers in the encoding's order (the Sreg field of MOV Sreg). */
const ES = 0;
const CS = 1;
const SS = 2;
const DS = 3;
/** The ALU operation numbers (bits 5:3 of opcodes 00–3D, the reg field of 80–83). */
const ALU_AND = 4;
const ALU_CMP = 7;

/** What a stopped read waits for `complete` to fill. */
const AWAIT_NONE = 0;
/** `pendingWidth` bytes of the register file from byte `pendingOffset` (IN, a MOV load). */
const AWAIT_REGISTER = 1;
/** EDX:EAX (RDMSR). */
const AWAIT_MSR = 2;
/** INS elements into ES:DI onward. */
const AWAIT_STRING = 3;

/** The byte of the register file that holds 8-bit register `r` (AL CL DL BL AH CH DH BH). */
function byteOffset8(r: number): number {
  return r < 4 ? r << 2 : ((r - 4) << 2) + 1;
}

export class RealModeCpu implements GuestCpu {
  /**
   * EAX ECX EDX EBX ESP EBP ESI EDI in the encoding's order; the 16- and
   * 8-bit views share its bytes (the host is little-endian, as x86 is).
   */
  readonly regs = new Uint32Array(8);
  private readonly r16 = new Uint16Array(this.regs.buffer);
  private readonly r8 = new Uint8Array(this.regs.buffer);
  /** ES CS SS DS in the encoding's order. */
  private readonly sreg = new Uint16Array(4);
  /** CS × 16. */
  private csBase = 0;
  /** The instruction pointer (16-bit). */
  ip: number;
  /** FLAGS (bit 1 always set). */
  flags = FLAGS_FIXED;

  private readonly memory: Uint8Array;
  private readonly mmio: ((address: number) => boolean) | undefined;

  // The instruction being decoded.
  private startIp = 0;
  private prefixes = 0;
  private operand32 = false;
  private segOverride = -1;
  private repeat = false;
  private mod = 0;
  private reg = 0;
  private rm = 0;
  /** The memory operand's offset in its segment, and its linear address. */
  private eaOffset = 0;
  private ea = 0;

  private isHalted = false;
  /** The instruction after an STI that set IF (or a MOV/POP SS) has not run yet: interrupts wait. */
  private shadow = false;
  /** IF went from clear to set during the current run. */
  private windowOpened = false;
  private failure: RealModeFault | undefined = undefined;

  private awaiting = AWAIT_NONE;
  private pendingOffset = 0;
  private pendingWidth = 0;
  /** An INS in progress: ES × 16, DI at its start, the step per element, the elements. */
  private stringBase = 0;
  private stringOffset = 0;
  private stringStep = 0;
  private stringCount = 0;

  /** The exit records and the run result, rewritten by every run. */
  private readonly ioExit = ioExitRecord();
  private readonly mmioExit = mmioExitRecord();
  private readonly msrExit = msrExitRecord();
  private readonly result = runRecord();
  /** The exit a read stopped on (given again by a run before its `complete`). */
  private lastExit: GuestExit = BUDGET;
  /** Write data by length, each buffer its own. */
  private readonly writeData = new WriteBuffers();
  /** The TSC at the current run's entry, and the cycles run since. */
  private entryTsc = 0;
  private runCycles = 0;

  /**
   * A CPU at `options.cs:ip` over `memory`, guest-physical address 0 onward
   * (the IVT at 0, as real mode has it). The memory is the CPU's RAM, read
   * and written in place: the caller may load code into it and inspect it.
   * FLAGS start as 0002h (IF clear), the general registers as 0.
   */
  constructor(memory: Uint8Array, options: RealModeCpuOptions) {
    this.memory = memory;
    this.mmio = options.mmio;
    this.loadSegment(CS, options.cs);
    this.ip = options.ip & 0xffff;
    this.loadSegment(SS, options.ss ?? 0);
    this.loadSegment(DS, options.ds ?? 0);
    this.loadSegment(ES, options.es ?? 0);
    this.r16[SP << 1] = options.sp ?? 0;
  }

  get eax(): number { return this.regs[0] ?? 0; }
  get ecx(): number { return this.regs[1] ?? 0; }
  get edx(): number { return this.regs[2] ?? 0; }
  get ebx(): number { return this.regs[3] ?? 0; }
  get ax(): number { return this.r16[0] ?? 0; }
  get cx(): number { return this.r16[2] ?? 0; }
  get dx(): number { return this.r16[4] ?? 0; }
  get bx(): number { return this.r16[6] ?? 0; }
  get sp(): number { return this.r16[8] ?? 0; }
  get bp(): number { return this.r16[10] ?? 0; }
  get si(): number { return this.r16[12] ?? 0; }
  get di(): number { return this.r16[14] ?? 0; }
  get al(): number { return this.r8[0] ?? 0; }
  get ah(): number { return this.r8[1] ?? 0; }
  get es(): number { return this.sreg[ES] ?? 0; }
  get cs(): number { return this.sreg[CS] ?? 0; }
  get ss(): number { return this.sreg[SS] ?? 0; }
  get ds(): number { return this.sreg[DS] ?? 0; }

  /** Why the CPU shut down, if it did. */
  get fault(): RealModeFault | undefined {
    return this.failure;
  }

  get interruptible(): boolean {
    return (this.flags & IF) !== 0 && !this.shadow && this.awaiting === AWAIT_NONE && this.failure === undefined;
  }

  get halted(): boolean {
    return this.isHalted;
  }

  inject(vector: number): void {
    if (this.failure !== undefined) return;
    this.isHalted = false;
    this.interrupt(vector & 0xff);
  }

  complete(data: Uint8Array): void {
    const r8 = this.r8;
    switch (this.awaiting) {
      case AWAIT_REGISTER:
        if (this.pendingWidth === 1) r8[this.pendingOffset] = data[0] ?? 0;
        else for (let i = 0; i < this.pendingWidth; i++) r8[this.pendingOffset + i] = data[i] ?? 0;
        break;
      case AWAIT_MSR:
        for (let i = 0; i < 4; i++) {
          r8[i] = data[i] ?? 0; // EAX
          r8[8 + i] = data[4 + i] ?? 0; // EDX
        }
        break;
      case AWAIT_STRING: {
        const width = this.pendingWidth;
        for (let i = 0; i < this.stringCount; i++) {
          const offset = this.stringOffset + i * this.stringStep;
          for (let b = 0; b < width; b++) this.writeByte(this.stringBase + ((offset + b) & 0xffff), data[i * width + b] ?? 0);
        }
        break;
      }
      default:
        return;
    }
    this.awaiting = AWAIT_NONE;
  }

  /** Runs for at most `budget` cycles (one an instruction); the result and its exit are rewritten by the next run. */
  run(budget: number, exitOnInterruptWindow = false, tsc = 0): GuestRun {
    this.windowOpened = false;
    this.entryTsc = tsc;
    this.runCycles = 0;
    if (this.failure !== undefined) return this.stop(SHUTDOWN);
    if (this.awaiting !== AWAIT_NONE) return this.stop(this.lastExit);
    if (this.isHalted) return this.stop(HLT);
    const memory = this.memory;
    let cycles = 0;
    for (;;) {
      if (cycles + OP_CYCLES > budget) return this.stop(BUDGET);
      cycles += OP_CYCLES;
      this.runCycles = cycles;
      // An interrupt shadow lasts one instruction; an STI that sets IF, or a MOV/POP SS, in it starts another.
      this.shadow = false;
      const ip = this.ip;
      this.startIp = ip;
      this.ip = (ip + 1) & 0xffff;
      const exit = this.execute(memory[(this.csBase + ip) & ADDRESS_MASK] ?? OPEN_BUS);
      if (this.prefixes !== 0) this.endPrefixes();
      if (exit !== undefined) return this.stop(exit);
      if (exitOnInterruptWindow && this.interruptWindowOpened()) return this.stop(IRQ_WINDOW);
    }
  }

  /** After an instruction with prefixes: the next starts with none (an instruction without any leaves them so). */
  private endPrefixes(): void {
    this.prefixes = 0;
    this.operand32 = false;
    this.segOverride = -1;
    this.repeat = false;
  }

  /** Whether IF came on during this run and the CPU can now take an interrupt (no shadow, no read in flight). */
  private interruptWindowOpened(): boolean {
    return this.windowOpened && this.interruptible;
  }

  private stop(exit: GuestExit): GuestRun {
    const result = this.result;
    result.exit = exit;
    result.cycles = this.runCycles;
    return result;
  }


  /** Stops the CPU: the instruction at `startIp` cannot run here. */
  private raise(opcode: number, reason: string): GuestExit {
    this.failure = { cs: this.sreg[CS] ?? 0, ip: this.startIp, opcode, reason };
    this.ip = this.startIp;
    return SHUTDOWN;
  }

  private mmioOperand(opcode: number): GuestExit {
    return this.raise(opcode, `a memory operand on MMIO at ${this.ea.toString(16)}h (only MOV exits for MMIO)`);
  }

  // --- Memory, registers, fetch ---

  private readByte(address: number): number {
    return this.memory[address & ADDRESS_MASK] ?? OPEN_BUS;
  }

  private writeByte(address: number, value: number): void {
    this.memory[address & ADDRESS_MASK] = value; // past the end of RAM: dropped by the typed array
  }

  /** `width` bytes little-endian at a linear address. */
  private read(address: number, width: number): number {
    const lo = this.readByte(address);
    if (width === 1) return lo;
    const word = lo | (this.readByte(address + 1) << 8);
    if (width === 2) return word;
    return (word | (this.readByte(address + 2) << 16) | (this.readByte(address + 3) << 24)) >>> 0;
  }

  private write(address: number, value: number, width: number): void {
    this.writeByte(address, value);
    if (width === 1) return;
    this.writeByte(address + 1, value >>> 8);
    if (width === 2) return;
    this.writeByte(address + 2, value >>> 16);
    this.writeByte(address + 3, value >>> 24);
  }

  private getReg(width: number, r: number): number {
    if (width === 1) return this.r8[byteOffset8(r)] ?? 0;
    return width === 2 ? (this.r16[r << 1] ?? 0) : (this.regs[r] ?? 0);
  }

  private setReg(width: number, r: number, value: number): void {
    if (width === 1) this.r8[byteOffset8(r)] = value;
    else if (width === 2) this.r16[r << 1] = value;
    else this.regs[r] = value;
  }

  private loadSegment(s: number, value: number): void {
    this.sreg[s] = value;
    if (s === CS) this.csBase = (value & 0xffff) << 4;
  }

  private segmentBase(s: number): number {
    return (this.sreg[s] ?? 0) << 4;
  }

  private fetch8(): number {
    const b = this.memory[(this.csBase + this.ip) & ADDRESS_MASK] ?? OPEN_BUS;
    this.ip = (this.ip + 1) & 0xffff;
    return b;
  }

  private fetch16(): number {
    return this.fetch8() | (this.fetch8() << 8);
  }

  private fetchImm(width: number): number {
    if (width === 1) return this.fetch8();
    if (width === 2) return this.fetch16();
    return (this.fetch16() | (this.fetch16() << 16)) >>> 0;
  }

  /** A signed 8-bit displacement. */
  private fetchRel8(): number {
    return (this.fetch8() << 24) >> 24;
  }

  /** 2, or 4 with the operand-size prefix. */
  private wide(): number {
    return this.operand32 ? 4 : 2;
  }

  /**
   * Decodes a ModRM byte and its displacement (16-bit addressing, SDM vol. 2
   * Table 2-1): `mod`, `reg`, `rm`, and for a memory operand its offset and
   * linear address. Returns whether the memory operand is on MMIO.
   */
  private modrm(): boolean {
    const b = this.fetch8();
    const mod = b >> 6;
    const rm = b & 7;
    this.mod = mod;
    this.reg = (b >> 3) & 7;
    this.rm = rm;
    if (mod === 3) return false;
    const r = this.r16;
    const bx = r[BX << 1] ?? 0;
    const bp = r[BP << 1] ?? 0;
    const si = r[SI << 1] ?? 0;
    const di = r[DI << 1] ?? 0;
    let offset: number;
    let seg = DS;
    switch (rm) {
      case 0: offset = bx + si; break;
      case 1: offset = bx + di; break;
      case 2: offset = bp + si; seg = SS; break;
      case 3: offset = bp + di; seg = SS; break;
      case 4: offset = si; break;
      case 5: offset = di; break;
      case 6:
        if (mod === 0) {
          offset = this.fetch16();
        } else {
          offset = bp;
          seg = SS;
        }
        break;
      default: offset = bx;
    }
    if (mod === 1) offset += this.fetchRel8();
    else if (mod === 2) offset += this.fetch16();
    if (this.segOverride >= 0) seg = this.segOverride;
    this.eaOffset = offset & 0xffff;
    this.ea = (this.segmentBase(seg) + this.eaOffset) & ADDRESS_MASK;
    return this.mmio?.(this.ea) === true;
  }

  private readRm(width: number): number {
    return this.mod === 3 ? this.getReg(width, this.rm) : this.read(this.ea, width);
  }

  private writeRm(width: number, value: number): void {
    if (this.mod === 3) this.setReg(width, this.rm, value);
    else this.write(this.ea, value, width);
  }

  private push(value: number, width: number): void {
    const sp = ((this.r16[SP << 1] ?? 0) - width) & 0xffff;
    this.r16[SP << 1] = sp;
    this.write(this.segmentBase(SS) + sp, value, width);
  }

  private pop(width: number): number {
    const sp = this.r16[SP << 1] ?? 0;
    this.r16[SP << 1] = sp + width;
    return this.read(this.segmentBase(SS) + sp, width);
  }

  /** Loads FLAGS (POPF, IRET); IF coming on opens an interrupt window. */
  private setFlags(value: number): void {
    if ((value & IF) !== 0 && (this.flags & IF) === 0) this.windowOpened = true;
    this.flags = (value & FLAGS_WRITABLE) | FLAGS_FIXED;
  }

  /** An interrupt or INT n through the real-mode IVT (SDM vol. 3A §20.1.4): FLAGS, CS, IP pushed; IF and TF cleared. */
  private interrupt(vector: number): void {
    this.push(this.flags, 2);
    this.push(this.sreg[CS] ?? 0, 2);
    this.push(this.ip, 2);
    this.flags &= ~(IF | TF);
    this.ip = this.read(vector << 2, 2);
    this.loadSegment(CS, this.read((vector << 2) + 2, 2));
  }

  // --- Arithmetic ---

  /** ADD OR ADC SBB AND SUB XOR CMP (by `kind`, bits 5:3 of the opcode): the result, FLAGS set. */
  private alu(kind: number, a: number, b: number, width: number): number {
    let r: number;
    let f: number;
    switch (kind) {
      case 0: r = truncate(a + b, width); f = addFlags(a, b, 0, r, width); break;
      case 1: r = truncate(a | b, width); f = logicFlags(r, width); break;
      case 2: {
        const c = this.flags & CF;
        r = truncate(a + b + c, width);
        f = addFlags(a, b, c, r, width);
        break;
      }
      case 3: {
        const c = this.flags & CF;
        r = truncate(a - b - c, width);
        f = subFlags(a, b, c, r, width);
        break;
      }
      case ALU_AND: r = truncate(a & b, width); f = logicFlags(r, width); break;
      case 6: r = truncate(a ^ b, width); f = logicFlags(r, width); break;
      default: r = truncate(a - b, width); f = subFlags(a, b, 0, r, width); // SUB, CMP
    }
    this.flags = (this.flags & ~ARITH) | f;
    return r;
  }

  /** INC or DEC: CF is kept. */
  private incDec(a: number, width: number, decrement: boolean): number {
    const r = truncate(decrement ? a - 1 : a + 1, width);
    const f = decrement ? subFlags(a, 1, 0, r, width) : addFlags(a, 1, 0, r, width);
    this.flags = (this.flags & (~ARITH | CF)) | (f & ~CF);
    return r;
  }

  /** The condition `cc` of Jcc (the opcode's low nibble; SDM vol. 2 Table B-1 "tttn"). */
  private condition(cc: number): boolean {
    const f = this.flags;
    let t: boolean;
    switch (cc >> 1) {
      case 0: t = (f & OF) !== 0; break; // O
      case 1: t = (f & CF) !== 0; break; // B
      case 2: t = (f & ZF) !== 0; break; // E
      case 3: t = (f & (CF | ZF)) !== 0; break; // BE
      case 4: t = (f & SF) !== 0; break; // S
      case 5: t = (f & PF) !== 0; break; // P
      case 6: t = ((f & SF) !== 0) !== ((f & OF) !== 0); break; // L
      default: t = (f & ZF) !== 0 || ((f & SF) !== 0) !== ((f & OF) !== 0); // LE
    }
    return (cc & 1) === 0 ? t : !t;
  }

  private jumpIf(taken: boolean, rel: number): void {
    if (taken) this.ip = (this.ip + rel) & 0xffff;
  }

  // --- Exits ---

  private ioOut(port: number, width: number): GuestExit {
    const exit = this.ioExit;
    const data = this.writeData.of(width);
    if (width === 1) data[0] = this.r8[0] ?? 0; // AL
    else for (let i = 0; i < width; i++) data[i] = this.r8[i] ?? 0; // AX or EAX
    exit.direction = 'out';
    exit.port = port;
    exit.size = width as AccessSize;
    exit.count = 1;
    exit.data = data;
    return exit;
  }

  private ioIn(port: number, width: number): GuestExit {
    const exit = this.ioExit;
    exit.direction = 'in';
    exit.port = port;
    exit.size = width as AccessSize;
    exit.count = 1;
    exit.data = NO_DATA;
    this.awaitRegister(0, width);
    this.lastExit = exit;
    return exit;
  }

  private awaitRegister(offset: number, width: number): void {
    this.awaiting = AWAIT_REGISTER;
    this.pendingOffset = offset;
    this.pendingWidth = width;
  }

  /** INSB/INSW/OUTSB/OUTSW (6C–6F), with REP as one exit of CX elements. */
  private stringIo(op: number): GuestExit | undefined {
    const width = (op & 1) === 0 ? 1 : this.wide();
    const r16 = this.r16;
    let count = 1;
    if (this.repeat) {
      count = r16[CX << 1] ?? 0;
      if (count === 0) return undefined;
      r16[CX << 1] = 0;
    }
    const step = (this.flags & DF) === 0 ? width : -width;
    const exit = this.ioExit;
    exit.port = r16[2 << 1] ?? 0; // DX
    exit.size = width as AccessSize;
    exit.count = count;
    if (op < 0x6e) {
      // INS: into ES:DI (no override), when `complete` brings the data.
      const di = r16[DI << 1] ?? 0;
      this.awaiting = AWAIT_STRING;
      this.pendingWidth = width;
      this.stringBase = this.segmentBase(ES);
      this.stringOffset = di;
      this.stringStep = step;
      this.stringCount = count;
      r16[DI << 1] = di + step * count;
      exit.direction = 'in';
      exit.data = NO_DATA;
      this.lastExit = exit;
      return exit;
    }
    // OUTS: from DS:SI (or the override).
    const si = r16[SI << 1] ?? 0;
    const base = this.segmentBase(this.segOverride >= 0 ? this.segOverride : DS);
    const data = this.writeData.of(width * count);
    for (let i = 0; i < count; i++) {
      const offset = si + i * step;
      for (let b = 0; b < width; b++) data[i * width + b] = this.readByte(base + ((offset + b) & 0xffff));
    }
    r16[SI << 1] = si + step * count;
    exit.direction = 'out';
    exit.data = data;
    return exit;
  }

  private mmioWrite(address: number, value: number, width: number): GuestExit {
    const exit = this.mmioExit;
    const data = this.writeData.of(width);
    for (let i = 0; i < width; i++) data[i] = value >>> (i << 3);
    exit.isWrite = true;
    exit.address = address;
    exit.length = width as GuestAccessSize;
    exit.data = data;
    return exit;
  }

  /** A MOV load from MMIO into `width` bytes of the register file at `offset`. */
  private mmioRead(address: number, width: number, offset: number): GuestExit {
    const exit = this.mmioExit;
    exit.isWrite = false;
    exit.address = address;
    exit.length = width as GuestAccessSize;
    exit.data = NO_DATA;
    this.awaitRegister(offset, width);
    this.lastExit = exit;
    return exit;
  }

  // --- Decode and execute ---

  /** After a prefix: the next byte (an instruction is at most 15 bytes, SDM vol. 2 §2.3.11). */
  private prefixed(prefix: number): GuestExit | undefined {
    if (++this.prefixes > 14) return this.raise(prefix, 'an instruction longer than 15 bytes (#GP)');
    return this.execute(this.fetch8());
  }

  /**
   * One instruction, its opcode `op` fetched: dispatched by the row of the
   * one-byte opcode map (SDM vol. 2 Appendix A, Table A-2: the row is the
   * opcode's high nibble, the column its low nibble), then by the column in
   * that row's method. Small switches keep V8's dispatch cheap, and leave
   * each row method room to inline its helpers.
   */
  private execute(op: number): GuestExit | undefined {
    switch (op >> 4) {
      case 0x0: case 0x1: case 0x2: case 0x3: return this.row0to3(op);
      case 0x4: return this.row4(op);
      case 0x5: return this.row5(op);
      case 0x6: return this.row6(op);
      case 0x7: return this.row7(op);
      case 0x8: return this.row8(op);
      case 0x9: return this.row9(op);
      case 0xa: return this.rowA(op);
      case 0xb: return this.rowB(op);
      case 0xc: return this.rowC(op);
      case 0xe: return (op & 4) === 0 ? this.rowE(op) : this.inOut(op); // IN/OUT apart: the I/O exits' path
      case 0xf: return this.rowF(op);
      default: return this.unimplemented(op); // row D: shifts, x87 escapes
    }
  }

  private unimplemented(op: number): GuestExit {
    return this.raise(op, 'an opcode this interpreter does not implement');
  }

  /**
   * Rows 0–3 (Table A-2), by column mod 8: 0–5 the ALU forms (ADD OR ADC SBB
   * AND SUB XOR CMP); 6 and 7 PUSH/POP ES CS SS DS, the two-byte escape 0F,
   * the segment-override prefixes, and DAA DAS AAA AAS (not implemented).
   */
  private row0to3(op: number): GuestExit | undefined {
    switch (op & 7) {
      case 6:
        if (op >= 0x20) { // ES: CS: SS: DS:
          this.segOverride = (op >> 3) & 3;
          return this.prefixed(op);
        }
        this.push(this.sreg[op >> 3] ?? 0, this.wide()); // PUSH ES/CS/SS/DS
        return undefined;
      case 7:
        if (op === 0x0f) return this.twoByte();
        if (op >= 0x20) return this.unimplemented(op); // DAA DAS AAA AAS
        this.loadSegment(op >> 3, this.pop(this.wide())); // POP ES/SS/DS
        if (op === 0x17) this.shadow = true; // POP SS: the next instruction (the SP load) runs before an interrupt
        return undefined;
      default:
        return this.aluForm(op);
    }
  }

  /** Row 4 (Table A-2): INC r16/32 (40–47), DEC r16/32 (48–4F). */
  private row4(op: number): GuestExit | undefined {
    const width = this.wide();
    const r = op & 7;
    this.setReg(width, r, this.incDec(this.getReg(width, r), width, op >= 0x48));
    return undefined;
  }

  /** Row 5 (Table A-2): PUSH r16/32 (50–57), POP r16/32 (58–5F). */
  private row5(op: number): GuestExit | undefined {
    const width = this.wide();
    if (op < 0x58) this.push(this.getReg(width, op & 7), width); // PUSH SP pushes SP as it was before the push (the 286 onward)
    else this.setReg(width, op & 7, this.pop(width));
    return undefined;
  }

  /** Row 6 (Table A-2): the operand-size prefix 66, INS/OUTS (6C–6F). */
  private row6(op: number): GuestExit | undefined {
    if (op === 0x66) {
      this.operand32 = true;
      return this.prefixed(op);
    }
    if (op >= 0x6c) return this.stringIo(op);
    return this.unimplemented(op);
  }

  /** Row 7 (Table A-2): Jcc rel8. */
  private row7(op: number): GuestExit | undefined {
    const rel = this.fetchRel8();
    this.jumpIf(this.condition(op & 15), rel);
    return undefined;
  }

  /** Row 8 (Table A-2): group 1 (ALU r/m, imm), TEST, XCHG, MOV r/m, MOV Sreg, LEA. */
  private row8(op: number): GuestExit | undefined {
    switch (op & 15) {
      case 0x0: case 0x1: case 0x2: case 0x3: { // group 1
        const width = (op & 1) === 0 ? 1 : this.wide();
        if (this.modrm()) return this.mmioOperand(op);
        const a = this.readRm(width);
        const b = op === 0x83 ? truncate(this.fetchRel8(), width) : this.fetchImm(width);
        const r = this.alu(this.reg, a, b, width);
        if (this.reg !== ALU_CMP) this.writeRm(width, r);
        return undefined;
      }
      case 0x4: case 0x5: { // TEST r/m, r
        const width = (op & 1) === 0 ? 1 : this.wide();
        if (this.modrm()) return this.mmioOperand(op);
        this.alu(ALU_AND, this.readRm(width), this.getReg(width, this.reg), width);
        return undefined;
      }
      case 0x6: case 0x7: { // XCHG r/m, r
        const width = (op & 1) === 0 ? 1 : this.wide();
        if (this.modrm()) return this.mmioOperand(op);
        const a = this.readRm(width);
        this.writeRm(width, this.getReg(width, this.reg));
        this.setReg(width, this.reg, a);
        return undefined;
      }
      case 0x8: case 0x9: { // MOV r/m, r
        const width = (op & 1) === 0 ? 1 : this.wide();
        const mmio = this.modrm();
        const value = this.getReg(width, this.reg);
        if (mmio) return this.mmioWrite(this.ea, value, width);
        this.writeRm(width, value);
        return undefined;
      }
      case 0xa: case 0xb: { // MOV r, r/m
        const width = (op & 1) === 0 ? 1 : this.wide();
        if (this.modrm()) return this.mmioRead(this.ea, width, width === 1 ? byteOffset8(this.reg) : this.reg << 2);
        this.setReg(width, this.reg, this.readRm(width));
        return undefined;
      }
      case 0xc: { // MOV r/m16, Sreg
        const mmio = this.modrm();
        if (this.reg > DS) return this.raise(op, 'MOV from FS/GS or a reserved segment register');
        const value = this.sreg[this.reg] ?? 0;
        if (mmio) return this.mmioWrite(this.ea, value, 2);
        this.writeRm(this.mod === 3 ? this.wide() : 2, value);
        return undefined;
      }
      case 0xd: // LEA
        this.modrm();
        if (this.mod === 3) return this.raise(op, 'LEA with a register operand (#UD)');
        this.setReg(this.wide(), this.reg, this.eaOffset);
        return undefined;
      case 0xe: // MOV Sreg, r/m16
        if (this.modrm()) return this.mmioOperand(op);
        if (this.reg > DS || this.reg === CS) return this.raise(op, 'MOV to CS, FS, GS or a reserved segment register (#UD)');
        this.loadSegment(this.reg, this.readRm(2));
        if (this.reg === SS) this.shadow = true;
        return undefined;
      default: // 8F: POP r/m
        return this.unimplemented(op);
    }
  }

  /** Row 9 (Table A-2): NOP, XCHG AX, r; CBW, CWD, PUSHF, POPF. */
  private row9(op: number): GuestExit | undefined {
    switch (op & 15) {
      case 0x0: // NOP (XCHG AX, AX)
        return undefined;
      case 0x1: case 0x2: case 0x3: case 0x4: case 0x5: case 0x6: case 0x7: {
        const width = this.wide();
        const a = this.getReg(width, 0);
        this.setReg(width, 0, this.getReg(width, op & 7));
        this.setReg(width, op & 7, a);
        return undefined;
      }
      case 0x8: // CBW, CWDE
        if (this.operand32) this.regs[0] = (this.r16[0] ?? 0) << 16 >> 16;
        else this.r16[0] = (this.r8[0] ?? 0) << 24 >> 24;
        return undefined;
      case 0x9: { // CWD, CDQ
        const r16 = this.r16;
        if (this.operand32) this.regs[2] = (this.regs[0] ?? 0) >= 0x8000_0000 ? 0xffff_ffff : 0;
        else r16[4] = (r16[0] ?? 0) >= 0x8000 ? 0xffff : 0;
        return undefined;
      }
      case 0xc: // PUSHF
        this.push(this.flags, this.wide());
        return undefined;
      case 0xd: // POPF
        this.setFlags(this.pop(this.wide()));
        return undefined;
      default:
        return this.unimplemented(op);
    }
  }

  /** Row A (Table A-2): MOV AL/AX to and from moffs (A0–A3), TEST AL/AX, imm (A8, A9). */
  private rowA(op: number): GuestExit | undefined {
    if (op <= 0xa3) {
      const width = (op & 1) === 0 ? 1 : this.wide();
      const address = (this.segmentBase(this.segOverride >= 0 ? this.segOverride : DS) + this.fetch16()) & ADDRESS_MASK;
      this.ea = address;
      const mmio = this.mmio?.(address) === true;
      if (op < 0xa2) {
        if (mmio) return this.mmioRead(address, width, 0);
        this.setReg(width, 0, this.read(address, width));
      } else {
        if (mmio) return this.mmioWrite(address, this.getReg(width, 0), width);
        this.write(address, this.getReg(width, 0), width);
      }
      return undefined;
    }
    if (op === 0xa8 || op === 0xa9) {
      const width = op === 0xa8 ? 1 : this.wide();
      this.alu(ALU_AND, this.getReg(width, 0), this.fetchImm(width), width);
      return undefined;
    }
    return this.unimplemented(op);
  }

  /** Row B (Table A-2): MOV r8, imm8 (B0–B7), MOV r16/32, imm (B8–BF). */
  private rowB(op: number): GuestExit | undefined {
    if (op < 0xb8) {
      this.r8[byteOffset8(op & 7)] = this.fetch8();
    } else {
      const width = this.wide();
      this.setReg(width, op & 7, this.fetchImm(width));
    }
    return undefined;
  }

  /** Row C (Table A-2): RET near and far, MOV r/m, imm, INT3, INT n, IRET. */
  private rowC(op: number): GuestExit | undefined {
    const r16 = this.r16;
    switch (op & 15) {
      case 0x2: case 0x3: { // RET near (imm16: bytes to release)
        if (this.operand32) return this.raise(op, 'a 32-bit near return');
        const release = op === 0xc2 ? this.fetch16() : 0;
        this.ip = this.pop(2);
        r16[SP << 1] = (r16[SP << 1] ?? 0) + release;
        return undefined;
      }
      case 0x6: case 0x7: { // MOV r/m, imm
        const width = (op & 1) === 0 ? 1 : this.wide();
        const mmio = this.modrm();
        if (this.reg !== 0) return this.raise(op, 'C6/C7 with a reg field other than 0 (#UD)');
        const value = this.fetchImm(width);
        if (mmio) return this.mmioWrite(this.ea, value, width);
        this.writeRm(width, value);
        return undefined;
      }
      case 0xa: case 0xb: { // RET far (imm16: bytes to release)
        if (this.operand32) return this.raise(op, 'a 32-bit far return');
        const release = op === 0xca ? this.fetch16() : 0;
        this.ip = this.pop(2);
        this.loadSegment(CS, this.pop(2));
        r16[SP << 1] = (r16[SP << 1] ?? 0) + release;
        return undefined;
      }
      case 0xc: // INT3
        this.interrupt(3);
        return undefined;
      case 0xd: // INT n
        this.interrupt(this.fetch8());
        return undefined;
      case 0xf: // IRET
        if (this.operand32) return this.raise(op, 'IRETD');
        this.ip = this.pop(2);
        this.loadSegment(CS, this.pop(2));
        this.setFlags(this.pop(2));
        return undefined;
      default:
        return this.unimplemented(op);
    }
  }

  /** Row E (Table A-2), columns 4–7 and C–F: IN and OUT, the port an imm8 (E4–E7) or DX (EC–EF). */
  private inOut(op: number): GuestExit {
    const port = op < 0xe8 ? this.fetch8() : (this.r16[2 << 1] ?? 0);
    const width = (op & 1) === 0 ? 1 : this.wide();
    return (op & 2) === 0 ? this.ioIn(port, width) : this.ioOut(port, width);
  }

  /** Row E (Table A-2), columns 0–3 and 8–B: LOOPcc, JCXZ, CALL, JMP (`inOut` has the rest). */
  private rowE(op: number): GuestExit | undefined {
    const r16 = this.r16;
    switch (op & 15) {
      case 0x0: case 0x1: case 0x2: { // LOOPNE, LOOPE, LOOP (CX: 16-bit addressing)
        const rel = this.fetchRel8();
        const cx = ((r16[CX << 1] ?? 0) - 1) & 0xffff;
        r16[CX << 1] = cx;
        const zf = (this.flags & ZF) !== 0;
        this.jumpIf(cx !== 0 && (op === 0xe2 || zf === (op === 0xe1)), rel);
        return undefined;
      }
      case 0x3: { // JCXZ
        const rel = this.fetchRel8();
        this.jumpIf(r16[CX << 1] === 0, rel);
        return undefined;
      }
      case 0x8: { // CALL rel16
        if (this.operand32) return this.raise(op, 'a 32-bit near call');
        const rel = this.fetch16();
        this.push(this.ip, 2);
        this.ip = (this.ip + rel) & 0xffff;
        return undefined;
      }
      case 0x9: // JMP rel16
        if (this.operand32) return this.raise(op, 'a 32-bit near jump');
        this.ip = (this.fetch16() + this.ip) & 0xffff;
        return undefined;
      case 0xa: { // JMP ptr16:16
        if (this.operand32) return this.raise(op, 'a 32-bit far jump');
        const ip = this.fetch16();
        this.loadSegment(CS, this.fetch16());
        this.ip = ip;
        return undefined;
      }
      default: { // JMP rel8 (EB)
        const rel = this.fetchRel8();
        this.ip = (this.ip + rel) & 0xffff;
        return undefined;
      }
    }
  }

  /** Row F (Table A-2): LOCK, REP/REPNE, HLT, CMC, the flag instructions, groups 4 and 5. */
  private rowF(op: number): GuestExit | undefined {
    switch (op & 15) {
      case 0x0: // LOCK: nothing else runs
        return this.prefixed(op);
      case 0x2: case 0x3: // REPNE, REP: only string I/O repeats here
        this.repeat = true;
        return this.prefixed(op);
      case 0x4:
        this.isHalted = true;
        return HLT;
      case 0x5: this.flags ^= CF; return undefined; // CMC
      case 0x8: this.flags &= ~CF; return undefined; // CLC
      case 0x9: this.flags |= CF; return undefined; // STC
      case 0xa: this.flags &= ~IF; return undefined; // CLI
      case 0xb: // STI: the next instruction runs before an interrupt can be taken, if IF was clear
        if ((this.flags & IF) === 0) {
          this.shadow = true;
          this.setFlags(this.flags | IF);
        }
        return undefined;
      case 0xc: this.flags &= ~DF; return undefined; // CLD
      case 0xd: this.flags |= DF; return undefined; // STD
      case 0xe: // INC/DEC r/m8
        if (this.modrm()) return this.mmioOperand(op);
        if (this.reg > 1) return this.raise(op, `FE /${this.reg} (#UD)`);
        this.writeRm(1, this.incDec(this.readRm(1), 1, this.reg === 1));
        return undefined;
      case 0xf:
        return this.group5(op);
      default: // F1, F6, F7
        return this.unimplemented(op);
    }
  }

  /** 00–3D: ALU r/m,r; r,r/m; AL/AX,imm. */
  private aluForm(op: number): GuestExit | undefined {
    const kind = (op >> 3) & 7;
    const form = op & 7;
    const width = (op & 1) === 0 ? 1 : this.wide();
    if (form >= 4) {
      const r = this.alu(kind, this.getReg(width, 0), this.fetchImm(width), width);
      if (kind !== ALU_CMP) this.setReg(width, 0, r);
      return undefined;
    }
    if (this.modrm()) return this.mmioOperand(op);
    if (form < 2) {
      const r = this.alu(kind, this.readRm(width), this.getReg(width, this.reg), width);
      if (kind !== ALU_CMP) this.writeRm(width, r);
    } else {
      const r = this.alu(kind, this.getReg(width, this.reg), this.readRm(width), width);
      if (kind !== ALU_CMP) this.setReg(width, this.reg, r);
    }
    return undefined;
  }

  /** FF: INC, DEC, CALL near/far, JMP near/far, PUSH (by the reg field). */
  private group5(op: number): GuestExit | undefined {
    if (this.modrm()) return this.mmioOperand(op);
    const reg = this.reg;
    const width = this.wide();
    switch (reg) {
      case 0: case 1:
        this.writeRm(width, this.incDec(this.readRm(width), width, reg === 1));
        return undefined;
      case 2: case 4: { // CALL, JMP near indirect
        if (this.operand32) return this.raise(op, 'a 32-bit near indirect branch');
        const target = this.readRm(2);
        if (reg === 2) this.push(this.ip, 2);
        this.ip = target;
        return undefined;
      }
      case 3: case 5: { // CALL, JMP far indirect (m16:16)
        if (this.mod === 3 || this.operand32) return this.raise(op, `FF /${reg} with a register or 32-bit operand`);
        const ip = this.read(this.ea, 2);
        const cs = this.read(this.ea + 2, 2);
        if (reg === 3) {
          this.push(this.sreg[CS] ?? 0, 2);
          this.push(this.ip, 2);
        }
        this.loadSegment(CS, cs);
        this.ip = ip;
        return undefined;
      }
      case 6:
        this.push(this.readRm(width), width);
        return undefined;
      default:
        return this.raise(op, 'FF /7 (#UD)');
    }
  }

  /** 0F xx. */
  private twoByte(): GuestExit | undefined {
    const op = this.fetch8();
    if (op >= 0x80 && op <= 0x8f) { // Jcc rel16
      if (this.operand32) return this.raise(0x0f00 | op, 'a 32-bit conditional jump');
      const rel = this.fetch16();
      this.jumpIf(this.condition(op & 15), rel);
      return undefined;
    }
    switch (op) {
      case 0x30: { // WRMSR: ECX's MSR ← EDX:EAX
        const exit = this.msrExit;
        const data = this.writeData.of(8);
        for (let i = 0; i < 4; i++) {
          data[i] = this.r8[i] ?? 0;
          data[4 + i] = this.r8[8 + i] ?? 0;
        }
        exit.isWrite = true;
        exit.index = this.regs[CX] ?? 0;
        exit.data = data;
        return exit;
      }
      case 0x31: { // RDTSC: the TSC at entry plus the cycles run, this one's included
        const tsc = this.entryTsc + this.runCycles;
        this.regs[0] = tsc % 0x1_0000_0000;
        this.regs[2] = Math.floor(tsc / 0x1_0000_0000);
        return undefined;
      }
      case 0x32: { // RDMSR: EDX:EAX ← ECX's MSR, when `complete` brings it
        const exit = this.msrExit;
        exit.isWrite = false;
        exit.index = this.regs[CX] ?? 0;
        exit.data = NO_DATA;
        this.awaiting = AWAIT_MSR;
        this.lastExit = exit;
        return exit;
      }
      default:
        return this.raise(0x0f00 | op, 'a two-byte opcode this interpreter does not implement');
    }
  }
}
