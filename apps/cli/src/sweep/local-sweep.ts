/**
 * A sweep on this machine: the runs not yet finished in the folder, one per
 * process of the pool at a time, the longest expected first (`RunOrder`),
 * each result written whole as it arrives. Which process runs what, and in
 * which order they finish, changes nothing in any file.
 */
import { RunOrder } from './run-order.ts';
import type { RunPool } from './run-pool.ts';
import { writeWhole } from './sweep-folder.ts';
import type { PlannedRun } from './sweep-plan.ts';

/**
 * Runs `pending` on `pool`, writing each result into `dir`; returns the runs
 * that failed, with their line — a run's own error, or what ended its
 * process (a bug, memory): either way the other runs go on.
 */
export async function runLocally(dir: string, pending: readonly PlannedRun[], pool: RunPool, finished: () => void): Promise<Map<string, string>> {
  const failures = new Map<string, string>();
  const order = new RunOrder(pending);
  // One lane per process, each taking the next run as its last one ends: a run is chosen when a process is free
  // for it, so it is chosen knowing every run finished by then.
  const lane = async (): Promise<void> => {
    for (let run = order.next(); run !== undefined; run = order.next()) {
      order.started(run);
      const outcome = await pool.run(run.spec).catch((error: unknown) => ({ error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }));
      order.finished(run);
      if ('result' in outcome) writeWhole(dir, run.file, outcome.result);
      else failures.set(run.key, outcome.error);
      finished();
    }
  };
  await Promise.all(Array.from({ length: Math.min(pool.size, pending.length) }, lane));
  return failures;
}
