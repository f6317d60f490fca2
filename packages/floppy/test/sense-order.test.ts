// SENSE INTERRUPT STATUS after a reset. Leaving reset the controller holds a ready change per drive, C0h–C3h
// (data sheet "Drive Polling"; Table 5-9: SE 0, IC 11 "Polling"), each wanting a SENSE INTERRUPT STATUS. Commands
// that raise no interrupt leave them; the next interrupt — a seek's or recalibrate's end (SE 1, IC 00: 20h + drive),
// a result phase — supersedes those not yet sensed, as in QEMU, whose raising of any interrupt ends its count of
// reset senses. Linux senses all four after its reset; SeaBIOS 1.16.2 (the recorded trace) does too, but earlier
// releases sensed once and went on to recalibrate.
import type { TraceAccess } from '@splitvisor/device-testkit';
import { createTestContext, loadTrace, replayTrace } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import { MemoryFloppyImage } from '../src/index.ts';
import { DMA_READ_FROM_DISK, FdcBoard, PLACEMENTS, isFloppy, patterned, ports } from './fdc-board.ts';

function machine() {
  const context = createTestContext();
  const board = new FdcBoard(context, [{ image: new MemoryFloppyImage(patterned(1_474_560)) }, { image: new MemoryFloppyImage('1.44M') }]);
  const io = ports(board);
  io.biosDmaSetup();
  return { context, board, io };
}

type Io = ReturnType<typeof ports>;

function dorReset(io: Io): void {
  io.out(0x3f2, 0x08);
  io.out(0x3f2, 0x0c);
}

function sense(io: Io): number[] {
  io.command(0x08);
  return io.results();
}

describe('SENSE INTERRUPT STATUS after a reset', () => {
  it('reset → SPECIFY → RECALIBRATE: the sense answers the recalibrate (20h, PCN 0); the ready changes are gone', () => {
    const { context, io } = machine();
    dorReset(io);
    expect(context.irqLevel(0)).toBe(true);
    io.command(0x03, 0xaf, 0x02); // SPECIFY: no interrupt of its own
    io.out(0x3f2, 0x1c);
    io.command(0x07, 0x00); // RECALIBRATE drive 0
    expect(context.irqLevel(0)).toBe(true);
    expect(sense(io)).toEqual([0x20, 0]); // SE, normal termination, drive 0 (QEMU: E0h, the reset's IC kept)
    expect(context.irqLevel(0)).toBe(false);
    expect(sense(io)).toEqual([0x80]); // no interrupt left: invalid, as in QEMU
    expect(context.irqLevel(0)).toBe(false);
  });

  it('DSR reset → VERSION → SEEK drive 1 to cylinder 5: the sense answers the seek (21h, PCN 5)', () => {
    const { io } = machine();
    io.out(0x3f2, 0x1c);
    io.out(0x3f4, 0x80); // software reset, 500 kb/s
    io.command(0x10);
    expect(io.results()).toEqual([0x90]);
    io.command(0x0f, 0x01, 5);
    expect(sense(io)).toEqual([0x21, 5]);
    expect(sense(io)).toEqual([0x80]);
  });

  it('a result phase supersedes them too: reset → READ DATA → the sense after its result is invalid', () => {
    const { context, io } = machine();
    dorReset(io);
    io.out(0x3f2, 0x1c);
    io.out(0x3f7, 0x00);
    io.command(0x03, 0xaf, 0x02);
    io.dmaChannel2(0x1000, 512, DMA_READ_FROM_DISK);
    io.command(0xe6, 0x00, 0, 0, 1, 2, 1, 0x1b, 0xff);
    expect(context.irqLevel(0)).toBe(true);
    expect(io.results()).toEqual([0x04, 0x00, 0x00, 0, 1, 1, 2]);
    expect(sense(io)).toEqual([0x80]);
  });

  it('reset → four senses gives C0h–C3h in drive order, as Linux drains them — also after commands without an interrupt', () => {
    const { context, io } = machine();
    dorReset(io);
    expect([0, 1, 2, 3].map(() => sense(io))).toEqual([[0xc0, 0], [0xc1, 0], [0xc2, 0], [0xc3, 0]]);
    expect(sense(io)).toEqual([0x80]);

    io.out(0x3f4, 0x80); // DSR reset
    expect(context.irqLevel(0)).toBe(true);
    io.command(0x03, 0xdf, 0x02); // SPECIFY
    io.command(0x13, 0x00, 0x1a, 0x00); // CONFIGURE (polling off: the ready changes already held stay)
    io.command(0x12, 0x00); // PERPENDICULAR MODE
    io.command(0x04, 0x00); // SENSE DRIVE STATUS
    expect(io.results()).toEqual([0x38]); // ST3: track 0, two-sided
    // floppy_interrupt: sense while the answer has two bytes and its ST0 & 83h is not the drive's, at most four times.
    const answers: number[][] = [];
    for (let i = 0; i < 4; i++) {
      const r = sense(io);
      answers.push(r);
      if (r.length !== 2 || ((r[0] ?? 0) & 0x83) === 0) break;
    }
    expect(answers).toEqual([[0xc0, 0], [0xc1, 0], [0xc2, 0], [0xc3, 0]]);
    expect(sense(io)).toEqual([0x80]);
  });
});

