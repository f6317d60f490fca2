// A packet drive reached the way ATAPI drivers reach it: PACKET with the byte count limit in LBA Mid/High, the 12-byte
// packet through the data port, then DRQ blocks read one by one after their interrupt (Interrupt Reason, Byte Count)
// until the status phase. CDBs are built as SPC-3 / MMC-5 lay them out.
import { expect } from 'vitest';
import type { Board } from './ata-board.ts';
import { CMD } from './ata-board.ts';
import { Command, InterruptReason, MemoryBlockBackend, OperationCode, Status } from '../src/index.ts';

/** Logical block n of a patterned disc: n's bytes and the offset, so a misplaced byte shows. */
export function patternedDisc(blocks: number): MemoryBlockBackend {
  const backend = new MemoryBlockBackend(blocks * 4);
  for (let lba = 0; lba < blocks; lba++) {
    for (let i = 0; i < 2048; i++) backend.image[lba * 2048 + i] = (lba * 13 + (i >> 1) + (lba >> 8)) & 0xff;
  }
  return backend;
}

export function blocksOf(disc: MemoryBlockBackend, lba: number, count = 1): Uint8Array {
  return disc.image.slice(lba * 2048, (lba + count) * 2048);
}

const be16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
const be32 = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
const pad = (bytes: number[]) => [...bytes, ...new Array<number>(12 - bytes.length).fill(0)];

/** Command descriptor blocks, padded to the 12-byte packet. */
export const cdb = {
  testUnitReady: (): number[] => pad([OperationCode.TEST_UNIT_READY]),
  requestSense: (allocation = 18): number[] => pad([OperationCode.REQUEST_SENSE, 0, 0, 0, allocation]),
  inquiry: (allocation = 36, page?: number): number[] => pad([OperationCode.INQUIRY, page === undefined ? 0 : 1, page ?? 0, ...be16(allocation)]),
  readCapacity: (): number[] => pad([OperationCode.READ_CAPACITY_10]),
  read10: (lba: number, blocks: number): number[] => pad([OperationCode.READ_10, 0, ...be32(lba), 0, ...be16(blocks)]),
  read12: (lba: number, blocks: number): number[] => pad([OperationCode.READ_12, 0, ...be32(lba), ...be32(blocks)]),
  readCd: (lba: number, blocks: number, fields = 0x10, sectorType = 0): number[] =>
    pad([OperationCode.READ_CD, sectorType << 2, ...be32(lba), (blocks >> 16) & 0xff, ...be16(blocks & 0xffff), fields]),
  modeSense10: (page: number, allocation = 0x80, control = 0): number[] => pad([OperationCode.MODE_SENSE_10, 0x08, (control << 6) | page, 0, 0, 0, 0, ...be16(allocation)]),
  modeSense6: (page: number, allocation = 0xff): number[] => pad([OperationCode.MODE_SENSE_6, 0x08, page, 0, allocation]),
  modeSelect10: (length: number): number[] => pad([OperationCode.MODE_SELECT_10, 0x10, 0, 0, 0, 0, 0, ...be16(length)]),
  startStopUnit: (start: boolean, loadEject: boolean): number[] => pad([OperationCode.START_STOP_UNIT, 0, 0, 0, (loadEject ? 2 : 0) | (start ? 1 : 0)]),
  preventAllow: (prevent: boolean): number[] => pad([OperationCode.PREVENT_ALLOW_MEDIUM_REMOVAL, 0, 0, 0, prevent ? 1 : 0]),
  getConfiguration: (rt: number, start = 0, allocation = 0x100): number[] => pad([OperationCode.GET_CONFIGURATION, rt, ...be16(start), 0, 0, 0, ...be16(allocation)]),
  getEventStatus: (classes = 0x10, allocation = 8, polled = true): number[] =>
    pad([OperationCode.GET_EVENT_STATUS_NOTIFICATION, polled ? 1 : 0, 0, 0, classes, 0, 0, ...be16(allocation)]),
  readToc: (format: number, msf = false, track = 0, allocation = 0x100): number[] =>
    pad([OperationCode.READ_TOC_PMA_ATIP, msf ? 2 : 0, format, 0, 0, 0, track, ...be16(allocation)]),
  readDiscInformation: (allocation = 34): number[] => pad([OperationCode.READ_DISC_INFORMATION, 0, 0, 0, 0, 0, 0, ...be16(allocation)]),
  mechanismStatus: (allocation = 8): number[] => pad([OperationCode.MECHANISM_STATUS, 0, 0, 0, 0, 0, 0, 0, ...be16(allocation)]),
  setCdSpeed: (kbps: number): number[] => pad([OperationCode.SET_CD_SPEED, 0, ...be16(kbps), 0xff, 0xff]),
};

