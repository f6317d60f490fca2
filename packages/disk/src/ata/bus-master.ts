/**
 * One channel's bus-master IDE registers (SFF-8038i; Intel PIIX3/PIIX4
 * "Bus Master IDE" at BMIBA + 0h for the primary channel, + 8h for the
 * secondary): command, status and the Physical Region Descriptor table
 * pointer, and the walk of that table in guest memory.
 *
 * A PRD entry is two dwords: the region's physical base address, and its
 * byte count in bits 15:1 (bit 0 is zero, a count of 0 means 64 KiB) with
 * End Of Table in bit 31. The table is read from the pointer onwards, at most
 * one 4 KiB page of entries (QEMU's fail-safe), until an entry with EOT.
 *
 * This is the register block and the table walk; the channel moves the
 * bytes between the drive and guest memory (`ata-channel.ts`).
 */
import type { GuestMemory } from '@splitvisor/abi';
import {
  BusMasterCommand, BusMasterOffset, BusMasterStatus, PRD_END_OF_TABLE, PRD_ENTRY_BYTES, PRD_TABLE_LIMIT_BYTES,
} from './registers.ts';

export type BusMasterState = {
  readonly command: number;
  readonly status: number;
  readonly prdTable: number;
  /** The next PRD entry to read. */
  readonly cursor: number;
  /** The region of the entry in use: where its next byte goes, how many are left, whether it ends the table. */
  readonly regionAddress: number;
  readonly regionBytes: number;
  readonly regionIsLast: boolean;
};

/** What a write to the command register asks of the channel. */
export type BusMasterAction = 'start' | 'stop' | undefined;

/** The outcome of fetching the next region: one is ready, the table is exhausted, or its entry lies outside guest memory. */
export type RegionFetch = 'ready' | 'end-of-table' | 'memory-error';

export class BusMaster {
  command = 0;
  status = 0;
  prdTable = 0;
  private cursor = 0;
  regionAddress = 0;
  regionBytes = 0;
  private regionIsLast = false;
  private readonly entry = new Uint8Array(PRD_ENTRY_BYTES);

  get active(): boolean {
    return (this.status & BusMasterStatus.ACTIVE) !== 0;
  }

  /** Whether the guest set the direction bit for a transfer to memory (a READ DMA). */
  get toMemory(): boolean {
    return (this.command & BusMasterCommand.WRITE_TO_MEMORY) !== 0;
  }

  read(offset: number, size: number): number {
    let value = 0;
    for (let i = size - 1; i >= 0; i--) value = value * 256 + this.readByte(offset + i);
    return value;
  }

  private readByte(offset: number): number {
    switch (offset) {
      case BusMasterOffset.COMMAND: return this.command;
      case BusMasterOffset.STATUS: return this.status;
      case BusMasterOffset.PRD_TABLE:
      case BusMasterOffset.PRD_TABLE + 1:
      case BusMasterOffset.PRD_TABLE + 2:
      case BusMasterOffset.PRD_TABLE + 3:
        return Math.floor(this.prdTable / 256 ** (offset - BusMasterOffset.PRD_TABLE)) & 0xff;
      default:
        return 0; // reserved bytes 1 and 3
    }
  }

  /** Writes `size` bytes at `offset`; returns what the command register asked, if anything. */
  write(offset: number, size: number, value: number): BusMasterAction {
    let action: BusMasterAction;
    for (let i = 0; i < size; i++) action = this.writeByte(offset + i, Math.floor(value / 256 ** i) & 0xff) ?? action;
    return action;
  }

  private writeByte(offset: number, byte: number): BusMasterAction {
    switch (offset) {
      case BusMasterOffset.COMMAND: {
        const wasStarted = (this.command & BusMasterCommand.START) !== 0;
        const start = (byte & BusMasterCommand.START) !== 0;
        this.command = byte & (BusMasterCommand.START | BusMasterCommand.WRITE_TO_MEMORY);
        if (start === wasStarted) return undefined;
        if (start) {
          // Start: the engine goes active at the top of the table.
          this.status |= BusMasterStatus.ACTIVE;
          this.cursor = this.prdTable;
          this.regionBytes = 0;
          this.regionIsLast = false;
          return 'start';
        }
        this.status &= ~BusMasterStatus.ACTIVE;
        return 'stop';
      }
      case BusMasterOffset.STATUS: {
        // Bits 6:5 are scratch, ERROR and INTERRUPT are write-1-to-clear, ACTIVE and SIMPLEX read-only.
        const scratch = BusMasterStatus.DRIVE0_DMA_CAPABLE | BusMasterStatus.DRIVE1_DMA_CAPABLE;
        const clearable = BusMasterStatus.ERROR | BusMasterStatus.INTERRUPT;
        this.status = (byte & scratch) | (this.status & BusMasterStatus.ACTIVE) | (this.status & ~byte & clearable);
        return undefined;
      }
      case BusMasterOffset.PRD_TABLE:
      case BusMasterOffset.PRD_TABLE + 1:
      case BusMasterOffset.PRD_TABLE + 2:
      case BusMasterOffset.PRD_TABLE + 3: {
        const shift = 256 ** (offset - BusMasterOffset.PRD_TABLE);
        const old = Math.floor(this.prdTable / shift) & 0xff;
        // The table is dword aligned: bits 1:0 read as zero.
        const stored = offset === BusMasterOffset.PRD_TABLE ? byte & 0xfc : byte;
        this.prdTable += (stored - old) * shift;
        return undefined;
      }
      default:
        return undefined;
    }
  }

  /** Whether the region in use is spent and was the table's last. */
  get exhausted(): boolean {
    return this.regionBytes === 0 && this.regionIsLast;
  }

  /** Loads the next PRD entry once the current region is spent. */
  fetchRegion(memory: GuestMemory): RegionFetch {
    if (this.regionBytes > 0) return 'ready';
    if (this.regionIsLast || this.cursor - this.prdTable >= PRD_TABLE_LIMIT_BYTES) return 'end-of-table';
    if (!memory.read(this.cursor, this.entry)) return 'memory-error';
    const view = new DataView(this.entry.buffer);
    const count = view.getUint32(4, true);
    this.cursor += PRD_ENTRY_BYTES;
    this.regionAddress = (view.getUint32(0, true) & ~1) >>> 0;
    this.regionBytes = (count & 0xfffe) === 0 ? 0x1_0000 : count & 0xfffe;
    this.regionIsLast = (count & PRD_END_OF_TABLE) !== 0;
    return 'ready';
  }

  /** `bytes` of the current region were used. */
  consume(bytes: number): void {
    this.regionAddress += bytes;
    this.regionBytes -= bytes;
  }

  getState(): BusMasterState {
    return {
      command: this.command, status: this.status, prdTable: this.prdTable, cursor: this.cursor,
      regionAddress: this.regionAddress, regionBytes: this.regionBytes, regionIsLast: this.regionIsLast,
    };
  }

  setState(state: BusMasterState): void {
    this.command = state.command;
    this.status = state.status;
    this.prdTable = state.prdTable;
    this.cursor = state.cursor;
    this.regionAddress = state.regionAddress;
    this.regionBytes = state.regionBytes;
    this.regionIsLast = state.regionIsLast;
  }
}
