/**
 * An x86 interpreter of the 386 class: the GuestCpu that runs real firmware.
 * Real-address mode and 32-bit protected mode with segmentation (no paging,
 * no virtual-8086 mode, no task switches), the integer instruction set with
 * the 0x66/0x67 operand- and address-size prefixes, string instructions with
 * REP, exceptions and interrupts through the IVT or the IDT. Written from
 * the Intel SDM: vol. 1 §3.4.3 (EFLAGS); vol. 2 (each instruction, Tables
 * 2-1 and 2-2 for the 16- and 32-bit ModRM forms, 2-3 for the SIB byte,
 * Appendix A for the opcode maps); vol. 3A ch. 3 (segmentation), §5.5–5.8
 * (privilege checks), ch. 6 (interrupts and exceptions), ch. 9 (the reset
 * state, the mode switches) and ch. 20 (real-address mode).
 *
 * Addresses: a linear address is the physical address (no paging); with
 * the A20 gate off, bit 20 is forced to 0 as the PC's A20 gate does. The
 * physical space is the RAM given (from 0), the ROM given (mapped at the top
 * of the 4 GiB space, where the CPU's reset vector is), the read-only slots
 * the board maps (`mapReadOnly`: read as memory, written as MMIO, as KVM's
 * KVM_MEM_READONLY slots), the addresses the board's `mmio` says are a
 * device's (each access an 'mmio' exit), and open bus elsewhere (reads all
 * ones, writes dropped). `mmio` is asked once per 4 KiB page: a device
 * window is page-granular, and so is a slot.
 *
 * What exits: IN/OUT and INS/OUTS as 'io' (a REP string I/O as one exit of
 * ECX elements, up to 65,536 an exit), RDMSR/WRMSR as 'msr', HLT, and any access to MMIO. An MMIO
 * read stops the instruction before it changes anything and runs it again
 * once `complete` gives the value (the value is replayed to the access);
 * an MMIO write is posted: the instruction completes and its exit carries
 * the write. A fault is delivered to the guest as the CPU would (through
 * the IVT or IDT, a double fault when delivery faults); a triple fault, an
 * opcode this CPU does not decode (where a real CPU would not raise #UD), a
 * task switch, paging or virtual-8086 mode stop it with 'shutdown' and the
 * reason, the CPU state and the last instructions in `fault` — never an
 * exception of the host's.
 *
 * Cycles: each instruction costs what the CPI table says (cpi.ts); RDTSC
 * reads the TSC given at the run's entry plus the cycles run since.
 *
 * As every GuestCpu: a run's result, its exit record and an `out`'s or
 * write's data are this CPU's own, rewritten by its next `run`.
 */
import type { AccessSize, GuestAccessSize, GuestCpu, GuestExit, GuestRun, ReadOnlyRegion } from '@splitvisor/abi';
import { BUDGET, HLT, IRQ_WINDOW, NO_DATA, SHUTDOWN, WriteBuffers, ioExitRecord, mmioExitRecord, msrExitRecord, runRecord } from '@splitvisor/abi';
import {
  AluOut, asciiAdjust, bitScan, daa, das, div, doubleShift, idiv, imul, mul, shiftRotate, signed,
} from './alu.ts';
import type { Block, CompiledInstruction } from './block-cache.ts';
import { BlockCache } from './block-cache.ts';
import type { Cpi } from './cpi.ts';
import { DEFAULT_CPI } from './cpi.ts';
import { DecodedInstruction, Form, decode } from './decode.ts';
import {
  ATTR_DB, ATTR_P, ATTR_S, REAL_MODE_CODE_ATTRIBUTES, REAL_MODE_DATA_ATTRIBUTES, SYS_INT_GATE16, SYS_INT_GATE32, SYS_TRAP_GATE16, SYS_TRAP_GATE32,
  TYPE_ACCESSED, TYPE_CODE, TYPE_EC, TYPE_RW, attrDpl, descriptorAttributes, descriptorBase, descriptorLimit,
} from './descriptor.ts';
import { AF, CF, DF, IF, OF, PF, SF, TF, ZF, addFlags, logicFlags, subFlags, truncate } from './flags.ts';

export interface X86CpuOptions {
  /**
   * Where the first instruction is, in real mode: CS:IP (segment bases the
   * selector × 16). Without `cs`, the CPU starts in its reset state (SDM
   * vol. 3A §9.1.4): CS F000h with base FFFF0000h, IP FFF0h — the reset
   * vector at the top of `rom`.
   */
  readonly cs?: number;
  readonly ip?: number;
  readonly ss?: number;
  readonly sp?: number;
  readonly ds?: number;
  readonly es?: number;
  /** Whether a physical address is a device's (asked once per 4 KiB page): accesses there exit as 'mmio'. */
  readonly mmio?: (address: number) => boolean;
  /** The firmware ROM, mapped so that it ends at the top of the 4 GiB space (read-only). */
  readonly rom?: Uint8Array;
  /** The A20 gate at start (default enabled, as QEMU's PC starts). */
  readonly a20?: boolean;
  /** What instructions cost (default `DEFAULT_CPI`). */
  readonly cpi?: Cpi;
  /**
   * Whether instructions are decoded once and kept (block-cache.ts; default
   * true). Off, every instruction is decoded each time it runs: the same
   * guest, the same results, slower — for comparing the two.
   */
  readonly decodeCache?: boolean;
}

/** Why the CPU stopped with 'shutdown'. */
export interface X86Fault {
  /** CS:EIP of the instruction (its first prefix byte). */
  readonly cs: number;
  readonly eip: number;
  /** Its opcode after any prefixes; 0x0Fxx for a two-byte opcode. */
  readonly opcode: number;
  readonly reason: string;
  /** The registers, segments and control registers at the stop, one line. */
  readonly state: string;
  /** The linear addresses of the last instructions run, oldest first. */
  readonly lastInstructions: readonly number[];
}

/** General registers in the encoding's order (SDM vol. 2 Table 3-1). */
const AX = 0;
const CX = 1;
const DX = 2;
const BX = 3;
const SP = 4;
const BP = 5;
const SI = 6;
const DI = 7;
/** Segment registers in the encoding's order (the Sreg field). */
const ES = 0;
const CS = 1;
const SS = 2;
const DS = 3;
const FS = 4;
const GS = 5;
const SEGMENT_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];

/** Exception vectors (SDM vol. 3A Table 6-1). */
const DE = 0;
const BR = 5;
const UD = 6;
const NM = 7;
const DF_VECTOR = 8;
const TS = 10;
const NP = 11;
const SS_FAULT = 12;
const GP = 13;

/** CR0 bits. */
const CR0_PE = 0x1;
const CR0_EM = 0x4;
const CR0_TS = 0x8;
const CR0_ET = 0x10;
const CR0_NW = 0x2000_0000;
const CR0_CD = 0x4000_0000;
const CR0_PG = 0x8000_0000;

/** EFLAGS bits beyond FLAGS' status bits. */
const IOPL = 0x3000;
const NT = 0x4000;
const RF = 0x1_0000;
const VM = 0x2_0000;
const AC = 0x4_0000;
const ID = 0x20_0000;
/** The reserved bit 1, always set. */
const FIXED = 0x2;
/** What POPF/IRET may change at CPL 0 (VM and RF excepted: POPF leaves them). */
const EFLAGS_WRITABLE = CF | PF | AF | ZF | SF | TF | IF | DF | OF | IOPL | NT | AC | ID;
const ARITH = CF | PF | AF | ZF | SF | OF;

/** What a stopped read waits for `complete` to fill. */
const AWAIT_NONE = 0;
/** `pendingWidth` bytes of the register file from byte `pendingOffset` (IN). */
const AWAIT_REGISTER = 1;
/** EDX:EAX (RDMSR). */
const AWAIT_MSR = 2;
/** INS elements into ES:(E)DI onward. */
const AWAIT_STRING = 3;
/** An MMIO read: the instruction runs again and the value is replayed to it. */
const AWAIT_REPLAY = 4;

/** Kinds of a 4 KiB page of the physical space. */
const PAGE_UNKNOWN = 0;
const PAGE_RAM = 1;
const PAGE_MMIO = 2;
const PAGE_ROM = 3;
const PAGE_NONE = 4;
/** A read-only slot's page: reads from its bytes, writes exit as MMIO. */
const PAGE_SLOT = 5;

/** How an interrupt came: its delivery checks and error code differ (SDM vol. 3A §6.12.1.1). */
const FROM_EXTERNAL = 0;
const FROM_SOFTWARE = 1;
const FROM_EXCEPTION = 2;

/** How many instruction addresses a fault report keeps. */
const HISTORY = 16;
/** Elements of a REP INS/OUTS in one exit at most. */
const STRING_IO_ELEMENTS = 0x1_0000;
/** Instructions in one block at most. */
const MAX_BLOCK = 32;

/** Thrown inside an instruction to unwind it: a fault to deliver, or an MMIO read to wait for. */
class Unwind extends Error {}
const FAULT = new Unwind('x86 fault');
const STOP = new Unwind('x86 mmio read');

/** The byte of the register file that holds 8-bit register `r` (AL CL DL BL AH CH DH BH). */
function byteOffset8(r: number): number {
  return r < 4 ? r << 2 : ((r - 4) << 2) + 1;
}

function hex(value: number, digits: number): string {
  return value.toString(16).padStart(digits, '0');
}

export class X86Cpu implements GuestCpu {
  /** EAX ECX EDX EBX ESP EBP ESI EDI; the 16- and 8-bit views share its bytes (the host is little-endian, as x86 is). */
  readonly regs = new Uint32Array(8);
  private readonly r16 = new Uint16Array(this.regs.buffer);
  private readonly r8 = new Uint8Array(this.regs.buffer);
  /** The instruction pointer. */
  eip = 0;
  /** EFLAGS (bit 1 always set). */
  private flagsValue = FIXED;

  /** Segment registers ES CS SS DS FS GS: the visible selector and the hidden base, limit and attributes. */
  private readonly selectors = new Uint16Array(6);
  private readonly bases = new Uint32Array(6);
  private readonly limits = new Uint32Array(6);
  private readonly attributes = new Uint16Array(6);

  cr0 = CR0_ET;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  private gdtBase = 0;
  private gdtLimit = 0xffff;
  private idtBase = 0;
  private idtLimit = 0xffff;
  private ldtSelector = 0;
  private ldtBase = 0;
  private ldtLimit = 0xffff;
  private trSelector = 0;
  private trBase = 0;
  private trLimit = 0xffff;
  private trType = 0xb;
  private cpl = 0;
  /** CS.D: 32-bit code. */
  private code32 = false;
  private a20Mask: number;

  private readonly memory: Uint8Array;
  private readonly rom: Uint8Array | undefined;
  private readonly romBase: number;
  private readonly mmio: ((address: number) => boolean) | undefined;
  /** The kind of each 4 KiB page below the end of RAM, learnt on first use; the pages above it (ROM, MMIO, nothing) in `highPageKinds`. */
  private readonly pageKinds: Uint8Array;
  private readonly highPageKinds = new Map<number, number>();
  /** The read-only slots the board mapped (`mapReadOnly`), by slot number. */
  private readonly slots = new Map<number, ReadOnlyRegion>();
  /** Each page a slot covers, with its slot. */
  private readonly slotPages = new Map<number, ReadOnlyRegion>();
  private readonly cpi: Cpi;

  // The instruction being decoded.
  private startEip = 0;
  private startEsp = 0;
  private opcode = 0;
  private opSize = 2;
  private adSize = 2;
  private segOverride = -1;
  /** 0 none, 1 REP/REPE (F3), 2 REPNE (F2). */
  private repeat = 0;
  private lock = false;
  private mod = 0;
  private reg = 0;
  private rm = 0;
  /** The memory operand's segment and offset. */
  private eaSeg = DS;
  private eaOff = 0;

  private isHalted = false;
  /** The instruction after an STI that set IF (or a MOV/POP SS) has not run yet: interrupts wait. */
  private shadow = false;
  private windowOpened = false;
  private failure: X86Fault | undefined = undefined;
  /** The fault an instruction raised, until delivered. */
  private faultVector = 0;
  private faultCode = -1;

  private awaiting = AWAIT_NONE;
  private pendingOffset = 0;
  private pendingWidth = 0;
  private stringSeg = ES;
  private stringOffset = 0;
  private stringStep = 0;
  private stringCount = 0;
  private stringAddressMask = 0xffff;
  /** MMIO read values given by `complete`, replayed in order when the instruction runs again. */
  private readonly replay: number[] = [];
  private replayIndex = 0;
  /** An MMIO write this instruction posted. */
  private writePosted = false;

  private readonly ioExit = ioExitRecord();
  private readonly mmioExit = mmioExitRecord();
  private readonly msrExit = msrExitRecord();
  private readonly result = runRecord();
  private lastExit: GuestExit = BUDGET;
  private readonly writeData = new WriteBuffers();
  private readonly alu = new AluOut();
  private entryTsc = 0;
  private cycles = 0;
  private budget = 0;
  /**
   * Cycles an instruction ran past its run's budget (its cost is known only
   * once it has run): charged at the start of the next run, so a run never
   * reports more than its budget and guest time loses nothing.
   */
  private debt = 0;
  /** Instructions run to their end (a faulting one, or one an MMIO read stopped to run again, not counted). */
  private retired = 0;
  private readonly history = new Uint32Array(HISTORY);
  private historyAt = 0;
  /** Decoded instructions kept (undefined when `decodeCache` is off). */
  private readonly blocks: BlockCache | undefined;
  private readonly decoded = new DecodedInstruction();
  /** The physical bytes of the block running (none outside one): a write there stops it, so the next instruction is looked at afresh. */
  private blockStart = 0;
  private blockEnd = 0;
  private blockBreak = false;
  /** Moves on at each run: a block is compared with RAM once per epoch (and after this CPU writes to its page). */
  private codeEpoch = 0;
  /** An exception or external interrupt is being delivered (no instruction to run again for an MMIO read). */
  private delivering = false;

  constructor(memory: Uint8Array, options: X86CpuOptions = {}) {
    this.memory = memory;
    this.pageKinds = new Uint8Array(Math.ceil(memory.length / 4096));
    this.rom = options.rom;
    this.romBase = options.rom === undefined ? 0 : 0x1_0000_0000 - options.rom.length;
    this.mmio = options.mmio;
    this.cpi = options.cpi ?? DEFAULT_CPI;
    this.a20Mask = options.a20 === false ? 0xffef_ffff : 0xffff_ffff;
    this.blocks = options.decodeCache === false ? undefined : new BlockCache(memory.length);
    for (let s = 0; s < 6; s++) {
      this.limits[s] = 0xffff;
      this.attributes[s] = REAL_MODE_DATA_ATTRIBUTES;
    }
    this.attributes[CS] = REAL_MODE_CODE_ATTRIBUTES;
    if (options.cs === undefined) {
      this.selectors[CS] = 0xf000;
      this.bases[CS] = 0xffff_0000;
      this.eip = 0xfff0;
    } else {
      this.loadRealSegment(CS, options.cs);
      this.eip = (options.ip ?? 0) & 0xffff;
    }
    this.loadRealSegment(SS, options.ss ?? 0);
    this.loadRealSegment(DS, options.ds ?? 0);
    this.loadRealSegment(ES, options.es ?? 0);
    this.r16[SP << 1] = options.sp ?? 0;
  }

  get eax(): number { return this.regs[AX] ?? 0; }
  get ecx(): number { return this.regs[CX] ?? 0; }
  get edx(): number { return this.regs[DX] ?? 0; }
  get ebx(): number { return this.regs[BX] ?? 0; }
  get esp(): number { return this.regs[SP] ?? 0; }
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
  get ip(): number { return this.eip & 0xffff; }
  get es(): number { return this.selectors[ES] ?? 0; }
  get cs(): number { return this.selectors[CS] ?? 0; }
  get ss(): number { return this.selectors[SS] ?? 0; }
  get ds(): number { return this.selectors[DS] ?? 0; }
  get fs(): number { return this.selectors[FS] ?? 0; }
  get gs(): number { return this.selectors[GS] ?? 0; }