export type PacketOptions = {
  /** The byte count limit (LBA Mid/High). Default FFFEh. */
  readonly limit?: number;
  /** Features bit 0: the data by DMA. */
  readonly dma?: boolean;
  /** The Device register (DEV, obsolete bits). Default A0h. */
  readonly device?: number;
  /** The data port width of the packet: 16 or 32 bits. */
  readonly width?: 2 | 4;
};

/**
 * PACKET and its command packet, as ata_sff_tf_load + atapi_send_cdb do it: Features, Byte Count, Device, A0h; DRQ
 * with Interrupt Reason C/D and no interrupt; the 12 bytes.
 */
export function sendPacket(b: Board, packet: readonly number[], { limit = 0xfffe, dma = false, device = 0xa0, width = 2 }: PacketOptions = {}): void {
  b.taskFile({ features: dma ? 1 : 0, lbam: limit & 0xff, lbah: (limit >> 8) & 0xff, device });
  const risesBefore = b.irqRises();
  b.outb(CMD.COMMAND, Command.PACKET);
  expect(b.altStatus() & (Status.BSY | Status.DRQ)).toBe(Status.DRQ);
  expect(b.inb(CMD.NSECT) & (InterruptReason.COD | InterruptReason.IO)).toBe(InterruptReason.COD);
  expect(b.irqRises()).toBe(risesBefore); // word 0 says DRQ within 50 µs: the packet is asked for without an interrupt
  const bytes = Uint8Array.from(packet);
  if (width === 4) b.outsl(bytes);
  else b.outsw(bytes);
}

export type DataIn = {
  readonly data: Uint8Array;
  /** The Byte Count of each DRQ block. */
  readonly blocks: readonly number[];
  /** Status, Error and Interrupt Reason of the status phase. */
  readonly status: number;
  readonly error: number;
  readonly reason: number;
};

/**
 * The PIO data-in and status phases as atapi_pio_bytes reads them, interrupt by interrupt (nIEN clear): each DRQ block
 * announced by an interrupt with I/O set and its size in the Byte Count, read in words (or dwords, an odd count padded),
 * then the status phase with C/D and I/O and its own interrupt.
 */
export function pioDataIn(b: Board, width: 2 | 4 = 2): DataIn {
  const chunks: Uint8Array[] = [];
  const blocks: number[] = [];
  for (let guard = 0; guard < 100_000; guard++) {
    expect(b.irq()).toBe(true);
    const status = b.inb(CMD.STATUS); // acknowledges
    expect(b.irq()).toBe(false);
    const reason = b.inb(CMD.NSECT) & 0x07;
    if ((status & Status.DRQ) === 0) {
      expect(reason).toBe(InterruptReason.COD | InterruptReason.IO);
      const data = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) {
        data.set(c, at);
        at += c.length;
      }
      return { data, blocks, status, error: b.inb(CMD.ERROR), reason };
    }
    expect(reason).toBe(InterruptReason.IO);
    const count = b.inb(CMD.LBAM) | (b.inb(CMD.LBAH) << 8);
    blocks.push(count);
    const read = width === 4 ? b.insl(Math.ceil(count / 4)) : b.insw(Math.ceil(count / 2));
    chunks.push(read.subarray(0, count));
  }
  throw new Error('the data phase never ended');
}

/** A PACKET command through its PIO data phase. */
export function packetIn(b: Board, packet: readonly number[], options: PacketOptions = {}): DataIn {
  sendPacket(b, packet, options);
  return pioDataIn(b, options.width);
}

/** REQUEST SENSE's key, ASC and ASCQ (and its bytes). */
export function requestSense(b: Board): { key: number; asc: number; ascq: number; bytes: Uint8Array } {
  const reply = packetIn(b, cdb.requestSense(18));
  expect(reply.status).toBe(Status.DRDY | Status.DSC);
  const bytes = reply.data;
  return { key: (bytes[2] ?? 0) & 0x0f, asc: bytes[12] ?? 0, ascq: bytes[13] ?? 0, bytes };
}

export const be = (bytes: Uint8Array, at: number, length: number): number => {
  let value = 0;
  for (let i = 0; i < length; i++) value = value * 256 + (bytes[at + i] ?? 0);
  return value;
};
