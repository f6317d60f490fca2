/**
 * The suites every device package runs: state round trip and register fuzz.
 * (crosvm's suspendable_tests!, QEMU's fuzz_registers.)
 */
import type { Device, DeviceState } from '@splitvisor/abi';
import { decodeState, encodeState, programRunner } from '@splitvisor/abi';
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

/**
 * A device's fast-path programs (seed 002's bytecode) answer what they take
 * exactly as the device would. One instance handles every operation itself;
 * a second offers each access first to the program covering it, run on the
 * scratch the device last published (as a kernel would run it), and when
 * the program exits takes the scratch back, handles the access itself and
 * publishes again; time passing is an exit too (the host's timers ran). Every
 * read and, at the end, the state must agree — but for `ignoreState`, fields
 * of the device's own bookkeeping that a program's access does not touch; or,
 * given `view`, what it shows of the two —
 * and the programs must have taken at least `minTaken` of the accesses.
 * Every run starts with `prelude`: a driver setting the device up.
 */
/** One seed for the program suite: how many accesses the programs take is a count the suite asserts, the same on every run. */
const PROGRAM_SUITE_SEED = 0x5eed;

export function programEquivalenceSuite<D extends Device>(
  subject: DeviceSubject<D> & {
    readonly ignoreState?: readonly string[];
    /** What of the two devices must agree at the end, when not their states (a chip that folds time into its state lazily). */
    readonly view?: (device: D) => unknown;
    readonly minTaken?: number;
    readonly prelude?: readonly Op[];
  },
  runs = 300,
): void {
  it('answers every access its programs take as the device itself would', { timeout: SUITE_TIMEOUT_MS }, () => {
    let taken = 0;
    // Each run starts with the prelude (a driver setting the device up the way the programs serve it), then anything.
    fc.assert(fc.property(fc.array(subject.op, { minLength: 1, maxLength: 80 }).map((ops) => [...(subject.prelude ?? []), ...ops]), (ops) => {
      const referenceContext = createTestContext();
      const reference = subject.create(referenceContext);
      const context = createTestContext();
      const device = subject.create(context);
      if (device.programScratch === undefined || device.adoptProgramScratch === undefined) throw new Error(`${device.model} offers programs without a scratch`);
      const publish = () => device.programScratch?.() ?? new Uint8Array(0);
      const programs = (device.programs ?? []).map((p) => ({ ...p, run: programRunner(p.program) }));
      let scratch = publish();
      const handOver = () => {
        device.adoptProgramScratch?.(scratch);
      };
      for (const op of ops) {
        const theirs = apply(reference, referenceContext, op);
        if (op.kind === 'advance') {
          handOver();
          context.advance(op.ns);
          scratch = publish();
          continue;
        }
        const program = programs.find((p) => p.region === op.region && op.offset >= p.offset && op.offset + op.size <= p.offset + p.length);
        const isWrite = op.kind === 'write';
        const outcome = program?.run(scratch, { offset: op.offset - program.offset, isWrite, value: isWrite ? op.value : 0, width: op.size }, context.now());
        if (outcome?.kind === 'answered') {
          taken++;
          expect(isWrite ? undefined : outcome.value % 2 ** (8 * op.size), JSON.stringify(op)).toBe(theirs);
          continue;
        }
        handOver();
        expect(apply(device, context, op), JSON.stringify(op)).toBe(theirs);
        scratch = publish();
      }
      handOver();
      const without = (state: DeviceState) => Object.fromEntries(Object.entries(state).filter(([key]) => !(subject.ignoreState ?? []).includes(key)));
      const view = subject.view ?? ((d: D) => without(d.getState()));
      expect(view(device)).toEqual(view(reference));
    }), { numRuns: runs, seed: PROGRAM_SUITE_SEED });
    expect(taken).toBeGreaterThanOrEqual(subject.minTaken ?? 1);
  });
}
