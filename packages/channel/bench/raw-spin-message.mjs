// Bench worker: the floor for a spinning exchange that carries data. As
// raw-spin-pingpong.mjs, but each turn moves a 40-byte request (an `in`
// exit's size on the wire) one way and a 28-byte reply the other, each in
// cache lines of its own beside the flag — what any ring must move at least.
import { performance } from 'node:perf_hooks';
import { workerData } from 'node:worker_threads';

const word = new Int32Array(workerData.buffer, 0, 2);
const request = new Uint8Array(workerData.buffer, 64, 40);
const reply = new Uint8Array(workerData.buffer, 128, 28);
const SPIN_MS = 1;
for (;;) {
  let value = Atomics.load(word, 0);
  let since = performance.now();
  for (let i = 1; value === 0; i++) {
    if ((i & 1023) === 0 && performance.now() - since > SPIN_MS) {
      Atomics.store(word, 1, 1);
      Atomics.wait(word, 0, 0);
      Atomics.store(word, 1, 0);
      since = performance.now();
    }
    value = Atomics.load(word, 0);
  }
  if (value === -1) break;
  let sum = 0;
  for (const byte of request) sum += byte;
  for (let i = 0; i < reply.length; i++) reply[i] = (sum + i) & 0xff;
  Atomics.store(word, 0, 0);
}
