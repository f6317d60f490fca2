/**
 * One run of a sweep: a placement, read and checked, and the workload options
 * `splitvisor run` would be given for it — everything its result depends on.
 * A run is named by a hash of exactly that (its key), so the same inputs give
 * the same file name on any machine, in any order, and a finished run is
 * found again by name when a sweep resumes.
 */
import { createHash } from 'node:crypto';
import { configure } from 'safe-stable-stringify';
import type { Placement } from '@splitvisor/placement';
import type { ParameterValue } from '@splitvisor/workloads';

/** What `run --json` records of the workload: what `workloadOptions` makes of `run`'s flags, modelled. */
export interface RunWorkload {
  readonly workload: string;
  readonly parameters: Readonly<Record<string, ParameterValue>>;
  readonly durationNs: number;
  readonly mode: 'modelled';
  readonly costModel?: string;
}

export interface RunSpec {
  /** How the result names the placement: the profile's name, or the name a placement file gives. */
  readonly label: string;
  readonly placement: Placement;
  readonly workload: RunWorkload;
}

// Keys sorted at every level, so the hash depends on the values alone, not on the order they were written in.
const canonical = configure({ deterministic: true, strict: true });

/** The run's key: 16 hex digits (64 bits) of the SHA-256 of its canonical JSON. */
export function runKey(spec: RunSpec): string {
  return createHash('sha256').update(canonical(spec)).digest('hex').slice(0, 16);
}

/** The file a run's result is kept in, in the sweep's folder. */
export function resultFileName(key: string): string {
  return `${key}.json`;
}