describe('SeaBIOS floppy init replayed from the seabios-post trace', () => {
  /** SeaBIOS's floppy accesses from its DOR reset up to the data rate it sets for READ ID (3F7h), after the recalibrate. */
  function initSegment(): readonly TraceAccess[] {
    const floppy = loadTrace('seabios-post').filter(isFloppy);
    const end = floppy.findIndex((a) => a.op === 'w' && a.addr === 0x3f7);
    return floppy.slice(0, end);
  }

  const isSense = (a: TraceAccess) => a.op === 'w' && a.addr === 0x3f5 && a.value === 0x08;

  function replay(records: readonly TraceAccess[]) {
    const context = createTestContext();
    const board = new FdcBoard(context, [{ image: new MemoryFloppyImage('1.44M') }]);
    return { board, context, result: replayTrace(board, context, records, PLACEMENTS) };
  }

  it('as recorded (SeaBIOS 1.16.2): reset, four senses C0h–C3h, RECALIBRATE, its sense 20h — every read as QEMU answered', () => {
    const records = initSegment();
    expect(records.filter(isSense)).toHaveLength(5);
    const { result } = replay(records);
    expect(result.mismatches).toEqual([]);
    expect(result.reads).toBe(33);
    expect(result.identical).toBe(result.reads);
  });

  it('sensing once after the reset, as earlier SeaBIOS releases did: the recalibrate\'s sense still answers 20h, PCN 0', () => {
    // The recorded accesses without the second to fourth sense (each: MSR poll, 08h, MSR/ST0/MSR/PCN/MSR reads).
    // QEMU's answers to the rest are the recorded ones: its recalibrate raised an interrupt, which ends its count of
    // reset senses (hw/block/fdc.c), and the ST0 it then reports is the recalibrate's.
    const records = initSegment();
    const senses = records.flatMap((a, i) => (isSense(a) ? [i] : []));
    const second = senses[1] ?? 0;
    const recalibrate = records.findIndex((a) => a.op === 'w' && a.addr === 0x3f2 && a.value === 0x1c);
    expect(records[second - 1]).toMatchObject({ op: 'r', addr: 0x3f4, value: 0x80 });
    const once = [...records.slice(0, second - 1), ...records.slice(recalibrate)];
    expect(once.filter(isSense)).toHaveLength(2);
    const stRead = once.filter((a) => a.op === 'r' && a.addr === 0x3f5).map((a) => a.value);
    expect(stRead).toEqual([0xc0, 0, 0x20, 0]); // what SeaBIOS reads: the reset's first ready change, then the recalibrate's end

    const { board, context, result } = replay(once);
    expect(result.mismatches).toEqual([]);
    expect(result.identical).toBe(result.reads);
    expect(board.anomalies()).toMatchObject({ invalidCommands: 0, unexpectedDataReads: 0, unexpectedDataWrites: 0 });
    expect(sense(ports(board))).toEqual([0x80]); // the other three ready changes went with the recalibrate's interrupt
    expect(context.irqLevel(0)).toBe(false);
  });
});

describe('restoring a record saved by 0.1.5', () => {
  it('drops a reset\'s ready changes held behind a later interrupt\'s status, so the seek end is sensed first', () => {
    const { board, io } = machine();
    io.out(0x3f2, 0x1c);
    io.command(0x07, 0x00);
    const saved = board.fdc.getState();
    // 0.1.5's queue after reset → one sense → RECALIBRATE drive 0: the other ready changes first, the recalibrate last.
    board.fdc.setState({ ...saved, pendingSense: [0xc1, 0xc2, 0xc3, 0x20] });
    expect(board.fdc.getState().pendingSense).toEqual([0x20]);
    expect(sense(io)).toEqual([0x20, 0]);
    // A record with only ready changes pending keeps them all.
    board.fdc.setState({ ...saved, pendingSense: [0xc2, 0xc3] });
    expect([sense(io), sense(io), sense(io)]).toEqual([[0xc2, 0], [0xc3, 0], [0x80]]);
  });
});
