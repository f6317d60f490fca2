// The suites every device runs: state round trip and ≥ 10^5 random register operations, on the controller wired to
// DMA channel 2 of an 8237 pair (the pair's state travels with the controller's, as a domain taking over the floppy
// takes over both). Invariants: never throws; irq 6 is the pending interrupt let through by the DMA gate; MSR agrees
// with the phase; DRQ is up exactly while a DMA execution phase waits for the channel, and never on a granted channel;
// a reset's ready changes are never pending beside a later interrupt's status.
import type { AccessSize, Device, IoRegion } from '@splitvisor/abi';
import type { Op, TestContext } from '@splitvisor/device-testkit';
import { inertContext, registerFuzzSuite, registerOps, stateRoundTripSuite } from '@splitvisor/device-testkit';
import fc from 'fast-check';
import { describe } from 'vitest';
import type { FloppyDriveConfig } from '../src/index.ts';
import { MemoryFloppyImage, Msr } from '../src/index.ts';
import type { FdcBoardState } from './fdc-board.ts';
import { FdcBoard, patterned, ports } from './fdc-board.ts';

/**
 * The board with a `driver` port: writing it plays one whole step of a driver — a command with its parameters, a
 * drain of the result phase, a sector through the FIFO, DMA set-up, the data rate, a reset — through the real
 * registers, so random sequences reach the execution and result phases of every command rather than stalling on
 * half-written ones. value & 15 picks the step, value >> 4 its argument.
 */
class FuzzBoard implements Device<FdcBoardState> {
  readonly model = 'fdc-board' as const;
  readonly regions: readonly IoRegion[];
  readonly board: FdcBoard;

  constructor(board: FdcBoard) {
    this.board = board;
    this.regions = [...board.regions, { name: 'driver', space: 'port', length: 1, sizes: [1] }];
  }

  read(region: string, offset: number, size: AccessSize): number {
    return region === 'driver' ? 0xff : this.board.read(region, offset, size);
  }

  write(region: string, offset: number, size: AccessSize, value: number): void {
    if (region !== 'driver') {
      this.board.write(region, offset, size, value);
      return;
    }
    const b = this.board;
    const msr = () => b.read('registers', 4, 1);
    const drain = () => { for (let i = 0; i < 16 && (msr() & 0xe0) === 0xc0; i++) b.read('registers', 5, 1); };
    // A driver reads the last result before it writes the next command.
    const fifo = (...bytes: number[]) => { drain(); for (const x of bytes) b.write('registers', 5, 1, x); };
    const arg = (value >> 4) & 0x0f;
    const head = arg & 1;
    const drive = (arg >> 3) & 1;
    const cylinder = (arg >> 1) & 1;
    // …and sets the data rate of the diskette it expects (drive 0: 1.44 MB at 500 kb/s; drive 1: 720 KB at 250 kb/s).
    if ([0, 1, 2, 3, 7, 14, 15].includes(value & 15)) b.write('dir-ccr', 0, 1, drive === 0 ? 0 : 2);
    switch (value & 15) {
      case 0:
      case 1:
        fifo([0x46, 0xe6, 0xc6, 0x66][arg & 3] ?? 0x46, (head << 2) | drive, cylinder, head, 1 + ((arg * 5) % 18), 2, 18 - (arg & 8), 0x1b, 0xff);
        break;
      case 2:
        fifo(arg & 4 ? 0xc5 : 0x45, (head << 2) | drive, cylinder, head, 1 + ((arg * 3) % 9), 2, 9, 0x1b, 0xff);
        break;
      case 3:
        fifo(0x4d, (head << 2) | drive, 2, 1 + (arg & 3), 0x6c, arg * 17);
        break;
      case 4:
        fifo(0x0f, (head << 2) | drive, arg & 7);
        break;
      case 5:
        fifo(0x07, arg & 3);
        break;
      case 6:
        fifo(0x08);
        break;
      case 7:
        fifo(0x4a, (head << 2) | drive);
        break;
      case 8: {
        const misc = [[0x10], [0x0e], [0x14], [0x94], [0x04, arg & 7], [0x12, arg & 1 ? 0x84 : 0x00], [0x13, 0, 0x40, 0],
          [0x13, 0, 0x20, 0], [0x03, 0xdf, 0x02], [0x03, 0xdf, 0x03], [0x8f, 0, 1], [0xcf, 0, 2], [0x56, 0x80, 0, 0, 1, 2, 18, 0x1b, 3],
          [0x42, 0, 0, 0, 1, 2, 2, 0x1b, 0xff], [0x4c, 0, 0, 0, 1, 2, 18, 0x1b, 0xff], [0x6c, 0, 0, 0, 1, 2, 2, 0x1b, 0xff]][arg] ?? [0x10];
        fifo(...misc);
        break;
      }
      case 9:
        drain();
        break;
      case 10:
        for (let i = 0; i < 600 && (msr() & 0xa0) === 0xa0; i++) {
          if ((msr() & 0x40) !== 0) b.read('registers', 5, 1);
          else b.write('registers', 5, 1, i & 0xff);
        }
        break;
      case 11:
        ports(b).dmaChannel2(0x1000 * (arg & 7), 512 * (1 + ((arg >> 3) & 1) * 2) - (arg & 4 ? 100 : 0), [0x46, 0x4a, 0x56, 0x42][arg & 3] ?? 0x46);
        break;
      case 12:
        b.write('dir-ccr', 0, 1, [0, 2, 0, 2, 0, 2, 3, 1][arg & 7] ?? 0);
        break;
      case 13:
        b.write('registers', 2, 1, arg & 1 ? 0x18 : 0x08);
        b.write('registers', 2, 1, 0x1c);
        break;
      default:
        fifo(0x46, drive, cylinder, 0, 1 + arg, 2, 1 + arg, 0x1b, 0xff);
        break;
    }
  }

