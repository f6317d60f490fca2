// The rest of the command set and its errors, non-DMA transfers, the DMA gate, status registers A/B/3, media
// formats and the host's media API.
import { DeviceStateError } from '@splitvisor/abi';
import { createTestContext } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import type { FloppyDriveConfig, FloppyImage } from '../src/index.ts';
import { FloppyConfigError, I82077aa, MemoryFloppyImage } from '../src/index.ts';
import { DMA_READ_FROM_DISK, DMA_VERIFY, DMA_WRITE_TO_DISK, FdcBoard, lbaOf, patterned, ports } from './fdc-board.ts';

function machine(drives: readonly (FloppyDriveConfig | undefined)[] = [{ image: new MemoryFloppyImage(patterned(1_474_560)) }]) {
  const context = createTestContext();
  const board = new FdcBoard(context, drives);
  const io = ports(board);
  io.biosDmaSetup();
  io.out(0x3f2, 0x1c);
  io.out(0x3f7, 0x00);
  io.command(0x03, 0xdf, 0x02);
  return { context, board, io };
}

const imageOf = (board: FdcBoard, n = 0) => {
  const m = board.fdc.medium(n);
  if (m === undefined) throw new Error('no medium');
  return m;
};

describe('data command errors', () => {
  it('refuses to write a write-protected diskette: ST0 40h, ST1 NW, irq 6, image untouched', () => {
    const image = new MemoryFloppyImage(patterned(1_474_560));
    const { context, io } = machine([{ image, writeProtected: true }]);
    const before = image.bytes.slice();
    io.dmaChannel2(0x1000, 512, DMA_WRITE_TO_DISK);
    io.command(0xc5, 0x00, 0, 0, 1, 2, 18, 0x1b, 0xff);
    expect(context.irqLevel(0)).toBe(true);
    expect(io.results()).toEqual([0x40, 0x02, 0x00, 0, 0, 1, 2]);
    expect(Buffer.compare(image.bytes, before)).toBe(0); // byte for byte (toEqual on 1.4 MB takes vitest tens of seconds)
    expect(io.dmaIn(0x08) & 0x04).toBe(0); // no DMA happened
  });

  it('ends with EN (abnormal) when a transfer reaches EOT without terminal count', () => {
    const { context, io } = machine();
    io.dmaChannel2(0x1000, 4096, DMA_READ_FROM_DISK);
    io.command(0x46, 0x00, 0, 0, 17, 2, 18, 0x1b, 0xff); // no MT: sectors 17 and 18 of head 0
    expect(io.results()).toEqual([0x40, 0x80, 0x00, 1, 0, 1, 2]);
    expect(context.ram[0x1000]).toBe(lbaOf(0, 0, 17));
    expect(context.ram[0x1200]).toBe(lbaOf(0, 0, 18));
    expect(context.ram[0x1400]).toBe(0);
    expect(io.dmaIn(0x08)).toBe(0x00); // no TC, and DREQ is down
  });

  it('answers a sector that is not on the track with ST1 ND, moving no data', () => {
    const { context, io } = machine();
    io.dmaChannel2(0x1000, 512, DMA_READ_FROM_DISK);
    io.command(0x46, 0x00, 0, 0, 19, 2, 19, 0x1b, 0xff);
    expect(io.results()).toEqual([0x40, 0x04, 0x00, 0, 0, 19, 2]);
    expect(context.ram[0x1000]).toBe(0);
    // A size code other than 2 finds no sector either.
    io.command(0x46, 0x00, 0, 0, 1, 3, 1, 0x1b, 0xff);
    expect(io.results()).toEqual([0x40, 0x04, 0x00, 0, 0, 1, 3]);
    // Nor does a head address that is not the selected head.
    io.command(0x46, 0x04, 0, 0, 1, 2, 1, 0x1b, 0xff);
    expect(io.results()).toEqual([0x44, 0x04, 0x00, 0, 0, 1, 2]);
  });

  it('reports the wrong cylinder without implied seek, and seeks first with it (ST0 SE)', () => {
    const { context, io } = machine();
    io.dmaChannel2(0x1000, 512, DMA_READ_FROM_DISK);
    io.command(0x46, 0x00, 3, 0, 1, 2, 1, 0x1b, 0xff);
    expect(io.results()).toEqual([0x40, 0x04, 0x10, 3, 0, 1, 2]);
    io.command(0x13, 0x00, 0x40, 0x00); // CONFIGURE: implied seek
    io.dmaChannel2(0x1000, 512, DMA_READ_FROM_DISK);
    io.command(0x46, 0x00, 3, 0, 1, 2, 1, 0x1b, 0xff);
    expect(io.results()).toEqual([0x20, 0x00, 0x00, 4, 0, 1, 2]);
    expect(context.ram[0x1000]).toBe(lbaOf(3, 0, 1) & 0xff);
    io.command(0x0e);
    expect(io.results()[0]).toBe(3); // drive 0's PCN
  });

  it('turns a failing image read into a data error (ST1 DE, ST2 DD), counted', () => {
    const inner = new MemoryFloppyImage('1.44M');
    const failing: FloppyImage = {
      sectors: inner.sectors,
      read: (lba, count, into) => lba !== 5 && inner.read(lba, count, into),
      write: (lba, data) => inner.write(lba, data),
    };
    const { board, io } = machine([{ image: failing }]);
    io.dmaChannel2(0x1000, 4096, DMA_READ_FROM_DISK);
    io.command(0x46, 0x00, 0, 0, 5, 2, 8, 0x1b, 0xff);
    expect(io.results()).toEqual([0x40, 0x20, 0x20, 0, 0, 6, 2]);
    expect(board.fdc.anomalies()).toMatchObject({ imageReadErrors: 1 });
  });

  it('finds no address mark on an empty drive, in FM, at the wrong rate, past the last cylinder, or with no drive', () => {
    const { io, board } = machine([{ image: new MemoryFloppyImage('1.44M') }, {}]);
    const read = (select: number, first = 0x46, c = 0) => {
      io.dmaChannel2(0x1000, 512, DMA_READ_FROM_DISK);
      io.command(first, select, c, (select >> 2) & 1, 1, 2, 1, 0x1b, 0xff);
      return io.results();
    };
    expect(read(0x01)).toEqual([0x41, 0x01, 0x00, 0, 0, 1, 2]); // drive 1 is empty
    expect(read(0x00, 0x06)).toEqual([0x40, 0x01, 0x00, 0, 0, 1, 2]); // FM
    io.out(0x3f7, 0x02);
    expect(read(0x00)).toEqual([0x40, 0x01, 0x00, 0, 0, 1, 2]); // 250 kb/s on a 1.44 MB diskette
    io.out(0x3f7, 0x00);
    io.command(0x0f, 0x00, 82);
    io.command(0x08);
    expect(io.results()).toEqual([0x20, 82]);
    expect(read(0x00, 0x46, 82)).toEqual([0x40, 0x01, 0x00, 82, 0, 1, 2]);
    expect(read(0x02)).toEqual([0x42, 0x01, 0x00, 0, 0, 1, 2]); // drive select 2: nothing cabled
    io.command(0x07, 0x02); // recalibrate a missing drive: track 0 never seen
    io.command(0x08);
    expect(io.results()).toEqual([0x72, 0]);
    expect(board.fdc.anomalies()).toMatchObject({ invalidCommands: 0 });
  });

  it('stops at terminal count inside a sector: the rest is not transferred, the result names the next sector', () => {
    const { context, io } = machine();
    io.dmaChannel2(0x1000, 100, DMA_READ_FROM_DISK);
    io.command(0x46, 0x00, 0, 0, 3, 2, 18, 0x1b, 0xff);
    expect(io.results()).toEqual([0x00, 0x00, 0x00, 0, 0, 4, 2]);
    expect(context.ram[0x1000 + 99]).not.toBe(0);
    expect(context.ram[0x1000 + 100]).toBe(0);
  });

  it('pads a write cut short by terminal count with zeros', () => {
    const image = new MemoryFloppyImage(patterned(1_474_560));
    const { context, io } = machine([{ image }]);
    context.ram.fill(0x5a, 0x1000, 0x1000 + 10);
    io.dmaChannel2(0x1000, 10, DMA_WRITE_TO_DISK);
    io.command(0x45, 0x00, 0, 0, 2, 2, 18, 0x1b, 0xff);
    expect(io.results()).toEqual([0x00, 0x00, 0x00, 0, 0, 3, 2]);
    const at = lbaOf(0, 0, 2) * 512;
    expect([...image.bytes.subarray(at + 8, at + 12)]).toEqual([0x5a, 0x5a, 0, 0]);
  });

  it('runs a DMA verify (the 8237 counts, memory untouched) for a BIOS-style sector verify', () => {
    const { context, io } = machine();
    io.dmaChannel2(0x1000, 1024, DMA_VERIFY);
    io.command(0x46, 0x00, 0, 0, 1, 2, 2, 0x1b, 0xff);
    expect(io.results()).toEqual([0x00, 0x00, 0x00, 1, 0, 1, 2]);
    expect(context.ram.subarray(0x1000, 0x1400).every((b) => b === 0)).toBe(true);
  });
});

