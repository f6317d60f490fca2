// `sweep --queue` on BullMQ over a real Redis (Debian's redis-server, started here on a free loopback port; .ci/run
// installs it): two `splitvisor worker` processes, one SIGKILLed in the middle of a run, every run finished exactly
// once and byte-identical to the local pool's; a run that fails every time reported after its attempts; an
// unreachable Redis one line. No mock of Redis or BullMQ.
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './free-port.ts';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const cwd = fileURLToPath(new URL('..', import.meta.url));
const splitvisor = (args: readonly string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd, encoding: 'utf8' });

// 3 placements × (linux-idle-pit at two HZ + serial-console): 9 runs of 50 ms, each long enough to be killed inside.
const SWEEP = ['sweep', '--profiles', 'kvm-irqchip,kvm-split,plex86', '--workloads', 'linux-idle-pit,serial-console', '--param', 'hz=100,1000', '--duration', '50ms'];

const root = mkdtempSync(join(tmpdir(), 'splitvisor-queue-'));
const started: ChildProcess[] = [];

/** A process of ours, its stdout kept line by line; `waitFor` resolves at the first line matching (or rejects when it exits first). */
function start(command: string, args: readonly string[]): { child: ChildProcess; lines: string[]; waitFor: (pattern: RegExp) => Promise<RegExpMatchArray> } {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(child);
  const lines: string[] = [];
  const waiting: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const w of [...waiting]) {
      const match = w.pattern.exec(line);
      if (match !== null) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(match);
      }
    }
  });
  const exited = new Promise<never>((_, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => { reject(new Error(`${command} ${args.join(' ')} exited (${code ?? signal}) before it said what was awaited:\n${lines.join('\n')}`)); });
  });
  exited.catch(() => undefined);
  const waitFor = (pattern: RegExp) => {
    const found = lines.map((line) => pattern.exec(line)).find((m) => m !== null);
    if (found !== undefined) return Promise.resolve(found);
    return Promise.race([new Promise<RegExpMatchArray>((resolve) => { waiting.push({ pattern, resolve }); }), exited]);
  };
  return { child, lines, waitFor };
}

const worker = () => start(process.execPath, ['--import', 'tsx', main, 'worker', '--queue', url(), '--jobs', '1', '--stalled-after', '1s']);

let port = 0;
const url = () => `redis://127.0.0.1:${port}/0`;
const contents = (dir: string) => new Map(readdirSync(dir).sort().map((name) => [name, readFileSync(join(dir, name))]));
const local = join(root, 'local');

beforeAll(async () => {
  port = await freePort();
  const redis = start('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', root]);
  const swept = spawn(process.execPath, ['--import', 'tsx', main, ...SWEEP, '--out', local, '--jobs', '2'], { cwd, stdio: 'ignore' });
  await redis.waitFor(/Ready to accept connections/).catch((error: unknown) => {
    throw new Error(`redis-server could not be started (Debian's redis-server package; .ci/run installs it): ${error instanceof Error ? error.message : String(error)}`);
  });
  expect((await once(swept, 'exit'))[0]).toBe(0);
}, 120_000);

