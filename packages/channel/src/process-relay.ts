/**
 * The relay of the `process` transport, in a worker thread of the parent: it
 * stands in for the ring's side 1, moving bytes between the ring the parent's
 * RingEnd speaks and the socket to the child process, frames untouched. It
 * waits with `Atomics.waitAsync`, so its event loop stays free for the
 * socket and the child's `close` — which is how a dead child is noticed at
 * once: the relay marks side 1 dead with the child's exit code or signal and
 * the last note the child wrote, and rings the parent's doorbell.
 *
 * When the parent closes its side, the relay ends the socket (the child reads
 * end-of-file and leaves) and kills the child if it has not left after the
 * grace period.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { serialize } from 'node:v8';
import type { RelayData } from './process.ts';
import {
  CONTROL_BYTES, SideState, asleepWord, bellWord, copyFromRing, copyToRing, fullWord, headWord, markSide, pidWord, ringOffset, stateWord, tailWord,
} from './ring-layout.ts';
import type { SocketBoot } from './socket-end.ts';
import { CHANNEL_FD_VARIABLE, NOTE_PREFIX } from './socket-end.ts';
import { workerBoot } from './worker.ts';

/** ES2024's `Atomics.waitAsync` (in Node since 16), which this project's ES2023 library does not declare. */
type WaitAsync = (array: Int32Array, index: number, value: number) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

const boot = workerBoot();
if (boot === undefined) throw new Error('the process relay runs in a worker started by spawnWorkerChannel()');
const { shared } = boot;
const relay = boot.data as RelayData;
const control = new Int32Array(shared.buffer, 0, CONTROL_BYTES / 4);
const capacity = shared.ringBytes;
const fromParent = new Uint8Array(shared.buffer, ringOffset(0, capacity), capacity);
const toParentRing = new Uint8Array(shared.buffer, ringOffset(1, capacity), capacity);
let tail0 = Atomics.load(control, tailWord(0)) >>> 0;
let head1 = Atomics.load(control, headWord(1)) >>> 0;

/** What the child sent that the ring had no room for yet. */
const pending: Buffer[] = [];
let pendingOffset = 0;
let childGone: { code: number | null; signal: NodeJS.Signals | null } | undefined;
let spawnError: string | undefined;
let socketEnded = false;
let killTimer: NodeJS.Timeout | undefined;
/** The child's last note (its channel end's failure), or the first line of an uncaught error on its stderr. */
let note = '';
let errorLine = '';
let stderrTail = '';

const child: ChildProcess = spawn(process.execPath, [...relay.execArgv, relay.bundle], {
  stdio: ['ignore', 'inherit', 'pipe', 'pipe'],
  // Nothing of the parent's environment: the child gets its socket's number and no secrets.
  env: { [CHANNEL_FD_VARIABLE]: '3' },
});
Atomics.store(control, pidWord, child.pid ?? 0);
const socket = child.stdio[3] as Duplex;

const record = serialize({ name: boot.name, peer: boot.peer, data: relay.data } satisfies SocketBoot);
const length = Buffer.alloc(4);
length.writeUInt32LE(record.length, 0);
socket.write(length);
socket.write(record);

socket.on('data', (chunk: Buffer) => {
  pending.push(chunk);
  toParent();
});
// A socket the child's death broke: the death is reported from `close`.
socket.on('error', () => undefined);
child.stderr?.setEncoding('utf8');
child.stderr?.on('data', (text: string) => {
  const lines = (stderrTail + text).split('\n');
  stderrTail = lines.pop() ?? '';
  for (const line of lines) {
    if (line.startsWith(NOTE_PREFIX)) {
      note = line.slice(NOTE_PREFIX.length);
      continue;
    }
    if (errorLine === '' && /^\w*Error\b/.test(line)) errorLine = line;
    process.stderr.write(`${line}\n`);
  }
});
child.on('error', (error) => {
  spawnError = error.message;
  childGone ??= { code: null, signal: null };
  wake();
});
child.on('close', (code, signal) => {
  childGone = { code, signal };
  clearTimeout(killTimer);
  wake();
});

/** Rings this side's own doorbell: the loop looks again (the child left). */
function wake(): void {
  Atomics.add(control, bellWord(1), 1);
  Atomics.notify(control, bellWord(1));
}

/** Rings the parent's doorbell, waking it if it sleeps. */
function ringParent(): void {
  Atomics.add(control, bellWord(0), 1);
  if (Atomics.load(control, asleepWord(0)) !== 0) Atomics.notify(control, bellWord(0));
}

/** Everything the parent has published, onto the socket. */
function toChild(): void {
  const head = Atomics.load(control, headWord(0)) >>> 0;
  const available = (head - tail0) >>> 0;
  if (available === 0) return;
  const chunk = Buffer.allocUnsafe(available);
  copyFromRing(fromParent, tail0, chunk, 0, available);
  tail0 = (tail0 + available) >>> 0;
  Atomics.store(control, tailWord(0), tail0 | 0);
  if (Atomics.load(control, fullWord(0)) !== 0) ringParent();
  if (!socketEnded) socket.write(chunk);
}

/** What the child sent, into the parent's ring as space allows; the rest waits for the parent to drain. */
function toParent(): void {
  let moved = false;
  for (let chunk = pending[0]; chunk !== undefined; chunk = pending[0]) {
    let free = capacity - ((head1 - (Atomics.load(control, tailWord(1)) >>> 0)) >>> 0);
    if (free === 0) {
      // Raised before the second look: a parent that frees space after it sees the flag and rings.
      Atomics.store(control, fullWord(1), 1);
      free = capacity - ((head1 - (Atomics.load(control, tailWord(1)) >>> 0)) >>> 0);
      if (free === 0) break;
    }
    const n = Math.min(free, chunk.length - pendingOffset);
    copyToRing(chunk, pendingOffset, toParentRing, head1, n);
    head1 = (head1 + n) >>> 0;
    pendingOffset += n;
    if (pendingOffset === chunk.length) {
      pending.shift();
      pendingOffset = 0;
    }
    moved = true;
  }
  if (pending.length === 0) Atomics.store(control, fullWord(1), 0);
  if (moved) {
    Atomics.store(control, headWord(1), head1 | 0);
    ringParent();
  }
}

function deathNote(gone: { code: number | null; signal: NodeJS.Signals | null }): string {
  const how = spawnError !== undefined ? `could not start: ${spawnError}`
    : gone.signal !== null ? `was killed by ${gone.signal}` : `exited with code ${String(gone.code)}`;
  const why = note !== '' ? note : errorLine;
  return `${boot?.name ?? 'peer'} process ${String(child.pid ?? '')} ${how}${why === '' ? '' : `: ${why}`}`;
}

for (;;) {
  const bell = Atomics.load(control, bellWord(1));
  toChild();
  toParent();
  if (childGone !== undefined && pending.length === 0) {
    const clean = childGone.code === 0 && childGone.signal === null && spawnError === undefined;
    markSide(shared, 1, clean ? SideState.closed : SideState.dead, deathNote(childGone));
    break;
  }
  const parent = Atomics.load(control, stateWord(0));
  if (!socketEnded && parent !== SideState.open && parent !== SideState.leaving) {
    socketEnded = true;
    socket.end();
    killTimer = setTimeout(() => child.kill('SIGKILL'), relay.graceMs);
  }
  Atomics.store(control, asleepWord(1), 1);
  if (Atomics.load(control, bellWord(1)) === bell) {
    const waited = waitAsync(control, bellWord(1), bell);
    if (waited.async) await waited.value;
  }
  Atomics.store(control, asleepWord(1), 0);
}
socket.destroy();
