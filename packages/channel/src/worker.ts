/**
 * The `worker` transport: the peer runs in a `worker_threads` Worker and the
 * two sides talk through a SharedArrayBuffer ring (ring-end.ts), blocking
 * with Atomics.wait — no event loop in the path of a call.
 *
 * While a thread is blocked in Atomics.wait its event loop cannot run, so a
 * worker's `error` and `exit` events cannot reach a waiting parent. The
 * worker therefore marks its own side dead in shared memory as it exits
 * (with a note saying why), and every wait also has a timeout.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, workerData } from 'node:worker_threads';
import type { ChannelEnd } from './channel.ts';
import type { HaltPollOptions } from './halt-poll.ts';
import { RingEnd } from './ring-end.ts';
import { connectSocketParent } from './socket-end.ts';
import type { SharedChannel } from './ring-layout.ts';
import {
  CONTROL_BYTES, NOTE_BYTES, SideState, bellWord, createSharedChannel, markSide, noteLengthWord, noteOffset, pidWord, stateWord,
} from './ring-layout.ts';

export interface WorkerChannelOptions {
  /** This (parent) side's name. Default `kernel`. */
  readonly name?: string;
  /** The worker side's name. Default `devhost`. */
  readonly peer?: string;
  /** Bytes per direction; a power of two. Default 64 KiB. Larger messages stream through. */
  readonly ringBytes?: number;
  /** How long a call may see no progress from the peer before failing. Default 10 s. */
  readonly callTimeoutMs?: number;
  /** Handed to the worker's entry module, as `connectParent().data`. */
  readonly data?: unknown;
  /** How long each end spins before it sleeps (halt-poll.ts; KVM's halt-polling defaults). `{ maxSpinNs: 0 }`: sleep at once. */
  readonly spin?: HaltPollOptions;
  /**
   * Where the rings' free-running byte counts start. Only tests change it,
   * to cross the 2^32 wrap of those counts without sending 4 GiB.
   */
  readonly ringPositionBase?: number;
}

export interface WorkerChannel {
  readonly end: ChannelEnd;
  readonly worker: Worker;
  /** Closes the channel and waits for the worker to leave; terminates it if it has not after `graceMs`. */
  shutdown(graceMs?: number): Promise<number>;
  /** The id of the child process the worker relays to (the process transport), once started; undefined otherwise. */
  pid(): number | undefined;
}

interface ChannelBootData {
  readonly shared: SharedChannel;
  readonly name: string;
  readonly peer: string;
  readonly callTimeoutMs: number;
  readonly spin: HaltPollOptions;
  readonly entry: string;
  readonly tsx: string | null;
  readonly data: unknown;
}

const BOOT_KEY = '__splitvisorChannel';
const WORKER_SIDE = 1;

/**
 * Runs in the worker before the entry module: marks the worker's side of the
 * channel closed (clean exit) or dead (anything else) as the thread exits,
 * so a parent blocked in Atomics.wait learns of it at once. Written against
 * the layout's numbers, which are filled in here.
 */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
