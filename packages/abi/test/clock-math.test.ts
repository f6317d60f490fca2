import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tickTime, ticksAt, ticksAtBig } from '../src/index.ts';

const PIT_HZ = 1_193_182;

describe('clock math', () => {
  it('counts ticks exactly, far beyond where time * hz leaves 2^53', () => {
    expect(ticksAt(1_000_000_000, PIT_HZ)).toBe(PIT_HZ);
    expect(ticksAt(838, PIT_HZ)).toBe(0);
    expect(ticksAt(839, PIT_HZ)).toBe(1);
    // 100 days: time * hz is ~1e22 here, yet the answer is exact.
    const t = 100 * 86_400 * 1e9 + 123_456_789;
    expect(ticksAt(t, PIT_HZ)).toBe(Number((BigInt(t) * BigInt(PIT_HZ)) / 1_000_000_000n));
  });

  it('agrees with big-integer arithmetic, and tickTime is the first instant of each tick', () => {
    const rates = fc.constantFrom(PIT_HZ, 3_579_545, 100_000_000, 1_000_000_000, 32_768, 2_900_000_007, 4_294_967_291);
    // While the tick count itself is a safe integer (26 days of a 4 GHz TSC; ticksAtBig beyond).
    const cases = rates.chain((hz) => fc.tuple(fc.integer({ min: 0, max: Math.min(2 ** 52, Math.floor((Number.MAX_SAFE_INTEGER / hz) * 1e9)) }), fc.constant(hz)));
    fc.assert(fc.property(cases, ([t, hz]) => {
      expect(ticksAtBig(t, hz)).toBe((BigInt(t) * BigInt(hz)) / 1_000_000_000n);
      const ticks = ticksAt(t, hz);
      expect(ticks).toBe(Number((BigInt(t) * BigInt(hz)) / 1_000_000_000n));
      const start = tickTime(ticks, hz);
      expect(start).toBeLessThanOrEqual(t);
      expect(ticksAt(start, hz)).toBe(ticks);
      if (start > 0) expect(ticksAt(start - 1, hz)).toBeLessThan(ticks); // above 1 GHz, several ticks share a nanosecond
    }), { numRuns: 5000 });
  });
});
