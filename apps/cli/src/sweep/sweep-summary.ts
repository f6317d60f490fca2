/**
 * What a sweep ends with: `summary.json` — every run of the plan, in its
 * order, with its file and its headline figures, or why it failed — and the
 * same as a table, a row per workload (with its parameters) and a column per
 * placement. The summary is read back from the result files themselves, those
 * of earlier (interrupted) sweeps of the same plan too, so it describes the
 * folder, not one process's share of it; it holds no wall time, so the same
 * sweep gives the same summary on any number of jobs.
 */
import { join } from 'node:path';
import { readResult } from '../result-file.ts';
import type { Row } from '../table.ts';
import { printTable } from '../table.ts';
import type { SweepManifestRun } from './sweep-folder.ts';
import { SUMMARY_FILE, writeWhole } from './sweep-folder.ts';
import type { SweepPlan } from './sweep-plan.ts';

export type SummaryRun = SweepManifestRun & (
  | { readonly status: 'done'; readonly exits: number; readonly heavyweightExits: number; readonly overheadCycles: number; readonly overheadPercent: number; readonly guestNs: number }
  | { readonly status: 'failed'; readonly error: string }
);

export interface SweepSummary {
  readonly format: 'splitvisor-sweep-summary';
  readonly version: 1;
  readonly id: string;
  readonly done: number;
  readonly failed: number;
  readonly runs: readonly SummaryRun[];
}

/** The summary of `plan` in `dir`: each run finished there read back, each failure with its line. */
export function summarize(dir: string, plan: SweepPlan, finished: ReadonlySet<string>, failures: ReadonlyMap<string, string>): SweepSummary {
  const runs = plan.runs.map(({ key, file, spec }): SummaryRun => {
    const { workload } = spec;
    const what: SweepManifestRun = {
      file, profile: spec.label, workload: workload.workload, parameters: workload.parameters, durationNs: workload.durationNs,
      ...(workload.costModel === undefined ? {} : { costModel: workload.costModel }),
    };
    const error = failures.get(key);
    if (error !== undefined) return { ...what, status: 'failed', error };
    if (!finished.has(key)) throw new Error(`run ${file} neither finished nor failed`);
    const result = readResult(join(dir, file));
    if (result.kind !== 'run') throw new Error(`${join(dir, file)}: a ${result.kind} result where a run's was written`);
    const { run } = result;
    return { ...what, status: 'done', exits: run.exits, heavyweightExits: run.heavyweightExits, overheadCycles: run.overheadCycles, overheadPercent: run.overheadPercent, guestNs: run.guestNs };
  });
  return {
    format: 'splitvisor-sweep-summary', version: 1, id: plan.id,
    done: runs.filter((r) => r.status === 'done').length, failed: runs.filter((r) => r.status === 'failed').length, runs,
  };
}

export function writeSummary(dir: string, summary: SweepSummary): void {
  writeWhole(dir, SUMMARY_FILE, `${JSON.stringify(summary, null, 2)}\n`);
}

/** How a run's workload reads in a row: its name, then what was given to it. */
function workloadLabel(run: SweepManifestRun): string {
  const given = Object.entries(run.parameters).map(([name, value]) => `${name}=${value}`);
  return [run.workload, ...given].join(' ');
}

/** The summary as a table: a row per workload, its parameters, guest time and cost model; a column per placement; each cell the run's modelled overhead cycles and heavyweight exits. */
export function printSummary(summary: SweepSummary): void {
  const rows = new Map<string, Record<string, string | number>>();
  for (const run of summary.runs) {
    const id = JSON.stringify([run.workload, run.parameters, run.durationNs, run.costModel]);
    const row = rows.get(id) ?? { workload: workloadLabel(run), 'guest ms': run.durationNs / 1e6, 'cost model': run.costModel ?? "profile's" };
    row[run.profile] = run.status === 'done' ? `${run.overheadCycles.toLocaleString('en-US')} (${run.heavyweightExits.toLocaleString('en-US')})` : 'failed';
    rows.set(id, row);
  }
  console.log('Modelled overhead cycles of each run (heavyweight exits in brackets), by workload and placement:');
  printTable([...rows.values()] as Row[]);
}
