// A peer that sends a whole frame whose body is no message: the call is answered with EBADMSG, the post dropped,
// both counted — and the channel goes on. A reply no one can read, or a frame that is not whole, still ends it.
import { decodeMessage } from '@splitvisor/abi';
import type { Message } from '@splitvisor/abi';
import { describe, expect, it } from 'vitest';
import { RingEnd } from '../src/ring-end.ts';
import { CONTROL_BYTES, createSharedChannel, headWord, ringOffset, tailWord } from '../src/ring-layout.ts';
import type { SharedChannel } from '../src/ring-layout.ts';

/** A device host that writes frames as it likes. */
class HostileEnd extends RingEnd {
  send(type: number, seq: number, body: Uint8Array): void {
    this.writeRawFrame(type, seq, body);
  }
}

const CALL = 1;
const REPLY = 2;
const POST = 3;

/** The frames side 0 wrote that side 1 has not read, straight from the ring. */
function unread(shared: SharedChannel): { type: number; seq: number; message: Message | undefined }[] {
  const control = new Int32Array(shared.buffer, 0, CONTROL_BYTES / 4);
  const ring = new Uint8Array(shared.buffer, ringOffset(0, shared.ringBytes), shared.ringBytes);
  const head = Atomics.load(control, headWord(0));
  const bytes: number[] = [];
  for (let at = Atomics.load(control, tailWord(0)); at !== head; at = (at + 1) | 0) bytes.push(ring[at & (shared.ringBytes - 1)] ?? 0);
  const view = new DataView(Uint8Array.from(bytes).buffer);
  const frames = [];
  for (let at = 0; at < bytes.length;) {
    const length = view.getUint32(at, true);
    const body = Uint8Array.from(bytes.slice(at + 12, at + 12 + length));
    const decoded = decodeMessage(body);
    frames.push({ type: view.getUint32(at + 4, true), seq: view.getUint32(at + 8, true), message: decoded.ok ? decoded.message : undefined });
    at += 12 + length;
  }
  return frames;
}

function pair() {
  const shared = createSharedChannel(4096);
  const kernel = new RingEnd(shared, 0, { name: 'kernel', peer: 'devhost', callTimeoutMs: 1000 });
  const host = new HostileEnd(shared, 1, { name: 'devhost', peer: 'kernel', callTimeoutMs: 1000 });
  const posts: Message[] = [];
  kernel.setHandler({ onCall: () => ({ kind: 'ok' }), onPost: (message) => { posts.push(message); } });
  return { shared, kernel, host, posts };
}

describe('a whole frame whose body is no message', () => {
  it('is refused and counted — a call answered with EBADMSG, a post dropped — and the channel goes on', () => {
    const { shared, kernel, host, posts } = pair();
    host.send(POST, 0, Uint8Array.of(0xee, 1, 2, 3)); // no such message tag
    host.send(CALL, 77, Uint8Array.of(0x21)); // an irq-line cut short
    host.post({ kind: 'irq-line', gsi: 4, level: true });
    expect(kernel.poll()).toBe(1);
    expect(posts).toEqual([{ kind: 'irq-line', gsi: 4, level: true }]);
    expect(kernel.stats.refused).toBe(2);
    const [reply] = unread(shared);
    expect(reply).toMatchObject({ type: REPLY, seq: 77, message: { kind: 'error', code: 5 } });
    expect((reply?.message as { message: string }).message).toMatch(/^undecodable message: /);
    // Still open: a later good post is served.
    host.post({ kind: 'irq-line', gsi: 5, level: false });
    expect(kernel.poll()).toBe(1);
    expect(posts).toHaveLength(2);
  });

  it('ends the channel when it is a reply (its call has no answer) or the frame itself is broken', () => {
    const first = pair();
    first.host.send(9, 1, new Uint8Array(0)); // no such frame type
    expect(() => first.kernel.poll()).toThrow(/frame of unknown type 9/);
    const second = pair();
    second.host.send(REPLY, 5, Uint8Array.of(0xee));
    expect(() => second.kernel.poll()).toThrow(/undecodable reply/);
  });
});
