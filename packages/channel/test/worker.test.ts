import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ChannelError, spawnWorkerChannel } from '../src/index.ts';
import { channelConformance } from './conformance.ts';
import { workerReady } from './worker-ready.ts';

const peerEntry = new URL('./fixtures/conformance-peer.ts', import.meta.url);

channelConformance({
  name: 'worker',
  peerCanHang: true,
  encodes: true,
  async open(options = {}) {
    const channel = spawnWorkerChannel(peerEntry, { name: 'kernel', peer: 'devhost', ...options });
    // Short-timeout tests measure the peer, not its start-up.
    await workerReady(channel);
    return {
      end: channel.end,
      close: async () => {
        await channel.shutdown(1000);
      },
    };
  },
});

// Every wait asleep at once: the futex protocol alone (no spin to hide a missed wake-up).
channelConformance({
  name: 'worker, never spinning',
  peerCanHang: true,
  encodes: true,
  async open(options = {}) {
    const channel = spawnWorkerChannel(peerEntry, { name: 'kernel', peer: 'devhost', spin: { maxSpinNs: 0 }, ...options });
    await workerReady(channel);
    return {
      end: channel.end,
      close: async () => {
        await channel.shutdown(1000);
      },
    };
  },
});

describe('worker transport', () => {
  it('reports a device host that fails to load, with its error', async () => {
    const channel = spawnWorkerChannel(new URL('./fixtures/broken-peer.ts', import.meta.url), { peer: 'devhost' });
    // However long loading it takes, the call finds it failed (a call made while it loads would race the load against the call's timeout).
    await new Promise((resolve) => channel.worker.once('exit', resolve));
    try {
      channel.end.call({ kind: 'pause', time: 0 });
      expect.unreachable('a call to a peer that never started returned');
    } catch (error) {
      expect(error).toBeInstanceOf(ChannelError);
      expect((error as ChannelError).message).toMatch(/channel to devhost: peer died: devhost failed: Error: device host failed to start/);
    }
    expect(await channel.shutdown(1000)).not.toBe(0);
  });

  it('refuses an entry that does not exist, before starting a thread', () => {
    expect(() => spawnWorkerChannel(new URL('./fixtures/nonesuch.ts', import.meta.url))).toThrow(/does not exist/);
  });

  it('gives the worker the data it was started with', async () => {
    const channel = spawnWorkerChannel(peerEntry, { data: { note: 'x' } });
    await workerReady(channel);
    expect(channel.end.call({ kind: 'get-device-state', device: 'posts' })).toMatchObject({ kind: 'device-state' });
    expect(await channel.shutdown(1000)).toBe(0);
  });

  it('shuts down in a plain script, whose only pending work is the shutdown', () => {
    const script = fileURLToPath(new URL('./fixtures/shutdown-script.ts', import.meta.url));
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 30_000 });
    expect({ status: run.status, stdout: run.stdout }).toEqual({ status: 0, stdout: 'reply device-state\nexit 0\nafter\n' });
  }, 30_000);
});
