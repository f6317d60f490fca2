/**
 * `splitvisor sweep`: the cross product of placements, workloads and
 * parameters, run on this machine's cores (a pool of processes), one result
 * file per run in `--out`, resumable, and a summary at the end.
 */
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { Option } from 'commander';
import { CliError } from '../cli-error.ts';
import { duration, positiveInteger } from '../run-flags.ts';
import { runLocally } from './local-sweep.ts';
import { runOnQueue } from './queue-sweep.ts';
import { reachRedis, redisUrl, shownUrl } from './redis-queue.ts';
import { runPool } from './run-pool.ts';
import { openSweepFolder } from './sweep-folder.ts';
import type { SweepAxis } from './sweep-parameters.ts';
import { RUN_KEYS, parameterAxis } from './sweep-parameters.ts';
import type { PlannedRun, SweepPlan } from './sweep-plan.ts';
import { planSweep } from './sweep-plan.ts';
import { sweepProgress } from './sweep-progress.ts';
import { printSummary, summarize, writeSummary } from './sweep-summary.ts';

interface SweepFlags {
  profiles?: string;
  placementDir?: string;
  workloads: string;
  param: SweepAxis[];
  duration: number;
  out: string;
  jobs: number;
  queue?: string;
  attempts: number;
  json?: boolean;
}

/** A comma-separated list, each name trimmed; an empty list stays empty (the plan says so). */
function list(value: string | undefined): string[] {
  return value === undefined ? [] : value.split(',').map((name) => name.trim()).filter((name) => name !== '');
}

/** The summary written and shown; each failed run named with its line, and exit status 1 when there is one. */
function finish(flags: SweepFlags, plan: SweepPlan, finished: ReadonlySet<string>, failures: ReadonlyMap<string, string>): void {
  const summary = summarize(flags.out, plan, finished, failures);
  writeSummary(flags.out, summary);
  if (flags.json === true) console.log(JSON.stringify(summary, null, 2));
  else printSummary(summary);
  for (const run of summary.runs) {
    if (run.status !== 'failed') continue;
    const given = Object.entries(run.parameters).map(([name, value]) => ` ${name}=${value}`).join('');
    console.error(`splitvisor: run ${run.file} (${run.profile} × ${run.workload}${given}) failed: ${run.error}`);
  }
  const say = flags.json === true ? console.error : console.log;
  say(`${summary.done} of ${plan.runs.length} runs done${summary.failed === 0 ? '' : `, ${summary.failed} failed`}: ${flags.out} (summary.json; splitvisor report ${flags.out} draws them)`);
  if (summary.failed > 0) process.exitCode = 1;
}

/** `pending` on a pool of `processes` processes made for them (none when there is nothing to run). */
async function onPool(dir: string, pending: readonly PlannedRun[], processes: number, finished: () => void): Promise<Map<string, string>> {
  if (pending.length === 0) return new Map();
  const pool = runPool(processes);
  try {
    return await runLocally(dir, pending, pool, finished);
  } finally {
    await pool.close();
  }
}

export function addSweepCommand(program: Command): void {
  program
    .command('sweep')
    .description('run every placement against every workload over parameters, on all cores: one result file per run (as run --json prints it), resumable, and a summary')
    .option('--profiles <names>', 'comma-separated profile names, or all (see splitvisor profiles)')
    .option('--placement-dir <dir>', 'a folder of placement files (*.json), each run as one more placement')
    .requiredOption('--workloads <names>', 'comma-separated workloads (see splitvisor workloads)')
    .option('--param <key=v1,v2,…>', `values to sweep (repeatable): a workload's parameter (see splitvisor workloads; it varies the workloads that take it), or ${Object.entries(RUN_KEYS).map(([key, { what }]) => `${key} (${what})`).join(', ')}`, parameterAxis, [])
    .addOption(new Option('--duration <time>', 'guest time of each run, unless --param duration=… sweeps it').argParser(duration).default(100e6, '100ms'))
    .requiredOption('--out <dir>', 'the folder of the results: new or empty, or this sweep\'s own to resume it')
    .addOption(new Option('--jobs <n>', 'runs at once, one process each').argParser(positiveInteger).default(availableParallelism(), 'the number of cores'))
    .option('--queue <url>', 'put the runs on a BullMQ queue in this Redis database, redis://HOST:PORT/DB, for splitvisor worker to run (on any number of machines), instead of this machine\'s pool', redisUrl)
    .addOption(new Option('--attempts <n>', 'with --queue: how many times a run is tried before it is reported failed').argParser(positiveInteger).default(3))
    .option('--json', 'print the summary as JSON')
    .action(async (flags: SweepFlags, command: Command) => {
      if (flags.param.some((axis) => axis.key === 'duration') && command.getOptionValueSource('duration') !== 'default') throw new CliError('give --duration TIME or --param duration=T1,T2,…, not both');
      const plan = planSweep({
        profiles: list(flags.profiles), ...(flags.placementDir === undefined ? {} : { placementDir: flags.placementDir }),
        workloads: list(flags.workloads), axes: flags.param, durationNs: flags.duration,
      });
      if (flags.queue !== undefined) {
        if (command.getOptionValueSource('jobs') !== 'default') throw new CliError('--jobs sets this machine\'s processes; with --queue, each worker\'s own --jobs does (splitvisor worker --jobs N)');
        await reachRedis(flags.queue); // before the folder is touched
      } else if (command.getOptionValueSource('attempts') !== 'default') throw new CliError('--attempts is for runs on a queue: give --queue too');
      const finished = openSweepFolder(flags.out, plan);
      const pending = plan.runs.filter((run) => !finished.has(run.key));
      const processes = Math.min(flags.jobs, pending.length);
      const where = flags.queue === undefined ? `on ${processes} process${processes === 1 ? '' : 'es'}` : `on the queue at ${shownUrl(flags.queue)}`;
      const say = flags.json === true ? console.error : console.log;
      say(`splitvisor sweep ${plan.id}: ${plan.runs.length} runs${finished.size === 0 ? '' : ` (${finished.size} finished before)`}, ${pending.length} to run ${where}, into ${flags.out}`);
      const progress = sweepProgress(plan.runs.length, finished.size, flags.json === true);
      let failures: Map<string, string>;
      try {
        failures = flags.queue === undefined ? await onPool(flags.out, pending, processes, progress.tick) : await runOnQueue(flags.queue, flags.out, pending, flags.attempts, progress.tick);
      } finally {
        progress.stop();
      }
      const done = new Set(finished);
      for (const run of pending) if (!failures.has(run.key)) done.add(run.key);
      finish(flags, plan, done, failures);
    });
}
