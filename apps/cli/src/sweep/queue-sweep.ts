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
import { RunOrder } from './run-order.ts';
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

/**
 * Jobs kept waiting in the queue. A job is added each time a worker takes
 * one, the longest expected then (`RunOrder`), rather than all at once in
 * plan order: a worker takes the oldest waiting job, so the order is the
 * sweep's only while few wait. With one waiting, a process that frees takes
 * a run chosen one run ago; a second one freeing at that moment waits a
 * round trip for the next.
 */
const LEAD = 1;

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
  const order = new RunOrder(pending);
  const ours = new Map(pending.map((run) => [run.key, run]));
  const taken = new Set<string>(); // the runs a worker holds
  let waiting = 0; // added and not taken, as far as the events tell
  let settled = 0;
  let allSettled: () => void = () => undefined;
  const done = new Promise<void>((resolve) => { allSettled = resolve; });

  /** One run onto the queue (afresh if it failed for good in an earlier submission), its result into the folder. */
  const submit = async (run: PlannedRun): Promise<void> => {
    try {
      const old = await queue.getJob(run.key);
      if (old !== undefined && await old.isFailed()) await old.remove();
      const job = await queue.add(`${run.spec.label} × ${run.spec.workload.workload}`, { version: SPLITVISOR_VERSION, spec: run.spec }, { jobId: run.key, attempts, removeOnComplete: false, removeOnFail: false });
      writeWhole(dir, run.file, await job.waitUntilFinished(events));
    } catch (error) {
      const failed = await queue.getJob(run.key).catch(() => undefined);
      const why = failed?.failedReason ?? (error instanceof Error ? error.message : String(error));
      failures.set(run.key, `${why} (tried ${failed?.attemptsMade ?? attempts} time${failed?.attemptsMade === 1 ? '' : 's'} on the queue)`);
    }
    order.finished(run);
    if (!taken.delete(run.key)) waiting = Math.max(0, waiting - 1); // finished before this submission (its result was waiting)
    await queue.remove(run.key).catch(() => 0); // left in Redis, it is collected again, the same bytes, if this sweep is run again
    finished();
    if (++settled === pending.length) allSettled();
    else topUp();
  };
  const topUp = (): void => {
    while (order.remaining > 0 && waiting < LEAD) {
      const run = order.next();
      if (run === undefined) break;
      waiting++;
      void submit(run);
    }
  };
  events.on('active', ({ jobId }) => {
    const run = ours.get(jobId);
    if (run === undefined || taken.has(jobId)) return;
    taken.add(jobId);
    order.started(run);
    waiting = Math.max(0, waiting - 1);
    topUp();
  });
  try {
    await events.waitUntilReady();
    topUp();
    await done;
  } finally {
    await events.close();
    await queue.close();
  }
  return failures;
}
