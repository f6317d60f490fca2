// Bench worker: the physical floor for two threads that spin. One Int32
// flipped between them, each spinning on Atomics.load — no framing, no
// codec. With `message`, each turn also moves a 40-byte request (an `in`
// exit's size on the wire) one way and a 28-byte reply the other, each in
// cache lines of its own beside the flag: what any ring must move at least.
// Between benchmarks it would hold a core of this 2-core machine, so after
// 1 ms with no turn it sleeps (word 1 says so, and the other side notifies
// only then): while a benchmark runs it never does.
import { performance } from 'node:perf_hooks';
import { workerData } from 'node:worker_threads';

const word = new Int32Array(workerData.buffer, 0, 2);
const request = workerData.message === true ? new Uint8Array(workerData.buffer, 64, 40) : new Uint8Array(0);
const reply = workerData.message === true ? new Uint8Array(workerData.buffer, 128, 28) : new Uint8Array(0);
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
