import type { Domain, TransitionReason } from '@splitvisor/abi';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COST_MODELS, Histogram, KVM_2020, TCG, TimelineRecorder, TransitionCounts, costModel, crossingCycles, crossingCyclesIn, exitReport, modelledCycles } from '../src/index.ts';

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

  it('agrees with counting by a key for any sequence of crossings, in rows and in the order devices appear', () => {
    const domains = ['guest', 'monitor', 'kernel', 'user'] as const;
    const reasons = ['io', 'mmio', 'hlt', 'irq-window-open', 'shutdown', 'intr', 'ioapic-eoi', 'internal-error', 'timer', 'ioctl', 'resume'] as const;
    const crossing = fc.tuple(fc.constantFrom(...domains), fc.constantFrom(...domains), fc.constantFrom(...reasons), fc.constantFrom(null, 'pit', 'pic', 'rtc', 'hpet'));
    fc.assert(fc.property(fc.array(crossing, { maxLength: 300 }), (crossings) => {
      const counts = new TransitionCounts();
      const model = new Map<string, { from: Domain; to: Domain; reason: TransitionReason; device: string | null; count: number; first: number; last: number }>();
      crossings.forEach(([from, to, reason, device], time) => {
        counts.record(from, to, reason, device, time);
        const key = JSON.stringify([from, to, reason, device]);
        const cell = model.get(key);
        if (cell === undefined) model.set(key, { from, to, reason, device, count: 1, first: time, last: time });
        else Object.assign(cell, { count: cell.count + 1, last: time });
      });
      expect(counts.total).toBe(crossings.length);
      expect(new Set(counts.rows().map((r) => JSON.stringify(r)))).toEqual(new Set([...model.values()].map((c) => JSON.stringify(c))));
      const byDevice = new Map<string, Record<string, number>>();
      for (const cell of model.values()) {
        if (cell.device === null || domains.indexOf(cell.to) <= domains.indexOf(cell.from)) continue;
        const row = byDevice.get(cell.device) ?? {};
        row[cell.to] = (row[cell.to] ?? 0) + cell.count;
        byDevice.set(cell.device, row);
      }
      expect([...counts.exitsByDevice()]).toEqual([...byDevice]);
    }));
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
      for (const cost of [...Object.values(model.boundaries), model.coalescedAppend, model.coalescedDrain, model.postedWrite]) expect(cost.source.length).toBeGreaterThan(30);
    }
    expect(costModel('kvm-2020')).toBe(KVM_2020);
    expect(costModel('nonesuch')).toBeUndefined();
  });
});

describe('the cost of one crossing, from a table', () => {
  it('answers every crossing as crossingCycles does, in every model', () => {
    const domains: Domain[] = ['guest', 'monitor', 'kernel', 'user'];
    const reasons: TransitionReason[] = ['io', 'mmio', 'msr', 'hlt', 'irq-window-open', 'shutdown', 'intr', 'ioapic-eoi', 'internal-error', 'timer', 'ioctl', 'coalesced', 'posted', 'resume'];
    for (const model of COST_MODELS) {
      const fromTable = crossingCyclesIn(model);
      for (const from of domains) for (const to of domains) for (const reason of reasons) {
        expect(fromTable(from, to, reason), `${model.name} ${from}→${to} ${reason}`).toBe(crossingCycles(model, from, to, reason));
      }
    }
  });
});