describe('non-DMA (SPECIFY ND) transfers', () => {
  it('reads through the FIFO: MSR F0h and irq 6 while bytes are waiting, then the result', () => {
    const { context, io, board } = machine();
    io.command(0x03, 0xdf, 0x03); // ND
    io.command(0x46, 0x00, 0, 1, 1, 2, 1, 0x1b, 0xff);
    // Head address 1 on head 0: not found (a precheck that the FIFO path still reports errors).
    expect(io.results()).toEqual([0x40, 0x04, 0x00, 0, 1, 1, 2]);
    io.command(0x46, 0x04, 0, 1, 5, 2, 5, 0x1b, 0xff);
    expect(io.msr()).toBe(0xf0);
    expect(context.irqLevel(0)).toBe(true);
    const data = Array.from({ length: 512 }, () => io.in(0x3f5));
    expect(board.fdc.medium(0)?.format.name).toBe('1.44M');
    const image = patterned(1_474_560);
    const at = lbaOf(0, 1, 5) * 512;
    expect(data).toEqual([...image.subarray(at, at + 512)]);
    expect(io.msr()).toBe(0xd0);
    expect(io.results()).toEqual([0x44, 0x80, 0x00, 1, 1, 1, 2]); // EOT reached with no terminal count on the PC
    expect(context.irqLevel(0)).toBe(false);
  });

  it('writes through the FIFO: MSR B0h, a sector per 512 bytes', () => {
    const image = new MemoryFloppyImage('1.44M');
    const { io } = machine([{ image }]);
    io.command(0x03, 0xdf, 0x03);
    io.command(0x45, 0x00, 0, 0, 7, 2, 7, 0x1b, 0xff);
    expect(io.msr()).toBe(0xb0);
    for (let i = 0; i < 512; i++) io.out(0x3f5, i & 0xff);
    expect(io.results()).toEqual([0x40, 0x80, 0x00, 1, 0, 1, 2]);
    const at = lbaOf(0, 0, 7) * 512;
    expect(image.bytes[at + 255]).toBe(255);
    expect(image.bytes[at + 256]).toBe(0);
  });
});

