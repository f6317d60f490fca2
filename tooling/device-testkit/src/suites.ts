/**
 * The suites every device package runs: state round trip and register fuzz.
 * (crosvm's suspendable_tests!, QEMU's fuzz_registers.)
 */
import type { Device } from '@splitvisor/abi';
import { decodeState, encodeState } from '@splitvisor/abi';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { Op } from './ops.ts';
import { apply } from './ops.ts';
import type { TestContext } from './test-context.ts';
import { createTestContext } from './test-context.ts';


/** Property suites run hundreds of thousands of operations: on a loaded 2-core CI machine that can take a minute. */
const SUITE_TIMEOUT_MS = 400_000;
export interface DeviceSubject<D extends Device> {
  create(context: TestContext): D;
  /** Operations to generate; bias them towards what drivers do, but keep every register reachable. */
  readonly op: fc.Arbitrary<Op>;
  /** The device's irq outputs, whose levels are compared. */
  readonly irqOutputs: readonly number[];
}

/**
 * Runs a device, snapshots it through the wire encoding, restores the state
 * into a fresh instance in a fresh context at the same virtual time, then
 * drives both identically: every read, every irq level and the final state
 * must agree. A device must re-arm its timers and re-drive its irq outputs
 * from state alone.
 */
export function stateRoundTripSuite<D extends Device>(subject: DeviceSubject<D>, runs = 200): void {
  it('continues identically after getState → setState on a fresh instance', { timeout: SUITE_TIMEOUT_MS }, () => {
    fc.assert(fc.property(fc.array(subject.op, { maxLength: 60 }), fc.array(subject.op, { maxLength: 60 }), (before, after) => {
      const first = createTestContext();
      const original = subject.create(first);
      for (const op of before) apply(original, first, op);
      const decoded = decodeState(encodeState(original.getState()));
      if (!decoded.ok) throw new Error(`state does not survive the wire: ${decoded.reason}`);
      const second = createTestContext({ start: first.now() });
      const restored = subject.create(second);
      restored.setState(decoded.state);
      const levels = (context: TestContext) => subject.irqOutputs.map((output) => context.irqLevel(output));
      expect(levels(second)).toEqual(levels(first));
      for (const op of after) {
        expect(apply(restored, second, op)).toBe(apply(original, first, op));
        expect(levels(second)).toEqual(levels(first));
      }
      expect(restored.getState()).toEqual(original.getState());
    }), { numRuns: runs });
  });
}

/**
 * Random register sequences never throw and keep the device's invariants,
 * checked after every operation. `runs * opsPerRun` operations in all
 * (≥ 10^5 by default); fast-check prints the seed and the shrunk sequence of
 * a failure.
 */
export function registerFuzzSuite<D extends Device>(
  subject: DeviceSubject<D>,
  invariant: (device: D, context: TestContext) => void,
  { runs = 250, opsPerRun = 400 } = {},
): void {
  it(`survives ${runs * opsPerRun} random register operations with its invariants intact`, () => {
    fc.assert(fc.property(fc.array(subject.op, { minLength: opsPerRun, maxLength: opsPerRun }), (ops) => {
      const context = createTestContext();
      const device = subject.create(context);
      invariant(device, context);
      for (const op of ops) {
        apply(device, context, op);
        invariant(device, context);
      }
    }), { numRuns: runs });
  }, SUITE_TIMEOUT_MS);
}
