// Waiting for a worker peer to be up, on the event loop: no guess at how long start-up may take.
import type { WorkerChannel } from '../src/index.ts';

/**
 * Resolves once the conformance peer has posted its "I am up" (`ok`),
 * serving the channel from timers meanwhile; rejects if the worker exits
 * first. A worker's start-up (a thread, tsx, the entry's imports) takes as
 * long as the machine's load makes it take, so nothing here is timed: a
 * call made before the peer is up would race its start-up against the
 * call's no-progress timeout. The test's own timeout bounds the wait.
 */
export function workerReady(channel: Pick<WorkerChannel, 'end' | 'worker'>): Promise<void> {
  const { end, worker } = channel;
  let ready = false;
  end.setHandler({ onPost: (message) => { ready ||= message.kind === 'ok'; }, onCall: () => ({ kind: 'ok' }) });
  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const exited = (code: number) => {
      clearTimeout(timer);
      reject(new Error(`the worker exited with code ${code} before it was up`));
    };
    worker.once('exit', exited);
    const check = () => {
      try {
        end.poll();
      } catch (error) {
        worker.off('exit', exited);
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      if (ready) {
        worker.off('exit', exited);
        resolve();
      } else {
        timer = setTimeout(check, 2);
      }
    };
    check();
  });
}