describe('other commands', () => {
  it('formats a track by DMA from the host\'s ID table, filling each sector', () => {
    const image = new MemoryFloppyImage(patterned(1_474_560));
    const { context, io } = machine([{ image }]);
    io.command(0x0f, 0x04, 10);
    io.command(0x08);
    io.results();
    for (let r = 1; r <= 18; r++) context.ram.set([10, 1, r, 2], 0x2000 + (r - 1) * 4);
    io.dmaChannel2(0x2000, 18 * 4, DMA_WRITE_TO_DISK);
    io.command(0x4d, 0x04, 2, 18, 0x6c, 0xf6); // FORMAT TRACK head 1: N 2, 18 sectors, gap, filler F6h
    expect(io.results()).toEqual([0x04, 0x00, 0x00, 10, 1, 18, 2]);
    const at = lbaOf(10, 1, 1) * 512;
    expect(image.bytes.subarray(at, at + 18 * 512).every((b) => b === 0xf6)).toBe(true);
    expect(image.bytes[at - 1]).not.toBe(0xf6);
    expect(image.bytes[at + 18 * 512]).not.toBe(0xf6);
    expect(io.dmaIn(0x08) & 0x04).toBe(0x04);
  });

  it('reads an ID 20 ms after READ ID, with MSR showing only CB meanwhile; an empty drive finds none', () => {
    const { context, io } = machine([{ image: new MemoryFloppyImage('720K') }, {}]);
    io.out(0x3f7, 0x02); // 250 kb/s for the 720 KB diskette
    io.command(0x4a, 0x04);
    expect(io.msr()).toBe(0x10);
    context.advance(20_000_000);
    expect(io.results()).toEqual([0x04, 0, 0, 0, 1, 2, 2]);
    io.command(0x4a, 0x04);
    context.advance(20_000_000);
    expect(io.results()).toEqual([0x04, 0, 0, 0, 1, 3, 2]); // the next sector passes under the head
    io.command(0x4a, 0x01);
    context.advance(20_000_000);
    expect(io.results().slice(0, 3)).toEqual([0x41, 0x01, 0x00]);
  });

  it('reports drive status in ST3: track 0, head, write protect (and an empty drive reads as protected)', () => {
    const { board, io } = machine([{ image: new MemoryFloppyImage('1.44M') }, {}]);
    io.command(0x04, 0x04);
    expect(io.results()).toEqual([0x3c]);
    board.fdc.setWriteProtected(0, true);
    io.command(0x0f, 0x00, 3);
    io.command(0x04, 0x00);
    expect(io.results()).toEqual([0x68]);
    io.command(0x04, 0x01);
    expect(io.results()).toEqual([0x79]);
  });

  it('steps relative to the present cylinder (RELATIVE SEEK), in and out, clamped at 0', () => {
    const { io } = machine();
    io.command(0xcf, 0x00, 12); // in by 12
    io.command(0x08);
    expect(io.results()).toEqual([0x20, 12]);
    io.command(0x8f, 0x00, 5); // out by 5
    io.command(0x08);
    expect(io.results()).toEqual([0x20, 7]);
    io.command(0x8f, 0x00, 50);
    io.command(0x08);
    expect(io.results()).toEqual([0x20, 0]);
  });

  it('reads a track from its first sector, verifies a sector count, and reads a normal sector as deleted data with CM', () => {
    const { context, io } = machine();
    io.dmaChannel2(0x4000, 3 * 512, DMA_READ_FROM_DISK);
    io.command(0x42, 0x00, 0, 0, 9, 2, 3, 0x1b, 0xff); // READ TRACK: R is ignored, sectors 1–3
    expect(io.results()).toEqual([0x00, 0, 0, 1, 0, 1, 2]);
    expect([context.ram[0x4000], context.ram[0x4200], context.ram[0x4400]]).toEqual([0, 1, 2]);
    io.command(0x56, 0x80, 0, 0, 4, 2, 18, 0x1b, 3); // VERIFY with EC: 3 sectors from R4
    expect(io.results()).toEqual([0x00, 0, 0, 0, 0, 7, 2]);
    io.dmaChannel2(0x6000, 512, DMA_READ_FROM_DISK);
    io.command(0x4c, 0x00, 0, 0, 8, 2, 18, 0x1b, 0xff); // READ DELETED DATA, SK clear
    expect(io.results()).toEqual([0x00, 0, 0x40, 0, 0, 9, 2]);
    expect(context.ram[0x6000]).toBe(7);
    io.command(0x6c, 0x00, 0, 0, 17, 2, 18, 0x1b, 0xff); // SK set: both sectors skipped, nothing read
    expect(io.results()).toEqual([0x40, 0x80, 0x40, 1, 0, 1, 2]);
  });

  it('answers an invalid command with ST0 80h and no interrupt, counting it', () => {
    const { context, board, io } = machine();
    io.command(0x1f);
    expect(io.msr()).toBe(0xd0);
    expect(context.irqLevel(0)).toBe(false);
    expect(io.results()).toEqual([0x80]);
    expect(board.fdc.anomalies()).toMatchObject({ invalidCommands: 1 });
    expect(context.warnings.some((w) => w.includes('invalid command 1fh'))).toBe(true);
  });
});

