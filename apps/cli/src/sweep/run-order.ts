/**
 * The order a sweep hands its runs out in: the longest expected first, so
 * that no long run starts last while the other jobs have nothing left to do.
 * A sweep's runs differ a hundredfold — under plex86 every word of a PIO
 * read exits, where a KVM placement takes a sector in one exit — and handed
 * out as planned, the longest of the bench's sweep started two thirds of
 * the way through and ran alone for its last third.
 *
 * Nothing is known of a run before it runs, so first every placement,
 * workload and parameter value is tried once (each run taken then is the
 * one with the most features not yet tried, in plan order on a tie). After
 * that a run's expected time is the product of one factor for each of its
 * features, fitted to the runs finished — and to those still running for
 * longer than expected, whose time so far is known to be short of theirs
 * (the first run of a slow placement tells before it ends). Only the order
 * depends on the clock; each result is the same bytes in any order.
 */
import { performance } from 'node:perf_hooks';
import type { PlannedRun } from './sweep-plan.ts';

/** What a run's time may depend on: its placement, its workload, each parameter value, its guest time and cost model. */
function featuresOf(run: PlannedRun): string[] {
  const { label, workload } = run.spec;
  return [
    `placement ${label}`,
    `workload ${workload.workload}`,
    `duration ${workload.durationNs}`,
    `cost-model ${workload.costModel ?? ''}`,
    ...Object.entries(workload.parameters).map(([name, value]) => `${name}=${String(value)}`),
  ];
}

interface Planned {
  readonly run: PlannedRun;
  /** Its features, the first `EVERY_RUN`. */
  readonly features: readonly string[];
}

interface Observed {
  readonly features: readonly string[];
  /** The log of its wall time (so far, for a run still going). */
  readonly log: number;
}

/** What every run has: the factor that is the mean. */
const EVERY_RUN = '';

/** Passes of the fit over what is observed each time it changes (each from the last fit's factors). */
const FIT_PASSES = 3;

export class RunOrder {
  private readonly pending: Planned[];
  private readonly tried = new Set<string>();
  /** Runs handed out and not finished: when each started, once it has. */
  private readonly running = new Map<PlannedRun, { readonly planned: Planned; since?: number }>();
  private readonly done: Observed[] = [];
  /** log(expected time) = Σ factor[feature]: each factor fitted to what is observed. */
  private readonly factor = new Map<string, number>();
  private readonly now: () => number;

  /** `now` is the wall clock in ms (`performance.now`); a test gives its own. */
  constructor(runs: readonly PlannedRun[], now: () => number = () => performance.now()) {
    this.pending = runs.map((run) => ({ run, features: [EVERY_RUN, ...featuresOf(run)] }));
    this.now = now;
  }

  get remaining(): number {
    return this.pending.length;
  }

  /** The run to start next, or undefined when every run has been handed out. */
  next(): PlannedRun | undefined {
    // Any features untried: the run with the most. Once none are, they never are again: the longest expected.
    let best = this.best((planned) => this.untried(planned));
    if (best.score <= 0) {
      this.fit();
      best = this.best((planned) => this.expectedLog(planned.features));
    }
    const [taken] = best.index < 0 ? [] : this.pending.splice(best.index, 1);
    if (taken === undefined) return undefined;
    for (const feature of taken.features) this.tried.add(feature);
    this.running.set(taken.run, { planned: taken });
    return taken.run;
  }

  /** The first pending run with the highest score. */
  private best(score: (planned: Planned) => number): { readonly index: number; readonly score: number } {
    let index = -1;
    let highest = Number.NEGATIVE_INFINITY;
    this.pending.forEach((planned, i) => {
      const value = score(planned);
      if (value > highest) {
        index = i;
        highest = value;
      }
    });
    return { index, score: highest };
  }

  /** `run` (handed out) started now: at once on a local pool, when a worker takes it from a queue. */
  started(run: PlannedRun): void {
    const running = this.running.get(run);
    if (running !== undefined) running.since ??= this.now();
  }

  /** `run` ended now: what the runs left are expected to take is learnt from it (if it was seen to start). */
  finished(run: PlannedRun): void {
    const running = this.running.get(run);
    this.running.delete(run);
    if (running?.since === undefined) return;
    this.done.push({ features: running.planned.features, log: Math.log(Math.max(this.now() - running.since, 1e-3)) });
  }

  /**
   * Fits the factors to the finished runs and the runs going on for longer
   * than expected, by backfitting: each factor in turn set to what its
   * runs' logs leave on average once every other factor is taken away. So a
   * placement tried only with long workloads is not taken for a slow one:
   * the workloads' factors account for them.
   */
  private fit(): void {
    const now = this.now();
    const observed = [...this.done];
    for (const { planned, since } of this.running.values()) {
      if (since === undefined) continue;
      const log = Math.log(Math.max(now - since, 1e-3));
      if (log > this.expectedLog(planned.features)) observed.push({ features: planned.features, log });
    }
    if (observed.length === 0) return;
    const fitted = observed.map((o) => this.expectedLog(o.features));
    const having = new Map<string, number[]>();
    observed.forEach((o, i) => {
      for (const feature of o.features) {
        const runs = having.get(feature);
        if (runs === undefined) having.set(feature, [i]);
        else runs.push(i);
      }
    });
    const { factor } = this;
    for (let pass = 0; pass < FIT_PASSES; pass++) {
      for (const [feature, runs] of having) {
        const old = factor.get(feature) ?? 0;
        let rest = 0;
        for (const i of runs) rest += (observed[i]?.log ?? 0) - (fitted[i] ?? 0) + old;
        const value = rest / runs.length;
        factor.set(feature, value);
        for (const i of runs) fitted[i] = (fitted[i] ?? 0) + value - old;
      }
    }
  }

  private untried(planned: Planned): number {
    let n = 0;
    for (const feature of planned.features) if (!this.tried.has(feature)) n++;
    return n;
  }

  /** The log of the expected time of a run with these features (all runs alike before any is observed). */
  private expectedLog(features: readonly string[]): number {
    let log = 0;
    for (const feature of features) log += this.factor.get(feature) ?? 0;
    return log;
  }
}
