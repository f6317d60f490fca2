import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tickTime, ticksAt } from '../src/index.ts';

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
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 52 }), fc.constantFrom(PIT_HZ, 3_579_545, 100_000_000, 1_000_000_000, 32_768, 2_900_000_007, 4_294_967_291), (t, hz) => {
      const ticks = ticksAt(t, hz);
      expect(ticks).toBe(Number((BigInt(t) * BigInt(hz)) / 1_000_000_000n));
      const start = tickTime(ticks, hz);
      expect(start).toBeLessThanOrEqual(t);
      expect(ticksAt(start, hz)).toBe(ticks);
      if (start > 0) expect(ticksAt(start - 1, hz)).toBeLessThan(ticks); // above 1 GHz, several ticks share a nanosecond
    }), { numRuns: 5000 });
  });
});
