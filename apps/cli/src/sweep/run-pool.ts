/**
 * The local worker pool (tinypool): one thread per job, each running
 * `run-task` for the runs it is handed. From a build the threads load
 * `run-task.js`; from source (the tests, `node --import tsx`) a thread
 * cannot take tsx from its `execArgv`, so its entry is a small module that
 * registers tsx's loader in the thread first and then imports `run-task.ts`.
 */
import { setFlagsFromString } from 'node:v8';
import { Tinypool } from 'tinypool';
import type { RunOutcome } from './run-task.ts';
import type { RunSpec } from './run-spec.ts';

const TASK = new URL(import.meta.url.endsWith('.ts') ? './run-task.ts' : './run-task.js', import.meta.url);

/** The module a thread loads: the built task, or a bootstrap that loads the TypeScript one through tsx. */
function threadEntry(): string {
  if (!TASK.pathname.endsWith('.ts')) return TASK.href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `const { register } = await import(${JSON.stringify(tsx)}); register(); const task = await import(${JSON.stringify(TASK.href)}); export default task.default;`;
  return `data:text/javascript,${encodeURIComponent(bootstrap)}`;
}

export interface RunPool {
  run(spec: RunSpec): Promise<RunOutcome>;
  close(): Promise<void>;
}

/** A pool of `threads` threads, kept until closed (a thread loads the VMM once and runs one run after another). */
export function runPool(threads: number): RunPool {
  // Every new VM makes V8 optimise much of the run loop again, and by default its background threads do that
  // beside the run: a lone run then keeps 1.5 cores busy, and runs on every core steal from each other. Compiled
  // in the run's own thread instead, a run takes no longer alone (measured) and each thread needs one core.
  // Read by each isolate as it is made: the pool's threads, not this one.
  setFlagsFromString('--no-concurrent-recompilation');
  const pool = new Tinypool({ filename: threadEntry(), minThreads: threads, maxThreads: threads });
  return {
    run: (spec) => pool.run(spec) as Promise<RunOutcome>,
    close: () => pool.destroy(),
  };
}