  /** EFLAGS. Setting it stores the bits an EFLAGS can hold (bit 1 set, reserved bits clear). */
  get eflags(): number {
    return this.flagsValue;
  }

  set eflags(value: number) {
    this.flagsValue = ((value & (EFLAGS_WRITABLE | RF | VM)) | FIXED) >>> 0;
  }

  /** FLAGS, the low 16 bits. */
  get flags(): number {
    return this.flagsValue & 0xffff;
  }

  /** The selector in segment register `s` (ES CS SS DS FS GS: 0–5). */
  selector(s: number): number {
    return this.selectors[s] ?? 0;
  }

  /** The hidden base of segment register `s`. */
  segmentBase(s: number): number {
    return this.bases[s] ?? 0;
  }

  /** Whether the A20 gate passes address line 20 (port 0x92 bit 1, the i8042's output port bit 1). */
  get a20(): boolean {
    return this.a20Mask === 0xffff_ffff;
  }

  set a20(enabled: boolean) {
    this.a20Mask = enabled ? 0xffff_ffff : 0xffef_ffff;
  }

  /** The board's A20 gate (GuestCpu): `a20`. */
  setA20(enabled: boolean): void {
    this.a20 = enabled;
  }

  /**
   * A read-only memory slot (GuestCpu): its pages read from `region.bytes`
   * (all ones past their end), written as MMIO exits. Pages are learnt
   * afresh after a change. A slot over RAM is the board's mistake: refused.
   */
  mapReadOnly(slot: number, region: ReadOnlyRegion | undefined): void {
    if (region !== undefined && (region.base % 4096 !== 0 || region.base < this.memory.length || region.base + region.bytes.length > 0x1_0000_0000)) {
      throw new RangeError(`a read-only slot of ${region.bytes.length} bytes at ${region.base.toString(16)}h: expected a page-aligned range above RAM, below 4 GiB`);
    }
    if (region === undefined) this.slots.delete(slot);
    else this.slots.set(slot, region);
    this.slotPages.clear();
    for (const mapped of this.slots.values()) {
      for (let page = mapped.base / 4096; page < Math.ceil((mapped.base + mapped.bytes.length) / 4096); page++) this.slotPages.set(page, mapped);
    }
    this.pageKinds.fill(PAGE_UNKNOWN);
    this.highPageKinds.clear();
  }

  /**
   * INIT (SDM vol. 3A §9.1.1, Table 9-1, the INIT column): the registers to
   * their reset values — CS F000h based at FFFF0000h, EIP FFF0h, the other
   * segments 0 with 64 KiB limits, EFLAGS 2, CR0 ET (CD and NW kept), CR2–4 0,
   * the GDTR, IDTR, LDTR and TR cleared — and out of a halt or a shutdown;
   * RAM, the A20 gate and the TSC as they were. What the PC's System Control
   * Port A (92h bit 0) and the keyboard controller's reset pulse drive.
   */
  init(): void {
    this.regs.fill(0);
    this.flagsValue = FIXED;
    for (let s = 0; s < 6; s++) {
      this.selectors[s] = 0;
      this.bases[s] = 0;
      this.limits[s] = 0xffff;
      this.attributes[s] = REAL_MODE_DATA_ATTRIBUTES;
    }
    this.attributes[CS] = REAL_MODE_CODE_ATTRIBUTES;
    this.selectors[CS] = 0xf000;
    this.bases[CS] = 0xffff_0000;
    this.eip = 0xfff0;
    this.cr0 = (this.cr0 & (CR0_CD | CR0_NW)) | CR0_ET;
    this.cr2 = 0;
    this.cr3 = 0;
    this.cr4 = 0;
    this.gdtBase = 0;
    this.gdtLimit = 0xffff;
    this.idtBase = 0;
    this.idtLimit = 0xffff;
    this.ldtSelector = 0;
    this.ldtBase = 0;
    this.ldtLimit = 0xffff;
    this.trSelector = 0;
    this.trBase = 0;
    this.trLimit = 0xffff;
    this.trType = 0xb;
    this.cpl = 0;
    this.code32 = false;
    this.isHalted = false;
    this.shadow = false;
    this.failure = undefined;
    this.awaiting = AWAIT_NONE;
    this.replay.length = 0;
    this.replayIndex = 0;
    this.writePosted = false;
  }

  get protectedMode(): boolean {
    return (this.cr0 & CR0_PE) !== 0;
  }

  /** Whether the CPU has shut down (read through a method: it changes inside calls the compiler cannot see into). */
  private get stopped(): boolean {
    return this.failure !== undefined;
  }

  private windowWasOpened(): boolean {
    return this.windowOpened;
  }

  private posted(): boolean {
    return this.writePosted;
  }

  /** The running block must stop: it posted an MMIO write, or wrote to its own bytes. */
  private blockBroken(): boolean {
    return this.blockBreak;
  }

  get fault(): X86Fault | undefined {
    return this.failure;
  }

  get interruptible(): boolean {
    // An MMIO read completed but not yet replayed is an instruction half done: no interrupt between.
    return (this.flagsValue & IF) !== 0 && !this.shadow && this.awaiting === AWAIT_NONE && this.replay.length === 0 && this.failure === undefined;
  }

  get halted(): boolean {
    return this.isHalted;
  }

  /** Instructions run so far: an instruction that faulted or waits for an MMIO read none, a REP string instruction one per run it spans. */
  get instructions(): number {
    return this.retired;
  }

  inject(vector: number): void {
    if (this.failure !== undefined) return;
    this.isHalted = false;
    this.startEip = this.eip;
    this.startEsp = this.regs[SP] ?? 0;
    this.delivering = true;
    try {
      this.deliver(vector & 0xff, FROM_EXTERNAL, -1);
    } catch (error) {
      if (error !== FAULT) throw error;
      this.delivering = false;
      this.eip = this.startEip;
      this.regs[SP] = this.startEsp;
      if (!this.stopped) this.exception(this.faultVector, this.faultCode);
    } finally {
      this.delivering = false;
    }
  }

  complete(data: Uint8Array): void {
    const r8 = this.r8;
    switch (this.awaiting) {
      case AWAIT_REGISTER:
        for (let i = 0; i < this.pendingWidth; i++) r8[this.pendingOffset + i] = data[i] ?? 0;
        break;
      case AWAIT_MSR:
        for (let i = 0; i < 4; i++) {
          r8[i] = data[i] ?? 0; // EAX
          r8[8 + i] = data[4 + i] ?? 0; // EDX
        }
        break;
      case AWAIT_STRING: {
        const width = this.pendingWidth;
        const base = this.bases[this.stringSeg] ?? 0;
        for (let i = 0; i < this.stringCount; i++) {
          const offset = (this.stringOffset + i * this.stringStep) & this.stringAddressMask;
          for (let b = 0; b < width; b++) this.writePhysByte((base + offset + b) >>> 0, data[i * width + b] ?? 0);
        }
        break;
      }
      case AWAIT_REPLAY: {
        let value = 0;
        for (let i = this.pendingWidth - 1; i >= 0; i--) value = (value * 256) + (data[i] ?? 0);
        this.replay.push(value);
        break;
      }
      default:
        return;
    }
    this.awaiting = AWAIT_NONE;
  }

  run(budget: number, exitOnInterruptWindow = false, tsc = 0): GuestRun {
    this.windowOpened = false;
    this.entryTsc = tsc;
    this.budget = budget;
    this.codeEpoch++;
    const owed = Math.min(this.debt, budget);
    this.debt -= owed;
    this.cycles = owed;
    if (this.failure !== undefined) return this.stop(SHUTDOWN);
    if (this.awaiting !== AWAIT_NONE) return this.stop(this.lastExit);
    if (this.isHalted) return this.stop(HLT);
    const base = this.cpi.base;
    for (;;) {
      if (this.cycles + base > budget) return this.stop(BUDGET);
      // A block runs when there is one and nothing needs the interpreter's care: an MMIO read to replay, or an
      // interrupt window that opened and must be seen after the very instruction that closes its shadow.
      const block = this.blocks !== undefined && this.replay.length === 0 && !(exitOnInterruptWindow && this.windowWasOpened()) ? this.blockAt() : undefined;
      const exit = block === undefined ? this.step() : this.runBlocks(block, budget);
      if (exit !== undefined) return this.stop(exit);
      if (this.cycles >= budget) return this.stop(BUDGET);
      if (exitOnInterruptWindow && this.windowWasOpened() && this.interruptible) return this.stop(IRQ_WINDOW);
    }
  }

  private stop(exit: GuestExit): GuestRun {
    if (this.cycles > this.budget) {
      this.debt += this.cycles - this.budget;
      this.cycles = this.budget;
    }
    const result = this.result;
    result.exit = exit;
    result.cycles = this.cycles;
    return result;
  }

  /** One instruction; its exit, if it has one. */
  private step(): GuestExit | undefined {
    this.shadow = false;
    this.writePosted = false;
    this.startEip = this.eip;
    this.startEsp = this.regs[SP] ?? 0;
    this.cycles += this.cpi.base;
    this.history[this.historyAt] = ((this.bases[CS] ?? 0) + this.eip) >>> 0;
    this.historyAt = (this.historyAt + 1) % HISTORY;
    try {
      const exit = this.execute();
      this.retired++;
      if (this.replay.length !== 0) this.replay.length = 0;
      this.replayIndex = 0;
      return this.posted() ? this.mmioExit : exit;
    } catch (error) {
      return this.unwound(error);
    }
  }

  /** An instruction that stopped part way (an MMIO read to wait for, a fault): undone, then the exit or the fault's delivery. */
  private unwound(error: unknown): GuestExit | undefined {
    if (error === STOP) {
      this.eip = this.startEip;
      this.regs[SP] = this.startEsp;
      this.replayIndex = 0;
      return this.lastExit;
    }
    if (error !== FAULT) throw error;
    this.replay.length = 0;
    this.replayIndex = 0;
    this.eip = this.startEip;
    this.regs[SP] = this.startEsp;
    if (this.failure !== undefined) return SHUTDOWN;
    this.exception(this.faultVector, this.faultCode);
    return this.stopped ? SHUTDOWN : undefined;
  }

  // --- The decoded-instruction cache (block-cache.ts) ---

  /** The block at CS:EIP, compiled now if there is none; undefined when the interpreter must run the instruction. */
  private blockAt(): Block | undefined {
    const cache = this.blocks;
    if (cache === undefined) return undefined;
    const eip = this.eip;
    const csBase = this.bases[CS] ?? 0;
    const physical = ((csBase + eip) & this.a20Mask) >>> 0;
    const block = cache.find(physical, csBase, eip, this.code32, this.memory, this.codeEpoch) ?? this.compileBlock(cache, physical, csBase, eip);
    if (block.instructions.length === 0 || block.lastEip > (this.limits[CS] ?? 0)) return undefined;
    return block;
  }

  /**
   * Runs blocks one after another, each looked up where the last left EIP,
   * until one exits, the budget ends, or the next instruction is the
   * interpreter's (run then by `step`). No block opens an interrupt window:
   * what the run loop checks between instructions cannot change here.
   */
  private runBlocks(first: Block, budget: number): GuestExit | undefined {
    const base = this.cpi.base;
    const cache = this.blocks;
    let block = first;
    for (;;) {
      const exit = this.runBlock(block, budget);
      if (exit !== undefined || this.cycles + base > budget) return exit;
      // Back to its own start (an inner loop's taken Jcc): the same block, unless this CPU wrote to its page since it
      // was checked (no compiled instruction changes CS, the mode or the A20 gate).
      if (this.eip === block.eip && (this.bases[CS] ?? 0) === block.csBase && cache?.writesTo(block.physical) === block.writes) continue;
      const next = this.blockAt();
      if (next === undefined) return this.step();
      block = next;
    }
  }

  /** Runs a block, watching for writes to its own bytes. */
  private runBlock(block: Block, budget: number): GuestExit | undefined {
    // No instruction a block holds sets the interrupt shadow or posts more than its exit's write: both are
    // cleared once, and the first write posted (or the first write to the block's own bytes) ends the block.
    this.shadow = false;
    this.writePosted = false;
    this.blockBreak = false;
    this.blockStart = block.physical;
    this.blockEnd = block.physical + block.bytes.length;
    let exit: GuestExit | undefined;
    try {
      exit = this.runInstructions(block, budget);
    } catch (error) {
      exit = this.unwound(error);
    }
    this.blockEnd = 0;
    return exit;
  }

  /**
   * A block's instructions while the budget lasts, each as `step` runs one:
   * its start and stack pointer kept to unwind to, its cycles, its place in
   * the history; a posted MMIO write is its exit, a write to the block's
   * bytes its end.
   */
  private runInstructions(block: Block, budget: number): GuestExit | undefined {
    const instructions = block.instructions;
    const eips = block.eips;
    const base = this.cpi.base;
    const csBase = block.csBase;
    const history = this.history;
    const regs = this.regs;
    for (let i = 0; i < instructions.length; i++) {
      if (i > 0 && this.cycles + base > budget) return undefined;
      const eip = eips[i] ?? 0;
      const instruction = instructions[i];
      if (instruction === undefined) return undefined;
      this.startEip = eip;
      this.startEsp = regs[SP] ?? 0;
      this.cycles += base;
      history[this.historyAt] = (csBase + eip) >>> 0;
      this.historyAt = (this.historyAt + 1) & (HISTORY - 1);
      instruction();
      this.retired++;
      if (this.blockBroken()) return this.posted() ? this.mmioExit : undefined;
      if (this.eip !== (eips[i + 1] ?? this.eip)) return undefined; // a Jcc taken: the block's rest is its fall-through
      if (this.cycles >= budget) return undefined;
    }
    return undefined;
  }

  /** Decodes a block from `physical` (RAM only: ROM and MMIO pages get an empty block, run by the interpreter). */
  private compileBlock(cache: BlockCache, physical: number, csBase: number, eip: number): Block {
    const instructions: CompiledInstruction[] = [];
    const eips: number[] = [];
    let length = 0;
    if (this.pageKind(physical >>> 12) === PAGE_RAM) {
      const memory = this.memory;
      const pageEnd = ((physical >>> 12) + 1) * 4096;
      const limit = this.limits[CS] ?? 0;
      const eipEnd = this.code32 ? 0x1_0000_0000 : 0x1_0000;
      const d = this.decoded;
      for (;;) {
        const start = physical + length;
        const startEip = eip + length;
        const at = (offset: number): number => {
          const a = start + offset;
          const e = startEip + offset;
          return a < pageEnd && e <= limit && e < eipEnd ? memory[a] ?? -1 : -1;
        };
        if (!decode(at, this.code32, d)) break;
        length += d.length;
        eips.push(startEip);
        instructions.push(this.compile(d, startEip + d.length));
        if (endsBlock(d.form) || instructions.length >= MAX_BLOCK) break;
      }
    }
    const block: Block = {
      physical,
      csBase,
      eip,
      code32: this.code32,
      bytes: this.memory.slice(physical, physical + length),
      checked: this.codeEpoch,
      writes: cache.writesTo(physical),
      instructions,
      eips,
      lastEip: eip + length - 1,
    };
    cache.insert(block);
    return block;
  }

