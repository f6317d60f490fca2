// The suites every device runs: state round trip and ≥ 10^5 random register operations, the lines checked against the latch.
import type { Op, TestContext } from '@splitvisor/device-testkit';
import { inertContext, registerFuzzSuite, registerOps, stateRoundTripSuite } from '@splitvisor/device-testkit';
import fc from 'fast-check';
import { describe } from 'vitest';
import { Port92, Port92Line, SystemControlA } from '../src/index.ts';

/** What firmware writes (the gate on and off, a reset now and then), reads, and anything else. */
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(0x00, 0x02, 0x01, 0x03).map((value): Op => ({ kind: 'write', region: 'control', offset: 0, size: 1, value })) },
  { weight: 4, arbitrary: fc.constant<Op>({ kind: 'read', region: 'control', offset: 0, size: 1 }) },
  { weight: 1, arbitrary: registerOps(new Port92(inertContext()).regions) },
);

function invariant(port: Port92, context: TestContext): void {
  const { latch, resetRequests } = port.getState();
  if (port.read('control', 0, 1) !== latch) throw new Error('a read is not the latch');
  if (port.cachedRead('control', 0) !== latch) throw new Error('the cached read is not the latch');
  const driven = context.lineEdges.some((e) => e.line === Port92Line.a20);
  if (driven && context.lineLevel(Port92Line.a20) !== ((latch & SystemControlA.A20_GATE) !== 0)) throw new Error(`a20 line ${String(context.lineLevel(Port92Line.a20))} with latch ${latch}`);
  if (context.lineLevel(Port92Line.reset)) throw new Error('the reset line left high');
  const pulses = context.lineEdges.filter((e) => e.line === Port92Line.reset && e.level).length;
  if (pulses !== resetRequests) throw new Error(`${pulses} reset pulses, ${resetRequests} requests`);
}

describe('port92 conformance', () => {
  const subject = { create: (context: TestContext) => new Port92(context), op, irqOutputs: [] };
  stateRoundTripSuite(subject, 300);
  registerFuzzSuite(subject, invariant);
});
