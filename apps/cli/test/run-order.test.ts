// The order a sweep hands its runs out in: every run once; first each placement, workload and parameter value
// tried; then the longest expected first, learnt from the runs finished — so that the longest run does not start
// last. The times are given, not measured here: the order is a function of them.
import { describe, expect, it } from 'vitest';
import { RunOrder } from '../src/sweep/run-order.ts';
import { planSweep } from '../src/sweep/sweep-plan.ts';
import type { PlannedRun } from '../src/sweep/sweep-plan.ts';

const plan = planSweep({
  profiles: ['qemu-tcg', 'kvm-irqchip', 'kvm-split', 'plex86'],
  workloads: ['linux-idle-pit', 'ata-pio-read', 'serial-console'],
  axes: [{ key: 'hz', values: ['100', '1000'] }],
  durationNs: 10e6,
});
const name = (run: PlannedRun) => `${run.spec.label} × ${run.spec.workload.workload}${run.spec.workload.parameters.hz === undefined ? '' : ` hz=${String(run.spec.workload.parameters.hz)}`}`;

// The bench's sweep (7 profiles × 10 workloads, 100 ms each) and each run's wall ms alone, as measured once on
// this project's 2-core machine: the longest run is 45 % of the whole, and a dozen are a hundredth of it.
const WORKLOADS = ['linux-idle-pit', 'linux-idle-lapic', 'linux-idle-hpet', 'clocksource-read', 'rtc-periodic', 'ata-pio-read', 'floppy-read', 'vga-text-console', 'keyboard-typing', 'serial-console'];
const MEASURED: Record<string, readonly number[]> = {
  'qemu-tcg': [39, 98, 91, 1794, 54, 5275, 3089, 106, 18, 64],
  'kvm-irqchip': [33, 43, 61, 214, 49, 279, 304, 101, 36, 49],
  'kvm-kernel-counters': [25, 15, 37, 118, 36, 177, 259, 66, 24, 37],
  'kvm-userspace-pit': [25, 30, 39, 168, 29, 214, 332, 40, 27, 26],
  'kvm-split': [29, 23, 42, 212, 26, 232, 306, 31, 22, 57],
  'kvm-userspace-irqchip': [40, 26, 63, 197, 25, 280, 287, 35, 17, 48],
  plex86: [24, 21, 28, 2097, 48, 13317, 4045, 38, 19, 36],
};
const bench = planSweep({ profiles: Object.keys(MEASURED), workloads: WORKLOADS, axes: [], durationNs: 100e6 });
const cost = (run: PlannedRun) => MEASURED[run.spec.label]?.[WORKLOADS.indexOf(run.spec.workload.workload)] ?? Number.NaN;

/** Each run's start when `lanes` lanes each take the order's next run as their last one ends, and when the last ends. */
function schedule(lanes: number, order: { next(): PlannedRun | undefined; started(run: PlannedRun): void; finished(run: PlannedRun): void }, clock: { now: number }): { readonly end: number; readonly starts: Map<PlannedRun, number> } {
  const starts = new Map<PlannedRun, number>();
  const busy: { run: PlannedRun; end: number }[] = [];
  for (;;) {
    while (busy.length < lanes) {
      const run = order.next();
      if (run === undefined) break;
      order.started(run);
      starts.set(run, clock.now);
      busy.push({ run, end: clock.now + cost(run) });
    }
    busy.sort((x, y) => x.end - y.end);
    const first = busy.shift();
    if (first === undefined) return { end: clock.now, starts };
    clock.now = first.end;
    order.finished(first.run);
  }
}

/** A run order on a clock of the test's own. */
function onClock(runs: readonly PlannedRun[]): { readonly order: RunOrder; readonly clock: { now: number } } {
  const clock = { now: 0 };
  return { order: new RunOrder(runs, () => clock.now), clock };
}

describe('the order a sweep hands its runs out in', () => {
  it('hands out every run once, then nothing', () => {
    const { order, clock } = onClock(bench.runs);
    const handed: string[] = [];
    for (let run = order.next(); run !== undefined; run = order.next()) {
      handed.push(run.key);
      order.started(run);
      clock.now += cost(run);
      order.finished(run);
    }
    expect(handed).toHaveLength(bench.runs.length);
    expect(new Set(handed)).toEqual(new Set(bench.runs.map((run) => run.key)));
    expect(order.remaining).toBe(0);
  });

  it('tries every placement, workload and parameter value before it guesses, the run with the most untried first', () => {
    const order = new RunOrder(plan.runs);
    const first = [order.next(), order.next(), order.next(), order.next()].map((run) => run === undefined ? '' : name(run));
    // 4 placements, 3 workloads, 2 HZ: four runs try every one (plan order on a tie).
    expect(first).toEqual(['qemu-tcg × linux-idle-pit hz=100', 'kvm-irqchip × linux-idle-pit hz=1000', 'kvm-split × ata-pio-read', 'plex86 × serial-console']);
  });

  it('starts the longest run early enough that two lanes finish within 3 % of the best split, where plan order takes a fifth longer', () => {
    const total = bench.runs.reduce((sum, run) => sum + cost(run), 0);
    const longest = bench.runs.reduce((a, b) => cost(a) >= cost(b) ? a : b);
    const best = Math.max(total / 2, cost(longest));
    const { order, clock } = onClock(bench.runs);
    const ordered = schedule(2, order, clock);
    expect(ordered.starts.size).toBe(bench.runs.length);
    expect(ordered.end).toBeLessThanOrEqual(best * 1.03);

    const inPlan = [...bench.runs];
    const planned = schedule(2, { next: () => inPlan.shift(), started: () => undefined, finished: () => undefined }, { now: 0 });
    expect(planned.end).toBeGreaterThan(best * 1.2);
  });

  it('learns from a run still going: one running long makes its placement\'s next run go first, before it ends', () => {
    const small = planSweep({ profiles: ['kvm-split', 'kvm-irqchip', 'plex86'], workloads: ['serial-console', 'floppy-read'], axes: [], durationNs: 10e6 });
    /** Three runs, each 10 ms unless `third` says otherwise: the first from 0, the second from 40, the third (plex86's) from 0; the run picked at 50 ms. */
    const pickedAt50 = (third: number) => {
      const { order, clock } = onClock(small.runs);
      const [a, b, c] = [order.next(), order.next(), order.next()];
      if (a === undefined || b === undefined || c === undefined) throw new Error('three runs expected');
      expect([a, b, c].map(name)).toEqual(['kvm-split × serial-console', 'kvm-irqchip × floppy-read', 'plex86 × serial-console']);
      order.started(a);
      order.started(c);
      clock.now = 10;
      order.finished(a);
      if (third <= 10) order.finished(c);
      clock.now = 40;
      order.started(b);
      clock.now = 50;
      order.finished(b);
      const next = order.next();
      return next === undefined ? '' : name(next);
    };
    // plex86 × serial-console still going at 50 ms, where kvm-split's took 10: plex86 is slow, and its floppy run goes first.
    expect(pickedAt50(1000)).toBe('plex86 × floppy-read');
    // Had it ended at 10 ms like kvm-split's, plex86 would be no slower, and the plan's order would stand.
    expect(pickedAt50(10)).toBe('kvm-split × floppy-read');
  });
});