describe('registers and outputs', () => {
  it('gates INT and DRQ with DOR bit 3: a pending interrupt shows in SRA but not on irq 6; a transfer waits', () => {
    const { context, io } = machine();
    io.out(0x3f2, 0x14); // not reset, motor 0, gate off
    io.command(0x07, 0x00);
    expect(context.irqLevel(0)).toBe(false);
    expect(io.in(0x3f0) & 0x80).toBe(0x80);
    io.out(0x3f2, 0x1c);
    expect(context.irqLevel(0)).toBe(true);
    io.command(0x08);
    io.results();
    io.out(0x3f2, 0x14);
    io.dmaChannel2(0x1000, 512, DMA_READ_FROM_DISK);
    io.command(0x46, 0x00, 0, 0, 1, 2, 1, 0x1b, 0xff);
    expect(io.msr()).toBe(0x10);
    expect(context.ram[0x1000]).toBe(0);
    io.out(0x3f2, 0x1c);
    expect(io.msr()).toBe(0xd0);
    expect(io.results()[0]).toBe(0x00);
  });

  it('waits with DRQ while channel 2 is masked, and transfers when the driver unmasks it', () => {
    const { context, io } = machine();
    io.dmaChannel2(0x1000, 512, DMA_READ_FROM_DISK, false);
    io.command(0x46, 0x00, 0, 0, 2, 2, 2, 0x1b, 0xff);
    expect(io.msr()).toBe(0x10);
    expect(io.dmaIn(0x08)).toBe(0x40); // channel 2 requesting
    io.dmaOut(0x0a, 0x02);
    expect(context.ram[0x1000]).toBe(1);
    expect(io.results()).toEqual([0x00, 0, 0, 1, 0, 1, 2]);
  });

  it('holds the controller in reset while DOR bit 2 is clear: MSR 0, register writes ignored and counted', () => {
    const { board, io } = machine();
    io.out(0x3f2, 0x18);
    expect(io.msr()).toBe(0);
    io.out(0x3f5, 0x08);
    io.out(0x3f7, 0x02);
    io.out(0x3f4, 0x01);
    expect(board.fdc.anomalies()).toMatchObject({ writesDuringReset: 3 });
    io.out(0x3f2, 0x1c);
    expect(io.msr()).toBe(0x80);
  });

  it('abandons a command on reset: DRQ drops, the result is gone', () => {
    const { io } = machine();
    io.dmaChannel2(0x1000, 512, DMA_READ_FROM_DISK, false);
    io.command(0x46, 0x00, 0, 0, 2, 2, 2, 0x1b, 0xff);
    io.out(0x3f4, 0x80);
    expect(io.dmaIn(0x08)).toBe(0x00);
    expect(io.msr()).toBe(0x80);
  });

  it('shows drive lines in SRA and motors and drive select in SRB; DOR and TDR read back', () => {
    const { io } = machine([{ image: new MemoryFloppyImage('1.44M') }, {}]);
    io.out(0x3f2, 0x3d); // motors 0 and 1, drive 1 selected
    expect(io.in(0x3f2)).toBe(0x3d);
    expect(io.in(0x3f1)).toBe(0xc0 | 0x20 | 0x02 | 0x01);
    expect(io.in(0x3f0)).toBe(0x04 | 0x00); // drive 1: at track 0, empty (protected), second drive present
    io.out(0x3f2, 0x1c);
    io.command(0x0f, 0x04, 9);
    expect(io.in(0x3f0)).toBe(0x80 | 0x10 | 0x08 | 0x04 | 0x02);
    io.out(0x3f3, 0xff);
    expect(io.in(0x3f3)).toBe(0x03);
  });
});

