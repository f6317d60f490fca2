/**
 * A sweep's progress bar: runs done of the plan's total and the time left,
 * on stderr when it is a terminal (cli-progress); nothing otherwise. A
 * resumed sweep starts the bar at the runs already finished, so its
 * estimate counts only the runs this process makes.
 */
import { SingleBar } from 'cli-progress';

export interface SweepProgress {
  /** One more run finished (or failed). */
  readonly tick: () => void;
  readonly stop: () => void;
}

export function sweepProgress(total: number, done: number, quiet: boolean): SweepProgress {
  if (quiet || !process.stderr.isTTY) return { tick: () => undefined, stop: () => undefined };
  const bar = new SingleBar({ format: 'sweep [{bar}] {value}/{total} runs · {eta_formatted} left', stream: process.stderr, hideCursor: true, clearOnComplete: true, etaBuffer: 20 });
  bar.start(total, done);
  return { tick: () => { bar.increment(); }, stop: () => { bar.stop(); } };
}
