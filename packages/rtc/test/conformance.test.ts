// The suites every device runs: state round trip and ≥ 10^5 random register operations, plus register C's read-to-clear.
import type { DeviceContext } from '@splitvisor/abi';
import type { TestContext } from '@splitvisor/device-testkit';
import { apply, createTestContext, programEquivalenceSuite, registerFuzzSuite, stateRoundTripSuite } from '@splitvisor/device-testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LostTickPolicy } from '../src/index.ts';
import {
  HOUR_PM, Mc146818, RegA, RegB, RegC, RegD, RtcReg, daysFromCivil, decodeValue, dividerRunning, isValidBcd,
} from '../src/index.ts';
import { op } from './conformance-ops.ts';

const CENTURY = 0x32;

function daysInMonth(year: number, month: number): number {
  return daysFromCivil(year + (month === 12 ? 1 : 0), (month % 12) + 1, 1) - daysFromCivil(year, month, 1);
}

/** Plain checks rather than expect(): this runs after each of 10^5 operations. */
function invariant(policy: LostTickPolicy) {
  return (rtc: Mc146818, context: TestContext) => {
    const state = rtc.getState();
    const fail = (what: string) => {
      throw new Error(`${what} at ${context.now()} ns: ${JSON.stringify({ ...state, cmos: [...state.cmos] })}`);
    };
    const c = rtc.peek(RtcReg.C);
    if ((c & 0x0f) !== 0) fail(`register C ${c.toString(16)}`);
    if (context.irqLevel(0) !== ((c & RegC.IRQF) !== 0)) fail(`irq 8 ${context.irqLevel(0)} with register C ${c.toString(16)}`);
    if (((c & RegC.IRQF) !== 0) !== ((c & rtc.peek(RtcReg.B) & RegC.FLAGS) !== 0)) fail('IRQF is not PF·PIE + AF·AIE + UF·UIE');
    if (rtc.peek(RtcReg.D) !== RegD.VRT) fail('register D');
    const a = rtc.peek(RtcReg.A);
    const b = rtc.peek(RtcReg.B);
    const runs = dividerRunning(a) && (b & RegB.SET) === 0;
    if (!runs && (a & RegA.UIP) !== 0) fail('UIP while updates are stopped');
    if (runs) {
      // Every time byte is a valid value in the current data mode and hour format.
      const binary = (b & RegB.DM) !== 0;
      const read = (index: number, low: number, high: number) => {
        const byte = rtc.peek(index);
        const v = decodeValue(byte, binary);
        if ((!binary && !isValidBcd(byte)) || v < low || v > high) fail(`register ${index} reads ${byte.toString(16)}`);
        return v;
      };
      read(RtcReg.SECONDS, 0, 59);
      read(RtcReg.MINUTES, 0, 59);
      if ((b & RegB.HOUR_24) !== 0) read(RtcReg.HOURS, 0, 23);
      else {
        const hours = rtc.peek(RtcReg.HOURS);
        const v = decodeValue(hours & ~HOUR_PM, binary);
        if ((!binary && !isValidBcd(hours & ~HOUR_PM)) || v < 1 || v > 12) fail(`12-hour hours read ${hours.toString(16)}`);
      }
      read(RtcReg.DAY_OF_WEEK, 1, 7);
      const month = read(RtcReg.MONTH, 1, 12);
      const year = read(CENTURY, 0, 99) * 100 + read(RtcReg.YEAR, 0, 99);
      read(RtcReg.DATE_OF_MONTH, 1, daysInMonth(year, month));
    } else {
      // Stopped: the time bytes are storage, and read back as they stand.
      for (const index of [0, 2, 4, 6, 7, 8, 9, CENTURY]) if (rtc.peek(index) !== state.cmos[index]) fail(`stopped register ${index}`);
    }
    if (state.ticksOwed < 0 || (policy === 'discard' && state.ticksOwed !== 0)) fail(`ticks owed ${state.ticksOwed}`);
    const deadline = context.nextDeadline();
    if (deadline !== undefined && deadline <= context.now()) fail(`timer armed in the past (${deadline})`);
  };
}

for (const lostTickPolicy of ['discard', 'slew'] as const) {
  describe(`MC146818 (${lostTickPolicy})`, () => {
    const subject = {
      create: (context: DeviceContext) => new Mc146818(context, { lostTickPolicy, start: { year: 2099, month: 12, day: 31, hour: 23, minute: 59, second: 50 } }),
      op,
      irqOutputs: [0],
    };
    stateRoundTripSuite(subject, 300);
    // The chip folds time into its state when it is accessed (`syncedAt`); a read the program served does not, so the
    // two states may differ in how far they are folded. Every register, as a read would find it now, must agree.
    const registers = (rtc: Mc146818) => ({ index: rtc.getState().index, nmi: rtc.nmiDisabled, bytes: Array.from({ length: 128 }, (_, i) => rtc.peek(i)) });
    programEquivalenceSuite({ ...subject, view: registers, minTaken: 500 });
    registerFuzzSuite(subject, invariant(lostTickPolicy), { runs: 250, opsPerRun: 400 });

    it('register C reads clear it and release irq 8 (or, under slew, re-inject one owed tick)', () => {
      fc.assert(fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const context = createTestContext();
        const rtc = subject.create(context);
        for (const o of ops) apply(rtc, context, o);
        rtc.write('index', 0, 1, RtcReg.C);
        const first = rtc.read('data', 0, 1);
        expect(first & 0x0f).toBe(0);
        // The read cleared the flags; under slew it may have raised the next owed tick at once (PF again, a fresh edge).
        const reinjected = (rtc.getState().cmos[RtcReg.C] ?? 0) !== 0;
        if (lostTickPolicy === 'discard') expect(reinjected).toBe(false);
        const second = rtc.read('data', 0, 1);
        if (reinjected) {
          expect(second).toBe(RegC.IRQF | RegC.PF);
        } else {
          expect(second).toBe(0);
          expect(context.irqLevel(0)).toBe(false);
        }
      }), { numRuns: 500 });
    });
  });
}