  getState(): FdcBoardState {
    return this.board.getState();
  }

  setState(state: FdcBoardState): void {
    this.board.setState(state);
  }

  anomalies(): Readonly<Record<string, number>> {
    return this.board.anomalies();
  }
}

const write = (region: string, offset: number, value: number): Op => ({ kind: 'write', region, offset, size: 1, value });
const read = (region: string, offset: number): Op => ({ kind: 'read', region, offset, size: 1 });

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 16, arbitrary: fc.nat({ max: 255 }).map((v) => write('driver', 0, v)) },
  { weight: 4, arbitrary: fc.constant(read('registers', 4)) },
  { weight: 4, arbitrary: fc.constant(read('registers', 5)) },
  { weight: 4, arbitrary: fc.oneof(fc.constantFrom(0x03, 0x07, 0x08, 0x0a, 0x0f, 0x10, 0x12, 0x13, 0x4a, 0x46, 0x45, 0x4d, 0x56, 0x42, 0x4c, 0x6c, 0x8f, 0xcf), fc.nat({ max: 255 }), fc.integer({ min: 0, max: 20 }))
    .map((v) => write('registers', 5, v)) },
  { weight: 2, arbitrary: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(0x1c, 0x0c, 0x1d, 0x3d, 0x14) }, { weight: 1, arbitrary: fc.constantFrom(0x08, 0x18, 0x00) }, { weight: 1, arbitrary: fc.nat({ max: 255 }) })
    .map((v) => write('registers', 2, v)) },
  { weight: 1, arbitrary: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom(0x80, 0x82, 0x40), fc.nat({ max: 255 })).map((v) => write('registers', 4, v)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }).map((v) => write('dir-ccr', 0, v)) },
  { weight: 2, arbitrary: fc.constantFrom(read('dir-ccr', 0), read('registers', 0), read('registers', 1), read('registers', 2), read('registers', 3)) },
  // The DMA side: channel 2's mask, the status register, a master clear now and then.
  { weight: 2, arbitrary: fc.constantFrom(write('controller-8', 0x0a, 0x02), write('controller-8', 0x0a, 0x06), read('controller-8', 0x08), write('controller-8', 0x0d, 0)) },
  { weight: 2, arbitrary: fc.oneof(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 15_000_000, max: 25_000_000 })).map((ns): Op => ({ kind: 'advance', ns })) },
  { weight: 1, arbitrary: registerOps(new FdcBoard(inertContext() as TestContext).regions) },
);

