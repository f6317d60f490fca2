// The suites every device runs: state round trip and ≥ 10^5 random register operations.
import type { Op, TestContext } from '@splitvisor/device-testkit';
import { registerFuzzSuite, registerOps, stateRoundTripSuite } from '@splitvisor/device-testkit';
import fc from 'fast-check';
import { describe } from 'vitest';
import { DEBUGCON_READBACK, IsaDebugcon, LOG_KEPT_BYTES } from '../src/index.ts';

/** Mostly log bytes, as firmware writes; the probe read; everything the port could be sent. */
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.nat({ max: 255 }).map((value): Op => ({ kind: 'write', region: 'port', offset: 0, size: 1, value })) },
  { weight: 2, arbitrary: fc.constant<Op>({ kind: 'read', region: 'port', offset: 0, size: 1 }) },
  { weight: 1, arbitrary: registerOps(new IsaDebugcon().regions) },
);

function invariant(device: IsaDebugcon, _context: TestContext): void {
  const state = device.getState();
  if (state.log.length > LOG_KEPT_BYTES || state.log.length > state.written) throw new Error(`log of ${state.log.length} bytes with ${state.written} written`);
  if (device.read('port', 0, 1) !== DEBUGCON_READBACK) throw new Error('the readback changed');
}

describe('isa-debugcon conformance', () => {
  const subject = { create: (_context: TestContext) => new IsaDebugcon(), op, irqOutputs: [] };
  stateRoundTripSuite(subject, 300);
  registerFuzzSuite(subject, invariant);
});
