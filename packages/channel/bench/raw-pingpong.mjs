// Bench worker: the physical floor. One Int32 flipped between two threads
// with Atomics.wait/notify — no framing, no codec, no ring.
import { workerData } from 'node:worker_threads';

const word = new Int32Array(workerData.buffer);
for (;;) {
  Atomics.wait(word, 0, 0);
  if (Atomics.load(word, 0) === -1) break;
  Atomics.store(word, 0, 0);
  Atomics.notify(word, 0);
}
