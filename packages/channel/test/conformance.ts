// The transport conformance suite: every transport passes the same tests.
// Each test opens a fresh channel to the conformance peer (peer-behaviour.ts).
import type { Message } from '@splitvisor/abi';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelEnd, ChannelHandler } from '../src/index.ts';
import { fold } from './peer-behaviour.ts';

export interface OpenOptions {
  readonly ringBytes?: number;
  readonly callTimeoutMs?: number;
  readonly ringPositionBase?: number;
}

export interface Opened {
  readonly end: ChannelEnd;
  /** Closes our end and waits for the peer to be gone. */
  close(): Promise<void>;
}

export interface Transport {
  readonly name: string;
  /** A fresh channel to the conformance peer, once the peer is up. */
  open(options?: OpenOptions): Opened | Promise<Opened>;
  /** Whether the peer is a separate thread that can stop answering (so call timeouts can be tested). */
  readonly peerCanHang: boolean;
  /** Whether messages cross as bytes (so a message no peer could decode is caught). */
  readonly encodes: boolean;
  /**
   * Whether a peer that stops reading stops the sender once the ring is full.
   * Not so for the process transport: its relay drains the ring into the
   * socket whatever the child does.
   */
  readonly boundedToPeer?: boolean;
}

const exitOut = (port: number, data: Uint8Array): Message => ({
  kind: 'io', vcpu: 0, time: 0, ifFlag: true, readyForInterruptInjection: true,
  direction: 'out', port, size: 1, count: data.length, data,
});

const exitIn = (port: number): Message => ({
  kind: 'io', vcpu: 0, time: 0, ifFlag: true, readyForInterruptInjection: true,
  direction: 'in', port, size: 4, count: 1, data: new Uint8Array(0),
});

function completionOf(reply: Message): Uint8Array {
  if (reply.kind !== 'run') throw new Error(`expected a run completion, got ${reply.kind}`);
  return reply.completion;
}

function postsSeen(end: ChannelEnd): { posts: number; checksum: number } {
  const reply = end.call({ kind: 'get-device-state', device: 'posts' });
  if (reply.kind !== 'device-state') throw new Error(`expected device-state, got ${reply.kind}`);
  return { posts: reply.state.posts as number, checksum: reply.state.checksum as number };
}

/** Compares bytes without vitest's element-by-element diffing, which is slow for large arrays. */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  expect(Buffer.compare(actual, expected)).toBe(0);
}