describe('media and host API', () => {
  it('derives the format from the image size and refuses what the drive cannot take', () => {
    expect(() => new MemoryFloppyImage(new Uint8Array(1_000_000))).toThrow(FloppyConfigError);
    const context = createTestContext();
    const board = new FdcBoard(context, [{ type: '720K' }, { type: '1.44M' }]);
    expect(() => { board.fdc.insert(0, new MemoryFloppyImage('1.44M')); }).toThrow(FloppyConfigError);
    expect(() => { board.fdc.insert(1, new MemoryFloppyImage('2.88M')); }).toThrow(FloppyConfigError);
    expect(() => { board.fdc.insert(2, new MemoryFloppyImage('720K')); }).toThrow(FloppyConfigError);
    board.fdc.insert(1, new MemoryFloppyImage('720K'), { writeProtected: true });
    expect(imageOf(board, 1)).toMatchObject({ format: { name: '720K', sectorsPerTrack: 9 }, writeProtected: true });
    expect(() => new I82077aa(context, { dma: board.dma.channel(3), drives: [{}, {}, {}, {}, {}] })).toThrow(FloppyConfigError);
  });

  it('restores its state only onto the drives and diskettes the state describes', () => {
    const context = createTestContext();
    const board = new FdcBoard(context, [{ image: new MemoryFloppyImage('1.44M') }]);
    const other = new FdcBoard(createTestContext(), [{ image: new MemoryFloppyImage('720K') }]);
    expect(() => { other.fdc.setState(board.fdc.getState()); }).toThrow(DeviceStateError);
    const empty = new FdcBoard(createTestContext(), [{}]);
    expect(() => { empty.fdc.setState(board.fdc.getState()); }).toThrow(DeviceStateError);
    const twoDrives = new FdcBoard(createTestContext(), [{ image: new MemoryFloppyImage('1.44M') }, {}]);
    expect(() => { twoDrives.fdc.setState(board.fdc.getState()); }).toThrow(DeviceStateError);
    const same = new FdcBoard(createTestContext(), [{ image: new MemoryFloppyImage('1.44M') }]);
    same.fdc.setState(board.fdc.getState());
    expect(same.fdc.getState()).toEqual(board.fdc.getState());
  });
});
