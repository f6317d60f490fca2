// pnpm bench: what one crossing of the boundary costs on each transport,
// as medians and as ratios to a raw spinning SharedArrayBuffer ping-pong
// between the same two threads (the floor), with the wait/notify ping-pong
// beside it, all measured in this one run.
import { Worker } from 'node:worker_threads';
import { measureAsync, measureSync, report } from '@splitvisor/bench';
import type { Measurement } from '@splitvisor/bench';
import type { Message } from '@splitvisor/abi';
import { createDirectChannel, spawnProcessChannel, spawnWorkerChannel } from '../src/index.ts';

const ROUNDS = 5;
const inExit: Message = {
  kind: 'io', vcpu: 0, time: 0, ifFlag: true, readyForInterruptInjection: true,
  direction: 'in', port: 0x71, size: 1, count: 1, data: new Uint8Array(0),
};
const outExit: Message = { ...inExit, direction: 'out', port: 0x80, data: Uint8Array.of(0x42) };
const completion: Message = {
  kind: 'run', vcpu: 0, completion: Uint8Array.of(0xff), requestInterruptWindow: false, immediateExit: false,
  deadline: Number.POSITIVE_INFINITY,
  deadlineOwner: '',
};

/** Median over rounds, with the contenders interleaved round by round so drift hits them all alike. */
function combine(samples: Measurement[]): number {
  const sorted = samples.map((s) => s.medianNs).sort((a, b) => a - b);
  return sorted[sorted.length >> 1] ?? Number.NaN;
}

// Raw spinning ping-pong: the floor.
const spinBuffer = new SharedArrayBuffer(8);
const spin = new Int32Array(spinBuffer);
const spinWorker = new Worker(new URL('./raw-spin-pingpong.mjs', import.meta.url), { workerData: { buffer: spinBuffer } });
const spinPingPong = () => {
  Atomics.store(spin, 0, 1);
  if (Atomics.load(spin, 1) !== 0) Atomics.notify(spin, 0); // it slept between benchmarks
  while (Atomics.load(spin, 0) !== 0);
};

// Raw spinning exchange carrying a request and a reply (in lines of their own): what any ring must move.
const messageBuffer = new SharedArrayBuffer(192);
const messageWord = new Int32Array(messageBuffer, 0, 2);
const request = new Uint8Array(messageBuffer, 64, 40);
const reply = new Uint8Array(messageBuffer, 128, 28);
const messageWorker = new Worker(new URL('./raw-spin-pingpong.mjs', import.meta.url), { workerData: { buffer: messageBuffer, message: true } });
let replied = 0;
const spinMessage = () => {
  for (let i = 0; i < request.length; i++) request[i] = i;
  Atomics.store(messageWord, 0, 1);
  if (Atomics.load(messageWord, 1) !== 0) Atomics.notify(messageWord, 0);
  while (Atomics.load(messageWord, 0) !== 0);
  for (const byte of reply) replied += byte;
};

// Raw wait/notify ping-pong: both sides sleep between turns.
const pingBuffer = new SharedArrayBuffer(4);
const ping = new Int32Array(pingBuffer);
const pingWorker = new Worker(new URL('./raw-pingpong.mjs', import.meta.url), { workerData: { buffer: pingBuffer } });
const pingPong = () => {
  Atomics.store(ping, 0, 1);
  Atomics.notify(ping, 0);
  Atomics.wait(ping, 0, 1);
};

// The ring, to a device host in a worker: waits spin first (KVM's halt polling), and with spinning off.
const ring = spawnWorkerChannel(new URL('./echo-peer.mjs', import.meta.url), { name: 'kernel', peer: 'devhost' });
const ringCall = () => ring.end.call(inExit);
const sleeper = spawnWorkerChannel(new URL('./echo-peer.mjs', import.meta.url), { name: 'kernel', peer: 'devhost', spin: { maxSpinNs: 0 } });
const sleeperCall = () => sleeper.end.call(inExit);

// The same peer in a child process under the permission model, through the relay thread and a socket.
const child = spawnProcessChannel(new URL('./echo-peer.mjs', import.meta.url), { name: 'kernel', peer: 'devhost' });
const processCall = () => child.end.call(inExit);

