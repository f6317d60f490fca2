// The suites every device runs: state round trip and ≥ 10^5 random register operations.
import type { DeviceContext } from '@splitvisor/abi';
import { ticksAt } from '@splitvisor/abi';
import type { Op } from '@splitvisor/device-testkit';
import { createTestContext, programEquivalenceSuite, registerFuzzSuite, registerOps, stateRoundTripSuite } from '@splitvisor/device-testkit';
import fc from 'fast-check';
import { describe } from 'vitest';
import type { LostTickPolicy } from '../src/index.ts';
import { I8254, PIT_HZ, encodedValueAt, outAt, valueAt } from '../src/index.ts';

const write = (region: string, offset: number, value: number): Op => ({ kind: 'write', region, offset, size: 1, value });

/** What drivers do, weighted so sequences reach deep states; registerOps keeps every byte of every port reachable. */
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 7 }), fc.boolean())
    .map(([counter, rw, mode, bcd]) => write('counters', 3, (counter << 6) | (rw << 4) | (mode << 1) | (bcd ? 1 : 0))) },
  { weight: 1, arbitrary: fc.integer({ min: 0xc0, max: 0xff }).map((v) => write('counters', 3, v)) }, // read-back
  { weight: 4, arbitrary: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 255 })))
    .map(([counter, value]) => write('counters', counter, value)) },
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 2 }).map((counter): Op => ({ kind: 'read', region: 'counters', offset: counter, size: 1 })) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 255 }).map((v) => write('nmisc', 0, v)) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'read', region: 'nmisc', offset: 0, size: 1 }) },
  { weight: 1, arbitrary: registerOps(new I8254(createTestContext()).regions, fc.nat({ max: 255 })) },
  // Mostly a few clocks to a few periods; now and then tens of milliseconds (with a tiny count, every OUT edge is an event).
  { weight: 5, arbitrary: fc.oneof(
    { weight: 5, arbitrary: fc.integer({ min: 0, max: 3_000 }) },
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 300_000 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 30_000_000 }) },
  ).map((ns): Op => ({ kind: 'advance', ns })) },
);

/** Linux's i8253 clocksource read (latch, LSB, MSB) weighted in: the accesses the 8254's program takes. */
const latchOps: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: op },
  { weight: 2, arbitrary: fc.constant(write('counters', 3, 0x00)) },
  { weight: 3, arbitrary: fc.constant<Op>({ kind: 'read', region: 'counters', offset: 0, size: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom(0x34, 0x36, 0x14, 0x24).map((v) => write('counters', 3, v)) },
);

describe("8254's fast-path program", () => {
  // Linux's clockevent in mode 2, then a CLK pulse to load its count: within the clock of the write the counting element
  // still holds its old bits, which the program does not know, so a latch there goes to the device.
  const linux: Op[] = [write('counters', 3, 0x34), write('counters', 0, 1193 & 0xff), write('counters', 0, 1193 >> 8), { kind: 'advance', ns: 1_000 }];
  // The same state but for when the device last looked at OUT0, which it does again on a control word the program took.
  programEquivalenceSuite({ create: (context: DeviceContext) => new I8254(context), op: latchOps, irqOutputs: [0], ignoreState: ['out0Clock'], minTaken: 300, prelude: linux });
});

for (const lostTickPolicy of ['discard', 'delay', 'merge'] as const satisfies readonly LostTickPolicy[]) {
  describe(`8254 (${lostTickPolicy})`, () => {
    const subject = { create: (context: DeviceContext) => new I8254(context, { lostTickPolicy }), op, irqOutputs: [0] };
    stateRoundTripSuite(subject, lostTickPolicy === 'discard' ? 300 : 100);
    registerFuzzSuite(subject, (pit, context) => {
      // Plain checks rather than expect(): this runs after each of 10^5 operations.
      const fail = (what: string) => { throw new Error(`${what} at ${context.now()} ns: ${JSON.stringify(pit.getState())}`); };
      const state = pit.getState();
      const clock = ticksAt(context.now(), PIT_HZ);
      for (const counter of state.counters) {
        const register = encodedValueAt(counter, clock);
        if (!Number.isInteger(register) || register < 0 || register > 0xffff) fail(`count register ${register}`);
        // Once loaded (the CLK pulse after the write): before, the counting element holds its old bits, BCD or not.
        if (counter.counting && clock >= counter.loadClock && valueAt(counter, clock) >= (counter.bcd ? 10_000 : 0x1_0000)) fail('count beyond the modulus');
      }
      // irq 0 is never out of step with counter 0's OUT, and no timer is left in the past.
      const line = context.irqLevel(0);
      if (lostTickPolicy === 'discard' ? line !== outAt(state.counters[0], clock) : line) fail(`irq 0 ${line}`);
      if (state.ticksPending < 0) fail('negative pending ticks');
      const deadline = context.nextDeadline();
      if (deadline !== undefined && deadline <= context.now()) fail(`timer armed in the past (${deadline})`);
    }, lostTickPolicy === 'discard' ? { runs: 250, opsPerRun: 400 } : { runs: 50, opsPerRun: 400 });
  });
}
