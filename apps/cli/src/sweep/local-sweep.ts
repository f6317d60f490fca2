/**
 * A sweep on this machine: the runs not yet finished in the folder, on the
 * pool's threads, each result written whole as it arrives. Which thread runs
 * what, and in which order they finish, changes nothing in any file.
 */
import type { RunPool } from './run-pool.ts';
import { writeWhole } from './sweep-folder.ts';
import type { PlannedRun } from './sweep-plan.ts';

/**
 * Runs `pending` on `pool`, writing each result into `dir`; returns the runs
 * that failed, with their line — a run's own error, or what ended its thread
 * (a bug, memory): either way the other runs go on.
 */
export async function runLocally(dir: string, pending: readonly PlannedRun[], pool: RunPool, finished: () => void): Promise<Map<string, string>> {
  const failures = new Map<string, string>();
  await Promise.all(pending.map(async (run) => {
    const outcome = await pool.run(run.spec).catch((error: unknown) => ({ error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }));
    if ('result' in outcome) writeWhole(dir, run.file, outcome.result);
    else failures.set(run.key, outcome.error);
    finished();
  }));
  return failures;
}
