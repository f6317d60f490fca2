/**
 * The local pool (tinypool): one child process per job, each running
 * `run-task` for the runs it is handed, one after another. From a build a
 * process loads `run-task.js`; from source (the tests, `node --import tsx`)
 * it is started with tsx's loader and loads `run-task.ts`.
 */
import { Tinypool } from 'tinypool';
import type { RunOutcome } from './run-task.ts';
import type { RunSpec } from './run-spec.ts';

const TASK = new URL(import.meta.url.endsWith('.ts') ? './run-task.ts' : './run-task.js', import.meta.url);

// Processes, not threads, for the V8 flags a run wants, which a thread cannot be given (they are the process's):
// - one GC thread: by default a run's scavenges and marking borrow helper threads from every core, so runs on
//   every core steal from each other — measured, each run took 30 % longer beside another than alone, and a lone
//   run is faster without them too (38.8 s → 34.2 s for the bench's 70 runs);
// - compiling in the run's own thread: every new VM makes V8 optimise much of the run loop again, and by default
//   that is done beside the run, with the same effect.
const RUN_FLAGS = ['--single-threaded-gc', '--no-concurrent-recompilation'];

export interface RunPool {
  /** Its processes: how many runs it runs at once. */
  readonly size: number;
  run(spec: RunSpec): Promise<RunOutcome>;
  close(): Promise<void>;
}

/** A pool of `processes` processes, kept until closed (a process loads the VMM once and runs one run after another). */
export function runPool(processes: number): RunPool {
  const loader = TASK.pathname.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : [];
  const pool = new Tinypool({
    filename: TASK.href,
    runtime: 'child_process',
    execArgv: [...loader, ...RUN_FLAGS],
    minThreads: processes,
    maxThreads: processes,
  });
  return {
    size: processes,
    run: (spec) => pool.run(spec) as Promise<RunOutcome>,
    close: () => pool.destroy(),
  };
}
