// The suites every device runs: state round trip and ≥ 10^5 random register operations.
import type { DeviceContext } from '@splitvisor/abi';
import type { Op } from '@splitvisor/device-testkit';
import { inertContext, registerFuzzSuite, registerOps, stateRoundTripSuite } from '@splitvisor/device-testkit';
import fc from 'fast-check';
import { describe } from 'vitest';
import { AcpiPmTimer, GenConf, Hpet, HpetReg, LEGACY_IRQ0, LEGACY_IRQ8, Pm1En, Pm1Sts, TnConf } from '../src/index.ts';

const advance = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 20_000 }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 5_000_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 5_000_000_000 }) },
).map((ns): Op => ({ kind: 'advance', ns }));

/**
 * The HPET's advances stay short: a periodic timer may be given a period of a few 10 ns ticks,
 * and every match is an event.
 */
const hpetAdvance = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 20_000 }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 2_000_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 20_000_000 }) },
).map((ns): Op => ({ kind: 'advance', ns }));

const hpetWrite = (offset: number, value: number): Op => ({ kind: 'write', region: 'registers', offset, size: 4, value });
const timerBase = fc.integer({ min: 0, max: 2 }).map((n) => HpetReg.TIMER_BASE + n * HpetReg.TIMER_STRIDE);
const hpetOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 3 }).map((v) => hpetWrite(HpetReg.GEN_CONF, v)) },
  { weight: 2, arbitrary: fc.tuple(timerBase, fc.nat({ max: 0x7fff })).map(([t, v]) => hpetWrite(t, v)) },
  { weight: 3, arbitrary: fc.tuple(timerBase, fc.boolean(), fc.oneof(fc.integer({ min: 500, max: 2_000_000 }), fc.nat({ max: 0xffff_ffff })))
    .map(([t, high, v]) => hpetWrite(t + HpetReg.TN_CMP + (high ? 4 : 0), high ? v & 1 : v)) },
  { weight: 1, arbitrary: fc.tuple(fc.boolean(), fc.nat({ max: 0xffff_ffff })).map(([high, v]) => hpetWrite(HpetReg.MAIN_CNT + (high ? 4 : 0), v)) },
  { weight: 1, arbitrary: fc.nat({ max: 7 }).map((v) => hpetWrite(HpetReg.GINTR_STA, v)) },
  { weight: 1, arbitrary: registerOps(new Hpet(inertContext()).regions) },
  { weight: 4, arbitrary: hpetAdvance },
);

const pmOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: registerOps(new AcpiPmTimer(inertContext()).regions) },
  { weight: 2, arbitrary: fc.nat({ max: 0xffff }).map((v): Op => ({ kind: 'write', region: 'pm1-event', offset: 0, size: 4, value: v | (v << 16) })) },
  { weight: 3, arbitrary: advance },
);

describe('ACPI PM timer', () => {
  for (const widthBits of [24, 32] as const) {
    const subject = { create: (context: DeviceContext) => new AcpiPmTimer(context, { widthBits }), op: pmOp, irqOutputs: [0] };
    stateRoundTripSuite(subject, 200);
    registerFuzzSuite(subject, (pm, context) => {
      const sts = (pm.read('pm1-event', 0, 2) & Pm1Sts.TMR_STS) !== 0;
      const en = (pm.read('pm1-event', 2, 2) & Pm1En.TMR_EN) !== 0;
      if (context.irqLevel(0) !== (sts && en)) throw new Error(`SCI ${context.irqLevel(0)} with TMR_STS ${sts}, TMR_EN ${en}`);
      const deadline = context.nextDeadline();
      if (deadline !== undefined && deadline < context.now()) throw new Error('timer in the past');
    }, { runs: 125, opsPerRun: 400 });
  }
});

describe('HPET', () => {
  const outputs = [...Array.from({ length: 32 }, (_, i) => i), LEGACY_IRQ0, LEGACY_IRQ8];
  const subject = { create: (context: DeviceContext) => new Hpet(context), op: hpetOp, irqOutputs: outputs };
  stateRoundTripSuite(subject, 300);
  registerFuzzSuite(subject, (hpet, context) => {
    const state = hpet.getState();
    // A line is high exactly when a level-triggered, enabled timer routed to it has its status bit set, while the HPET runs.
    const expected = new Map<number, boolean>();
    state.timers.forEach((t, i) => {
      const legacy = (state.genConf & GenConf.LEG_RT_CNF) !== 0 && i < 2;
      const output = legacy ? (i === 0 ? LEGACY_IRQ0 : LEGACY_IRQ8) : (t.config >> TnConf.INT_ROUTE_SHIFT) & TnConf.INT_ROUTE_MASK;
      const running = (state.genConf & GenConf.ENABLE_CNF) !== 0;
      const asserted = running && (t.config & TnConf.INT_TYPE_CNF) !== 0 && (t.config & TnConf.INT_ENB_CNF) !== 0 && (state.intStatus & (1 << i)) !== 0;
      expected.set(output, (expected.get(output) ?? false) || asserted);
    });
    for (const output of outputs) {
      if (context.irqLevel(output) !== (expected.get(output) ?? false)) throw new Error(`line ${output} is ${context.irqLevel(output)}: ${JSON.stringify(state, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
    }
    const deadline = context.nextDeadline();
    if (deadline !== undefined && deadline < context.now()) throw new Error('timer in the past');
  }, { runs: 250, opsPerRun: 400 });
});
