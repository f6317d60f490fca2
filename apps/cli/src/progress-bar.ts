/**
 * A progress bar for slow commands, on stderr and only when stderr is a
 * terminal and the output is not JSON (cli-progress): piped, under a test or
 * with --json, nothing is drawn, so what the command prints on stdout is the
 * same either way.
 */
import { SingleBar } from 'cli-progress';

export interface ProgressBar {
  /** `done` of `total` finished. */
  readonly update: (done: number, total: number) => void;
  readonly stop: () => void;
}

export function progressBar(label: string, quiet = false, unit = 'runs'): ProgressBar {
  if (quiet || !process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar({ format: `${label} [{bar}] {value}/{total} ${unit} · {eta_formatted} left`, stream: process.stderr, hideCursor: true, clearOnComplete: true });
  let started = false;
  return {
    update: (done, total) => {
      if (!started) bar.start(total, 0);
      started = true;
      bar.update(done);
    },
    stop: () => { if (started) bar.stop(); },
  };
}