  /**
   * One decoded instruction as a function that runs it as the interpreter
   * would from the same bytes (the handlers' own steps, in their order),
   * with EIP set past it (`next`) first.
   */
  private compile(d: DecodedInstruction, nextEip: number): CompiledInstruction {
    const next = this.code32 ? nextEip >>> 0 : nextEip & 0xffff;
    const op = d.opcode;
    const width = d.width;
    const opSize = d.opSize;
    const reg = d.reg;
    const rm = d.rm;
    const memory = d.mod !== 3;
    const immediate = d.immediate;
    const ea = memory ? this.compileAddress(d) : noAddress;
    switch (d.form) {
      case Form.Alu: {
        const kind = op >> 3;
        const form = op & 7;
        if (form >= 4) {
          return () => {
            this.opcode = op;
            this.eip = next;
            const r = this.aluOp(kind, this.getReg(width, AX), immediate >>> 0, width);
            if (kind !== 7) this.setReg(width, AX, r);
          };
        }
        if (!memory) {
          const fast = form < 2 ? this.compileRegisterAlu(op, kind, width, rm, reg, next) : this.compileRegisterAlu(op, kind, width, reg, rm, next);
          if (fast !== undefined) return fast;
        }
        if (form < 2) {
          return () => {
            this.opcode = op;
            this.eip = next;
            ea();
            const r = this.aluOp(kind, this.operand(memory, width, rm), this.getReg(width, reg), width);
            if (kind !== 7) this.setOperand(memory, width, rm, r);
          };
        }
        return () => {
          this.opcode = op;
          this.eip = next;
          ea();
          const r = this.aluOp(kind, this.getReg(width, reg), this.operand(memory, width, rm), width);
          if (kind !== 7) this.setReg(width, reg, r);
        };
      }
      case Form.IncDec: {
        const v = width === 4 ? this.regs : this.r16;
        const r = width === 4 ? op & 7 : (op & 7) << 1;
        const decrement = op >= 0x48;
        return () => {
          this.opcode = op;
          this.eip = next;
          v[r] = this.incDec(v[r] ?? 0, width, decrement);
        };
      }
      case Form.PushPop: {
        const r = op & 7;
        if (op < 0x58) {
          return () => {
            this.opcode = op;
            this.eip = next;
            this.push(this.getReg(width, r), width);
          };
        }
        return () => {
          this.opcode = op;
          this.eip = next;
          const value = this.pop(width);
          this.setReg(width, r, value);
        };
      }
      case Form.Jcc: {
        const cc = op & 15;
        const target = next + immediate;
        return () => {
          this.opcode = op;
          this.eip = next;
          this.opSize = opSize;
          if (this.condition(cc)) this.jumpNear(target);
        };
      }
      case Form.AluImm: {
        const b = truncate(immediate, width);
        return () => {
          this.opcode = op;
          this.eip = next;
          ea();
          const r = this.aluOp(reg, this.operand(memory, width, rm), b, width);
          if (reg !== 7) this.setOperand(memory, width, rm, r);
        };
      }
      case Form.Test:
        return () => {
          this.opcode = op;
          this.eip = next;
          ea();
          this.aluOp(4, this.operand(memory, width, rm), this.getReg(width, reg), width);
        };
      case Form.Mov:
        if (op < 0x8a) {
          return () => {
            this.opcode = op;
            this.eip = next;
            ea();
            this.setOperand(memory, width, rm, this.getReg(width, reg));
          };
        }
        return () => {
          this.opcode = op;
          this.eip = next;
          ea();
          this.setReg(width, reg, this.operand(memory, width, rm));
        };
      case Form.Lea:
        return () => {
          this.opcode = op;
          this.eip = next;
          ea();
          this.setReg(opSize, reg, truncate(this.eaOff, opSize));
        };
      case Form.TestAcc:
        return () => {
          this.opcode = op;
          this.eip = next;
          this.aluOp(4, this.getReg(width, AX), immediate >>> 0, width);
        };
      case Form.MovImm: {
        const r = op & 7;
        const value = immediate >>> 0;
        return () => {
          this.opcode = op;
          this.eip = next;
          this.setReg(width, r, value);
        };
      }
      case Form.Ret:
        return () => {
          this.opcode = op;
          this.eip = next;
          this.opSize = opSize;
          const target = this.peek(0, opSize);
          this.jumpNear(target);
          this.addStack(opSize);
        };
      case Form.MovRmImm: {
        const value = immediate >>> 0;
        return () => {
          this.opcode = op;
          this.eip = next;
          ea();
          this.setOperand(memory, width, rm, value);
        };
      }
      case Form.Call: {
        const target = (next + immediate) >>> 0;
        const t = opSize === 2 ? target & 0xffff : target;
        return () => {
          this.opcode = op;
          this.eip = next;
          if (t > (this.limits[CS] ?? 0)) this.gp(0);
          this.push(next, opSize);
          this.eip = t;
        };
      }
      case Form.Jmp: {
        const target = next + immediate;
        return () => {
          this.opcode = op;
          this.eip = next;
          this.opSize = opSize;
          this.jumpNear(target);
        };
      }
      default: { // MovExtend
        const zero = op < 0x0fb8;
        return () => {
          this.opcode = op;
          this.eip = next;
          ea();
          const value = this.operand(memory, width, rm);
          this.setReg(opSize, reg, zero ? value : truncate(signed(value, width), opSize));
        };
      }
    }
  }

  /**
   * ADD OR AND SUB XOR CMP of two registers of one width (`dst` op= `src`),
   * the register file's view of that width read directly: the commonest
   * instructions, without `aluOp`'s dispatch. ADC and SBB are left to it.
   */
  private compileRegisterAlu(op: number, kind: number, width: number, dst: number, src: number, next: number): CompiledInstruction | undefined {
    const v = width === 4 ? this.regs : width === 2 ? this.r16 : this.r8;
    const d = width === 4 ? dst : width === 2 ? dst << 1 : byteOffset8(dst);
    const s = width === 4 ? src : width === 2 ? src << 1 : byteOffset8(src);
    switch (kind) {
      case 0: return () => {
        this.opcode = op;
        this.eip = next;
        const a = v[d] ?? 0;
        const b = v[s] ?? 0;
        const r = truncate(a + b, width);
        this.setArith(addFlags(a, b, 0, r, width));
        v[d] = r;
      };
      case 1: return () => {
        this.opcode = op;
        this.eip = next;
        const r = (v[d] ?? 0) | (v[s] ?? 0);
        this.setArith(logicFlags(truncate(r, width), width));
        v[d] = r;
      };
      case 4: return () => {
        this.opcode = op;
        this.eip = next;
        const r = (v[d] ?? 0) & (v[s] ?? 0);
        this.setArith(logicFlags(truncate(r, width), width));
        v[d] = r;
      };
      case 5: case 7: {
        const store = kind === 5;
        return () => {
          this.opcode = op;
          this.eip = next;
          const a = v[d] ?? 0;
          const b = v[s] ?? 0;
          const r = truncate(a - b, width);
          this.setArith(subFlags(a, b, 0, r, width));
          if (store) v[d] = r;
        };
      }
      case 6: return () => {
        this.opcode = op;
        this.eip = next;
        const r = (v[d] ?? 0) ^ (v[s] ?? 0);
        this.setArith(logicFlags(truncate(r, width), width));
        v[d] = r;
      };
      default: return undefined;
    }
  }

  /** The r/m operand as `readRm` reads it: a register, or memory at the computed address (costing a memory access). */
  private operand(memory: boolean, width: number, rm: number): number {
    if (!memory) return this.getReg(width, rm);
    this.cycles += this.cpi.memory;
    return this.readMem(this.eaSeg, this.eaOff, width);
  }

  /** The r/m operand written as `writeRm` writes it. */
  private setOperand(memory: boolean, width: number, rm: number, value: number): void {
    if (memory) this.writeMem(this.eaSeg, this.eaOff, value, width);
    else this.setReg(width, rm, value);
  }

  /** The memory operand's address computation (`modrm16`, `modrm32`) from its decoded parts: sets `eaSeg` and `eaOff`. */
  private compileAddress(d: DecodedInstruction): () => void {
    const segment = d.segment;
    const base = d.base;
    const index = d.index;
    const scale = d.scale;
    const displacement = d.displacement;
    if (d.adSize === 2) {
      const r = this.r16;
      const b = base << 1;
      const x = index << 1;
      if (base < 0) return () => { this.eaSeg = segment; this.eaOff = displacement & 0xffff; };
      if (index < 0) return () => { this.eaSeg = segment; this.eaOff = ((r[b] ?? 0) + displacement) & 0xffff; };
      return () => { this.eaSeg = segment; this.eaOff = ((r[b] ?? 0) + (r[x] ?? 0) + displacement) & 0xffff; };
    }
    const regs = this.regs;
    if (index < 0) {
      if (base < 0) return () => { this.eaSeg = segment; this.eaOff = displacement >>> 0; };
      return () => { this.eaSeg = segment; this.eaOff = ((regs[base] ?? 0) + displacement) >>> 0; };
    }
    if (base < 0) return () => { this.eaSeg = segment; this.eaOff = (((regs[index] ?? 0) << scale) + displacement) >>> 0; };
    return () => { this.eaSeg = segment; this.eaOff = ((regs[base] ?? 0) + ((regs[index] ?? 0) << scale) + displacement) >>> 0; };
  }

  // --- Faults and shutdown ---

  /** Raises exception `vector` (with an error code unless -1): unwinds the instruction. */
  private raise(vector: number, code = -1): never {
    this.faultVector = vector;
    this.faultCode = code;
    throw FAULT;
  }

  private gp(code = 0): never {
    return this.raise(GP, code);
  }

  private ud(): never {
    return this.raise(UD);
  }

  /** Stops the CPU for good: what it met cannot be run here. */
  private shutdown(reason: string): never {
    const lastInstructions: number[] = [];
    for (let i = 0; i < HISTORY; i++) {
      const at = this.history[(this.historyAt + i) % HISTORY] ?? 0;
      if (at !== 0 || lastInstructions.length > 0) lastInstructions.push(at);
    }
    this.failure = {
      cs: this.selectors[CS] ?? 0,
      eip: this.startEip,
      opcode: this.opcode,
      reason,
      state: this.describeState(),
      lastInstructions,
    };
    this.faultVector = -1;
    throw FAULT;
  }

  private unsupported(what: string): never {
    return this.shutdown(`${what} (not modelled by this CPU)`);
  }

  /** The CPU's state on one line, for a fault report. */
  describeState(): string {
    const regs = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'].map((name, i) => `${name}=${hex(this.regs[i] ?? 0, 8)}`);
    const segs = SEGMENT_NAMES.map((name, s) => `${name}=${hex(this.selectors[s] ?? 0, 4)}(${hex(this.bases[s] ?? 0, 8)})`);
    return [...regs, `eip=${hex(this.eip, 8)}`, `eflags=${hex(this.flagsValue, 8)}`, ...segs, `cr0=${hex(this.cr0, 8)}`, `cpl=${this.cpl}`].join(' ');
  }

  /** Delivers a fault the instruction raised; a fault while delivering one is a double fault, and one while delivering that a triple fault. */
  private exception(vector: number, code: number): void {
    this.delivering = true;
    try {
      this.deliverException(vector, code);
    } finally {
      this.delivering = false;
    }
  }

  private deliverException(vector: number, code: number): void {
    try {
      this.deliver(vector, FROM_EXCEPTION, code);
      return;
    } catch (error) {
      if (error !== FAULT) throw error;
      if (this.failure !== undefined) return;
    }
    const second = this.faultVector;
    if (vector === DF_VECTOR) {
      this.tripleFault(`a fault (vector ${second}) while delivering a double fault`);
      return;
    }
    try {
      this.deliver(DF_VECTOR, FROM_EXCEPTION, 0);
    } catch (error) {
      if (error !== FAULT) throw error;
      if (!this.stopped) this.tripleFault(`a fault (vector ${this.faultVector}) while delivering #DF (first vector ${vector}, then ${second})`);
    }
  }

  private tripleFault(reason: string): void {
    try {
      this.shutdown(`triple fault: ${reason}`);
    } catch (error) {
      if (error !== FAULT) throw error;
    }
  }

  // --- The physical space ---

  private pageKind(page: number): number {
    const kind = page < this.pageKinds.length ? this.pageKinds[page] ?? PAGE_UNKNOWN : this.highPageKinds.get(page) ?? PAGE_UNKNOWN;
    if (kind !== PAGE_UNKNOWN) return kind;
    const address = page * 4096;
    let k: number;
    if (this.slotPages.has(page)) k = PAGE_SLOT;
    else if (this.mmio?.(address) === true) k = PAGE_MMIO;
    else if (address + 4096 <= this.memory.length) k = PAGE_RAM;
    else if (this.rom !== undefined && address >= this.romBase) k = PAGE_ROM;
    else if (address < this.memory.length) k = PAGE_RAM; // a partial last page: bytes past the end read as open bus
    else k = PAGE_NONE;
    if (page < this.pageKinds.length) this.pageKinds[page] = k;
    else this.highPageKinds.set(page, k);
    return k;
  }

  private readPhysByte(address: number): number {
    const a = (address & this.a20Mask) >>> 0;
    const kind = this.pageKind(a >>> 12);
    if (kind === PAGE_RAM) return this.memory[a] ?? 0xff;
    if (kind === PAGE_ROM) return this.rom?.[a - this.romBase] ?? 0xff;
    if (kind === PAGE_MMIO) return this.mmioRead(a, 1);
    if (kind === PAGE_SLOT) return this.slotByte(a);
    return 0xff;
  }

  /** The byte of a read-only slot at physical `a` (all ones past its bytes, in its last page). */
  private slotByte(a: number): number {
    const slot = this.slotPages.get(a >>> 12);
    return slot === undefined ? 0xff : slot.bytes[a - slot.base] ?? 0xff;
  }

  private writePhysByte(address: number, value: number): void {
    const a = (address & this.a20Mask) >>> 0;
    const kind = this.pageKind(a >>> 12);
    if (kind === PAGE_RAM) {
      this.memory[a] = value;
      if (this.blocks?.holdsCode(a) === true) this.wroteCode(a, 1);
    }
    else if (kind === PAGE_MMIO || kind === PAGE_SLOT) this.mmioWrite(a, value & 0xff, 1);
  }

  /** Whether a write to the linear address is an MMIO exit (a device's page, or a read-only slot's). */
  private exitsOnWrite(linear: number): boolean {
    const kind = this.pageKind(((linear & this.a20Mask) >>> 0) >>> 12);
    return kind === PAGE_MMIO || kind === PAGE_SLOT;
  }

  /** `width` bytes at a linear address; an MMIO page takes the access whole. */
  private readLinear(linear: number, width: number): number {
    const a = (linear & this.a20Mask) >>> 0;
    if (width === 1) return this.readPhysByte(a);
    const kind = this.pageKind(a >>> 12);
    if ((a & 0xfff) <= 4096 - width) {
      if (kind === PAGE_RAM) {
        const m = this.memory;
        if (a + width <= m.length) {
          if (width === 2) return (m[a] ?? 0) | ((m[a + 1] ?? 0) << 8);
          return ((m[a] ?? 0) | ((m[a + 1] ?? 0) << 8) | ((m[a + 2] ?? 0) << 16) | ((m[a + 3] ?? 0) << 24)) >>> 0;
        }
      } else if (kind === PAGE_MMIO) {
        return this.mmioRead(a, width);
      } else if (kind === PAGE_SLOT) {
        const slot = this.slotPages.get(a >>> 12);
        const o = a - (slot?.base ?? 0);
        const b = slot?.bytes;
        if (b !== undefined && o + width <= b.length) {
          if (width === 2) return (b[o] ?? 0) | ((b[o + 1] ?? 0) << 8);
          return ((b[o] ?? 0) | ((b[o + 1] ?? 0) << 8) | ((b[o + 2] ?? 0) << 16) | ((b[o + 3] ?? 0) << 24)) >>> 0;
        }
      }
    }
    let value = 0;
    for (let i = width - 1; i >= 0; i--) value = value * 256 + this.readPhysByte(a + i);
    return value;
  }

  private writeLinear(linear: number, value: number, width: number): void {
    const a = (linear & this.a20Mask) >>> 0;
    const kind = this.pageKind(a >>> 12);
    if ((a & 0xfff) <= 4096 - width) {
      if (kind === PAGE_RAM && a + width <= this.memory.length) {
        const m = this.memory;
        if (this.blocks?.holdsCode(a) === true) this.wroteCode(a, width);
        m[a] = value;
        if (width === 1) return;
        m[a + 1] = value >>> 8;
        if (width === 2) return;
        m[a + 2] = value >>> 16;
        m[a + 3] = value >>> 24;
        return;
      }
      if (kind === PAGE_MMIO || kind === PAGE_SLOT) {
        this.mmioWrite(a, value, width);
        return;
      }
    }
    for (let i = 0; i < width; i++) this.writePhysByte(a + i, value >>> (i << 3));
  }

