/**
 * The decoded-instruction cache: basic blocks of instructions decoded once
 * (decode.ts), each compiled to a function of its own, run again without
 * decoding while the bytes they were decoded from are unchanged.
 *
 * A block starts where the CPU first ran from and runs to its first jump,
 * call or return, to the first instruction the cache does not compile, or
 * to the end of its 4 KiB page, whichever comes first; a conditional jump
 * inside it ends the run there when taken. It is found by the physical address of
 * its first byte (a direct-mapped table) and is the same block only for the
 * same CS base, EIP and default operand size.
 *
 * Writes to code: whoever writes guest RAM — this CPU, or a device's DMA on
 * any thread (the RAM is shared with every domain) — the block keeps a copy
 * of its bytes and is compared with RAM when it is entered: a block whose
 * bytes changed is decoded again. It is compared again only when its bytes
 * may have changed: in a new `epoch`, which the CPU moves on at the start of
 * each run (a device's DMA is done between runs: the guest learns it is done
 * through an exit or an interrupt, each the end of a run), or after this CPU
 * wrote to its page (each page a block was decoded from counts the CPU's
 * writes to it). A write by this CPU to a page that
 * holds a block also ends the block running (`codeWritten`), so code that
 * rewrites the instruction after it sees the new one, as on the interpreter.
 */

/** One compiled instruction: runs it from the decoded form (EIP already past it). */
export type CompiledInstruction = () => void;

export interface Block {
  /** The physical address of its first byte, and the CS base and EIP it was entered with. */
  readonly physical: number;
  readonly csBase: number;
  readonly eip: number;
  readonly code32: boolean;
  /** The bytes it was decoded from. */
  readonly bytes: Uint8Array;
  /** The epoch in which its bytes were last found unchanged, and its page's write count then. */
  checked: number;
  writes: number;
  /** Its instructions, in order, and each one's EIP. */
  readonly instructions: readonly CompiledInstruction[];
  readonly eips: readonly number[];
  /** The EIP of its last byte: the block runs only while CS's limit covers it. */
  readonly lastEip: number;
}

/** Table entries (a power of two). */
const SLOTS = 1 << 14;

export class BlockCache {
  private readonly slots: (Block | undefined)[] = new Array<Block | undefined>(SLOTS).fill(undefined);
  /** Per 4 KiB page of RAM: 1 once a block was decoded from it. */
  private readonly codePages: Uint8Array;
  /** Per such page: how many times this CPU wrote to it. */
  private readonly pageWrites: Uint32Array;

  constructor(ramBytes: number) {
    this.codePages = new Uint8Array(Math.ceil(ramBytes / 4096));
    this.pageWrites = new Uint32Array(this.codePages.length);
  }

  /** The block for this entry point, if one was compiled and its bytes in `memory` are unchanged (compared again only when they may have changed). */
  find(physical: number, csBase: number, eip: number, code32: boolean, memory: Uint8Array, epoch: number): Block | undefined {
    const block = this.slots[slot(physical)];
    if (block?.physical !== physical || block.eip !== eip || block.csBase !== csBase || block.code32 !== code32) return undefined;
    const writes = this.pageWrites[physical >>> 12] ?? 0;
    if (block.checked === epoch && block.writes === writes) return block;
    const bytes = block.bytes;
    for (let i = 0; i < bytes.length; i++) {
      if (memory[physical + i] !== bytes[i]) return undefined;
    }
    block.checked = epoch;
    block.writes = writes;
    return block;
  }

  /** This CPU wrote to a page holding code: its blocks are compared before they run again. */
  wrote(physical: number): void {
    const page = physical >>> 12;
    this.pageWrites[page] = (this.pageWrites[page] ?? 0) + 1;
  }

  /** The write count of the page holding `physical`, for a block decoded now. */
  writesTo(physical: number): number {
    return this.pageWrites[physical >>> 12] ?? 0;
  }

  insert(block: Block): void {
    this.slots[slot(block.physical)] = block;
    if (block.bytes.length > 0) this.codePages[block.physical >>> 12] = 1;
  }

  /** Whether a block was decoded from the page of RAM holding `physical`. */
  holdsCode(physical: number): boolean {
    return this.codePages[physical >>> 12] === 1;
  }
}

function slot(physical: number): number {
  return (physical ^ (physical >>> 11)) & (SLOTS - 1);
}