// postMessage, to a worker echoing the same exit record.
const postWorker = new Worker(new URL('./post-message-peer.mjs', import.meta.url));
let answer: (value: unknown) => void = () => undefined;
postWorker.on('message', (message) => { answer(message); });
const postRoundTrip = () => new Promise((resolve) => {
  answer = resolve;
  postWorker.postMessage(inExit);
});

// Direct: a function call (and the same through the codec).
const [direct, directPeer] = createDirectChannel();
directPeer.setHandler({ onCall: () => completion, onPost: () => undefined });
const [coded, codedPeer] = createDirectChannel({ codec: true });
codedPeer.setHandler({ onCall: () => completion, onPost: () => undefined });

// Posted writes: a burst of posts, then one call that proves they all arrived.
const BURST = 1000;
const postBurst = () => {
  for (let i = 0; i < BURST; i++) ring.end.post(outExit);
  ring.end.call(inExit);
};

ringCall(); // the workers are up before anything is timed
sleeperCall();
processCall();
await postRoundTrip();

const samples: Record<string, Measurement[]> = {};
const add = (name: string, m: Measurement) => { (samples[name] ??= []).push(m); };
for (let round = 0; round < ROUNDS; round++) {
  add('raw spinning SAB ping-pong', measureSync(spinPingPong, { opsPerBatch: 20_000, batches: 9 }));
  add('raw spinning exchange of a 40-byte request and a 28-byte reply', measureSync(spinMessage, { opsPerBatch: 20_000, batches: 9 }));
  add('raw SAB wait/notify ping-pong', measureSync(pingPong, { opsPerBatch: 2000, batches: 9 }));
  add('worker ring round trip', measureSync(ringCall, { opsPerBatch: 20_000, batches: 9 }));
  add('worker ring round trip, never spinning', measureSync(sleeperCall, { opsPerBatch: 2000, batches: 9 }));
  add('process round trip (relay thread, socket)', measureSync(processCall, { opsPerBatch: 500, batches: 9 }));
  add('worker postMessage round trip', await measureAsync(postRoundTrip, { opsPerBatch: 500, batches: 9 }));
  add('direct call', measureSync(() => direct.call(inExit), { opsPerBatch: 20_000, batches: 9 }));
  add('direct call through the codec', measureSync(() => coded.call(inExit), { opsPerBatch: 20_000, batches: 9 }));
  const burst = measureSync(postBurst, { opsPerBatch: 5, batches: 9 });
  add('worker posted write', { ...burst, medianNs: burst.medianNs / BURST });
}

const rows = Object.entries(samples).map(([name, list]) => ({
  name,
  medianNs: combine(list),
  note: name === 'worker posted write' ? `per write, bursts of ${BURST} then one call` : '',
}));
const ratios = report('channel: one boundary crossing (an `in` exit and its completion)', rows, 'raw spinning SAB ping-pong');
const postedNs = rows.find((row) => row.name === 'worker posted write')?.medianNs ?? Number.NaN;
console.log(`posted-write throughput: ${(1e9 / postedNs / 1e6).toFixed(2)} M writes/s`);
const ringRatio = ratios['worker ring round trip'] ?? Number.NaN;
console.log(`ring round trip ${ringRatio.toFixed(2)}× the raw spinning ping-pong (target ≤ 1.5×): ${ringRatio <= 1.5 ? 'met' : 'NOT met'}`);
const codecNs = rows.find((row) => row.name === 'direct call through the codec')?.medianNs ?? Number.NaN;
console.log(`codec round trip ${codecNs.toFixed(0)} ns (target ≤ 300 ns): ${codecNs <= 300 ? 'met' : 'NOT met'}`);
const processRatio = (ratios['process round trip (relay thread, socket)'] ?? Number.NaN) / ringRatio;
console.log(`process round trip ${processRatio.toFixed(1)}× the worker ring's`);
const { caughtSpinning, slept } = ring.end.stats;
console.log(`ring waits caught spinning: ${caughtSpinning}, slept: ${slept}`);

Atomics.store(ping, 0, -1);
Atomics.notify(ping, 0);
Atomics.store(spin, 0, -1);
Atomics.notify(spin, 0);
Atomics.store(messageWord, 0, -1);
Atomics.notify(messageWord, 0);
if (replied < 0) console.log('unreachable: keeps the reply reads');
await Promise.all([ring.shutdown(), sleeper.shutdown(), child.shutdown(), postWorker.terminate(), pingWorker.terminate(), spinWorker.terminate(), messageWorker.terminate()]);