  /** A write to a page holding code: its blocks are compared again before they run, and the running one stops if it was written. */
  private wroteCode(address: number, width: number): void {
    this.blocks?.wrote(address); // `width` bytes within one page: a write across pages comes here byte by byte
    if (address < this.blockEnd && address + width > this.blockStart) this.blockBreak = true;
  }

  /** An MMIO read: the value `complete` gave on an earlier run of this instruction, or an exit that waits for it. */
  private mmioRead(address: number, width: number): number {
    if (this.replayIndex < this.replay.length) return this.replay[this.replayIndex++] ?? 0;
    // An exception or an external interrupt is delivered outside any instruction: there is none to run again.
    if (this.delivering) this.unsupported('an MMIO read while delivering an exception or interrupt (its IVT, IDT, GDT or stack in MMIO)');
    const exit = this.mmioExit;
    exit.isWrite = false;
    exit.address = address;
    exit.length = width as GuestAccessSize;
    exit.data = NO_DATA;
    this.awaiting = AWAIT_REPLAY;
    this.pendingWidth = width;
    this.lastExit = exit;
    throw STOP;
  }

  /** An MMIO write, posted: the instruction's exit carries it. A second one in the same instruction cannot be carried. */
  private mmioWrite(address: number, value: number, width: number): void {
    if (this.writePosted) this.unsupported('two MMIO writes in one instruction');
    const exit = this.mmioExit;
    const data = this.writeData.of(width);
    for (let i = 0; i < width; i++) data[i] = value >>> (i << 3);
    exit.isWrite = true;
    exit.address = address;
    exit.length = width as GuestAccessSize;
    exit.data = data;
    this.writePosted = true;
    this.blockBreak = true; // the block, if one is running, ends with this instruction's exit
  }

  // --- Segments ---

  private loadRealSegment(s: number, selector: number): void {
    this.selectors[s] = selector & 0xffff;
    this.bases[s] = (selector & 0xffff) << 4;
  }

  /** The linear address of `width` bytes at `offset` in segment `s`, checked against its limit and type. */
  private linear(s: number, offset: number, width: number, write: boolean): number {
    const attributes = this.attributes[s] ?? 0;
    if ((this.cr0 & CR0_PE) !== 0) {
      if ((attributes & ATTR_P) === 0) this.raise(s === SS ? SS_FAULT : GP, 0);
      const type = attributes & 0xf;
      if (write ? (type & (TYPE_CODE | TYPE_RW)) !== TYPE_RW : (type & (TYPE_CODE | TYPE_RW)) === TYPE_CODE) this.raise(s === SS ? SS_FAULT : GP, 0);
      if ((type & (TYPE_CODE | TYPE_EC)) === TYPE_EC) {
        const upper = (attributes & ATTR_DB) !== 0 ? 0xffff_ffff : 0xffff;
        if (offset <= (this.limits[s] ?? 0) || offset + width - 1 > upper) this.raise(s === SS ? SS_FAULT : GP, 0);
        return ((this.bases[s] ?? 0) + offset) >>> 0;
      }
    }
    if (offset + width - 1 > (this.limits[s] ?? 0)) this.raise(s === SS ? SS_FAULT : GP, 0);
    return ((this.bases[s] ?? 0) + offset) >>> 0;
  }

  private readMem(s: number, offset: number, width: number): number {
    return this.readLinear(this.linear(s, offset, width, false), width);
  }

  private writeMem(s: number, offset: number, value: number, width: number): void {
    this.writeLinear(this.linear(s, offset, width, true), value, width);
  }

  /** The 8 bytes of the descriptor `selector` names in the GDT or LDT, as [low, high]; #GP(selector) outside the table. */
  private readDescriptor(selector: number, out: Uint32Array): number {
    const index = selector & 0xfff8;
    let base: number;
    let limit: number;
    if ((selector & 4) !== 0) {
      base = this.ldtBase;
      limit = this.ldtLimit;
    } else {
      base = this.gdtBase;
      limit = this.gdtLimit;
    }
    if (index + 7 > limit) this.gp(selector & 0xfffc);
    const address = (base + index) >>> 0;
    out[0] = this.readLinear(address, 4);
    out[1] = this.readLinear(address + 4, 4);
    return address;
  }

  private readonly descriptor = new Uint32Array(2);

  /** Sets a code/data descriptor's accessed bit in its table. */
  private markAccessed(address: number, high: number): void {
    if ((high & (TYPE_ACCESSED << 8)) === 0) this.writeLinear(address + 5, ((high >>> 8) | TYPE_ACCESSED) & 0xff, 1);
  }

  private loadCache(s: number, selector: number, low: number, high: number): void {
    this.selectors[s] = selector;
    this.bases[s] = descriptorBase(low, high);
    this.limits[s] = descriptorLimit(low, high);
    this.attributes[s] = descriptorAttributes(high | (TYPE_ACCESSED << 8));
    if (s === CS) this.code32 = (high & 0x40_0000) !== 0;
  }

  /** MOV/POP to a data segment register or SS, LDS & co (SDM vol. 3A §5.8, "MOV" and "POP" Operation). */
  private loadSegment(s: number, selector: number): void {
    selector &= 0xffff;
    if ((this.cr0 & CR0_PE) === 0 || (this.flagsValue & VM) !== 0) {
      this.loadRealSegment(s, selector);
      return;
    }
    if ((selector & 0xfffc) === 0) {
      if (s === SS) this.gp(0);
      this.selectors[s] = selector;
      this.attributes[s] = 0; // the null selector: any access through it is #GP(0)
      return;
    }
    const d = this.descriptor;
    const address = this.readDescriptor(selector, d);
    const low = d[0] ?? 0;
    const high = d[1] ?? 0;
    const attributes = descriptorAttributes(high);
    const type = attributes & 0xf;
    const dpl = attrDpl(attributes);
    const rpl = selector & 3;
    if ((attributes & ATTR_S) === 0) this.gp(selector & 0xfffc);
    if (s === SS) {
      if (rpl !== this.cpl || dpl !== this.cpl || (type & (TYPE_CODE | TYPE_RW)) !== TYPE_RW) this.gp(selector & 0xfffc);
      if ((attributes & ATTR_P) === 0) this.raise(SS_FAULT, selector & 0xfffc);
    } else {
      if ((type & (TYPE_CODE | TYPE_RW)) === TYPE_CODE) this.gp(selector & 0xfffc); // execute-only code
      const conformingCode = (type & (TYPE_CODE | TYPE_EC)) === (TYPE_CODE | TYPE_EC);
      if (!conformingCode && (rpl > dpl || this.cpl > dpl)) this.gp(selector & 0xfffc);
      if ((attributes & ATTR_P) === 0) this.raise(NP, selector & 0xfffc);
    }
    this.markAccessed(address, high);
    this.loadCache(s, selector, low, high);
    this.cycles += this.cpi.farTransfer;
  }

  /** Loads CS for a far JMP, CALL, RET or IRET to a code segment (no gates, no task switches). `rplLevel` is the CPL after the transfer. */
  private loadCodeSegment(selector: number, returning: boolean): void {
    if ((this.cr0 & CR0_PE) === 0 || (this.flagsValue & VM) !== 0) {
      this.loadRealSegment(CS, selector);
      return;
    }
    if ((selector & 0xfffc) === 0) this.gp(0);
    const d = this.descriptor;
    const address = this.readDescriptor(selector, d);
    const low = d[0] ?? 0;
    const high = d[1] ?? 0;
    const attributes = descriptorAttributes(high);
    if ((attributes & ATTR_S) === 0) this.unsupported(`a far transfer through system descriptor type ${attributes & 0xf} (call gate, TSS or task gate)`);
    const type = attributes & 0xf;
    if ((type & TYPE_CODE) === 0) this.gp(selector & 0xfffc);
    const dpl = attrDpl(attributes);
    const rpl = selector & 3;
    if (returning) {
      if (rpl < this.cpl) this.gp(selector & 0xfffc);
      if ((type & TYPE_EC) !== 0 ? dpl > rpl : dpl !== rpl) this.gp(selector & 0xfffc);
    } else if ((type & TYPE_EC) !== 0 ? dpl > this.cpl : rpl > this.cpl || dpl !== this.cpl) {
      this.gp(selector & 0xfffc);
    }
    if ((attributes & ATTR_P) === 0) this.raise(NP, selector & 0xfffc);
    this.markAccessed(address, high);
    const cpl = returning ? rpl : this.cpl;
    this.loadCache(CS, (selector & 0xfffc) | cpl, low, high);
    this.cpl = cpl;
    this.cycles += this.cpi.farTransfer;
  }

  /** After a return to an outer level: a data segment register the new CPL may not use is nulled (SDM "RET" Operation). */
  private nullInaccessibleSegments(): void {
    for (const s of [ES, DS, FS, GS]) {
      const attributes = this.attributes[s] ?? 0;
      const type = attributes & 0xf;
      const conformingCode = (type & (TYPE_CODE | TYPE_EC)) === (TYPE_CODE | TYPE_EC);
      if (!conformingCode && attrDpl(attributes) < this.cpl) {
        this.selectors[s] = 0;
        this.attributes[s] = 0;
      }
    }
  }

  // --- Registers, fetch, stack ---

  private getReg(width: number, r: number): number {
    if (width === 1) return this.r8[byteOffset8(r)] ?? 0;
    return width === 2 ? (this.r16[r << 1] ?? 0) : (this.regs[r] ?? 0);
  }

  private setReg(width: number, r: number, value: number): void {
    if (width === 1) this.r8[byteOffset8(r)] = value;
    else if (width === 2) this.r16[r << 1] = value;
    else this.regs[r] = value;
  }

  private fetch8(): number {
    const eip = this.eip;
    if (eip > (this.limits[CS] ?? 0)) this.gp(0);
    const a = (((this.bases[CS] ?? 0) + eip) & this.a20Mask) >>> 0;
    this.eip = this.code32 ? (eip + 1) >>> 0 : (eip + 1) & 0xffff;
    if (this.pageKind(a >>> 12) === PAGE_RAM) return this.memory[a] ?? 0xff;
    return this.readPhysByte(a);
  }

  private fetch16(): number {
    return this.fetch8() | (this.fetch8() << 8);
  }

  private fetch32(): number {
    return (this.fetch16() | (this.fetch16() << 16)) >>> 0;
  }

  private fetchImm(width: number): number {
    return width === 1 ? this.fetch8() : width === 2 ? this.fetch16() : this.fetch32();
  }

  /** An immediate of `width` bytes sign-extended to `to` bytes. */
  private fetchSigned(width: number, to: number): number {
    const v = this.fetchImm(width);
    return truncate(signed(v, width), to);
  }

  private get stack32(): boolean {
    return ((this.attributes[SS] ?? 0) & ATTR_DB) !== 0;
  }

  private push(value: number, width: number): void {
    if (this.stack32) {
      const esp = ((this.regs[SP] ?? 0) - width) >>> 0;
      this.writeMem(SS, esp, value, width);
      this.regs[SP] = esp;
    } else {
      const sp = ((this.r16[SP << 1] ?? 0) - width) & 0xffff;
      this.writeMem(SS, sp, value, width);
      this.r16[SP << 1] = sp;
    }
  }

  private pop(width: number): number {
    if (this.stack32) {
      const esp = this.regs[SP] ?? 0;
      const v = this.readMem(SS, esp, width);
      this.regs[SP] = esp + width;
      return v;
    }
    const sp = this.r16[SP << 1] ?? 0;
    const v = this.readMem(SS, sp, width);
    this.r16[SP << 1] = sp + width;
    return v;
  }

  /** The stack value `offset` bytes above the top, without popping it. */
  private peek(offset: number, width: number): number {
    if (this.stack32) return this.readMem(SS, ((this.regs[SP] ?? 0) + offset) >>> 0, width);
    return this.readMem(SS, ((this.r16[SP << 1] ?? 0) + offset) & 0xffff, width);
  }

  private addStack(delta: number): void {
    if (this.stack32) this.regs[SP] = (this.regs[SP] ?? 0) + delta;
    else this.r16[SP << 1] = (this.r16[SP << 1] ?? 0) + delta;
  }

  // --- ModRM ---

  /**
   * Decodes a ModRM byte (and SIB and displacement): `mod`, `reg`, `rm`,
   * and for a memory operand its segment and offset (SDM vol. 2 Tables
   * 2-1, 2-2, 2-3).
   */
  private modrm(): void {
    const b = this.fetch8();
    const mod = b >> 6;
    const rm = b & 7;
    this.mod = mod;
    this.reg = (b >> 3) & 7;
    this.rm = rm;
    if (mod === 3) return;
    if (this.adSize === 2) this.modrm16(mod, rm);
    else this.modrm32(mod, rm);
    if (this.segOverride >= 0) this.eaSeg = this.segOverride;
  }

  private modrm16(mod: number, rm: number): void {
    const r = this.r16;
    let offset: number;
    let seg = DS;
    switch (rm) {
      case 0: offset = (r[BX << 1] ?? 0) + (r[SI << 1] ?? 0); break;
      case 1: offset = (r[BX << 1] ?? 0) + (r[DI << 1] ?? 0); break;
      case 2: offset = (r[BP << 1] ?? 0) + (r[SI << 1] ?? 0); seg = SS; break;
      case 3: offset = (r[BP << 1] ?? 0) + (r[DI << 1] ?? 0); seg = SS; break;
      case 4: offset = r[SI << 1] ?? 0; break;
      case 5: offset = r[DI << 1] ?? 0; break;
      case 6:
        if (mod === 0) {
          offset = this.fetch16();
        } else {
          offset = r[BP << 1] ?? 0;
          seg = SS;
        }
        break;
      default: offset = r[BX << 1] ?? 0;
    }
    if (mod === 1) offset += signed(this.fetch8(), 1);
    else if (mod === 2) offset += this.fetch16();
    this.eaSeg = seg;
    this.eaOff = offset & 0xffff;
  }

  private modrm32(mod: number, rm: number): void {
    let offset: number;
    let seg = DS;
    if (rm === 4) {
      const sib = this.fetch8();
      const index = (sib >> 3) & 7;
      const base = sib & 7;
      offset = index === 4 ? 0 : (this.regs[index] ?? 0) << (sib >> 6);
      if (base === 5 && mod === 0) {
        offset += this.fetch32();
      } else {
        offset += this.regs[base] ?? 0;
        if (base === SP || base === BP) seg = SS;
      }
    } else if (rm === 5 && mod === 0) {
      offset = this.fetch32();
    } else {
      offset = this.regs[rm] ?? 0;
      if (rm === BP) seg = SS;
    }
    if (mod === 1) offset += signed(this.fetch8(), 1);
    else if (mod === 2) offset += this.fetch32();
    this.eaSeg = seg;
    this.eaOff = offset >>> 0;
  }

  private readRm(width: number): number {
    if (this.mod === 3) return this.getReg(width, this.rm);
    this.cycles += this.cpi.memory;
    return this.readMem(this.eaSeg, this.eaOff, width);
  }

  private writeRm(width: number, value: number): void {
    if (this.mod === 3) this.setReg(width, this.rm, value);
    else this.writeMem(this.eaSeg, this.eaOff, value, width);
  }

  /** The memory operand's offset plus `delta`, wrapped to the address size. */
  private eaPlus(delta: number): number {
    return this.adSize === 2 ? (this.eaOff + delta) & 0xffff : (this.eaOff + delta) >>> 0;
  }

  /** A ModRM whose r/m must be memory (LEA, LES, LGDT…): #UD for a register. */
  private modrmMemory(): void {
    this.modrm();
    if (this.mod === 3) this.ud();
  }

  // --- Flags and conditions ---

  private setArith(flags: number): void {
    this.flagsValue = (this.flagsValue & ~ARITH) | flags;
  }

