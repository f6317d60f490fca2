// Forced Unit Access writes (ATA/ATAPI-7: WRITE DMA FUA EXT 3Dh, WRITE MULTIPLE FUA EXT CEh), as a driver that
// trusts IDENTIFY words 84/87 bit 6 sends them for a write that must be durable when it completes (Linux's libata
// with libata.fua=1 for a REQ_FUA write): the sectors reach stable storage before the interrupt, past a write cache
// whose other sectors stay cached.
import { describe, expect, it } from 'vitest';
import { AtaError, BusMasterStatus, Command, Status } from '../src/index.ts';
import type { Board } from './ata-board.ts';
import { CMD, RecordingBackend, board, diskState, word } from './ata-board.ts';

const LBA = 0x40;
const CTL = 0x08;
const PRD_TABLE = 0x8000;
const BUFFER = 0x1_0000;

const fill = (sectors: number, seed: number) => Uint8Array.from({ length: sectors * 512 }, (_, i) => (i * 7 + seed) & 0xff);
const stableSectors = (backend: RecordingBackend, lba: number, count: number) => backend.stable.slice(lba * 512, (lba + count) * 512);

/** ata_tf_load for a 48-bit command: each register's high byte, then its low byte. */
function taskFile48(b: Board, lba: number, count: number): void {
  for (const [register, high, low] of [
    [CMD.NSECT, count >> 8, count & 0xff], [CMD.LBAL, (lba >>> 24) & 0xff, lba & 0xff],
    [CMD.LBAM, 0, (lba >> 8) & 0xff], [CMD.LBAH, 0, (lba >> 16) & 0xff],
  ] as const) {
    b.outb(register, high);
    b.outb(register, low);
  }
  b.outb(CMD.DEVICE, LBA);
}

/** ata_bmdma_setup + ata_bmdma_start around a DMA write of `data` at `lba`: one PRD region, the table's end on it. */
function dmaWrite(b: Board, command: number, lba: number, data: Uint8Array): void {
  b.context.ram.set(data, BUFFER);
  const view = new DataView(b.context.ram.buffer);
  view.setUint32(PRD_TABLE, BUFFER, true);
  view.setUint32(PRD_TABLE + 4, (data.length & 0xffff) | 0x8000_0000, true);
  b.bmWrite(4, PRD_TABLE, 4);
  b.bmWrite(0, 0x00); // from memory
  taskFile48(b, lba, data.length / 512);
  b.outb(CMD.COMMAND, command);
  b.bmWrite(0, 0x01);
}

function identify(b: Board): Uint8Array {
  b.taskFile({ device: 0xa0 });
  b.outb(CMD.COMMAND, Command.IDENTIFY_DEVICE);
  return b.insw(256);
}

describe('IDENTIFY DEVICE', () => {
  it('offers WRITE DMA FUA EXT and WRITE MULTIPLE FUA EXT in words 84 and 87 bit 6 (ata_id_has_fua)', () => {
    const id = identify(board());
    expect([word(id, 84), word(id, 87)]).toEqual([0x4040, 0x4040]);
  });

  it('without them (forceUnitAccess false, as QEMU\'s IDE disk): bits clear, and both commands aborted', () => {
    const b = board({ master: { backend: new RecordingBackend(64), forceUnitAccess: false } });
    const id = identify(b);
    expect([word(id, 84), word(id, 87)]).toEqual([0x4000, 0x4000]);
    for (const command of [Command.WRITE_DMA_FUA_EXT, Command.WRITE_MULTIPLE_FUA_EXT]) {
      taskFile48(b, 1, 1);
      b.outb(CMD.COMMAND, command);
      expect([b.inb(CMD.STATUS), b.inb(CMD.ERROR)]).toEqual([Status.DRDY | Status.ERR, AtaError.ABRT]);
    }
    expect(b.ata.anomalies()).toMatchObject({ unsupportedCommands: 2 });
  });
});

