/**
 * A sweep's plan: the cross product of its placements, its workloads and the
 * values of each `--param` axis that acts on the workload, as runs with their
 * keys. Everything is read and checked here, before anything runs: every
 * profile and placement file, every workload, every parameter value against
 * every workload that takes it. A plan is named by its runs (`id`), so a
 * folder is known to hold this sweep's results or another's.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PROFILES } from '@splitvisor/placement';
import type { ParameterValue, WorkloadDefinition } from '@splitvisor/workloads';
import { WORKLOAD_DEFINITIONS, WORKLOAD_MIXES, WorkloadError, resolveParameters, workloadDefinition, workloadMix } from '@splitvisor/workloads';
import { CliError } from '../cli-error.ts';
import type { ChosenPlacement } from '../placement-file.ts';
import { choosePlacement } from '../placement-file.ts';
import { duration } from '../run-flags.ts';
import type { RunSpec, RunWorkload } from './run-spec.ts';
import { resultFileName, runKey } from './run-spec.ts';
import type { SweepAxis } from './sweep-parameters.ts';
import { axesFor, checkAxes } from './sweep-parameters.ts';

export interface SweepRequest {
  /** Profile names (`all`: every profile). */
  readonly profiles: readonly string[];
  /** A folder of placement files (`*.json`), each one more placement. */
  readonly placementDir?: string;
  readonly workloads: readonly string[];
  readonly axes: readonly SweepAxis[];
  /** Guest time of each run when no `duration` axis is given. */
  readonly durationNs: number;
}

export interface PlannedRun {
  readonly key: string;
  /** Its result's file name in the sweep's folder. */
  readonly file: string;
  readonly spec: RunSpec;
}

export interface SweepPlan {
  /** A hash of every run's key: the same runs, the same sweep. */
  readonly id: string;
  readonly runs: readonly PlannedRun[];
}

/** The plan for `request`; one line for the user when anything in it is unknown, wrong or empty. */
export function planSweep(request: SweepRequest): SweepPlan {
  const placements = placementsOf(request);
  const workloads = request.workloads.map(knownWorkload);
  const canonical = workloads.map((w) => w.definition?.name ?? w.name);
  const twice = canonical.find((name, i) => canonical.indexOf(name) !== i);
  if (twice !== undefined) throw new CliError(`workload ${twice} is named twice in --workloads`);
  if (workloads.length === 0) throw new CliError('empty sweep: --workloads names none');
  checkAxes(request.axes, workloads.map((w) => w.definition));

  const runs: PlannedRun[] = [];
  for (const chosen of placements) {
    for (const { name, definition } of workloads) {
      for (const workload of workloadRuns(name, definition, request)) {
        const spec: RunSpec = { label: chosen.label, placement: chosen.placement, workload };
        const key = runKey(spec);
        runs.push({ key, file: resultFileName(key), spec });
      }
    }
  }
  const id = createHash('sha256').update(runs.map((r) => r.key).sort().join('\n')).digest('hex').slice(0, 16);
  return { id, runs };
}

/** The placements: the profiles named, then each placement file of the folder (by file name); no label twice. */
function placementsOf(request: SweepRequest): ChosenPlacement[] {
  const names = request.profiles.length === 1 && request.profiles[0] === 'all' ? PROFILES.map((p) => p.name) : request.profiles;
  const chosen = names.map((name) => choosePlacement({ profile: name }));
  if (request.placementDir !== undefined) {
    const dir = request.placementDir;
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    } catch (error) {
      throw new CliError(`cannot read --placement-dir ${dir}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (files.length === 0) throw new CliError(`--placement-dir ${dir} holds no placement file (*.json)`);
    chosen.push(...files.map((f) => choosePlacement({ file: join(dir, f) })));
  }
  if (chosen.length === 0) throw new CliError('empty sweep: give --profiles (or --placement-dir)');
  const labels = chosen.map((c) => c.label);
  const twice = labels.find((label, i) => labels.indexOf(label) !== i);
  if (twice !== undefined) throw new CliError(`two placements of this sweep are named ${twice}: results are told apart by name`);
  return chosen;
}

/** A workload or mix this build has, by its name or alias. */
function knownWorkload(name: string): { readonly name: string; readonly definition: WorkloadDefinition | undefined } {
  const definition = workloadDefinition(name);
  if (definition === undefined && workloadMix(name) === undefined) {
    throw new CliError(`unknown workload "${name}" (this build has: ${WORKLOAD_DEFINITIONS.map((w) => w.name).join(', ')}; mixes: ${WORKLOAD_MIXES.map((m) => m.name).join(', ')})`);
  }
  return { name, definition };
}

/** The runs of one workload: each combination of the values of the axes that act on it, the first axis outermost. */
function workloadRuns(name: string, definition: WorkloadDefinition | undefined, request: SweepRequest): RunWorkload[] {
  let combinations: Record<string, string>[] = [{}];
  for (const axis of axesFor(request.axes, definition)) combinations = combinations.flatMap((given) => axis.values.map((value) => ({ ...given, [axis.key]: value })));
  return combinations.map((given) => {
    const { duration: time, 'cost-model': costModel, ...rest } = given;
    const parameters: Record<string, ParameterValue> = rest;
    if (definition !== undefined) {
      try {
        resolveParameters(definition, parameters);
      } catch (error) {
        if (error instanceof WorkloadError) throw new CliError(error.message);
        throw error;
      }
    }
    // The same fields, in the same order, as `run --json` records for these flags.
    return { workload: name, parameters, durationNs: time === undefined ? request.durationNs : duration(time), mode: 'modelled', ...(costModel === undefined ? {} : { costModel }) };
  });
}
