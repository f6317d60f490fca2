import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COST_MODELS, Histogram, KVM_2020, TransitionCounts, costModel, modelledCycles } from '../src/index.ts';

describe('transition counts', () => {
  it('counts crossings by (from, to, reason, device), with first and last times', () => {
    const counts = new TransitionCounts();
    counts.record('guest', 'monitor', 'io', 'pit', 10);
    counts.record('monitor', 'kernel', 'io', 'pit', 10);
    counts.record('guest', 'monitor', 'io', 'pit', 30);
    counts.record('kernel', 'user', 'io', 'rtc', 40);
    counts.record('kernel', 'monitor', 'resume', 'pit', 41);
    expect(counts.total).toBe(5);
    expect(counts.rows()).toEqual([
      { from: 'guest', to: 'monitor', reason: 'io', device: 'pit', count: 2, first: 10, last: 30 },
      { from: 'kernel', to: 'monitor', reason: 'resume', device: 'pit', count: 1, first: 41, last: 41 },
      { from: 'kernel', to: 'user', reason: 'io', device: 'rtc', count: 1, first: 40, last: 40 },
      { from: 'monitor', to: 'kernel', reason: 'io', device: 'pit', count: 1, first: 10, last: 10 },
    ]);
    expect(Object.fromEntries(counts.exitsByDevice())).toEqual({ pit: { monitor: 2, kernel: 1 }, rtc: { user: 1 } });
  });
});

describe('cost model', () => {
  it('charges each outward crossing its boundary\'s round trip, and nothing for the way back', () => {
    const counts = new TransitionCounts();
    for (let i = 0; i < 3; i++) {
      counts.record('guest', 'monitor', 'io', 'rtc', i);
      counts.record('monitor', 'kernel', 'io', 'rtc', i);
      counts.record('kernel', 'user', 'io', 'rtc', i);
      counts.record('user', 'kernel', 'resume', 'rtc', i);
    }
    expect(modelledCycles(counts.rows(), KVM_2020)).toBe(3 * (2_000 + 0 + 2_528));
  });

  it('cites a source for every number', () => {
    for (const model of COST_MODELS) {
      for (const cost of [...Object.values(model.boundaries), model.coalescedWrite]) expect(cost.source.length).toBeGreaterThan(30);
    }
    expect(costModel('kvm-2020')).toBe(KVM_2020);
    expect(costModel('nonesuch')).toBeUndefined();
  });
});

describe('histogram', () => {
  it('reports percentiles within 12.5 % of the exact ones', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 500 }), fc.integer({ min: 1, max: 100 }), (values, p) => {
      const h = new Histogram();
      for (const v of values) h.record(v);
      const sorted = [...values].sort((a, b) => a - b);
      const exact = sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
      const reported = h.percentile(p);
      expect(reported).toBeLessThanOrEqual(exact);
      expect(reported).toBeGreaterThanOrEqual(Math.floor(exact * 0.875) - 1);
    }), { numRuns: 500 });
  });

  it('keeps count, min, max and mean, and refuses what is not a duration', () => {
    const h = new Histogram();
    [5, 10, 15].forEach((v) => { h.record(v); });
    expect([h.count, h.min, h.max, h.mean()]).toEqual([3, 5, 15, 10]);
    expect(() => { h.record(-1); }).toThrow(RangeError);
  });
});
