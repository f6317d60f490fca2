/**
 * The `process` transport: the peer runs in a child process of its own — as
 * crosvm runs each device in a jailed process — started under Node's
 * permission model, allowed to read its own code and the files it is given,
 * to write only the files it is given, and nothing else: no child
 * processes, no worker threads, no native addons. Node 20's model has no
 * network permission; the child gets an empty environment.
 *
 * Its code is one file: the entry bundled with esbuild (once per entry per
 * parent process, into a private temporary folder), so the read permission
 * names that one file rather than a tree of packages. An entry that is
 * already a self-contained bundle (a built VMM's) is used as it is.
 *
 * The parent's end is the ring's (ring-end.ts), unchanged; a relay thread
 * (process-relay.ts) moves its bytes to and from a socket the child reads
 * and writes with blocking calls (socket-end.ts). The child's death reaches
 * a waiting parent at once, through the relay, as on the worker transport.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import type * as Esbuild from 'esbuild';
import type { ChannelEnd } from './channel.ts';
import type { WorkerChannel, WorkerChannelOptions } from './worker.ts';
import { spawnWorkerChannel } from './worker.ts';

/** The worker transport's options (for the parent's ring to the relay), and the child's jail. */
export interface ProcessChannelOptions extends Omit<WorkerChannelOptions, 'ringPositionBase'> {
  /** Files the child may read (besides its code). */
  readonly allowRead?: readonly string[];
  /** Files the child may read and write. */
  readonly allowWrite?: readonly string[];
  /** Use `entry` as it is: it is already one self-contained `.js`/`.mjs` file. Default: bundle it. */
  readonly bundled?: boolean;
  /** How long the child may take to leave after the parent closes, before it is killed. Default 2 s. */
  readonly graceMs?: number;
}

/** What the relay thread is told (process-relay.ts). */
export interface RelayData {
  readonly bundle: string;
  readonly execArgv: readonly string[];
  readonly data: unknown;
  readonly graceMs: number;
}

export interface ProcessChannel {
  readonly end: ChannelEnd;
  /** The relay thread: it leaves once the child has. */
  readonly relay: Worker;
  /** The child's process id, once it has started. */
  pid(): number | undefined;
  /** Sends `signal` to the child (fault injection; a crash as the host would deliver it). False if it is not running. */
  kill(signal?: NodeJS.Signals): boolean;
  /** Closes the channel and waits for the child and the relay to leave (the child is killed after its grace). */
  shutdown(graceMs?: number): Promise<number>;
}

const RELAY_ENTRY = new URL(import.meta.url.endsWith('.ts') ? './process-relay.ts' : './process-relay.js', import.meta.url);

/** The permission flag of this Node: `--permission` from 22, `--experimental-permission` before. */
function permissionFlag(): string {
  return Number(process.versions.node.split('.')[0]) >= 22 ? '--permission' : '--experimental-permission';
}

const bundles = new Map<string, string>();
let bundleFolder: string | undefined;

/** `entry` and everything it imports as one ESM file, made once per process. */
function bundle(entry: URL): string {
  const known = bundles.get(entry.href);
  if (known !== undefined) return known;
  let esbuild: typeof Esbuild;
  try {
    esbuild = createRequire(import.meta.url)('esbuild') as typeof Esbuild;
  } catch {
    throw new Error(`the process transport bundles ${fileURLToPath(entry)} with esbuild, which is not installed`);
  }
  if (bundleFolder === undefined) {
    const folder = mkdtempSync(join(tmpdir(), 'splitvisor-peer-'));
    bundleFolder = folder;
    process.once('exit', () => { rmSync(folder, { recursive: true, force: true }); });
  }
  const outfile = join(bundleFolder, `peer-${bundles.size}.mjs`);
  esbuild.buildSync({
    entryPoints: [fileURLToPath(entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
    // CommonJS inside the bundle may require Node's own modules.
    banner: { js: "import { createRequire as __splitvisorRequire } from 'node:module'; const require = __splitvisorRequire(import.meta.url);" },
  });
  bundles.set(entry.href, outfile);
  return outfile;
}

/** Starts `entry` in a child process under the permission model and returns this side's end of a channel to it. */
export function spawnProcessChannel(entry: URL, options: ProcessChannelOptions = {}): ProcessChannel {
  const code = options.bundled === true ? fileURLToPath(entry) : bundle(entry);
  const read = (options.allowRead ?? []).map((path) => resolve(path));
  const write = (options.allowWrite ?? []).map((path) => resolve(path));
  const execArgv = [
    permissionFlag(),
    '--disable-warning=ExperimentalWarning',
    ...[code, ...read, ...write].map((path) => `--allow-fs-read=${path}`),
    ...write.map((path) => `--allow-fs-write=${path}`),
  ];
  const relayData: RelayData = { bundle: code, execArgv, data: options.data, graceMs: options.graceMs ?? 2_000 };
  const channel: WorkerChannel = spawnWorkerChannel(RELAY_ENTRY, {
    name: options.name ?? 'kernel',
    peer: options.peer ?? 'devhost',
    data: relayData,
    ...(options.ringBytes === undefined ? {} : { ringBytes: options.ringBytes }),
    ...(options.callTimeoutMs === undefined ? {} : { callTimeoutMs: options.callTimeoutMs }),
    ...(options.spin === undefined ? {} : { spin: options.spin }),
  });
  return {
    end: channel.end,
    relay: channel.worker,
    pid: () => channel.pid(),
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      const pid = channel.pid();
      if (pid === undefined) return false;
      try {
        process.kill(pid, signal);
        return true;
      } catch {
        return false;
      }
    },
    // The relay leaves once the child has: its grace, then a kill, come first.
    shutdown: (graceMs = 2_000) => channel.shutdown(graceMs + (options.graceMs ?? 2_000)),
  };
}
