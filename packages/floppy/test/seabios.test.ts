// SeaBIOS's floppy path at POST and INT 13h (src/hw/floppy.c, as its accesses appear in the seabios-post trace):
// reset through the DOR, four SENSE INTERRUPT STATUS, recalibrate, READ ID, SPECIFY, and the boot sector read
// by DMA channel 2 into 0000:7C00, on a virtual clock, with irq 6 watched.
import { createTestContext } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import { MemoryFloppyImage } from '../src/index.ts';
import { DMA_READ_FROM_DISK, FdcBoard, patterned, ports } from './fdc-board.ts';

function boot() {
  const context = createTestContext();
  const image = new MemoryFloppyImage(patterned(1_474_560));
  const board = new FdcBoard(context, [{ image }]);
  const io = ports(board);
  io.biosDmaSetup();
  return { context, board, io, image };
}

describe('SeaBIOS floppy init and boot-sector read', () => {
  it('resets through the DOR and reports a ready change for each of the four drive selects', () => {
    const { context, io } = boot();
    io.out(0x3f2, 0x08); // reset held, DMA gate on
    expect(io.msr()).toBe(0x00);
    io.out(0x3f2, 0x0c); // released: interrupt
    expect(context.irqLevel(0)).toBe(true);
    expect(io.msr()).toBe(0x80);
    const senses = [0, 1, 2, 3].map(() => { io.command(0x08); return io.results(); });
    expect(senses).toEqual([[0xc0, 0], [0xc1, 0], [0xc2, 0], [0xc3, 0]]);
    expect(context.irqLevel(0)).toBe(false); // the first SENSE INTERRUPT STATUS released it
    io.command(0x08);
    expect(io.results()).toEqual([0x80]); // nothing left to sense: invalid
  });

  it('recalibrates drive 0 (irq 6, then ST0 20h and PCN 0), reads an ID 20 ms later, specifies, reads the boot sector by DMA', () => {
    const { context, io, image } = boot();
    io.out(0x3f2, 0x08);
    io.out(0x3f2, 0x0c);
    for (let i = 0; i < 4; i++) { io.command(0x08); io.results(); }
    io.out(0x3f2, 0x1c); // motor 0 on, drive 0

    io.command(0x07);
    expect(io.msr()).toBe(0x90); // the parameter is awaited
    io.command(0x00);
    expect(io.msr()).toBe(0x80); // no result phase: the seek is done at once
    expect(context.irqLevel(0)).toBe(true);
    io.command(0x08);
    expect(io.msr()).toBe(0xd0);
    expect(io.results()).toEqual([0x20, 0]);
    expect(context.irqLevel(0)).toBe(false);

    io.out(0x3f7, 0x00); // 500 kb/s
    io.command(0x4a, 0x00); // READ ID, MFM, drive 0 head 0
    expect(io.msr()).toBe(0x10);
    context.advance(19_999_999);
    expect(context.irqLevel(0)).toBe(false);
    context.advance(1);
    expect(context.irqLevel(0)).toBe(true);
    expect(io.results()).toEqual([0x00, 0x00, 0x00, 0, 0, 2, 2]); // the ID after sector 1: C0 H0 R2 N2
    expect(context.irqLevel(0)).toBe(false);

    io.command(0x03, 0xaf, 0x02); // SPECIFY: SRT 10, HUT 15, HLT 1, DMA
    expect(io.msr()).toBe(0x80);

    // dma_setup for the read: mask, clear flip-flop, address 7C00h, count 511, mode 46h, page 0, unmask.
    context.ram.fill(0xaa, 0x7c00, 0x7e00);
    io.dmaChannel2(0x7c00, 512, DMA_READ_FROM_DISK);
    io.out(0x3f2, 0x1c);
    io.command(0xe6, 0x00, 0, 0, 1, 2, 1, 0x1b, 0xff); // READ DATA, MT MFM SK, C0 H0 R1 N2, EOT 1
    expect(context.irqLevel(0)).toBe(true);
    expect(io.msr()).toBe(0xd0);
    // Terminal count at the end of sector 1 = EOT with MT on head 0: the next ID is C0 H1 R1; ST0 shows head 1.
    expect(io.results()).toEqual([0x04, 0x00, 0x00, 0, 1, 1, 2]);
    expect(context.irqLevel(0)).toBe(false);
    expect(context.ram.subarray(0x7c00, 0x7e00)).toEqual(image.bytes.subarray(0, 512));
    expect(context.ram[0x7e00]).toBe(0);
    // The 8237 reached terminal count on channel 2 (status bit 2, DREQ gone) and masked it.
    expect(io.dmaIn(0x08)).toBe(0x04);
    expect(io.dmaIn(0x0f) & 0x04).toBe(0x04);
    expect(io.msr()).toBe(0x80);
  });
});