const boot = workerData[${JSON.stringify(BOOT_KEY)}];
const control = new Int32Array(boot.shared.buffer, 0, ${CONTROL_BYTES / 4});
function leave(state, reason) {
  if (Atomics.compareExchange(control, ${stateWord(WORKER_SIDE)}, ${SideState.open}, ${SideState.leaving}) !== ${SideState.open}) return;
  const note = new TextEncoder().encode(reason).subarray(0, ${NOTE_BYTES});
  new Uint8Array(boot.shared.buffer, ${noteOffset(WORKER_SIDE)}, ${NOTE_BYTES}).set(note);
  Atomics.store(control, ${noteLengthWord(WORKER_SIDE)}, note.length);
  Atomics.store(control, ${stateWord(WORKER_SIDE)}, state);
  Atomics.add(control, ${bellWord(0)}, 1);
  Atomics.notify(control, ${bellWord(0)});
}
process.on('exit', (code) => leave(code === 0 ? ${SideState.closed} : ${SideState.dead}, boot.name + ' exited with code ' + code));
(async () => {
  if (boot.tsx !== null) (await import(boot.tsx)).register();
  await import(boot.entry);
})().catch((error) => {
  leave(${SideState.dead}, boot.name + ' failed: ' + (error instanceof Error ? error.name + ': ' + error.message : String(error)));
  throw error;
});
`;

/**
 * tsx's ESM loader, for a `.ts` entry (tests and benches run from source; a
 * built VM loads `.js` from dist and never needs it).
 */
function tsxLoader(entry: URL): string | null {
  if (!/\.[mc]?ts$/.test(entry.pathname)) return null;
  try {
    // The ESM build of tsx's API (its `import` condition); require.resolve would pick the CommonJS one.
    const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
    return new URL('dist/esm/api/index.mjs', pathToFileURL(manifest)).href;
  } catch {
    throw new Error(`worker entry ${fileURLToPath(entry)} is TypeScript, but tsx is not installed to load it; build it and pass the .js`);
  }
}

/** Starts `entry` in a worker thread and returns this side's end of a channel to it. */
export function spawnWorkerChannel(entry: URL, options: WorkerChannelOptions = {}): WorkerChannel {
  if (!existsSync(entry)) throw new Error(`worker entry ${fileURLToPath(entry)} does not exist`);
  const name = options.name ?? 'kernel';
  const peer = options.peer ?? 'devhost';
  const callTimeoutMs = options.callTimeoutMs ?? 10_000;
  const shared = createSharedChannel(options.ringBytes ?? 64 * 1024, options.ringPositionBase ?? 0);
  const boot: ChannelBootData = {
    shared, name: peer, peer: name, callTimeoutMs, spin: options.spin ?? {}, entry: entry.href, tsx: tsxLoader(entry), data: options.data,
  };
  const worker = new Worker(BOOTSTRAP, { eval: true, workerData: { [BOOT_KEY]: boot } });
  // A forgotten shutdown must not keep the process alive: the worker sits in Atomics.wait forever.
  worker.unref();
  const exited = new Promise<number>((resolve) => {
    worker.once('exit', (code) => {
      // Reaches a parent that is not blocked; a blocked one has already been woken by the bootstrap.
      markSide(shared, WORKER_SIDE, code === 0 ? SideState.closed : SideState.dead, `${peer} exited with code ${code}`);
      resolve(code);
    });
  });
  // The worker's own error is reported through its death note and the pending call's ChannelError.
  worker.on('error', () => undefined);
  const end = new RingEnd(shared, 0, { name, peer, callTimeoutMs, spin: options.spin ?? {} });
  const control = new Int32Array(shared.buffer, 0, CONTROL_BYTES / 4);
  return {
    end,
    worker,
    pid: () => Atomics.load(control, pidWord) || undefined,
    async shutdown(graceMs = 2_000): Promise<number> {
      // Waiting for the exit must keep the process alive until it comes.
      worker.ref();
      end.close();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      });
      const code = await Promise.race([exited, late.then(() => undefined)]);
      clearTimeout(timer);
      if (code !== undefined) return code;
      await worker.terminate();
      return exited;
    },
  };
}

export interface ParentConnection {
  readonly end: ChannelEnd;
  /** What the parent passed as `options.data`. */
  readonly data: unknown;
}

/** In a worker started by `spawnWorkerChannel`, what its parent passed: the ring, the names, the data. */
export function workerBoot(): Pick<ChannelBootData, 'shared' | 'name' | 'peer' | 'data'> | undefined {
  return (workerData as Record<string, ChannelBootData | undefined> | null)?.[BOOT_KEY];
}

/**
 * In a worker started by `spawnWorkerChannel`, or a child process started by
 * `spawnProcessChannel`: this side's end of the channel to the parent. One
 * entry module serves either transport.
 */
export function connectParent(): ParentConnection {
  const boot = (workerData as Record<string, ChannelBootData | undefined> | null)?.[BOOT_KEY];
  if (boot === undefined) {
    const child = connectSocketParent();
    if (child !== undefined) return child;
    throw new Error('connectParent() called outside a worker started by spawnWorkerChannel() or a process started by spawnProcessChannel()');
  }
  const end = new RingEnd(boot.shared, WORKER_SIDE, { name: boot.name, peer: boot.peer, callTimeoutMs: boot.callTimeoutMs, spin: boot.spin });
  return { end, data: boot.data };
}
