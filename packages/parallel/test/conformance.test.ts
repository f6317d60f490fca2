// The suites every device runs: state round trip and ≥ 10^5 random register operations, each register checked
// against the state after every one, and the irq output never raised (no printer acknowledges).
import type { Op, TestContext } from '@splitvisor/device-testkit';
import { advance, registerFuzzSuite, registerOps, stateRoundTripSuite } from '@splitvisor/device-testkit';
import fc from 'fast-check';
import { describe } from 'vitest';
import { CONTROL_READS_SET, Control, FLOATING_DATA, NO_PRINTER_STATUS, ParallelPort, ParallelRegister } from '../src/index.ts';

const write = (offset: number, value: number): Op => ({ kind: 'write', region: 'registers', offset, size: 1, value });

/** What drivers do: SeaBIOS's probe (AAh through the latch), printing (data, then a strobe pulse), the direction bit; and anything else. */
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.oneof(fc.constant(0xaa), fc.nat({ max: 0xff })).map((value) => write(ParallelRegister.DATA, value)) },
  { weight: 3, arbitrary: fc.constantFrom(0x0c, 0x0d, 0x08, 0x04, 0x1c, 0x1d, 0x2c, 0xcc, 0xec).map((value) => write(ParallelRegister.CONTROL, value)) },
  { weight: 4, arbitrary: fc.constantFrom(0, 1, 2).map((offset): Op => ({ kind: 'read', region: 'registers', offset, size: 1 })) },
  { weight: 1, arbitrary: advance },
  { weight: 2, arbitrary: registerOps(new ParallelPort().regions) },
);

function invariant(port: ParallelPort, context: TestContext): void {
  const { data, control } = port.getState();
  if ((control & ~0x3f) !== 0 || (data & ~0xff) !== 0) throw new Error(`state out of its bits: data ${data}, control ${control}`);
  const dataRead = port.read('registers', ParallelRegister.DATA, 1);
  if (dataRead !== ((control & Control.DIRECTION) !== 0 ? FLOATING_DATA : data)) throw new Error(`data read ${dataRead} with latch ${data}, control ${control}`);
  if (port.read('registers', ParallelRegister.STATUS, 1) !== NO_PRINTER_STATUS) throw new Error('the status moved with no printer attached');
  if (port.read('registers', ParallelRegister.CONTROL, 1) !== (control | CONTROL_READS_SET)) throw new Error('a control read is not the latch with bits 7–6 set');
  if (context.irqEdges.length > 0) throw new Error('the irq was raised with no printer to acknowledge');
}

describe('parallel port conformance', () => {
  const subject = { create: (_context: TestContext) => new ParallelPort(), op, irqOutputs: [0] };
  stateRoundTripSuite(subject, 300);
  registerFuzzSuite(subject, invariant);
});