describe('exit report', () => {
  /** Two vCPUs' worth of crossings: a PIT access handled in the kernel, an RTC access in userspace, a halt. */
  function rows() {
    const counts = new TransitionCounts();
    counts.record('guest', 'monitor', 'hlt', null, 1);
    for (let i = 0; i < 3; i++) {
      counts.record('guest', 'monitor', 'io', 'rtc', i);
      counts.record('monitor', 'kernel', 'io', 'rtc', i);
      counts.record('kernel', 'user', 'io', 'rtc', i);
      counts.record('user', 'kernel', 'resume', 'rtc', i);
    }
    counts.record('guest', 'monitor', 'io', 'pit', 5);
    counts.record('monitor', 'kernel', 'io', 'pit', 5);
    return counts.rows();
  }

  it('counts each exit once, by its device (the CPU\'s own as cpu) and the domain that handled it; the crossings apart', () => {
    const report = exitReport(rows(), KVM_2020, 3_000_000);
    expect(report).toEqual({
      exits: 5, lightweightExits: 4, heavyweightExits: 3,
      exitsByDevice: { cpu: { monitor: 1 }, pit: { kernel: 1 }, rtc: { user: 3 } },
      kicksByDevice: {},
      crossingsByDevice: { cpu: { monitor: 1 }, pit: { monitor: 1, kernel: 1 }, rtc: { monitor: 3, kernel: 3, user: 3 } },
      exitsByReason: { hlt: 1, io: 4 },
      cyclesByDevice: { cpu: 2_000, pit: 2_000, rtc: 3 * (2_000 + 2_528) },
      overheadCycles: modelledCycles(rows(), KVM_2020),
      overheadPercent: (100 * modelledCycles(rows(), KVM_2020)) / 3_000_000,
    });
    expect(Object.keys(report.crossingsByDevice.rtc ?? {})).toEqual(['monitor', 'kernel', 'user']);
  });

  it('tells a device host timer\'s kicks apart from exits, and keeps a timer exit that goes on to the host one exit', () => {
    const counts = new TransitionCounts();
    for (let i = 0; i < 4; i++) { // the guest halted in the kernel; the host's PIT kicks it 4 times
      counts.record('kernel', 'user', 'intr', 'pit', i);
      counts.record('user', 'kernel', 'resume', 'pit', i);
    }
    counts.record('guest', 'monitor', 'timer', 'pit', 9); // while running: an exit for the PIT's timer, on to the host
    counts.record('monitor', 'kernel', 'timer', 'pit', 9);
    counts.record('kernel', 'user', 'intr', 'pit', 9);
    counts.record('guest', 'monitor', 'mmio', 'lapic', 10); // an EOI handled in the kernel, sent on to the I/O APIC in userspace
    counts.record('monitor', 'kernel', 'mmio', 'lapic', 10);
    counts.record('kernel', 'user', 'ioapic-eoi', 'lapic', 10);
    const report = exitReport(counts.rows(), KVM_2020, 1);
    expect(report.exitsByDevice).toEqual({ lapic: { kernel: 1 }, pit: { user: 1 } });
    expect(report.kicksByDevice).toEqual({ lapic: { user: 1 }, pit: { user: 4 } });
    expect(report.exitsByReason).toEqual({ mmio: 1, timer: 1 });
    expect(report.heavyweightExits).toBe(6);
  });

  it('adds up: exits by device make the exits; with the kicks they make the crossings into each domain', () => {
    fc.assert(fc.property(fc.array(fc.record({
      device: fc.constantFrom('pit', 'rtc', null), reason: fc.constantFrom('io', 'hlt', 'timer', 'intr', 'ioapic-eoi'),
      from: fc.constantFrom('guest', 'monitor', 'kernel'),
    }), { maxLength: 60 }), (hops) => {
      const counts = new TransitionCounts();
      const inward: Record<string, Domain> = { guest: 'monitor', monitor: 'kernel', kernel: 'user' };
      hops.forEach((h, i) => { counts.record(h.from, inward[h.from] ?? 'user', h.reason, h.device, i); });
      const report = exitReport(counts.rows(), KVM_2020, 1);
      const sum = (table: typeof report.exitsByDevice, domain?: Domain) => Object.values(table).flatMap((cell) => Object.entries(cell)).filter(([d]) => domain === undefined || d === domain).reduce((n, [, v]) => n + v, 0);
      expect(sum(report.exitsByDevice)).toBe(report.exits);
      expect(Object.values(report.exitsByReason).reduce((a, b) => a + b, 0)).toBe(report.exits);
      expect(sum(report.crossingsByDevice, 'kernel')).toBe(report.lightweightExits);
      expect(sum(report.crossingsByDevice, 'user')).toBe(report.heavyweightExits);
      expect(sum(report.exitsByDevice, 'user') + sum(report.kicksByDevice, 'user')).toBe(report.heavyweightExits);
      expect(Object.values(report.cyclesByDevice).reduce((a, b) => a + b, 0)).toBe(report.overheadCycles);
    }));
  });

  it('rounds the share of guest time only when asked, to the decimals asked', () => {
    const cycles = modelledCycles(rows(), KVM_2020); // 5 × 2 000 + 3 × 2 528
    expect(exitReport(rows(), KVM_2020, 7_000_003).overheadPercent).toBe((100 * cycles) / 7_000_003);
    expect(exitReport(rows(), KVM_2020, 7_000_003, { percentDecimals: 4 }).overheadPercent).toBe(Math.round((1e6 * cycles) / 7_000_003) / 1e4);
    expect(exitReport(rows(), KVM_2020, 7_000_003, { percentDecimals: 4 }).overheadPercent).toBe(0.2512);
    expect(exitReport(rows(), KVM_2020, 0).overheadPercent).toBe(0);
    expect(exitReport(rows(), TCG, 7_000_003).overheadCycles).toBe(5 * 73); // TCG charges its five exits, each a helper call and a dispatch
  });

  it('gives each device the same crossings as the recorder\'s own table', () => {
    const counts = new TransitionCounts();
    counts.record('kernel', 'user', 'io', 'rtc', 0);
    counts.record('guest', 'monitor', 'io', 'rtc', 1);
    expect(Object.fromEntries(counts.exitsByDevice())).toEqual(exitReport(counts.rows(), KVM_2020, 1).crossingsByDevice);
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

  it('merges as if every value had been recorded in one', () => {
    fc.assert(fc.property(fc.array(fc.nat(1_000_000)), fc.array(fc.nat(1_000_000)), (a, b) => {
      const one = new Histogram();
      const left = new Histogram();
      const right = new Histogram();
      for (const v of a) { one.record(v); left.record(v); }
      for (const v of b) { one.record(v); right.record(v); }
      left.merge(right);
      expect([left.count, left.min, left.max, left.sum, left.percentile(50), left.percentile(99)])
        .toEqual([one.count, one.min, one.max, one.sum, one.percentile(50), one.percentile(99)]);
    }), { numRuns: 200 });
  });

  it('keeps count, min, max and mean, and refuses what is not a duration', () => {
    const h = new Histogram();
    [5, 10, 15].forEach((v) => { h.record(v); });
    expect([h.count, h.min, h.max, h.mean()]).toEqual([3, 5, 15, 10]);
    expect(() => { h.record(-1); }).toThrow(RangeError);
  });
});

describe('timeline recorder', () => {
  it('keeps the window\'s crossings, counts every one, and knows where the vCPU was when the window opened', () => {
    const counts = new TransitionCounts();
    const timeline = new TimelineRecorder({ fromNs: 100, toNs: 200 }, counts, 2);
    timeline.record('guest', 'monitor', 'hlt', null, 50); // halted before the window, not woken by a crossing since
    timeline.record('monitor', 'guest', 'resume', null, 50);
    for (const t of [120, 130, 140]) timeline.record('guest', 'monitor', 'io', 'pit', t);
    timeline.record('guest', 'monitor', 'io', 'pit', 250);
    expect(counts.total).toBe(6);
    expect(timeline.events.map((e) => e.time)).toEqual([120, 130]);
    expect(timeline.dropped).toBe(1);
    expect(timeline.startsIn).toBe('guest');
    expect(timeline.startsHaltedIn).toBe('monitor');
  });
});

describe('histogram bins', () => {
  it('gives each bucket that holds a value, lowest first, by its smallest value', () => {
    const h = new Histogram();
    for (const v of [3, 3, 100, 1000, 1001]) h.record(v);
    expect(h.bins()).toEqual([[3, 2], [96, 1], [960, 2]]);
    expect(new Histogram().bins()).toEqual([]);
  });
});
