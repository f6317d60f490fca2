// Register operations as a driver issues them, for the fuzz and round-trip suites.
import type { Op } from '@splitvisor/device-testkit';
import { inertContext, registerOps } from '@splitvisor/device-testkit';
import fc from 'fast-check';
import { ALARM_DONT_CARE, HOUR_PM, Mc146818, RtcReg } from '../src/index.ts';

const CENTURY = 0x32;
const select = (index: number): Op => ({ kind: 'write', region: 'index', offset: 0, size: 1, value: index });
const put = (value: number): Op => ({ kind: 'write', region: 'data', offset: 0, size: 1, value });
const get: Op = { kind: 'read', region: 'data', offset: 0, size: 1 };

const bcd = (n: number) => ((n / 10) << 4) | (n % 10);
/** Values a driver writes (BCD and binary times, register A and B patterns, don't-care alarms), then anything at all. */
const value = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 59 }).chain((n) => fc.constantFrom(n, bcd(n))) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 12 }).chain((n) => fc.constantFrom(bcd(n) | HOUR_PM, n | HOUR_PM)) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(2, 2, 2, 6, 7, 0, 1, 3, 5), fc.integer({ min: 0, max: 15 })).map(([dv, rs]) => (dv << 4) | rs) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0x7f }) }, // register B without SET, …
  { weight: 1, arbitrary: fc.integer({ min: ALARM_DONT_CARE, max: 0xff }) }, // … or with it; don't-care alarms
  { weight: 1, arbitrary: fc.nat({ max: 0xff }) },
);
/** Registers, weighted towards the clock's; the NMI bit now and then; every index reachable. */
const register = fc.tuple(
  fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: RtcReg.D }) },
    { weight: 3, arbitrary: fc.constantFrom(RtcReg.A, RtcReg.B, RtcReg.C) },
    { weight: 1, arbitrary: fc.constantFrom(CENTURY, 0x0e, 0x10, 0x7f) },
    { weight: 1, arbitrary: fc.nat({ max: 0x7f }) },
  ),
  fc.boolean(),
).map(([index, nmi]) => index | (nmi ? 0x80 : 0));

const advance = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 300_000 }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 20_000_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 3_000_000_000 }) },
).map((ns): Op => ({ kind: 'advance', ns }));

export const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: register.map(select) },
  { weight: 4, arbitrary: value.map(put) },
  { weight: 4, arbitrary: fc.constant(get) },
  { weight: 1, arbitrary: registerOps(new Mc146818(inertContext()).regions, fc.nat({ max: 0xff })) },
  { weight: 4, arbitrary: advance },
);

