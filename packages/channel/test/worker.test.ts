import { describe, expect, it } from 'vitest';
import { ChannelError, spawnWorkerChannel } from '../src/index.ts';
import { channelConformance } from './conformance.ts';

const peerEntry = new URL('./fixtures/conformance-peer.ts', import.meta.url);

channelConformance({
  name: 'worker',
  peerCanHang: true,
  open(options = {}) {
    const channel = spawnWorkerChannel(peerEntry, { name: 'kernel', peer: 'devhost', ...options });
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
    try {
      channel.end.call({ kind: 'pause' });
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
    expect(channel.end.call({ kind: 'get-device-state', device: 'posts' })).toMatchObject({ kind: 'device-state' });
    expect(await channel.shutdown(1000)).toBe(0);
  });
});
