/**
 * `splitvisor report DIR`: a sweep's folder drawn as the report draws
 * `compare`: each workload (with its parameters, guest time and cost model)
 * one section, its placements side by side — the runs finished so far, in
 * the plan's order.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../cli-error.ts';
import type { ResultFile, ResultRun } from '../result-file.ts';
import { readResult } from '../result-file.ts';
import { RESULT_FORMAT, RESULT_VERSION } from '../result-format.ts';
import { SWEEP_FILE, readManifest } from './sweep-folder.ts';

export function isSweepFolder(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** The folder's finished runs as one comparison per workload; one line when it is not a sweep's or holds no result yet. */
export function sweepResults(dir: string): { readonly file: string; readonly result: ResultFile }[] {
  const manifest = readManifest(dir);
  if (manifest === undefined) throw new CliError(`${dir}: a folder without ${SWEEP_FILE}, not a sweep's (splitvisor sweep … --out ${dir})`);
  const groups = new Map<string, { workload: Record<string, unknown>; runs: ResultRun[] }>();
  for (const { file } of manifest.runs) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    const result = readResult(path);
    if (result.kind !== 'run') throw new CliError(`${path}: a ${result.kind} result where a sweep keeps runs`);
    const { workload } = result;
    const id = JSON.stringify(workload);
    const group = groups.get(id) ?? { workload, runs: [] };
    group.runs.push(result.run);
    groups.set(id, group);
  }
  if (groups.size === 0) throw new CliError(`${dir}: no run of this sweep has finished yet`);
  return [...groups.values()].map(({ workload, runs }) => ({
    file: `${dir}: ${runs.length} of the sweep's ${manifest.runs.length} runs`,
    result: { format: RESULT_FORMAT, version: RESULT_VERSION, kind: 'compare', workload: workload as { workload: string }, runs } satisfies ResultFile,
  }));
}