describe('WRITE DMA FUA EXT', () => {
  it('puts its sectors in stable storage before the interrupt; what the cache held of other sectors stays cached', () => {
    const backend = new RecordingBackend(1024);
    const b = board({ master: { backend } });
    b.deviceControl(CTL);
    // An ordinary write first: held in the write cache, not even in the backend.
    b.taskFile({ nsect: 1, lbal: 5, device: LBA });
    b.outb(CMD.COMMAND, Command.WRITE_SECTORS);
    b.outsw(fill(1, 1));
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    const payload = fill(8, 2);
    dmaWrite(b, Command.WRITE_DMA_FUA_EXT, 300, payload);
    expect(b.irq()).toBe(true);
    expect(b.bmRead(2)).toBe(BusMasterStatus.INTERRUPT);
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    expect(stableSectors(backend, 300, 8)).toEqual(payload);
    expect(backend.flushes).toBe(1);
    expect(stableSectors(backend, 5, 1)).toEqual(new Uint8Array(512)); // still only in the cache
    expect(diskState(b.ata).cache?.dirty.map((run) => run.lba)).toEqual([5]);
    // The address registers end past the last sector, as after WRITE DMA EXT.
    expect([b.inb(CMD.LBAL), b.inb(CMD.LBAM)]).toEqual([(308 & 0xff), 308 >> 8]);
  });

  it('supersedes a cached copy of its sectors: a later FLUSH CACHE does not write the older data back over it', () => {
    const backend = new RecordingBackend(64);
    const b = board({ master: { backend } });
    b.taskFile({ nsect: 2, lbal: 10, device: LBA });
    b.outb(CMD.COMMAND, Command.WRITE_SECTORS);
    b.outsw(fill(1, 3));
    b.outsw(fill(1, 4));
    const payload = fill(1, 5);
    dmaWrite(b, Command.WRITE_DMA_FUA_EXT, 11, payload);
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    b.taskFile({ device: 0xa0 });
    b.outb(CMD.COMMAND, Command.FLUSH_CACHE_EXT);
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    expect(stableSectors(backend, 10, 2)).toEqual(Uint8Array.from([...fill(1, 3), ...payload]));
  });

  it('ends in ABRT at the sector the backend refused, and in ABRT with DF when the flush fails', () => {
    const backend = new RecordingBackend(64);
    const b = board({ master: { backend } });
    backend.failWrites = true;
    dmaWrite(b, Command.WRITE_DMA_FUA_EXT, 20, fill(2, 6));
    expect([b.inb(CMD.STATUS), b.inb(CMD.ERROR), b.inb(CMD.LBAL)]).toEqual([Status.DRDY | Status.ERR, AtaError.ABRT, 20]);
    backend.failWrites = false;
    backend.failFlush = true;
    dmaWrite(b, Command.WRITE_DMA_FUA_EXT, 30, fill(2, 7));
    expect([b.inb(CMD.STATUS), b.inb(CMD.ERROR), b.inb(CMD.LBAL)]).toEqual([Status.DRDY | Status.DF | Status.ERR, AtaError.ABRT, 30]);
    expect(b.ata.anomalies()).toMatchObject({ backendWriteErrors: 1, backendFlushErrors: 1 });
  });
});

describe('WRITE MULTIPLE FUA EXT', () => {
  it('takes blocks of the multiple count through to the backend and flushes once, before the last block\'s interrupt', () => {
    const backend = new RecordingBackend(1024);
    const b = board({ master: { backend, multipleSectors: 4 } });
    b.deviceControl(CTL);
    const payload = fill(6, 8);
    taskFile48(b, 40, 6);
    b.outb(CMD.COMMAND, Command.WRITE_MULTIPLE_FUA_EXT);
    expect([b.altStatus(), b.irq()]).toEqual([0x58, false]); // the first block asked for without an interrupt
    b.outsw(payload.subarray(0, 4 * 512));
    expect([b.irq(), b.inb(CMD.STATUS)]).toEqual([true, 0x58]);
    expect([backend.writes, backend.flushes]).toEqual([1, 0]); // in the backend, not yet durable
    b.outsl(payload.subarray(4 * 512));
    expect([b.irq(), b.inb(CMD.STATUS)]).toEqual([true, 0x50]);
    expect([backend.writes, backend.flushes]).toEqual([2, 1]);
    expect(stableSectors(backend, 40, 6)).toEqual(payload);
  });

  it('is aborted while multiple mode is disabled, like WRITE MULTIPLE EXT', () => {
    const b = board({ master: { backend: new RecordingBackend(64), multipleSectors: 0 } });
    taskFile48(b, 0, 1);
    b.outb(CMD.COMMAND, Command.WRITE_MULTIPLE_FUA_EXT);
    expect([b.inb(CMD.STATUS), b.inb(CMD.ERROR)]).toEqual([Status.DRDY | Status.ERR, AtaError.ABRT]);
  });

  it('works the same with the write cache disabled', () => {
    const backend = new RecordingBackend(64);
    const b = board({ master: { backend, writeCache: false } });
    const payload = fill(3, 9);
    taskFile48(b, 7, 3);
    b.outb(CMD.COMMAND, Command.WRITE_MULTIPLE_FUA_EXT);
    b.outsw(payload);
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    expect(stableSectors(backend, 7, 3)).toEqual(payload);
  });
});