  /** ADD OR ADC SBB AND SUB XOR CMP (by `kind`): the result, the status flags set. */
  private aluOp(kind: number, a: number, b: number, width: number): number {
    let r: number;
    switch (kind) {
      case 0: r = truncate(a + b, width); this.setArith(addFlags(a, b, 0, r, width)); break;
      case 1: r = truncate(a | b, width); this.setArith(logicFlags(r, width)); break;
      case 2: {
        const c = this.flagsValue & CF;
        r = truncate(a + b + c, width);
        this.setArith(addFlags(a, b, c, r, width));
        break;
      }
      case 3: {
        const c = this.flagsValue & CF;
        r = truncate(a - b - c, width);
        this.setArith(subFlags(a, b, c, r, width));
        break;
      }
      case 4: r = truncate(a & b, width); this.setArith(logicFlags(r, width)); break;
      case 6: r = truncate(a ^ b, width); this.setArith(logicFlags(r, width)); break;
      default: r = truncate(a - b, width); this.setArith(subFlags(a, b, 0, r, width)); // SUB, CMP
    }
    return r;
  }

  private incDec(a: number, width: number, decrement: boolean): number {
    const r = truncate(decrement ? a - 1 : a + 1, width);
    const f = decrement ? subFlags(a, 1, 0, r, width) : addFlags(a, 1, 0, r, width);
    this.flagsValue = (this.flagsValue & (~ARITH | CF)) | (f & ~CF);
    return r;
  }

  /** The condition `cc` (SDM vol. 2 Table B-1 "tttn"). */
  private condition(cc: number): boolean {
    const f = this.flagsValue;
    let t: boolean;
    switch (cc >> 1) {
      case 0: t = (f & OF) !== 0; break;
      case 1: t = (f & CF) !== 0; break;
      case 2: t = (f & ZF) !== 0; break;
      case 3: t = (f & (CF | ZF)) !== 0; break;
      case 4: t = (f & SF) !== 0; break;
      case 5: t = (f & PF) !== 0; break;
      case 6: t = ((f & SF) !== 0) !== ((f & OF) !== 0); break;
      default: t = (f & ZF) !== 0 || ((f & SF) !== 0) !== ((f & OF) !== 0);
    }
    return (cc & 1) === 0 ? t : !t;
  }

  /** Loads EFLAGS as POPF and IRET do: IOPL only at CPL 0, IF only when CPL ≤ IOPL; VM and RF are kept (POPF) or given (IRET). */
  private loadFlags(value: number, width: number, keep: number): void {
    let writable = EFLAGS_WRITABLE;
    if ((this.cr0 & CR0_PE) !== 0) {
      if (this.cpl > 0) writable &= ~IOPL;
      if (this.cpl > ((this.flagsValue & IOPL) >>> 12)) writable &= ~IF;
    }
    if (width === 2) writable &= 0xffff;
    writable &= ~keep;
    const next = ((this.flagsValue & ~writable) | (value & writable) | FIXED) >>> 0;
    if ((next & IF) !== 0 && (this.flagsValue & IF) === 0) this.windowOpened = true;
    this.flagsValue = next;
  }

  /** Jumps to `target` in the current code segment (#GP past its limit). */
  private jumpNear(target: number): void {
    const t = this.opSize === 2 ? target & 0xffff : target >>> 0;
    if (t > (this.limits[CS] ?? 0)) this.gp(0);
    this.eip = t;
  }

  // --- Interrupts ---

  /** INT n, an exception or an external interrupt, through the IVT (real mode) or the IDT (SDM vol. 3A §20.1.4, §6.12). */
  private deliver(vector: number, from: number, code: number): void {
    this.cycles += this.cpi.farTransfer;
    if ((this.cr0 & CR0_PE) === 0) {
      if (vector * 4 + 3 > this.idtLimit) this.gp(vector * 8 + 2);
      const entry = (this.idtBase + vector * 4) >>> 0;
      const ip = this.readLinear(entry, 2);
      const cs = this.readLinear(entry + 2, 2);
      this.push(this.flagsValue & 0xffff, 2);
      this.push(this.selectors[CS] ?? 0, 2);
      this.push(this.eip & 0xffff, 2);
      this.flagsValue &= ~(IF | TF | AC | RF);
      this.loadRealSegment(CS, cs);
      this.eip = ip;
      this.isHalted = false;
      return;
    }
    if ((this.flagsValue & VM) !== 0) this.unsupported('an interrupt in virtual-8086 mode');
    const external = from === FROM_SOFTWARE ? 0 : 1;
    if (vector * 8 + 7 > this.idtLimit) this.gp(vector * 8 + 2 + external);
    const gateAddress = (this.idtBase + vector * 8) >>> 0;
    const low = this.readLinear(gateAddress, 4);
    const high = this.readLinear(gateAddress + 4, 4);
    const type = (high >>> 8) & 0x1f;
    if (type !== SYS_INT_GATE16 && type !== SYS_TRAP_GATE16 && type !== SYS_INT_GATE32 && type !== SYS_TRAP_GATE32) {
      if (type === 5) this.unsupported(`a task gate in the IDT (vector ${vector})`);
      this.gp(vector * 8 + 2 + external);
    }
    if (from === FROM_SOFTWARE && ((high >>> 13) & 3) < this.cpl) this.gp(vector * 8 + 2);
    if ((high & 0x8000) === 0) this.raise(NP, vector * 8 + 2 + external);
    const gate32 = (type & 8) !== 0;
    const selector = low >>> 16;
    const offset = gate32 ? ((low & 0xffff) | (high & 0xffff_0000)) >>> 0 : low & 0xffff;
    if ((selector & 0xfffc) === 0) this.gp(external);
    const d = this.descriptor;
    const address = this.readDescriptor(selector, d);
    const cLow = d[0] ?? 0;
    const cHigh = d[1] ?? 0;
    const attributes = descriptorAttributes(cHigh);
    if ((attributes & ATTR_S) === 0 || (attributes & TYPE_CODE) === 0) this.gp((selector & 0xfffc) + external);
    const dpl = attrDpl(attributes);
    if (dpl > this.cpl) this.gp((selector & 0xfffc) + external);
    if ((attributes & ATTR_P) === 0) this.raise(NP, (selector & 0xfffc) + external);
    const width = gate32 ? 4 : 2;
    const flags = this.flagsValue;
    const oldCs = this.selectors[CS] ?? 0;
    const oldEip = this.eip;
    if ((attributes & TYPE_EC) === 0 && dpl < this.cpl) {
      // An inner level: the new stack from the TSS (SDM vol. 3A §6.12.1, Figure 7-2/7-11 for the TSS layouts).
      const tss32 = (this.trType & 8) !== 0;
      const at = tss32 ? 4 + dpl * 8 : 2 + dpl * 4;
      if (at + (tss32 ? 7 : 3) > this.trLimit) this.raise(TS, this.trSelector & 0xfffc);
      const newSp = this.readLinear(this.trBase + at, tss32 ? 4 : 2);
      const newSs = this.readLinear(this.trBase + at + (tss32 ? 4 : 2), 2);
      const oldSs = this.selectors[SS] ?? 0;
      const oldEsp = this.regs[SP] ?? 0;
      const savedCpl = this.cpl;
      this.cpl = dpl;
      try {
        this.loadSegment(SS, newSs);
      } catch (error) {
        this.cpl = savedCpl;
        if (error === FAULT && this.faultVector === GP) this.raise(TS, newSs & 0xfffc);
        throw error;
      }
      this.regs[SP] = newSp;
      this.push(oldSs, width);
      this.push(oldEsp, width);
    }
    this.push(flags & (width === 4 ? 0xffff_ffff : 0xffff), width);
    this.push(oldCs, width);
    this.push(oldEip, width);
    if (code >= 0) this.push(code, width);
    this.markAccessed(address, cHigh);
    const cpl = (attributes & TYPE_EC) === 0 ? dpl : this.cpl;
    this.loadCache(CS, (selector & 0xfffc) | cpl, cLow, cHigh);
    this.cpl = cpl;
    this.eip = gate32 ? offset : offset & 0xffff;
    this.flagsValue &= ~(TF | NT | RF | VM);
    if ((type & 1) === 0) this.flagsValue &= ~IF; // an interrupt gate; a trap gate leaves IF
    this.isHalted = false;
  }

  private iret(): void {
    const width = this.opSize;
    this.cycles += this.cpi.farTransfer;
    if ((this.cr0 & CR0_PE) === 0) {
      const ip = this.pop(width);
      const cs = this.pop(width) & 0xffff;
      const flags = this.pop(width);
      this.loadRealSegment(CS, cs);
      this.eip = width === 2 ? ip & 0xffff : ip;
      this.loadFlags(flags, width, VM | RF);
      if (width === 4) this.flagsValue &= ~RF;
      return;
    }
    if ((this.flagsValue & NT) !== 0) this.unsupported('IRET with NT set (a task return)');
    const eip = this.peek(0, width);
    const cs = this.peek(width, width) & 0xffff;
    const flags = this.peek(width * 2, width);
    if (width === 4 && (flags & VM) !== 0 && this.cpl === 0) this.unsupported('IRET to virtual-8086 mode');
    const rpl = cs & 3;
    const oldCpl = this.cpl;
    if (rpl > oldCpl) {
      const esp = this.peek(width * 3, width);
      const ss = this.peek(width * 4, width) & 0xffff;
      this.loadCodeSegment(cs, true);
      this.cpl = oldCpl; // the flags load below is judged at the old level
      this.loadFlags(flags, width, VM | RF);
      this.cpl = rpl;
      this.loadSegment(SS, ss);
      this.regs[SP] = width === 4 || this.stack32 ? esp : ((this.regs[SP] ?? 0) & 0xffff_0000) | (esp & 0xffff);
      this.nullInaccessibleSegments();
    } else {
      this.loadCodeSegment(cs, true);
      this.addStack(width * 3);
      this.loadFlags(flags, width, VM | RF);
    }
    this.eip = width === 2 ? eip & 0xffff : eip;
  }

  /** RETF (with `release` bytes of parameters): the same level, or an outer one (SS:ESP popped too). */
  private retFar(release: number): void {
    const width = this.opSize;
    const eip = this.peek(0, width);
    const cs = this.peek(width, width) & 0xffff;
    if ((this.cr0 & CR0_PE) === 0 || (this.flagsValue & VM) !== 0) {
      this.loadRealSegment(CS, cs);
      this.eip = width === 2 ? eip & 0xffff : eip;
      this.addStack(width * 2 + release);
      return;
    }
    const rpl = cs & 3;
    if (rpl > this.cpl) {
      const esp = this.peek(width * 2 + release, width);
      const ss = this.peek(width * 3 + release, width) & 0xffff;
      this.loadCodeSegment(cs, true);
      this.loadSegment(SS, ss);
      this.regs[SP] = width === 4 ? esp : esp & 0xffff;
      this.addStack(release);
      this.nullInaccessibleSegments();
    } else {
      this.loadCodeSegment(cs, true);
      this.addStack(width * 2 + release);
    }
    this.eip = width === 2 ? eip & 0xffff : eip;
  }

  /** A far JMP or CALL to `selector:offset`. */
  private farJump(selector: number, offset: number, call: boolean): void {
    const width = this.opSize;
    if (call) {
      // Pushed first: a fault loading CS then leaves CS as it was (ESP is restored by the unwind).
      this.push(this.selectors[CS] ?? 0, width);
      this.push(this.eip, width);
    }
    this.loadCodeSegment(selector, false);
    this.eip = width === 2 ? offset & 0xffff : offset >>> 0;
    if (this.eip > (this.limits[CS] ?? 0)) this.gp(0);
  }

  // --- I/O ---

  /** IN/OUT need CPL ≤ IOPL in protected mode (the TSS's I/O permission bitmap is not consulted: #GP). */
  private checkIo(): void {
    if ((this.cr0 & CR0_PE) !== 0 && this.cpl > ((this.flagsValue & IOPL) >>> 12)) this.gp(0);
  }

  private ioOut(port: number, width: number): GuestExit {
    this.checkIo();
    const exit = this.ioExit;
    const data = this.writeData.of(width);
    for (let i = 0; i < width; i++) data[i] = this.r8[i] ?? 0; // AL, AX or EAX
    exit.direction = 'out';
    exit.port = port;
    exit.size = width as AccessSize;
    exit.count = 1;
    exit.data = data;
    return exit;
  }

  private ioIn(port: number, width: number): GuestExit {
    this.checkIo();
    const exit = this.ioExit;
    exit.direction = 'in';
    exit.port = port;
    exit.size = width as AccessSize;
    exit.count = 1;
    exit.data = NO_DATA;
    this.awaiting = AWAIT_REGISTER;
    this.pendingOffset = 0;
    this.pendingWidth = width;
    this.lastExit = exit;
    return exit;
  }

  /** The count register of a string instruction (CX or ECX by the address size). */
  private get count(): number {
    return this.adSize === 2 ? (this.r16[CX << 1] ?? 0) : (this.regs[CX] ?? 0);
  }

  private set count(value: number) {
    if (this.adSize === 2) this.r16[CX << 1] = value;
    else this.regs[CX] = value;
  }

  private indexReg(r: number): number {
    return this.adSize === 2 ? (this.r16[r << 1] ?? 0) : (this.regs[r] ?? 0);
  }

  private setIndexReg(r: number, value: number): void {
    if (this.adSize === 2) this.r16[r << 1] = value;
    else this.regs[r] = value;
  }

  /** INS/OUTS (6C–6F): with REP, one exit of ECX elements (at most STRING_IO_ELEMENTS: the instruction runs again for the rest). */
  private stringIo(op: number): GuestExit | undefined {
    this.checkIo();
    const width = (op & 1) === 0 ? 1 : this.opSize;
    let count = 1;
    let left = 0;
    if (this.repeat !== 0) {
      count = this.count;
      if (count === 0) return undefined;
      // At most STRING_IO_ELEMENTS an exit: the rest when the instruction runs again, as after an interrupt.
      left = Math.max(0, count - STRING_IO_ELEMENTS);
      count -= left;
      if (left > 0) this.eip = this.startEip;
    }
    const step = (this.flagsValue & DF) === 0 ? width : -width;
    const mask = this.adSize === 2 ? 0xffff : 0xffff_ffff;
    const exit = this.ioExit;
    exit.port = this.r16[DX << 1] ?? 0;
    exit.size = width as AccessSize;
    exit.count = count;
    if (op < 0x6e) {
      const di = this.indexReg(DI);
      for (let i = 0; i < count; i++) {
        const linear = this.linear(ES, (di + i * step) & mask, width, true);
        // The data comes with `complete`, after this exit: a device's memory cannot take it then (two exits in one).
        if (this.exitsOnWrite(linear) || this.exitsOnWrite(linear + width - 1)) {
          this.unsupported('INS into MMIO');
        }
      }
      this.awaiting = AWAIT_STRING;
      this.pendingWidth = width;
      this.stringSeg = ES;
      this.stringOffset = di;
      this.stringStep = step;
      this.stringCount = count;
      this.stringAddressMask = mask;
      this.setIndexReg(DI, di + step * count);
      if (this.repeat !== 0) this.count = left;
      exit.direction = 'in';
      exit.data = NO_DATA;
      this.lastExit = exit;
      this.cycles += this.cpi.stringElement * (count - 1);
      return exit;
    }
    const si = this.indexReg(SI);
    const seg = this.segOverride >= 0 ? this.segOverride : DS;
    const data = this.writeData.of(width * count);
    for (let i = 0; i < count; i++) {
      const value = this.readMem(seg, (si + i * step) & mask, width);
      for (let b = 0; b < width; b++) data[i * width + b] = value >>> (b << 3);
    }
    this.setIndexReg(SI, si + step * count);
    if (this.repeat !== 0) this.count = left;
    exit.direction = 'out';
    exit.data = data;
    this.cycles += this.cpi.stringElement * (count - 1);
    return exit;
  }

  // --- String instructions ---

