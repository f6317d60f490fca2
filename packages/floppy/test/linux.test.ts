// Linux's floppy driver (drivers/block/floppy.c) as it talks to an 82077AA: the controller probe
// (DUMPREGS, VERSION, PERPENDICULAR, UNLOCK, PARTID), CONFIGURE and LOCK, reset through the DSR, SPECIFY, the data
// rate through 3F7h, seek and SENSE INTERRUPT STATUS, multi-track reads and writes by DMA channel 2, disk-change
// handling through the DIR, and the DMA refusing memory outside guest RAM.
import { createTestContext } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import { MemoryFloppyImage } from '../src/index.ts';
import { DMA_READ_FROM_DISK, DMA_WRITE_TO_DISK, FdcBoard, lbaOf, patterned, ports } from './fdc-board.ts';

const FD_DOR = 0x0c; // DMA gate + not reset, drive 0
const MOTOR_A = 0x10;

function machine(memoryBytes = 1 << 20) {
  const context = createTestContext({ memoryBytes });
  const image = new MemoryFloppyImage(patterned(1_474_560));
  const board = new FdcBoard(context, [{ image }, { type: '2.88M' }]);
  const io = ports(board);
  io.biosDmaSetup();
  return { context, board, io, image };
}

/**
 * floppy_interrupt's loop: SENSE INTERRUPT STATUS while it answers two bytes whose ST0 (masked with 83h) is not the
 * drive's, at most four times. After a reset every answer has IC = 11b, so it drains all four and stops at the
 * invalid fifth. Returns the last two-byte answer.
 */
function senseUntil(io: ReturnType<typeof ports>, drive: number): number[] {
  let last: number[] = [];
  for (let i = 0; i < 5; i++) {
    io.command(0x08);
    const r = io.results();
    if (r.length !== 2) break;
    last = r;
    if (((r[0] ?? 0) & 0x83) === drive) break;
  }
  return last;
}

