/**
 * `splitvisor worker --queue redis://…`: takes a sweep's runs from the BullMQ
 * queue, as many at once as `--jobs`, each in a process of the same pool a
 * local sweep uses (so this process's event loop stays free to renew its
 * runs' locks), and gives each result back to Redis. Runs until stopped:
 * SIGINT or SIGTERM lets the runs in hand finish first. If the process dies
 * instead, its runs' locks run out after `--stalled-after` and another
 * worker's stalled-job check puts them back on the queue.
 */
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { Job } from 'bullmq';
import { UnrecoverableError, Worker } from 'bullmq';
import { duration, positiveInteger } from '../run-flags.ts';
import type { RunJob } from './redis-queue.ts';
import { QUEUE_NAME, SPLITVISOR_VERSION, connectionOf, reachRedis, redisUrl, shownUrl } from './redis-queue.ts';
import { runPool } from './run-pool.ts';

/** How often a run orphaned by a dead worker may go back on the queue before it is failed (BullMQ's maxStalledCount). */
const MAX_STALLS = 2;

interface WorkerFlags {
  queue: string;
  jobs: number;
  stalledAfter: number;
}

async function serve(flags: WorkerFlags): Promise<void> {
  await reachRedis(flags.queue);
  const pool = runPool(flags.jobs);
  const lockMs = Math.max(1, Math.round(flags.stalledAfter / 1e6));
  const worker = new Worker<RunJob, string>(QUEUE_NAME, async (job: Job<RunJob, string>) => {
    const { version, spec } = job.data;
    if (version !== SPLITVISOR_VERSION) throw new UnrecoverableError(`this worker runs splitvisor ${SPLITVISOR_VERSION}, the sweep was planned by ${version}: run one version everywhere`);
    console.log(`run ${job.id ?? '?'} taken (${job.name}, attempt ${job.attemptsMade + 1})`);
    const outcome = await pool.run(spec);
    if ('error' in outcome) throw new Error(outcome.error);
    return outcome.result;
  // As many jobs as processes: a run is taken from the queue when a process is free for it, so the sweep's order
  // (the longest expected first) holds, and a run's time on the queue is its own. BullMQ hands the next job over
  // in the same round trip that completes the last.
  }, { connection: connectionOf(flags.queue), concurrency: flags.jobs, lockDuration: lockMs, stalledInterval: Math.max(1, Math.round(lockMs / 2)), maxStalledCount: MAX_STALLS });
  worker.on('completed', (job) => { console.log(`run ${job.id ?? '?'} done`); });
  worker.on('failed', (job, error) => { console.log(`run ${job?.id ?? '?'} failed: ${error.message}`); });
  let last = '';
  worker.on('error', (error) => {
    if (error.message !== last) console.error(`splitvisor worker: ${error.message}`);
    last = error.message;
  });
  await worker.waitUntilReady();
  console.log(`splitvisor worker: taking runs from ${shownUrl(flags.queue)} on ${flags.jobs} process${flags.jobs === 1 ? '' : 'es'} (Ctrl-C stops it once the runs in hand are done)`);
  await new Promise<void>((resolve) => {
    const stop = () => { resolve(); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  // A second signal does not wait for the runs in hand (nor for a Redis that is gone): they go back on the queue when their locks run out.
  const now = (signal: NodeJS.Signals) => { process.exit(128 + (signal === 'SIGINT' ? 2 : 15)); };
  process.once('SIGINT', now);
  process.once('SIGTERM', now);
  console.log('splitvisor worker: stopping once the runs in hand are done (again to stop now)');
  await worker.close();
  await pool.close();
}

export function addWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run sweeps\' runs from a BullMQ queue in Redis (splitvisor sweep --queue), on any number of machines, until stopped')
    .requiredOption('--queue <url>', 'the Redis database of the queue, redis://HOST:PORT/DB', redisUrl)
    .addOption(new Option('--jobs <n>', 'runs at once, one process each').argParser(positiveInteger).default(availableParallelism(), 'the number of cores'))
    .addOption(new Option('--stalled-after <time>', 'a run whose worker stops answering for this long goes back on the queue for another (BullMQ\'s lock duration)').argParser(duration).default(30e9, '30s'))
    .action(serve);
}
