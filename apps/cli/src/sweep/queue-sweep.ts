/**
 * A sweep on BullMQ workers (`sweep --queue redis://…`): each run not yet in
 * the folder goes on the queue as a job named by its key, workers anywhere
 * (`splitvisor worker`) run them, and each result comes back through Redis
 * to be written here whole, as a local run's is, then removed from Redis. A
 * worker that dies leaves its runs to BullMQ's stalled-job check, which puts
 * them back on the queue; a run that fails is tried `attempts` times in all,
 * then reported with its last line. Interrupted, the same command collects
 * what the workers finished meanwhile and waits for the rest.
 */
import { Queue, QueueEvents } from 'bullmq';
import type { RunJob } from './redis-queue.ts';
import { QUEUE_NAME, SPLITVISOR_VERSION, connectionOf, shownUrl } from './redis-queue.ts';
import { writeWhole } from './sweep-folder.ts';
import type { PlannedRun } from './sweep-plan.ts';

/** Each connection problem once, as it changes (BullMQ's connections retry on their own). */
function reporter(url: string): (error: Error) => void {
  let last = '';
  return (error) => {
    if (error.message === last) return;
    last = error.message;
    console.error(`splitvisor: Redis at ${shownUrl(url)}: ${error.message} (retrying)`);
  };
}

/** Runs `pending` on the queue at `url` (reached already: `reachRedis`), writing each result into `dir`; returns the runs that failed for good, with their line. */
export async function runOnQueue(url: string, dir: string, pending: readonly PlannedRun[], attempts: number, finished: () => void): Promise<Map<string, string>> {
  const failures = new Map<string, string>();
  if (pending.length === 0) return failures;
  const connection = connectionOf(url);
  const queue = new Queue<RunJob, string>(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection });
  const problem = reporter(url);
  queue.on('error', problem);
  events.on('error', problem);
  queue.setMaxListeners(pending.length + 16); // each run waited for listens for the queue closing
  try {
    await events.waitUntilReady();
    // A run that failed for good in an earlier submission goes back on the queue afresh.
    for (const run of pending) {
      const job = await queue.getJob(run.key);
      if (job !== undefined && await job.isFailed()) await job.remove();
    }
    const jobs = await queue.addBulk(pending.map((run) => ({
      name: `${run.spec.label} × ${run.spec.workload.workload}`,
      data: { version: SPLITVISOR_VERSION, spec: run.spec },
      opts: { jobId: run.key, attempts, removeOnComplete: false, removeOnFail: false },
    })));
    await Promise.all(jobs.map(async (job, i) => {
      const run = pending[i];
      if (run === undefined) return;
      try {
        writeWhole(dir, run.file, await job.waitUntilFinished(events));
      } catch (error) {
        const failed = await queue.getJob(run.key);
        const why = failed?.failedReason ?? (error instanceof Error ? error.message : String(error));
        failures.set(run.key, `${why} (tried ${failed?.attemptsMade ?? attempts} time${failed?.attemptsMade === 1 ? '' : 's'} on the queue)`);
      }
      await queue.remove(run.key);
      finished();
    }));
  } finally {
    await events.close();
    await queue.close();
  }
  return failures;
}