  /** MOVS CMPS STOS LODS SCAS (A4–A7, AA–AF), with REP/REPE/REPNE; a long REP yields at the run's budget and resumes. */
  private stringOp(op: number): void {
    const width = (op & 1) === 0 ? 1 : this.opSize;
    const step = (this.flagsValue & DF) === 0 ? width : -width;
    const mask = this.adSize === 2 ? 0xffff : 0xffff_ffff;
    const src = this.segOverride >= 0 ? this.segOverride : DS;
    const kind = op & 0xfe;
    const repeating = this.repeat !== 0;
    let first = true;
    for (;;) {
      if (repeating) {
        if (this.count === 0) return;
        if (!first) {
          // An element that posted an MMIO write, or read MMIO (its value replayed), ends this run of the REP: the
          // next element's access is an exit of its own, and a replayed value is for the element that waited for it.
          if (this.writePosted || this.replay.length !== 0 || this.cycles + this.cpi.stringElement > this.budget) {
            this.eip = this.startEip; // resumes on the next run, as an interrupted REP does
            return;
          }
          this.cycles += this.cpi.stringElement;
        }
      }
      first = false;
      const si = this.indexReg(SI);
      const di = this.indexReg(DI);
      let compare = false;
      switch (kind) {
        case 0xa4: // MOVS
          this.writeMem(ES, di, this.readMem(src, si, width), width);
          this.setIndexReg(SI, (si + step) & mask);
          this.setIndexReg(DI, (di + step) & mask);
          break;
        case 0xa6: // CMPS
          this.aluOp(7, this.readMem(src, si, width), this.readMem(ES, di, width), width);
          this.setIndexReg(SI, (si + step) & mask);
          this.setIndexReg(DI, (di + step) & mask);
          compare = true;
          break;
        case 0xaa: // STOS
          this.writeMem(ES, di, this.getReg(width, AX), width);
          this.setIndexReg(DI, (di + step) & mask);
          break;
        case 0xac: // LODS
          this.setReg(width, AX, this.readMem(src, si, width));
          this.setIndexReg(SI, (si + step) & mask);
          break;
        default: // SCAS
          this.aluOp(7, this.getReg(width, AX), this.readMem(ES, di, width), width);
          this.setIndexReg(DI, (di + step) & mask);
          compare = true;
      }
      if (!repeating) return;
      this.count = (this.count - 1) & mask;
      if (compare && ((this.flagsValue & ZF) !== 0) !== (this.repeat === 1)) return;
    }
  }

  // --- Decoding ---

  /** The instruction at CS:EIP: its prefixes, then the one-byte opcode map (SDM vol. 2 Table A-2). */
  private execute(): GuestExit | undefined {
    const size = this.code32 ? 4 : 2;
    this.opSize = size;
    this.adSize = size;
    this.segOverride = -1;
    this.repeat = 0;
    this.lock = false;
    let op = this.fetch8();
    for (let n = 1; ; n++) {
      switch (op) {
        case 0x26: this.segOverride = ES; break;
        case 0x2e: this.segOverride = CS; break;
        case 0x36: this.segOverride = SS; break;
        case 0x3e: this.segOverride = DS; break;
        case 0x64: this.segOverride = FS; break;
        case 0x65: this.segOverride = GS; break;
        case 0x66: this.opSize = 6 - size; break;
        case 0x67: this.adSize = 6 - size; break;
        case 0xf0: this.lock = true; break;
        case 0xf2: this.repeat = 2; break;
        case 0xf3: this.repeat = 1; break;
        default:
          this.opcode = op;
          return this.opcodeMap(op);
      }
      if (n >= 15) this.gp(0); // an instruction longer than 15 bytes (SDM vol. 2 §2.3.11)
      op = this.fetch8();
    }
  }

  /** #UD for a LOCK prefix on an instruction that cannot be locked, or on a register destination (SDM vol. 2 "LOCK"). */
  private checkLock(lockable: boolean): void {
    if (this.lock && (!lockable || this.mod === 3)) this.ud();
  }

  private opcodeMap(op: number): GuestExit | undefined {
    if (this.lock && !LOCKABLE_OPCODES.has(op)) this.ud();
    if (op < 0x40 && (op & 7) < 6) {
      this.aluForm(op);
      return undefined;
    }
    switch (op) {
      // Rows 0–3: PUSH/POP ES CS SS DS, the 0F escape, the BCD adjusts.
      case 0x06: case 0x0e: case 0x16: case 0x1e:
        this.push(this.selectors[op >> 3] ?? 0, this.opSize);
        return undefined;
      case 0x07: case 0x17: case 0x1f: {
        const value = this.peek(0, this.opSize) & 0xffff;
        this.loadSegment(op >> 3, value);
        this.addStack(this.opSize);
        if (op === 0x17) this.shadow = true;
        return undefined;
      }
      case 0x0f: return this.twoByte();
      case 0x27: daa(this.alu, this.r8[0] ?? 0, this.flagsValue); this.r8[0] = this.alu.value; this.flagsValue = this.alu.flags; return undefined;
      case 0x2f: das(this.alu, this.r8[0] ?? 0, this.flagsValue); this.r8[0] = this.alu.value; this.flagsValue = this.alu.flags; return undefined;
      case 0x37: case 0x3f:
        asciiAdjust(this.alu, op === 0x37, this.r16[0] ?? 0, this.flagsValue);
        this.r16[0] = this.alu.value;
        this.flagsValue = this.alu.flags;
        return undefined;
    }
    switch (op >> 4) {
      case 0x4: { // INC/DEC r
        const width = this.opSize;
        const r = op & 7;
        this.setReg(width, r, this.incDec(this.getReg(width, r), width, op >= 0x48));
        return undefined;
      }
      case 0x5: { // PUSH/POP r (PUSH SP pushes SP as it was, the 286 onward)
        const width = this.opSize;
        if (op < 0x58) {
          this.push(this.getReg(width, op & 7), width);
        } else {
          const value = this.pop(width);
          this.setReg(width, op & 7, value);
        }
        return undefined;
      }
      case 0x6: return this.row6(op);
      case 0x7: { // Jcc rel8
        const rel = signed(this.fetch8(), 1);
        if (this.condition(op & 15)) this.jumpNear(this.eip + rel);
        return undefined;
      }
      case 0x8: return this.row8(op);
      case 0x9: return this.row9(op);
      case 0xa: return this.rowA(op);
      case 0xb: { // MOV r, imm
        const width = op < 0xb8 ? 1 : this.opSize;
        this.setReg(width, op & 7, this.fetchImm(width));
        return undefined;
      }
      case 0xc: return this.rowC(op);
      case 0xd: return this.rowD(op);
      case 0xe: return this.rowE(op);
      default: return this.rowF(op);
    }
  }

  /** The ALU forms of rows 0–3 (columns 0–5 and 8–D): Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / eAX,Iz. */
  private aluForm(op: number): void {
    const kind = op >> 3;
    const form = op & 7;
    const width = (op & 1) === 0 ? 1 : this.opSize;
    if (form >= 4) {
      const b = this.fetchImm(width === 1 ? 1 : width);
      const r = this.aluOp(kind, this.getReg(width, AX), b, width);
      if (kind !== 7) this.setReg(width, AX, r);
      return;
    }
    this.modrm();
    if (form < 2) {
      this.checkLock(kind !== 7);
      const r = this.aluOp(kind, this.readRm(width), this.getReg(width, this.reg), width);
      if (kind !== 7) this.writeRm(width, r);
    } else {
      this.checkLock(false);
      const r = this.aluOp(kind, this.getReg(width, this.reg), this.readRm(width), width);
      if (kind !== 7) this.setReg(width, this.reg, r);
    }
  }

  /** Row 6: PUSHA POPA BOUND ARPL, PUSH imm, IMUL imm, INS/OUTS (the prefixes 64–67 are taken before). */
  private row6(op: number): GuestExit | undefined {
    switch (op) {
      case 0x60: { // PUSHA
        const width = this.opSize;
        const sp = this.getReg(width, SP);
        for (let r = 0; r < 8; r++) this.push(r === SP ? sp : this.getReg(width, r), width);
        return undefined;
      }
      case 0x61: { // POPA (the saved SP is skipped)
        const width = this.opSize;
        for (let r = 7; r >= 0; r--) {
          const v = this.pop(width);
          if (r !== SP) this.setReg(width, r, v);
        }
        return undefined;
      }
      case 0x62: { // BOUND
        this.modrmMemory();
        const width = this.opSize;
        const index = signed(this.getReg(width, this.reg), width);
        const lower = signed(this.readMem(this.eaSeg, this.eaOff, width), width);
        const upper = signed(this.readMem(this.eaSeg, this.eaPlus(width), width), width);
        if (index < lower || index > upper) this.raise(BR);
        return undefined;
      }
      case 0x63: { // ARPL (protected mode only)
        if ((this.cr0 & CR0_PE) === 0 || (this.flagsValue & VM) !== 0) this.ud();
        this.modrm();
        const dest = this.readRm(2);
        const src = this.getReg(2, this.reg);
        if ((dest & 3) < (src & 3)) {
          this.writeRm(2, (dest & ~3) | (src & 3));
          this.flagsValue |= ZF;
        } else {
          this.flagsValue &= ~ZF;
        }
        return undefined;
      }
      case 0x68: this.push(this.fetchImm(this.opSize), this.opSize); return undefined;
      case 0x6a: this.push(this.fetchSigned(1, this.opSize), this.opSize); return undefined;
      case 0x69: case 0x6b: { // IMUL r, r/m, imm
        const width = this.opSize;
        this.modrm();
        const a = this.readRm(width);
        const b = op === 0x6b ? this.fetchSigned(1, width) : this.fetchImm(width);
        imul(this.alu, a, b, width, this.flagsValue);
        this.setReg(width, this.reg, this.alu.value);
        this.flagsValue = this.alu.flags;
        this.cycles += this.cpi.multiply;
        return undefined;
      }
      case 0x6c: case 0x6d: case 0x6e: case 0x6f: return this.stringIo(op);
      default: return this.ud();
    }
  }

  /** Row 8: group 1, TEST, XCHG, MOV, MOV Sreg, LEA, POP r/m. */
  private row8(op: number): GuestExit | undefined {
    switch (op) {
      case 0x80: case 0x81: case 0x82: case 0x83: { // group 1
        const width = (op & 1) === 0 ? 1 : this.opSize;
        this.modrm();
        this.checkLock(this.reg !== 7);
        const a = this.readRm(width);
        const b = op === 0x83 ? this.fetchSigned(1, width) : this.fetchImm(width);
        const r = this.aluOp(this.reg, a, b, width);
        if (this.reg !== 7) this.writeRm(width, r);
        return undefined;
      }
      case 0x84: case 0x85: {
        const width = (op & 1) === 0 ? 1 : this.opSize;
        this.modrm();
        this.aluOp(4, this.readRm(width), this.getReg(width, this.reg), width);
        return undefined;
      }
      case 0x86: case 0x87: {
        const width = (op & 1) === 0 ? 1 : this.opSize;
        this.modrm();
        this.checkLock(true);
        const a = this.readRm(width);
        this.writeRm(width, this.getReg(width, this.reg));
        this.setReg(width, this.reg, a);
        return undefined;
      }
      case 0x88: case 0x89: {
        const width = (op & 1) === 0 ? 1 : this.opSize;
        this.modrm();
        this.writeRm(width, this.getReg(width, this.reg));
        return undefined;
      }
      case 0x8a: case 0x8b: {
        const width = (op & 1) === 0 ? 1 : this.opSize;
        this.modrm();
        this.setReg(width, this.reg, this.readRm(width));
        return undefined;
      }
      case 0x8c: { // MOV r/m, Sreg: a 32-bit register gets the selector zero-extended; memory always 16 bits
        this.modrm();
        if (this.reg > GS) this.ud();
        const value = this.selectors[this.reg] ?? 0;
        if (this.mod === 3) this.setReg(this.opSize, this.rm, value);
        else this.writeMem(this.eaSeg, this.eaOff, value, 2);
        return undefined;
      }
      case 0x8d: { // LEA
        this.modrmMemory();
        this.setReg(this.opSize, this.reg, truncate(this.eaOff, this.opSize));
        return undefined;
      }
      case 0x8e: { // MOV Sreg, r/m
        this.modrm();
        if (this.reg === CS || this.reg > GS) this.ud();
        this.loadSegment(this.reg, this.readRm(2));
        if (this.reg === SS) this.shadow = true;
        return undefined;
      }
      default: { // 8F: POP r/m (the address computed with ESP after the pop)
        const width = this.opSize;
        const value = this.peek(0, width);
        this.addStack(width);
        this.modrm();
        if (this.reg !== 0) this.ud();
        this.writeRm(width, value);
        return undefined;
      }
    }
  }

  /** Row 9: XCHG eAX, NOP, CBW/CWD, CALL far, WAIT, PUSHF/POPF, SAHF/LAHF. */
  private row9(op: number): GuestExit | undefined {
    const width = this.opSize;
    switch (op) {
      case 0x90: return undefined; // NOP (also PAUSE with F3)
      case 0x98: // CBW / CWDE
        if (width === 2) this.r16[0] = truncate(signed(this.r8[0] ?? 0, 1), 2);
        else this.regs[AX] = signed(this.r16[0] ?? 0, 2) >>> 0;
        return undefined;
      case 0x99: // CWD / CDQ
        if (width === 2) this.r16[DX << 1] = ((this.r16[0] ?? 0) & 0x8000) !== 0 ? 0xffff : 0;
        else this.regs[DX] = ((this.regs[AX] ?? 0) & 0x8000_0000) !== 0 ? 0xffff_ffff : 0;
        return undefined;
      case 0x9a: { // CALL ptr16:16/32
        const offset = this.fetchImm(width);
        const selector = this.fetch16();
        this.farJump(selector, offset, true);
        return undefined;
      }
      case 0x9b: // WAIT: no FPU, no pending FPU error; #NM with CR0.MP and TS
        if ((this.cr0 & (CR0_TS | 0x2)) === (CR0_TS | 0x2)) this.raise(NM);
        return undefined;
      case 0x9c: // PUSHF (VM and RF clear in the image)
        if ((this.flagsValue & VM) !== 0 && ((this.flagsValue & IOPL) >>> 12) < 3) this.gp(0);
        this.push(truncate(this.flagsValue & ~(VM | RF), width), width);
        return undefined;
      case 0x9d: { // POPF
        if ((this.flagsValue & VM) !== 0 && ((this.flagsValue & IOPL) >>> 12) < 3) this.gp(0);
        const value = this.pop(width);
        this.loadFlags(value, width, VM | RF);
        return undefined;
      }
      case 0x9e: // SAHF
        this.flagsValue = (this.flagsValue & ~(SF | ZF | AF | PF | CF)) | ((this.r8[1] ?? 0) & (SF | ZF | AF | PF | CF));
        return undefined;
      case 0x9f: // LAHF
        this.r8[1] = (this.flagsValue & (SF | ZF | AF | PF | CF)) | FIXED;
        return undefined;
      default: { // XCHG eAX, r
        const r = op & 7;
        const a = this.getReg(width, AX);
        this.setReg(width, AX, this.getReg(width, r));
        this.setReg(width, r, a);
        return undefined;
      }
    }
  }

  /** Row A: MOV AL/eAX ↔ moffs, the string instructions, TEST AL/eAX, imm. */
  private rowA(op: number): GuestExit | undefined {
    switch (op) {
      case 0xa0: case 0xa1: case 0xa2: case 0xa3: {
        const width = (op & 1) === 0 ? 1 : this.opSize;
        const offset = this.fetchImm(this.adSize);
        const seg = this.segOverride >= 0 ? this.segOverride : DS;
        if (op < 0xa2) this.setReg(width, AX, this.readMem(seg, offset, width));
        else this.writeMem(seg, offset, this.getReg(width, AX), width);
        return undefined;
      }
      case 0xa8: case 0xa9: {
        const width = op === 0xa8 ? 1 : this.opSize;
        this.aluOp(4, this.getReg(width, AX), this.fetchImm(width), width);
        return undefined;
      }
      default:
        this.stringOp(op);
        return undefined;
    }
  }