/**
 * Instances alternate: a fresh one, then the copy the round-trip suite restores into, which opens the diskettes and
 * guest memory the first one has at that moment (images and RAM are not device state).
 */
function subject() {
  let created = 0;
  let last: { images: MemoryFloppyImage[]; context: TestContext } | undefined;
  return {
    create(context: TestContext): FuzzBoard {
      const restoring = created++ % 2 === 1 && last !== undefined;
      const [a, b] = restoring && last !== undefined
        ? last.images.map((i) => new MemoryFloppyImage(i.bytes.slice()))
        : [new MemoryFloppyImage(patterned(1_474_560)), new MemoryFloppyImage(patterned(737_280))];
      if (a === undefined || b === undefined) throw new Error('two diskettes expected');
      if (restoring && last !== undefined) context.ram.set(last.context.ram);
      last = { images: [a, b], context };
      const drives: (FloppyDriveConfig | undefined)[] = [{ image: a }, { type: '720K', image: b, writeProtected: true }, undefined, { type: '2.88M' }];
      const board = new FdcBoard(context, drives);
      ports(board).biosDmaSetup();
      return new FuzzBoard(board);
    },
    op,
    irqOutputs: [0],
  };
}

function invariant(fuzz: FuzzBoard, context: TestContext): void {
  const { fdc, dma } = fuzz.board;
  const s = fdc.getState();
  const fail = (what: string) => { throw new Error(`${what} at ${context.now()} ns: ${JSON.stringify({ ...s, execution: s.execution === null ? null : { ...s.execution, buffer: '…' } })}`); };
  const reset = (s.dor & 0x04) === 0;
  const gate = (s.dor & 0x08) !== 0;
  if (context.irqLevel(0) !== (s.interruptPending && gate && !reset)) fail(`irq 6 ${context.irqLevel(0)} with pending ${s.interruptPending}`);
  if ((s.phase === 'execution') !== (s.execution !== null)) fail('an execution outside the execution phase');

  const msr = fdc.msr();
  const exec = s.execution;
  if (reset) {
    if (msr !== 0) fail('MSR not 0 in reset');
  } else if (s.phase === 'command') {
    if (msr !== (Msr.RQM | (s.command.length > 0 ? Msr.COMMAND_BUSY : 0))) fail(`MSR ${msr} in the command phase`);
  } else if (s.phase === 'result') {
    if (msr !== 0xd0) fail(`MSR ${msr} in the result phase`);
    if (s.resultIndex >= s.result.length) fail('a result phase with nothing left to read');
  } else if (exec !== null) {
    const moves = exec.command !== 'read-id' && exec.command !== 'verify' && !(exec.command === 'read-deleted-data' && exec.skip);
    const pio = moves && !exec.dma;
    if (pio ? (msr & 0xb0) !== 0xb0 : msr !== Msr.COMMAND_BUSY) fail(`MSR ${msr} in a ${pio ? 'non-DMA' : 'DMA'} execution phase`);
    const dreqExpected = moves && exec.dma && gate;
    const dreq = (dma.getState().requestLines & 0x04) !== 0;
    if (dreq !== dreqExpected) fail(`DRQ ${dreq}, expected ${dreqExpected}`);
    if (dreq && dma.channel(2).granted) fail('DRQ left up on a granted channel');
    if (exec.command === 'read-id' && (s.readIdDeadline === null || context.nextDeadline() === undefined)) fail('READ ID without its timer');
  }
  if (s.phase !== 'execution' && (dma.getState().requestLines & 0x04) !== 0) fail('DRQ outside the execution phase');
  // A reset's ready changes (IC 11b) are superseded by the next interrupt: never pending beside another status.
  const readyChanges = s.pendingSense.filter((st0) => (st0 & 0xc0) === 0xc0).length;
  if (readyChanges !== 0 && readyChanges !== s.pendingSense.length) fail('a ready change pending beside a later interrupt');
}

describe('82077AA on DMA channel 2', () => {
  stateRoundTripSuite(subject(), 300);
  registerFuzzSuite(subject(), invariant, { runs: 250, opsPerRun: 400 });
});
