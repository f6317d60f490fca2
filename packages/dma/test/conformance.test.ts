// The suites every device runs: state round trip and ≥ 10^5 random register operations, with devices on four
// channels whose DREQ lines the operations drive.
import type { Op, TestContext } from '@splitvisor/device-testkit';
import { inertContext, registerFuzzSuite, registerOps, stateRoundTripSuite } from '@splitvisor/device-testkit';
import fc from 'fast-check';
import { describe } from 'vitest';
import { ControlRegister, I8237Pair, Mode } from '../src/index.ts';
import { DmaBench, registerAt } from './harness.ts';

const write = (region: string, offset: number, value: number): Op => ({ kind: 'write', region, offset, size: 1, value });
const read = (region: string, offset: number): Op => ({ kind: 'read', region, offset, size: 1 });
const channelNumber = fc.integer({ min: 0, max: 7 });
const reg = (n: number, register: number) => registerAt(n, register);

const op: fc.Arbitrary<Op> = fc.oneof(
  // Address and count bytes, mostly small counts so transfers finish; pages inside and outside 1 MiB of RAM.
  { weight: 6, arbitrary: fc.tuple(channelNumber, fc.integer({ min: 0, max: 7 }), fc.oneof(fc.integer({ min: 0, max: 8 }), fc.nat({ max: 255 })))
    .map(([n, register, value]) => { const at = reg(n, register); return write(at.region, at.offset, value); }) },
  { weight: 3, arbitrary: fc.tuple(channelNumber, fc.integer({ min: 0, max: 7 })).map(([n, register]) => { const at = reg(n, register); return read(at.region, at.offset); }) },
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 0, max: 14 }), fc.oneof(fc.integer({ min: 0, max: 0x0f }), fc.nat({ max: 255 }))).map(([offset, value]) => write('page', offset, value)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 14 }).map((offset) => read('page', offset)) },
  // Mode: every transfer type and mode, auto-init and decrement.
  { weight: 4, arbitrary: fc.tuple(channelNumber, fc.constantFrom(Mode.VERIFY, Mode.WRITE, Mode.READ, Mode.ILLEGAL), fc.constantFrom(Mode.DEMAND, Mode.SINGLE, Mode.BLOCK, Mode.CASCADE), fc.boolean(), fc.boolean())
    .map(([n, type, mode, auto, down]) => { const at = reg(n, ControlRegister.MODE); return write(at.region, at.offset, (n & 3) | type | mode | (auto ? Mode.AUTO_INITIALIZE : 0) | (down ? Mode.DECREMENT : 0)); }) },
  // Masks, requests, flip-flop, master clear, command.
  { weight: 4, arbitrary: fc.tuple(channelNumber, fc.constantFrom(ControlRegister.SINGLE_MASK, ControlRegister.REQUEST), fc.boolean())
    .map(([n, register, set]) => { const at = reg(n, register); return write(at.region, at.offset, (n & 3) | (set ? 4 : 0)); }) },
  { weight: 2, arbitrary: fc.tuple(channelNumber, fc.constantFrom(ControlRegister.CLEAR_FLIP_FLOP, ControlRegister.CLEAR_MASK, ControlRegister.TEMPORARY_MASTER_CLEAR, ControlRegister.ALL_MASK, ControlRegister.STATUS_COMMAND), fc.oneof(fc.constantFrom(0, 4), fc.nat({ max: 255 })))
    .map(([n, register, value]) => { const at = reg(n, register); return write(at.region, at.offset, value); }) },
  { weight: 3, arbitrary: fc.tuple(channelNumber, fc.integer({ min: 8, max: 15 })).map(([n, register]) => { const at = reg(n, register); return read(at.region, at.offset); }) },
  // DREQ lines of the bench's devices (1, 2, 5, 6) and of channels with none.
  { weight: 4, arbitrary: fc.tuple(channelNumber, fc.boolean()).map(([n, level]) => write('dreq', n, level ? 1 : 0)) },
  { weight: 1, arbitrary: registerOps(new I8237Pair(inertContext()).regions) },
);

const subject = {
  create: (context: TestContext) => new DmaBench(new I8237Pair(context)),
  op,
  irqOutputs: [],
};

const DEVICES = [1, 2, 5, 6];

function invariant(bench: DmaBench, context: TestContext): void {
  const state = bench.getState();
  const fail = (what: string) => { throw new Error(`${what} at ${context.now()} ns: ${JSON.stringify(state)}`); };
  for (const ch of state.channels) {
    for (const v of [ch.baseAddress, ch.currentAddress, ch.baseCount, ch.currentCount]) if (v < 0 || v > 0xffff || !Number.isInteger(v)) fail('a 16-bit register out of range');
    if (ch.page < 0 || ch.page > 0xff) fail('a page out of range');
  }
  for (const c of state.controllers) if (c.mask > 0x0f || c.terminalCounts > 0x0f || c.softwareRequests > 0x0f) fail('a 4-bit register out of range');
  // A device holding DREQ on a granted channel is serviced at once and runs to terminal count: none is left waiting.
  for (const n of DEVICES) if (bench.pair.channel(n).granted && (state.requestLines & (1 << n)) !== 0) fail(`channel ${n} granted with DREQ still up`);
}

describe('8237 pair', () => {
  stateRoundTripSuite(subject, 300);
  registerFuzzSuite(subject, invariant, { runs: 250, opsPerRun: 400 });
});