afterAll(async () => {
  // The last started first: the workers and sweeps, then Redis, which they need to stop cleanly.
  for (const child of [...started].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
  rmSync(root, { recursive: true, force: true });
}, 60_000);

describe('splitvisor sweep --queue with splitvisor worker, on a real Redis', () => {
  it('finishes every run exactly once, byte-identical to the local pool, though a worker is SIGKILLed in the middle of a run', async () => {
    const a = worker();
    const b = worker();
    await a.waitFor(/^splitvisor worker: taking runs from/);
    await b.waitFor(/^splitvisor worker: taking runs from/);
    const out = join(root, 'queued');
    const sweep = start(process.execPath, ['--import', 'tsx', main, ...SWEEP, '--out', out, '--queue', url()]);
    const sweepEnd = once(sweep.child, 'exit');

    const [, killedRun = ''] = await a.waitFor(/^run ([0-9a-f]{16}) taken/);
    a.child.kill('SIGKILL');
    await once(a.child, 'exit');
    const [code] = await sweepEnd as [number];
    expect(code, sweep.lines.join('\n')).toBe(0);

    // The killed worker's run went back on the queue (BullMQ's stalled check) and the other worker ran it.
    expect(a.lines).not.toContain(`run ${killedRun} done`);
    expect(b.lines).toContain(`run ${killedRun} done`);
    const done = [...a.lines, ...b.lines].flatMap((line) => /^run ([0-9a-f]{16}) done$/.exec(line)?.[1] ?? []);
    const results = readdirSync(out).filter((name) => /^[0-9a-f]{16}\.json$/.test(name)).map((name) => name.slice(0, 16));
    expect(results).toHaveLength(9);
    expect([...done].sort()).toEqual([...results].sort()); // each run finished once, by one worker
    expect(contents(out)).toEqual(contents(local)); // every result, the summary and the plan: the same bytes

    // Collected runs are removed from Redis: no job is left behind.
    const redis = new Redis(url());
    try {
      expect((await redis.keys('bull:splitvisor-runs:*')).filter((key) => /:[0-9a-f]{16}$/.test(key))).toEqual([]);
    } finally {
      redis.disconnect();
    }
  }, 120_000);

  it('reports a run that fails on every attempt, with its line and the attempts made', () => {
    const placements = join(root, 'placements');
    mkdirSync(placements);
    const file = JSON.parse(splitvisor(['profiles', '--show', 'kvm-split']).stdout) as { devices: Record<string, string> };
    writeFileSync(join(placements, 'odd.json'), JSON.stringify({ ...file, name: 'odd-irqchip', devices: { ...file.devices, lapic: 'monitor' } }));
    const swept = splitvisor(['sweep', '--profiles', 'kvm-irqchip', '--placement-dir', placements, '--workloads', 'serial-console', '--duration', '10ms', '--out', join(root, 'failing'), '--queue', url(), '--attempts', '2', '--json']);
    expect(swept.status).toBe(1);
    expect(swept.stderr).toMatch(/^splitvisor: run [0-9a-f]{16}\.json \(odd-irqchip × serial-console\) failed: odd-irqchip: the 8259, I\/O APIC and local APIC must share a domain.* \(tried 2 times on the queue\)$/m);
    expect(JSON.parse(swept.stdout)).toMatchObject({ done: 1, failed: 1 });
  }, 60_000);

  it('says in one line that Redis cannot be reached, refused or silent, and writes nothing', async () => {
    const out = join(root, 'unreachable');
    const closed = await freePort();
    const refused = splitvisor([...SWEEP, '--out', out, '--queue', `redis://127.0.0.1:${closed}/0`]);
    expect(refused.status).toBe(1);
    expect(refused.stderr.trim().split('\n')).toEqual([`splitvisor: cannot reach Redis at redis://127.0.0.1:${closed}/0: connect ECONNREFUSED 127.0.0.1:${closed}`]);
    const noWorker = splitvisor(['worker', '--queue', `redis://127.0.0.1:${closed}/0`]);
    expect(noWorker.status).toBe(1);
    expect(noWorker.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^splitvisor: cannot reach Redis at .*ECONNREFUSED/)]);

    // A server that takes the connection and never answers: the sweep gives up on its own, it does not wait forever.
    const silent = createServer(() => undefined).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      const target = `redis://127.0.0.1:${(silent.address() as AddressInfo).port}/0`;
      const sweep = spawn(process.execPath, ['--import', 'tsx', main, ...SWEEP, '--out', out, '--queue', target], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      sweep.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
      const [code] = await once(sweep, 'exit') as [number];
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toEqual([`splitvisor: cannot reach Redis at ${target}: no answer in 3 s`]);
    } finally {
      silent.close();
    }
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});