  /** Row C: group 2 by imm8, RET, LES/LDS, MOV r/m imm, ENTER/LEAVE, RETF, INT3/INT/INTO/IRET. */
  private rowC(op: number): GuestExit | undefined {
    switch (op) {
      case 0xc0: case 0xc1: {
        const width = op === 0xc0 ? 1 : this.opSize;
        this.modrm();
        const value = this.readRm(width);
        const count = this.fetch8() & 0x1f;
        shiftRotate(this.alu, this.reg, value, count, width, this.flagsValue);
        this.writeRm(width, this.alu.value);
        this.flagsValue = this.alu.flags;
        return undefined;
      }
      case 0xc2: case 0xc3: { // RET near [imm16]
        const release = op === 0xc2 ? this.fetch16() : 0;
        const target = this.peek(0, this.opSize);
        this.jumpNear(target);
        this.addStack(this.opSize + release);
        return undefined;
      }
      case 0xc4: case 0xc5: { // LES, LDS
        this.modrmMemory();
        this.loadFarPointer(op === 0xc4 ? ES : DS);
        return undefined;
      }
      case 0xc6: case 0xc7: {
        const width = op === 0xc6 ? 1 : this.opSize;
        this.modrm();
        if (this.reg !== 0) this.ud();
        this.writeRm(width, this.fetchImm(width));
        return undefined;
      }
      case 0xc8: this.enter(); return undefined;
      case 0xc9: { // LEAVE
        if (this.stack32) this.regs[SP] = this.regs[BP] ?? 0;
        else this.r16[SP << 1] = this.r16[BP << 1] ?? 0;
        this.setReg(this.opSize, BP, this.pop(this.opSize));
        return undefined;
      }
      case 0xca: this.retFar(this.fetch16()); return undefined;
      case 0xcb: this.retFar(0); return undefined;
      case 0xcc: this.softwareInterrupt(3); return undefined;
      case 0xcd: this.softwareInterrupt(this.fetch8()); return undefined;
      case 0xce: // INTO
        if ((this.flagsValue & OF) !== 0) this.softwareInterrupt(4);
        return undefined;
      default:
        this.iret();
        return undefined;
    }
  }

  private softwareInterrupt(vector: number): void {
    if ((this.flagsValue & VM) !== 0 && ((this.flagsValue & IOPL) >>> 12) < 3) this.gp(0);
    this.deliver(vector, FROM_SOFTWARE, -1);
  }

  /** LES LDS LSS LFS LGS: offset then selector from the memory operand. */
  private loadFarPointer(s: number): void {
    const width = this.opSize;
    const offset = this.readMem(this.eaSeg, this.eaOff, width);
    const selector = this.readMem(this.eaSeg, this.eaPlus(width), 2);
    this.loadSegment(s, selector);
    this.setReg(width, this.reg, offset);
    if (s === SS) this.shadow = true;
  }

  /** ENTER imm16, imm8 (SDM vol. 2 "ENTER" Operation). */
  private enter(): void {
    const size = this.fetch16();
    const level = this.fetch8() & 0x1f;
    const width = this.opSize;
    this.push(this.getReg(width, BP), width);
    const frame = this.stack32 ? this.regs[SP] ?? 0 : this.r16[SP << 1] ?? 0;
    if (level > 0) {
      let bp = this.stack32 ? this.regs[BP] ?? 0 : this.r16[BP << 1] ?? 0;
      for (let i = 1; i < level; i++) {
        bp = this.stack32 ? (bp - width) >>> 0 : (bp - width) & 0xffff;
        this.push(this.readMem(SS, bp, width), width);
      }
      this.push(frame, width);
    }
    this.setReg(width, BP, truncate(frame, width));
    if (this.stack32) this.regs[SP] = (this.regs[SP] ?? 0) - size;
    else this.r16[SP << 1] = (this.r16[SP << 1] ?? 0) - size;
    // The new top of the stack must be inside SS.
    this.peek(0, 1);
  }

  /** Row D: group 2 by 1 and by CL, AAM, AAD, SALC, XLAT, the x87 escapes. */
  private rowD(op: number): GuestExit | undefined {
    if (op <= 0xd3) {
      const width = (op & 1) === 0 ? 1 : this.opSize;
      this.modrm();
      const value = this.readRm(width);
      const count = op < 0xd2 ? 1 : (this.r8[byteOffset8(CX)] ?? 0) & 0x1f;
      shiftRotate(this.alu, this.reg, value, count, width, this.flagsValue);
      this.writeRm(width, this.alu.value);
      this.flagsValue = this.alu.flags;
      return undefined;
    }
    switch (op) {
      case 0xd4: { // AAM
        const base = this.fetch8();
        if (base === 0) this.raise(DE);
        const al = this.r8[0] ?? 0;
        this.r8[1] = Math.floor(al / base);
        this.r8[0] = al % base;
        this.setArith(logicFlags(al % base, 1));
        this.cycles += this.cpi.divide;
        return undefined;
      }
      case 0xd5: { // AAD
        const base = this.fetch8();
        const al = ((this.r8[0] ?? 0) + (this.r8[1] ?? 0) * base) & 0xff;
        this.r16[0] = al;
        this.setArith(logicFlags(al, 1));
        return undefined;
      }
      case 0xd6: // SALC (undocumented, every Intel CPU since the 8086): AL = CF ? FFh : 0
        this.r8[0] = (this.flagsValue & CF) !== 0 ? 0xff : 0;
        return undefined;
      case 0xd7: { // XLAT
        const seg = this.segOverride >= 0 ? this.segOverride : DS;
        const offset = this.adSize === 2 ? ((this.r16[BX << 1] ?? 0) + (this.r8[0] ?? 0)) & 0xffff : ((this.regs[BX] ?? 0) + (this.r8[0] ?? 0)) >>> 0;
        this.r8[0] = this.readMem(seg, offset, 1);
        return undefined;
      }
      default: // D8–DF: the x87 escapes. No FPU: #NM with CR0.EM or TS; else nothing happens (the operand is decoded, not touched).
        if ((this.cr0 & (CR0_EM | CR0_TS)) !== 0) this.raise(NM);
        this.modrm();
        return undefined;
    }
  }

  /** Row E: LOOP/JCXZ, IN/OUT, CALL/JMP rel, JMP far. */
  private rowE(op: number): GuestExit | undefined {
    switch (op) {
      case 0xe0: case 0xe1: case 0xe2: { // LOOPNE LOOPE LOOP
        const rel = signed(this.fetch8(), 1);
        const mask = this.adSize === 2 ? 0xffff : 0xffff_ffff;
        const count = (this.count - 1) & mask;
        this.count = count;
        const zf = (this.flagsValue & ZF) !== 0;
        const taken = count !== 0 && (op === 0xe2 || (op === 0xe1 ? zf : !zf));
        if (taken) this.jumpNear(this.eip + rel);
        return undefined;
      }
      case 0xe3: { // JCXZ / JECXZ
        const rel = signed(this.fetch8(), 1);
        if (this.count === 0) this.jumpNear(this.eip + rel);
        return undefined;
      }
      case 0xe4: case 0xe5: return this.ioIn(this.fetch8(), op === 0xe4 ? 1 : this.opSize);
      case 0xe6: case 0xe7: return this.ioOut(this.fetch8(), op === 0xe6 ? 1 : this.opSize);
      case 0xe8: { // CALL rel
        const rel = this.fetchSigned(this.opSize, 4);
        const ret = this.eip;
        const target = (ret + rel) >>> 0;
        const t = this.opSize === 2 ? target & 0xffff : target;
        if (t > (this.limits[CS] ?? 0)) this.gp(0);
        this.push(ret, this.opSize);
        this.eip = t;
        return undefined;
      }
      case 0xe9: { // JMP rel16/32
        const rel = this.fetchSigned(this.opSize, 4);
        this.jumpNear(this.eip + rel);
        return undefined;
      }
      case 0xea: { // JMP ptr16:16/32
        const offset = this.fetchImm(this.opSize);
        const selector = this.fetch16();
        this.farJump(selector, offset, false);
        return undefined;
      }
      case 0xeb: {
        const rel = signed(this.fetch8(), 1);
        this.jumpNear(this.eip + rel);
        return undefined;
      }
      case 0xec: case 0xed: return this.ioIn(this.r16[DX << 1] ?? 0, op === 0xec ? 1 : this.opSize);
      default: return this.ioOut(this.r16[DX << 1] ?? 0, op === 0xee ? 1 : this.opSize);
    }
  }

  /** Row F: INT1, HLT, CMC, groups 3, 4 and 5, CLC STC CLI STI CLD STD. */
  private rowF(op: number): GuestExit | undefined {
    switch (op) {
      case 0xf1: this.deliver(1, FROM_SOFTWARE, -1); return undefined; // INT1 (ICEBP)
      case 0xf4: // HLT
        if (this.cpl !== 0) this.gp(0);
        this.isHalted = true;
        return HLT;
      case 0xf5: this.flagsValue ^= CF; return undefined;
      case 0xf6: case 0xf7: this.group3((op & 1) === 0 ? 1 : this.opSize); return undefined;
      case 0xf8: this.flagsValue &= ~CF; return undefined;
      case 0xf9: this.flagsValue |= CF; return undefined;
      case 0xfa: // CLI
        if ((this.cr0 & CR0_PE) !== 0 && this.cpl > ((this.flagsValue & IOPL) >>> 12)) this.gp(0);
        this.flagsValue &= ~IF;
        return undefined;
      case 0xfb: // STI: interrupts wait one more instruction when it sets IF
        if ((this.cr0 & CR0_PE) !== 0 && this.cpl > ((this.flagsValue & IOPL) >>> 12)) this.gp(0);
        if ((this.flagsValue & IF) === 0) {
          this.flagsValue |= IF;
          this.shadow = true;
          this.windowOpened = true;
        }
        return undefined;
      case 0xfc: this.flagsValue &= ~DF; return undefined;
      case 0xfd: this.flagsValue |= DF; return undefined;
      case 0xfe: { // group 4: INC/DEC r/m8
        this.modrm();
        if (this.reg > 1) this.ud();
        this.checkLock(true);
        this.writeRm(1, this.incDec(this.readRm(1), 1, this.reg === 1));
        return undefined;
      }
      case 0xff: return this.group5();
      default: return this.ud(); // F0 F2 F3 are prefixes, taken before
    }
  }

  /** Group 3: TEST NOT NEG MUL IMUL DIV IDIV on r/m. */
  private group3(width: number): void {
    this.modrm();
    const reg = this.reg;
    this.checkLock(reg === 2 || reg === 3);
    const a = this.readRm(width);
    switch (reg) {
      case 0: case 1:
        this.aluOp(4, a, this.fetchImm(width), width);
        return;
      case 2: this.writeRm(width, truncate(~a, width)); return;
      case 3: {
        const r = truncate(-a, width);
        this.writeRm(width, r);
        this.setArith((subFlags(0, a, 0, r, width) & ~CF) | (a !== 0 ? CF : 0));
        return;
      }
      case 4: case 5: {
        if (reg === 4) mul(this.alu, this.getReg(width, AX), a, width, this.flagsValue);
        else imul(this.alu, this.getReg(width, AX), a, width, this.flagsValue);
        this.flagsValue = this.alu.flags;
        if (width === 1) {
          this.r16[0] = this.alu.value | (this.alu.high << 8);
        } else {
          this.setReg(width, AX, this.alu.value);
          this.setReg(width, DX, this.alu.high);
        }
        this.cycles += this.cpi.multiply;
        return;
      }
      default: {
        let high: number;
        let low: number;
        if (width === 1) {
          high = this.r8[1] ?? 0;
          low = this.r8[0] ?? 0;
        } else {
          high = this.getReg(width, DX);
          low = this.getReg(width, AX);
        }
        const ok = reg === 6 ? div(this.alu, high, low, a, width, this.flagsValue) : idiv(this.alu, high, low, a, width, this.flagsValue);
        if (!ok) this.raise(DE);
        if (width === 1) {
          this.r8[0] = this.alu.value;
          this.r8[1] = this.alu.high;
        } else {
          this.setReg(width, AX, this.alu.value);
          this.setReg(width, DX, this.alu.high);
        }
        this.cycles += this.cpi.divide;
      }
    }
  }

  /** Group 5: INC DEC CALL CALLF JMP JMPF PUSH on r/m. */
  private group5(): GuestExit | undefined {
    this.modrm();
    const width = this.opSize;
    const reg = this.reg;
    this.checkLock(reg <= 1);
    switch (reg) {
      case 0: case 1:
        this.writeRm(width, this.incDec(this.readRm(width), width, reg === 1));
        return undefined;
      case 2: { // CALL r/m
        const target = this.readRm(width);
        const ret = this.eip;
        const t = width === 2 ? target & 0xffff : target;
        if (t > (this.limits[CS] ?? 0)) this.gp(0);
        this.push(ret, width);
        this.eip = t;
        return undefined;
      }
      case 3: case 5: { // CALLF / JMPF m16:16/32
        if (this.mod === 3) this.ud();
        const offset = this.readMem(this.eaSeg, this.eaOff, width);
        const selector = this.readMem(this.eaSeg, this.eaPlus(width), 2);
        this.farJump(selector, offset, reg === 3);
        this.cycles += this.cpi.memory;
        return undefined;
      }
      case 4:
        this.jumpNear(this.readRm(width));
        return undefined;
      case 6:
        this.push(this.readRm(width), width);
        return undefined;
      default:
        return this.ud();
    }
  }

  // --- The two-byte map (0F xx) ---

