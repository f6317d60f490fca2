// The shared suites, through the harness: state round trip and ≥ 10^5 random register operations.
import type { DeviceContext } from '@splitvisor/abi';
import type { Op } from '@splitvisor/device-testkit';
import { registerFuzzSuite, stateRoundTripSuite } from '@splitvisor/device-testkit';
import fc from 'fast-check';
import { describe } from 'vitest';
import { ApicTimerReg, TimerMode } from '../src/index.ts';
import { DELIVERIES, TSC_DEADLINE_LOW, TimerHarness } from './harness.ts';

const write = (offset: number, value: number): Op => ({ kind: 'write', region: 'lapic', offset, size: 4, value });
const read = (offset: number): Op => ({ kind: 'read', region: 'lapic', offset, size: 4 });

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.tuple(fc.nat({ max: 0xff }), fc.boolean(), fc.integer({ min: 0, max: 3 }))
    .map(([vector, masked, mode]) => write(ApicTimerReg.LVT_TIMER, vector | (masked ? 0x1_0000 : 0) | (mode << 17))) },
  { weight: 1, arbitrary: fc.nat({ max: 0xffff_ffff }).map((v) => write(ApicTimerReg.LVT_TIMER, v)) },
  { weight: 2, arbitrary: fc.nat({ max: 15 }).map((v) => write(ApicTimerReg.DIVIDE_CONFIG, v)) },
  { weight: 3, arbitrary: fc.oneof(fc.constant(0), fc.integer({ min: 200, max: 5000 }), fc.nat({ max: 0xffff_ffff })).map((v) => write(ApicTimerReg.INITIAL_COUNT, v)) },
  { weight: 2, arbitrary: fc.nat({ max: 0xffff_ffff }).map((v) => write(TSC_DEADLINE_LOW, v)) },
  { weight: 3, arbitrary: fc.constantFrom(ApicTimerReg.LVT_TIMER, ApicTimerReg.INITIAL_COUNT, ApicTimerReg.CURRENT_COUNT, ApicTimerReg.DIVIDE_CONFIG, TSC_DEADLINE_LOW, DELIVERIES).map(read) },
  { weight: 4, arbitrary: fc.oneof(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 500_000 })).map((ns): Op => ({ kind: 'advance', ns })) },
);

describe('APIC timer', () => {
  const subject = { create: (context: DeviceContext) => new TimerHarness(context), op, irqOutputs: [0] };
  stateRoundTripSuite(subject, 300);
  registerFuzzSuite(subject, (harness, context) => {
    const timer = harness.timer;
    const count = timer.readCurrentCount();
    const initial = timer.readInitialCount();
    if (count < 0 || count > 0xffff_ffff) throw new Error(`current count ${count}`);
    // A count loaded under a clamped period runs on after a switch to one-shot: bounded by the period, not TMICT.
    const ceiling = Math.max(timer.periodCount(), timer.getState().loadCount);
    if (count > Math.max(initial, ceiling)) throw new Error(`current count ${count} above the initial count ${initial} (period ${ceiling})`);
    if (timer.mode === TimerMode.tscDeadline && (count !== 0 || initial !== 0)) throw new Error('counting in TSC-deadline mode');
    if (context.irqLevel(0)) throw new Error('deliveries are edges');
    const due = timer.nextExpiry();
    if (due !== undefined && due < context.now()) throw new Error(`expiry ${due} left in the past at ${context.now()}`);
  });
});
