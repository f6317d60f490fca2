// The process transport: the conformance peer in a child process under Node's permission model, reached
// through a relay thread and a socket. The same suite as every transport, then what only a process has:
// a death by signal, a jail on the file system.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ChannelError, spawnProcessChannel } from '../src/index.ts';
import { channelConformance } from './conformance.ts';
import { workerReady } from './worker-ready.ts';

const peerEntry = new URL('./fixtures/conformance-peer.ts', import.meta.url);

channelConformance({
  name: 'process',
  peerCanHang: true,
  encodes: true,
  boundedToPeer: false,
  async open(options = {}) {
    const channel = spawnProcessChannel(peerEntry, { name: 'kernel', peer: 'devhost', graceMs: 500, ...options });
    await workerReady({ end: channel.end, worker: channel.relay });
    return {
      end: channel.end,
      close: async () => {
        await channel.shutdown(1000);
      },
    };
  },
});

const folder = mkdtempSync(join(tmpdir(), 'splitvisor-jail-'));
afterAll(() => { rmSync(folder, { recursive: true, force: true }); });

describe('process transport', () => {
  it('reports a child killed by a signal mid-call at once, naming the signal', async () => {
    const channel = spawnProcessChannel(peerEntry, { name: 'kernel', peer: 'devhost' });
    await workerReady({ end: channel.end, worker: channel.relay });
    const pid = channel.pid();
    expect(pid).toBeGreaterThan(0);
    // The child sleeps in its handler; a helper thread is not needed to kill it meanwhile: the kill is sent first,
    // and lands while the call waits.
    expect(channel.kill('SIGKILL')).toBe(true);
    const began = performance.now();
    try {
      channel.end.call({ kind: 'get-device-state', device: 'sleep:5000' });
      expect.unreachable('a call to a killed child returned');
    } catch (error) {
      expect(error).toBeInstanceOf(ChannelError);
      expect((error as ChannelError).code).toBe('peer-lost');
      expect((error as ChannelError).message).toMatch(new RegExp(`peer died: devhost process ${String(pid)} was killed by SIGKILL`));
    }
    expect(performance.now() - began).toBeLessThan(5000);
    expect(await channel.shutdown(1000)).toBe(0);
  }, 60_000);

  it('jails the child: it reads and writes the files it was given, and no other', async () => {
    const given = join(folder, 'given.img');
    const secret = join(folder, 'secret.txt');
    writeFileSync(given, 'given');
    writeFileSync(secret, 'secret');
    const channel = spawnProcessChannel(new URL('./fixtures/jailed-peer.ts', import.meta.url), {
      name: 'kernel', peer: 'devhost', allowWrite: [given], data: { given, secret },
    });
    await workerReady({ end: channel.end, worker: channel.relay });
    const ask = (device: string) => {
      const reply = channel.end.call({ kind: 'get-device-state', device });
      if (reply.kind !== 'device-state') throw new Error(`unexpected ${reply.kind}`);
      return reply.state as unknown as { model: string; outcome: string };
    };
    expect(ask('read-given').outcome).toBe('given');
    expect(ask('write-given').outcome).toBe('written');
    expect(readFileSync(given, 'utf8')).toBe('written by the child');
    expect(ask('read-secret').outcome).toBe('ERR_ACCESS_DENIED');
    expect(ask('read-etc').outcome).toBe('ERR_ACCESS_DENIED');
    expect(ask('write-secret').outcome).toBe('ERR_ACCESS_DENIED');
    expect(readFileSync(secret, 'utf8')).toBe('secret');
    expect(ask('spawn').outcome).toBe('ERR_ACCESS_DENIED');
    expect(ask('worker').outcome).toBe('ERR_ACCESS_DENIED');
    expect(ask('environment').outcome).toBe('SPLITVISOR_CHANNEL_FD');
    expect(await channel.shutdown(1000)).toBe(0);
  }, 60_000);
});