  private twoByte(): GuestExit | undefined {
    const op = this.fetch8();
    this.opcode = 0x0f00 | op;
    if (this.lock && !LOCKABLE_0F.has(op)) this.ud();
    if (op >= 0x80 && op <= 0x8f) { // Jcc rel16/32
      const rel = this.fetchSigned(this.opSize, 4);
      if (this.condition(op & 15)) this.jumpNear(this.eip + rel);
      return undefined;
    }
    if (op >= 0x90 && op <= 0x9f) { // SETcc
      this.modrm();
      this.writeRm(1, this.condition(op & 15) ? 1 : 0);
      return undefined;
    }
    if (op >= 0x40 && op <= 0x4f) { // CMOVcc
      const width = this.opSize;
      this.modrm();
      const value = this.readRm(width);
      if (this.condition(op & 15)) this.setReg(width, this.reg, value);
      return undefined;
    }
    if (op >= 0xc8 && op <= 0xcf) { // BSWAP
      const v = this.regs[op & 7] ?? 0;
      this.regs[op & 7] = ((v >>> 24) | ((v >>> 8) & 0xff00) | ((v & 0xff00) << 8) | (v << 24)) >>> 0;
      return undefined;
    }
    switch (op) {
      case 0x00: this.group6(); return undefined;
      case 0x01: this.group7(); return undefined;
      case 0x02: case 0x03: this.loadAccessRightsOrLimit(op === 0x03); return undefined;
      case 0x06: // CLTS
        this.requireCpl0();
        this.cr0 &= ~CR0_TS;
        return undefined;
      case 0x08: case 0x09: this.requireCpl0(); return undefined; // INVD, WBINVD: no caches modelled
      case 0x0b: return this.ud(); // UD2
      case 0x1f: this.modrm(); return undefined; // NOP r/m
      case 0x20: case 0x22: this.moveControlRegister(op === 0x22); return undefined;
      case 0x21: case 0x23: { // MOV to/from debug registers: kept nowhere, read as 0
        this.requireCpl0();
        this.modrm();
        if (op === 0x21) this.regs[this.rm] = 0;
        return undefined;
      }
      case 0x30: case 0x32: return this.msr(op === 0x30);
      case 0x31: { // RDTSC
        const tsc = this.entryTsc + this.cycles;
        this.regs[AX] = tsc % 0x1_0000_0000;
        this.regs[DX] = Math.floor(tsc / 0x1_0000_0000);
        return undefined;
      }
      case 0xa0: case 0xa8: this.push(this.selectors[op === 0xa0 ? FS : GS] ?? 0, this.opSize); return undefined;
      case 0xa1: case 0xa9: {
        const value = this.peek(0, this.opSize) & 0xffff;
        this.loadSegment(op === 0xa1 ? FS : GS, value);
        this.addStack(this.opSize);
        return undefined;
      }
      case 0xa2: this.cpuid(); return undefined;
      case 0xa3: case 0xab: case 0xb3: case 0xbb: this.bitTest((op >> 3) & 3, false); return undefined;
      case 0xba: {
        this.modrm();
        if (this.reg < 4) this.ud();
        this.bitTest(this.reg & 3, true);
        return undefined;
      }
      case 0xa4: case 0xa5: case 0xac: case 0xad: {
        const width = this.opSize;
        this.modrm();
        const dest = this.readRm(width);
        const count = ((op & 1) === 0 ? this.fetch8() : this.r8[byteOffset8(CX)] ?? 0) & 0x1f;
        doubleShift(this.alu, op < 0xa8, dest, this.getReg(width, this.reg), count, width, this.flagsValue);
        this.writeRm(width, this.alu.value);
        this.flagsValue = this.alu.flags;
        return undefined;
      }
      case 0xaf: {
        const width = this.opSize;
        this.modrm();
        imul(this.alu, this.getReg(width, this.reg), this.readRm(width), width, this.flagsValue);
        this.setReg(width, this.reg, this.alu.value);
        this.flagsValue = this.alu.flags;
        this.cycles += this.cpi.multiply;
        return undefined;
      }
      case 0xb0: case 0xb1: { // CMPXCHG
        const width = op === 0xb0 ? 1 : this.opSize;
        this.modrm();
        this.checkLock(true);
        const dest = this.readRm(width);
        const acc = this.getReg(width, AX);
        this.aluOp(7, acc, dest, width);
        if (acc === dest) this.writeRm(width, this.getReg(width, this.reg));
        else {
          this.writeRm(width, dest); // the destination is written back either way
          this.setReg(width, AX, dest);
        }
        return undefined;
      }
      case 0xb2: case 0xb4: case 0xb5: {
        this.modrmMemory();
        this.loadFarPointer(op === 0xb2 ? SS : op === 0xb4 ? FS : GS);
        return undefined;
      }
      case 0xb6: case 0xb7: case 0xbe: case 0xbf: { // MOVZX, MOVSX
        const from = (op & 1) === 0 ? 1 : 2;
        this.modrm();
        const value = this.readRm(from);
        this.setReg(this.opSize, this.reg, op < 0xb8 ? value : truncate(signed(value, from), this.opSize));
        return undefined;
      }
      case 0xbc: case 0xbd: {
        const width = this.opSize;
        this.modrm();
        bitScan(this.alu, op === 0xbc, this.readRm(width), this.getReg(width, this.reg), this.flagsValue);
        this.setReg(width, this.reg, this.alu.value);
        this.flagsValue = this.alu.flags;
        return undefined;
      }
      case 0xc0: case 0xc1: { // XADD
        const width = op === 0xc0 ? 1 : this.opSize;
        this.modrm();
        this.checkLock(true);
        const dest = this.readRm(width);
        const src = this.getReg(width, this.reg);
        const sum = this.aluOp(0, dest, src, width);
        this.setReg(width, this.reg, dest);
        this.writeRm(width, sum);
        return undefined;
      }
      case 0xc7: { // CMPXCHG8B
        this.modrmMemory();
        if (this.reg !== 1) this.ud();
        const lo = this.readMem(this.eaSeg, this.eaOff, 4);
        const hi = this.readMem(this.eaSeg, this.eaPlus(4), 4);
        if (lo === this.regs[AX] && hi === this.regs[DX]) {
          this.writeMem(this.eaSeg, this.eaOff, this.regs[BX] ?? 0, 4);
          this.writeMem(this.eaSeg, this.eaPlus(4), this.regs[CX] ?? 0, 4);
          this.flagsValue |= ZF;
        } else {
          this.regs[AX] = lo;
          this.regs[DX] = hi;
          this.flagsValue &= ~ZF;
        }
        return undefined;
      }
      default:
        return this.shutdown(`opcode 0F ${hex(op, 2)} is not decoded`);
    }
  }

  private requireCpl0(): void {
    if (this.cpl !== 0) this.gp(0);
  }

  /** BT BTS BTR BTC (`kind` 0–3): a register bit offset addresses memory beyond the operand (signed). */
  private bitTest(kind: number, immediate: boolean): void {
    const width = this.opSize;
    const bits = width << 3;
    if (!immediate) this.modrm();
    this.checkLock(kind !== 0);
    let offset: number;
    let seg = this.eaSeg;
    let at = this.eaOff;
    if (immediate) {
      offset = this.fetch8() & (bits - 1);
    } else {
      const raw = signed(this.getReg(width, this.reg), width);
      if (this.mod === 3) {
        offset = raw & (bits - 1);
      } else {
        const unit = Math.floor(raw / bits);
        at = this.eaPlus(unit * width);
        offset = raw - unit * bits;
      }
    }
    if (this.mod === 3) seg = -1;
    const value = seg < 0 ? this.getReg(width, this.rm) : this.readMem(seg, at, width);
    const mask = (1 << offset) >>> 0;
    this.flagsValue = (this.flagsValue & ~CF) | ((value & mask) !== 0 ? CF : 0);
    if (kind === 0) return;
    const next = truncate(kind === 1 ? value | mask : kind === 2 ? value & ~mask : value ^ mask, width);
    if (seg < 0) this.setReg(width, this.rm, next);
    else this.writeMem(seg, at, next, width);
  }

  /** Group 6: SLDT STR LLDT LTR VERR VERW (protected mode only). */
  private group6(): void {
    if ((this.cr0 & CR0_PE) === 0 || (this.flagsValue & VM) !== 0) this.ud();
    this.modrm();
    switch (this.reg) {
      case 0: this.writeRm(this.mod === 3 ? this.opSize : 2, this.ldtSelector); return;
      case 1: this.writeRm(this.mod === 3 ? this.opSize : 2, this.trSelector); return;
      case 2: case 3: {
        this.requireCpl0();
        const selector = this.readRm(2);
        this.cycles += this.cpi.serializing;
        if (this.reg === 2 && (selector & 0xfffc) === 0) {
          this.ldtSelector = selector;
          this.ldtLimit = 0;
          return;
        }
        if ((selector & 4) !== 0) this.gp(selector & 0xfffc);
        const d = this.descriptor;
        const address = this.readDescriptor(selector, d);
        const high = d[1] ?? 0;
        const type = (high >>> 8) & 0x1f;
        if (this.reg === 2) {
          if (type !== 2) this.gp(selector & 0xfffc);
          if ((high & 0x8000) === 0) this.raise(NP, selector & 0xfffc);
          this.ldtSelector = selector;
          this.ldtBase = descriptorBase(d[0] ?? 0, high);
          this.ldtLimit = descriptorLimit(d[0] ?? 0, high);
        } else {
          if (type !== 1 && type !== 9) this.gp(selector & 0xfffc);
          if ((high & 0x8000) === 0) this.raise(NP, selector & 0xfffc);
          this.writeLinear(address + 5, ((high >>> 8) | 2) & 0xff, 1); // busy
          this.trSelector = selector;
          this.trBase = descriptorBase(d[0] ?? 0, high);
          this.trLimit = descriptorLimit(d[0] ?? 0, high);
          this.trType = type | 2;
        }
        return;
      }
      case 4: case 5: { // VERR, VERW
        const selector = this.readRm(2);
        this.flagsValue = (this.flagsValue & ~ZF) | (this.verify(selector, this.reg === 5) ? ZF : 0);
        return;
      }
      default: this.ud();
    }
  }

  /** Whether a segment is readable (or writable) at the current privilege (VERR/VERW). */
  private verify(selector: number, write: boolean): boolean {
    if ((selector & 0xfffc) === 0) return false;
    const table = (selector & 4) !== 0 ? this.ldtLimit : this.gdtLimit;
    if ((selector & 0xfff8) + 7 > table) return false;
    this.readDescriptor(selector, this.descriptor);
    const attributes = descriptorAttributes(this.descriptor[1] ?? 0);
    if ((attributes & ATTR_S) === 0) return false;
    const type = attributes & 0xf;
    const conformingCode = (type & (TYPE_CODE | TYPE_EC)) === (TYPE_CODE | TYPE_EC);
    if (!conformingCode && (attrDpl(attributes) < this.cpl || attrDpl(attributes) < (selector & 3))) return false;
    if (write) return (type & (TYPE_CODE | TYPE_RW)) === TYPE_RW;
    return (type & TYPE_CODE) === 0 || (type & TYPE_RW) !== 0;
  }

  /** LAR (false) or LSL (true): ZF set and the register loaded when the descriptor is visible at this privilege. */
  private loadAccessRightsOrLimit(limit: boolean): void {
    if ((this.cr0 & CR0_PE) === 0 || (this.flagsValue & VM) !== 0) this.ud();
    const width = this.opSize;
    this.modrm();
    const selector = this.readRm(2);
    const table = (selector & 4) !== 0 ? this.ldtLimit : this.gdtLimit;
    if ((selector & 0xfffc) === 0 || (selector & 0xfff8) + 7 > table) {
      this.flagsValue &= ~ZF;
      return;
    }
    this.readDescriptor(selector, this.descriptor);
    const low = this.descriptor[0] ?? 0;
    const high = this.descriptor[1] ?? 0;
    const attributes = descriptorAttributes(high);
    const type = attributes & 0xf;
    const system = (attributes & ATTR_S) === 0;
    const validSystem = limit ? [1, 2, 3, 9, 0xb].includes(type) : [1, 2, 3, 4, 5, 9, 0xb, 0xc].includes(type);
    const conformingCode = !system && (type & (TYPE_CODE | TYPE_EC)) === (TYPE_CODE | TYPE_EC);
    const visible = (system ? validSystem : true) && (conformingCode || (attrDpl(attributes) >= this.cpl && attrDpl(attributes) >= (selector & 3)));
    if (!visible) {
      this.flagsValue &= ~ZF;
      return;
    }
    this.setReg(width, this.reg, truncate(limit ? descriptorLimit(low, high) : high & 0x00f0_ff00, width));
    this.flagsValue |= ZF;
  }

  /** Group 7: SGDT SIDT LGDT LIDT SMSW LMSW INVLPG. */
  private group7(): void {
    this.modrm();
    const reg = this.reg;
    if (this.mod === 3 && reg !== 4 && reg !== 6) this.ud();
    switch (reg) {
      case 0: case 1: { // SGDT, SIDT: limit, then a base of 24 bits (16-bit operand; the 386 stores the 4th byte as 0) or 32
        const limit = reg === 0 ? this.gdtLimit : this.idtLimit;
        const base = reg === 0 ? this.gdtBase : this.idtBase;
        this.writeMem(this.eaSeg, this.eaOff, limit, 2);
        this.writeMem(this.eaSeg, this.eaPlus(2), this.opSize === 2 ? base & 0x00ff_ffff : base, 4);
        return;
      }
      case 2: case 3: { // LGDT, LIDT
        this.requireCpl0();
        const limit = this.readMem(this.eaSeg, this.eaOff, 2);
        const raw = this.readMem(this.eaSeg, this.eaPlus(2), 4);
        const base = this.opSize === 2 ? raw & 0x00ff_ffff : raw;
        if (reg === 2) {
          this.gdtLimit = limit;
          this.gdtBase = base;
        } else {
          this.idtLimit = limit;
          this.idtBase = base;
        }
        this.cycles += this.cpi.serializing;
        return;
      }
      case 4: // SMSW: the low word of CR0 (a register gets CR0 zero-extended... the low 16 bits at 16-bit size)
        this.writeRm(this.mod === 3 ? this.opSize : 2, this.mod === 3 && this.opSize === 4 ? this.cr0 : this.cr0 & 0xffff);
        return;
      case 6: { // LMSW: PE MP EM TS; PE cannot be cleared by it
        this.requireCpl0();
        const value = this.readRm(2);
        this.setCr0((this.cr0 & ~0xe) | (value & 0xf) | (this.cr0 & CR0_PE));
        return;
      }
      case 7: this.requireCpl0(); return; // INVLPG: no TLB without paging
      default: this.ud();
    }
  }

  private setCr0(value: number): void {
    const next = (value | CR0_ET) >>> 0;
    if ((next & CR0_PG) !== 0) this.unsupported('paging (CR0.PG)');
    this.cr0 = next;
    if ((next & CR0_PE) === 0) this.cpl = 0;
    this.cycles += this.cpi.serializing;
  }

  /** MOV to/from CR0, CR2, CR3, CR4 (the register operand is always the r/m, 32 bits). */
  private moveControlRegister(toCr: boolean): void {
    this.requireCpl0();
    this.modrm();
    const n = this.reg;
    if (n === 1 || n > 4) this.ud();
    if (!toCr) {
      this.regs[this.rm] = n === 0 ? this.cr0 : n === 2 ? this.cr2 : n === 3 ? this.cr3 : this.cr4;
      return;
    }
    const value = this.regs[this.rm] ?? 0;
    if (n === 0) this.setCr0(value);
    else if (n === 2) this.cr2 = value;
    else if (n === 3) this.cr3 = value;
    else this.cr4 = value; // CR4's paging and extension bits change nothing without paging
  }

  /** RDMSR/WRMSR: an exit naming ECX (CPL 0 only). */
  private msr(write: boolean): GuestExit {
    this.requireCpl0();
    this.cycles += this.cpi.serializing;
    const exit = this.msrExit;
    exit.isWrite = write;
    exit.index = this.regs[CX] ?? 0;
    if (write) {
      const data = this.writeData.of(8);
      for (let i = 0; i < 4; i++) {
        data[i] = this.r8[i] ?? 0; // EAX
        data[4 + i] = this.r8[8 + i] ?? 0; // EDX
      }
      exit.data = data;
      return exit;
    }
    exit.data = NO_DATA;
    this.awaiting = AWAIT_MSR;
    this.lastExit = exit;
    return exit;
  }

  /**
   * CPUID: what this CPU can do, no more. Leaf 0 the highest leaf and the
   * vendor; leaf 1 family 6 model 1 (a P6-class integer core) and its
   * feature bits: TSC, MSR, CX8, APIC (the board's local APIC), CMOV; no
   * FPU, no paging features, no SSE (SDM vol. 2 "CPUID", Table 3-11).
   */
  private cpuid(): void {
    this.cycles += this.cpi.serializing;
    const leaf = this.regs[AX] ?? 0;
    const r = this.regs;
    if (leaf === 0) {
      r[AX] = 1;
      r[BX] = 0x696c_7053; // "Spli"
      r[DX] = 0x7369_7674; // "tvis"
      r[CX] = 0x3638_726f; // "or86"
      return;
    }
    if (leaf === 1) {
      r[AX] = 0x0000_0610; // family 6, model 1, stepping 0
      r[BX] = 0;
      r[CX] = 0;
      r[DX] = (1 << 4) | (1 << 5) | (1 << 8) | (1 << 9) | (1 << 15);
      return;
    }
    r[AX] = 0;
    r[BX] = 0;
    r[CX] = 0;
    r[DX] = 0;
  }
}

/** One-byte opcodes a LOCK prefix may precede (SDM vol. 2 "LOCK"): the memory-destination ALU forms, XCHG, and the groups with a lockable member. */
const LOCKABLE_OPCODES = new Set([
  0x00, 0x01, 0x08, 0x09, 0x10, 0x11, 0x18, 0x19, 0x20, 0x21, 0x28, 0x29, 0x30, 0x31,
  0x80, 0x81, 0x82, 0x83, 0x86, 0x87, 0xf6, 0xf7, 0xfe, 0xff, 0x0f,
]);
/** Two-byte opcodes a LOCK prefix may precede: BTS BTR BTC, group 8, CMPXCHG, XADD, CMPXCHG8B. */
const LOCKABLE_0F = new Set([0xab, 0xb3, 0xbb, 0xba, 0xb0, 0xb1, 0xc0, 0xc1, 0xc7]);

/** A memory operand's address that is never used (the register forms). */
function noAddress(): void {
  // nothing to compute
}

/** Whether an instruction of this form ends its block: it always goes elsewhere (a Jcc does not end it: when taken, the block stops there). */
function endsBlock(form: Form): boolean {
  return form === Form.Jmp || form === Form.Call || form === Form.Ret;
}