/** Deterministic bytes, so a corrupted or reordered copy is caught. */
function pattern(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

function counting(): ChannelHandler & { posts: number; checksum: number } {
  return {
    posts: 0,
    checksum: 0,
    onPost(message) {
      this.posts++;
      this.checksum = fold(this.checksum, message);
    },
    onCall(message) {
      return message.kind === 'get-device-state' && message.device === 'caller'
        ? { kind: 'device-state', device: 'caller', state: { model: 'caller', version: 1, answered: true } }
        : { kind: 'ok' };
    },
  };
}

export function channelConformance(transport: Transport): void {
  describe(`${transport.name} transport conformance`, () => {
    let opened: Opened[] = [];
    const open = async (options?: OpenOptions) => {
      const channel = await transport.open(options);
      opened.push(channel);
      return channel.end;
    };
    afterEach(async () => {
      await Promise.all(opened.map((channel) => channel.close()));
      opened = [];
    });

    it('answers a call with its reply', async () => {
      const end = await open();
      expect(completionOf(end.call(exitOut(0x80, Uint8Array.of(0x55))))).toEqual(Uint8Array.of(0x55));
      expect(end.stats.calls).toBe(1);
    });

    it('delivers posts in order, before a later call', async () => {
      const end = await open();
      let expected = 0;
      for (let i = 0; i < 500; i++) {
        const message: Message = { kind: 'irq-line', gsi: i % 24, level: i % 3 === 0 };
        expected = fold(expected, message);
        end.post(message);
      }
      expect(postsSeen(end)).toEqual({ posts: 500, checksum: expected });
      // An `in` after posted writes sees all of them (seed 003's out-port cache flush).
      end.post({ kind: 'irq-line', gsi: 1, level: true });
      const data = completionOf(end.call(exitIn(0x60)));
      expect(new DataView(data.buffer, data.byteOffset).getUint32(0, true)).toBe(501);
    });

    it('flushes: returns once the peer has served every earlier post, with what it posted in answer arrived', async () => {
      const end = await open({ ringBytes: 1024 });
      const handler = counting();
      end.setHandler(handler);
      let expected = 0;
      for (let i = 0; i < 300; i++) {
        end.post({ kind: 'pause', time: 0 });
        expected = fold(expected, { kind: 'irq-line', gsi: i + 1, level: true });
      }
      end.flush();
      expect({ posts: handler.posts, checksum: handler.checksum }).toEqual({ posts: 300, checksum: expected });
      end.flush(); // nothing outstanding: returns at once
      expect(handler.posts).toBe(300);
    });

    it('carries small and large messages intact', async () => {
      const end = await open({ ringBytes: 4096 });
      for (const length of [1, 7, 4096, 4097, 100_000]) {
        expectSameBytes(completionOf(end.call(exitOut(0x1f0, pattern(length, length + 1)))), pattern(length, length + 1));
      }
      const vram = pattern(1 << 20, 7);
      const reply = end.call({ kind: 'set-device-state', device: 'vga', state: { model: 'vga', version: 1, vram, latch: 0x1234_5678_9abcn } });
      if (reply.kind !== 'device-state') throw new Error(`expected device-state, got ${reply.kind}`);
      const { vram: echoed, ...rest } = reply.state;
      expect(rest).toEqual({ model: 'vga', version: 1, latch: 0x1234_5678_9abcn });
      expectSameBytes(echoed as Uint8Array, vram);
    });

    it('wraps around the ring many times without losing a byte', async () => {
      const end = await open({ ringBytes: 1024 });
      for (let i = 0; i < 2000; i++) {
        const data = pattern(1 + ((i * 37) % 601), i);
        expectSameBytes(completionOf(end.call(exitOut(i & 0xffff, data))), data);
      }
    });

    it('crosses the 2^32 wrap of ring positions', async () => {
      const end = await open({ ringBytes: 1024, ringPositionBase: 0xffff_ff00 | 0 });
      for (let i = 0; i < 50; i++) {
        const data = pattern(200 + i, i);
        expectSameBytes(completionOf(end.call(exitOut(0x3f8, data))), data);
      }
    });

    it('applies back-pressure when the ring is full, losing nothing', async () => {
      const end = await open({ ringBytes: 4096 });
      let expected = 0;
      for (let i = 0; i < 3000; i++) {
        const message: Message = { kind: 'irq-line', gsi: i, level: true };
        const bulk = exitOut(0x3f8, pattern(3000, i)); // 3 KB: the ring holds one at a time
        expected = fold(fold(expected, message), bulk);
        end.post(message);
        end.post(bulk);
      }
      expect(postsSeen(end)).toEqual({ posts: 6000, checksum: expected });
    });

    it('serves the peer’s calls while waiting for its reply (reentrancy)', async () => {
      const end = await open();
      const handler = counting();
      end.setHandler(handler);
      expect(end.call({ kind: 'get-device-state', device: 'reenter' })).toEqual({
        kind: 'device-state', device: 'caller', state: { model: 'caller', version: 1, answered: true },
      });
    });

    it('keeps each reply with its call when both sides have calls in flight', async () => {
      const end = await open();
      const handler = counting();
      end.setHandler(handler);
      // The peer's handling of the post calls us (Y); while it waits, it serves our call,
      // which calls us again (Z): we answer Y before Z, so its replies arrive outermost first.
      end.post({ kind: 'resume' });
      expect(end.call({ kind: 'get-device-state', device: 'reenter' })).toMatchObject({ kind: 'device-state', device: 'caller' });
      expect(postsSeen(end).posts).toBe(1);
    });

    it('drains a flood of posts from the peer while waiting, without deadlock', async () => {
      const end = await open({ ringBytes: 1024 });
      const handler = counting();
      end.setHandler(handler);
      expect(end.call({ kind: 'get-device-state', device: 'flood:5000' })).toEqual({ kind: 'ok' });
      let expected = 0;
      for (let i = 0; i < 5000; i++) expected = fold(expected, { kind: 'irq-line', gsi: i, level: (i & 1) === 1 });
      expect({ posts: handler.posts, checksum: handler.checksum }).toEqual({ posts: 5000, checksum: expected });
    });

    it('fails a pending call, naming the peer, when the peer dies — and every later call too', async () => {
      const end = await open();
      const lost = expect.objectContaining({
        code: 'peer-lost', message: expect.stringMatching(new RegExp(`^channel to ${end.peer}: peer died`)),
      });
      expect(() => end.call({ kind: 'get-device-state', device: 'die:3' })).toThrow(lost);
      expect(() => end.call(exitIn(0x60))).toThrow(lost);
      expect(() => { end.post({ kind: 'pause', time: 0 }); }).toThrow(lost);
    });

    it('reports a peer whose handler throws as dead, with the reason', async () => {
      const end = await open();
      expect(() => end.call({ kind: 'get-device-state', device: 'throw' }))
        .toThrow(expect.objectContaining({ code: 'peer-lost', message: expect.stringMatching(/peer handler failed on purpose/) }));
    });

    it('answers a request with an error reply, not a channel failure', async () => {
      const end = await open();
      expect(end.call({ kind: 'get-device-state', device: 'nonesuch' })).toMatchObject({ kind: 'error', code: 1 });
    });

    it('shuts down: after close, calls fail as closed', async () => {
      const channel = await transport.open();
      expect(completionOf(channel.end.call(exitOut(0x80, Uint8Array.of(1))))).toEqual(Uint8Array.of(1));
      await channel.close();
      expect(() => channel.end.call(exitIn(0x60))).toThrow(expect.objectContaining({ code: 'closed' }));
      await channel.close(); // idempotent
    });

    if (transport.encodes) {
      it('reports a peer that answers with a message no one could decode as dead', async () => {
        const end = await open();
        expect(() => end.call({ kind: 'get-device-state', device: 'bad-reply' }))
          .toThrow(expect.objectContaining({ code: 'peer-lost', message: expect.stringMatching(/EncodeError: invalid io size/) }));
      });
    }

    if (transport.peerCanHang) {
      it('times out a call the peer never answers', async () => {
        const end = await open({ callTimeoutMs: 300 });
        expect(() => end.call({ kind: 'get-device-state', device: 'hang' }))
          .toThrow(expect.objectContaining({ code: 'timeout', message: expect.stringMatching(/no answer within 300 ms/) }));
      });

      it('drops the late reply to a call that timed out, and goes on', async () => {
        const end = await open({ callTimeoutMs: 200 });
        expect(() => end.call({ kind: 'get-device-state', device: 'sleep:500' })).toThrow(expect.objectContaining({ code: 'timeout' }));
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
        // The peer has woken and answered the abandoned call: that reply must not be taken for this one's.
        expect(completionOf(end.call(exitOut(0x80, Uint8Array.of(7))))).toEqual(Uint8Array.of(7));
        expect(completionOf(end.call(exitOut(0x80, Uint8Array.of(8))))).toEqual(Uint8Array.of(8));
      });

      it.runIf(transport.boundedToPeer !== false)('gives up on the channel when a frame is cut short, rather than desynchronise it', async () => {
        const end = await open({ callTimeoutMs: 200, ringBytes: 1024 });
        expect(() => end.call({ kind: 'get-device-state', device: 'sleep:800' })).toThrow(expect.objectContaining({ code: 'timeout' }));
        // The peer is asleep: a 4 KB frame cannot fit a 1 KB ring, and the wait for space times out mid-frame.
        expect(() => { end.post(exitOut(0x3f8, pattern(4000, 1))); }).toThrow(expect.objectContaining({ code: 'timeout' }));
        expect(() => end.call(exitIn(0x60))).toThrow(expect.objectContaining({ code: 'closed', message: expect.stringMatching(/cut short/) }));
      });
    }
  });
}