describe('Linux floppy driver', () => {
  it('identifies a post-1991 82077 the way get_fdc_version does, then configures and locks it', () => {
    const { io } = machine();
    io.out(0x3f2, FD_DOR);
    io.command(0x0e); // DUMPREGS
    expect(io.results()).toEqual([0, 0, 0, 0, 0, 0, 0, 0x00, 0x20, 0]); // 10 bytes: not an 8272A; CONFIGURE's default 20h
    io.command(0x10); // VERSION
    expect(io.results()).toEqual([0x90]);
    io.command(0x12); // PERPENDICULAR: an 82072 would answer invalid at once
    expect(io.msr()).toBe(0x90); // need_more_output: a parameter is wanted
    io.command(0x00);
    io.command(0x14); // UNLOCK
    expect(io.results()).toEqual([0x00]);
    io.command(0x18); // PARTID: the 82077AA has none
    expect(io.results()).toEqual([0x80]); // one byte, 80h: "post-1991 82077"
    io.command(0x13, 0x00, 0x1a, 0x00); // fdc_configure: implied seek off, FIFO on, polling off, threshold 10
    io.command(0x94); // LOCK
    expect(io.results()).toEqual([0x10]);
    io.command(0x0e);
    expect(io.results()).toEqual([0, 0, 0, 0, 0, 0, 0, 0x80, 0x1a, 0]);
  });

  it('resets through the DSR: interrupt, ready changes, and the LOCKed FIFO settings survive (polling and implied seek do not)', () => {
    const { context, io } = machine();
    io.out(0x3f2, FD_DOR);
    io.command(0x13, 0x00, 0x5a, 0x07); // implied seek, FIFO, polling off, threshold 10, precompensation from track 7
    io.command(0x94);
    io.results();
    io.command(0x03, 0xdf, 0x02); // SPECIFY
    io.out(0x3f4, 0x80 | 0x00); // DSR: software reset at 500 kb/s
    expect(context.irqLevel(0)).toBe(true);
    expect(senseUntil(io, 0)).toEqual([0xc3, 0]); // all four ready changes drained
    expect(context.irqLevel(0)).toBe(false);
    io.command(0x0e);
    expect(io.results()).toEqual([0, 0, 0, 0, 0xdf, 0x02, 0, 0x80, 0x0a, 0x07]);
    // Unlocked, a reset restores the defaults.
    io.command(0x14);
    io.results();
    io.out(0x3f4, 0x80);
    senseUntil(io, 0);
    io.command(0x0e);
    expect(io.results().slice(7)).toEqual([0x00, 0x20, 0x00]);
  });

  it('seeks, then reads a whole cylinder with MT by DMA and ends at terminal count', () => {
    const { context, io, image } = machine();
    io.out(0x3f2, FD_DOR | MOTOR_A);
    io.command(0x03, 0xdf, 0x02);
    io.out(0x3f7, 0x00);
    io.command(0x0f, 0x00, 5); // SEEK drive 0 to cylinder 5
    expect(context.irqLevel(0)).toBe(true);
    expect(senseUntil(io, 0)).toEqual([0x20, 5]);
    const bytes = 2 * 18 * 512;
    io.dmaChannel2(0x2_0000, bytes, DMA_READ_FROM_DISK);
    io.command(0xe6, 0x00, 5, 0, 1, 2, 18, 0x1b, 0xff); // READ C5 H0 R1..18 then head 1
    expect(io.results()).toEqual([0x00, 0x00, 0x00, 6, 0, 1, 2]); // TC at the end of head 1's EOT: next is C6 H0 R1
    const start = lbaOf(5, 0, 1) * 512;
    expect(context.ram.subarray(0x2_0000, 0x2_0000 + bytes)).toEqual(image.bytes.subarray(start, start + bytes));
  });

  it('writes sectors by DMA and reads them back', () => {
    const { context, io, image } = machine();
    io.out(0x3f2, FD_DOR | MOTOR_A);
    io.command(0x03, 0xdf, 0x02);
    io.command(0x0f, 0x04, 40); // SEEK drive 0 head 1 to 40
    senseUntil(io, 0);
    for (let i = 0; i < 1024; i++) context.ram[0x3000 + i] = (i * 13 + 5) & 0xff;
    io.dmaChannel2(0x3000, 1024, DMA_WRITE_TO_DISK);
    io.command(0xc5, 0x04, 40, 1, 17, 2, 18, 0x1b, 0xff); // WRITE C40 H1 R17–18
    expect(io.results()).toEqual([0x00, 0, 0, 41, 0, 1, 2]); // MT at EOT on head 1: C41 H0 R1 (ST0's head bit is H's)
    const at = lbaOf(40, 1, 17) * 512;
    expect(image.bytes.subarray(at, at + 1024)).toEqual(context.ram.subarray(0x3000, 0x3400));
    io.dmaChannel2(0x8000, 1024, DMA_READ_FROM_DISK);
    io.command(0xe6, 0x04, 40, 1, 17, 2, 18, 0x1b, 0xff);
    expect(io.results()[0]).toBe(0x00);
    expect(context.ram.subarray(0x8000, 0x8400)).toEqual(context.ram.subarray(0x3000, 0x3400));
  });

  it('sees a media change in the DIR and clears it by stepping (the "twaddle"), and sees eject and insert', () => {
    const { board, io } = machine();
    io.out(0x3f2, FD_DOR | MOTOR_A);
    expect(io.in(0x3f7) & 0x80).toBe(0x80); // power-on: changed
    io.command(0x07, 0x00); // recalibrate from track 0 steps nowhere: still changed
    senseUntil(io, 0);
    expect(io.in(0x3f7) & 0x80).toBe(0x80);
    io.command(0x0f, 0x00, 1);
    senseUntil(io, 0);
    io.command(0x0f, 0x00, 0);
    senseUntil(io, 0);
    expect(io.in(0x3f7)).toBe(0x00);
    board.fdc.eject(0);
    expect(io.in(0x3f7)).toBe(0x80);
    io.command(0x0f, 0x00, 1); // no diskette: stepping does not clear it
    senseUntil(io, 0);
    expect(io.in(0x3f7)).toBe(0x80);
    board.fdc.insert(0, new MemoryFloppyImage('720K'));
    io.command(0x0f, 0x00, 2);
    senseUntil(io, 0);
    expect(io.in(0x3f7)).toBe(0x00);
    // Drive 1 (2.88 MB, empty) selected in the DOR: its own line.
    io.out(0x3f2, FD_DOR | 1);
    expect(io.in(0x3f7)).toBe(0x80);
  });

  it('lets the DMA refuse a transfer outside guest RAM: counted and logged by the 8237, the command still completes', () => {
    const { context, board, io } = machine(256 * 1024);
    io.out(0x3f2, FD_DOR | MOTOR_A);
    io.command(0x03, 0xdf, 0x02);
    io.dmaChannel2(0x50_0000, 512, DMA_READ_FROM_DISK); // page 50h: 5 MiB, past 256 KiB of RAM
    io.command(0xe6, 0x00, 0, 0, 1, 2, 1, 0x1b, 0xff);
    expect(io.results()).toEqual([0x04, 0, 0, 0, 1, 1, 2]);
    expect(board.dma.anomalies()).toMatchObject({ unbackedTransfers: 1 });
    expect(context.warnings.some((w) => w.includes('outside guest RAM'))).toBe(true);
    expect(context.ram.every((b) => b === 0)).toBe(true);
  });

  it('reads a 2.88 MB diskette at 1 Mb/s with perpendicular mode set, and not at 500 kb/s', () => {
    const { context, board, io } = machine();
    board.fdc.insert(1, new MemoryFloppyImage(patterned(2_949_120)));
    io.out(0x3f2, FD_DOR | 1 | 0x20);
    io.command(0x03, 0xdf, 0x02);
    io.command(0x12, 0x80 | 0x08); // PERPENDICULAR: OW, drive 1
    io.out(0x3f7, 0x00);
    io.dmaChannel2(0x1000, 512, DMA_READ_FROM_DISK);
    io.command(0xe6, 0x01, 0, 0, 36, 2, 36, 0x1b, 0xff);
    expect(io.results().slice(0, 3)).toEqual([0x41, 0x01, 0x00]); // wrong rate: no address mark
    io.out(0x3f7, 0x03);
    io.dmaChannel2(0x1000, 512, DMA_READ_FROM_DISK);
    io.command(0xe6, 0x01, 0, 0, 36, 2, 36, 0x1b, 0xff);
    expect(io.results()).toEqual([0x05, 0, 0, 0, 1, 1, 2]);
    expect(context.ram[0x1000]).toBe(35); // LBA 35 names itself
    io.command(0x0e);
    expect(io.results()[7]).toBe(0x08);
  });
});
