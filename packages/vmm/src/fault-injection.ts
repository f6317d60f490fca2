/**
 * Fault injection for a live device host: it dies abruptly as it takes its
 * N-th message from the kernel — a worker thread exits with code 1, a child
 * process kills itself with SIGKILL — so a test can kill it at any point of
 * a run, reproducibly, and check that the VM notices, pauses and recovers.
 */
import { isMainThread } from 'node:worker_threads';
import type { Message } from '@splitvisor/abi';
import type { ChannelEnd, ChannelHandler } from '@splitvisor/channel';

export interface DeviceHostFaults {
  /** Die on taking this message (1: the first the kernel sends). */
  readonly dieAtMessage: number;
}

function die(): never {
  // A child process dies as a crash would kill it; a thread can only leave, with a failure code.
  if (isMainThread) process.kill(process.pid, 'SIGKILL');
  process.exit(1);
}

/** `end`, but the handler it is given dies at the message `faults` names. */
export function failingEnd(end: ChannelEnd, faults: DeviceHostFaults): ChannelEnd {
  let taken = 0;
  const take = () => {
    if (++taken >= faults.dieAtMessage) die();
  };
  return {
    name: end.name,
    peer: end.peer,
    get stats() { return end.stats; },
    setHandler: (handler: ChannelHandler) => {
      end.setHandler({
        onCall: (message: Message) => { take(); return handler.onCall(message); },
        onPost: (message: Message) => { take(); handler.onPost(message); },
      });
    },
    call: (message) => end.call(message),
    post: (message) => { end.post(message); },
    flush: () => { end.flush(); },
    poll: () => end.poll(),
    serve: () => { end.serve(); },
    close: () => { end.close(); },
  };
}
