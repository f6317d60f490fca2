/**
 * One end of a channel over shared memory (see ring-layout.ts). Frames are
 *
 *   u32 body length | u8 type (call, reply, post) | u8 0 | u16 0 | u32 seq | body
 *
 * where the body is the abi encoding of one message. A frame larger than the
 * ring streams through it: the writer publishes what fits and waits for the
 * reader to drain. While it waits — for space or for a reply — an end keeps
 * draining what the peer sends it into a local inbox, so two ends writing
 * large frames to each other cannot deadlock.
 */
import { performance } from 'node:perf_hooks';
import type { Message } from '@splitvisor/abi';
import { MessageEncoder, copyBytes, decodeMessage, describeDecodeError, u32At } from '@splitvisor/abi';
import type { ChannelEnd, ChannelHandler, ChannelStats } from './channel.ts';
import { ChannelError, NO_HANDLER_REPLY, emptyStats } from './channel.ts';
import type { SharedChannel, Side } from './ring-layout.ts';
import {
  CONTROL_BYTES, SideState, asleepWord, bellWord, fullWord, headWord, markSide, readNote, ringOffset, stateWord, tailWord,
} from './ring-layout.ts';
import type { HaltPollOptions } from './halt-poll.ts';
import { HaltPoll } from './halt-poll.ts';

const FRAME_HEADER_BYTES = 12;
/** Larger than any state a device has; a longer length can only be a broken stream. */
const MAX_FRAME_BODY_BYTES = 256 * 1024 * 1024;
/** `sync`: a call with no body, answered by the peer's end itself (an `ok` reply) once it has served all before it. */
const FrameType = { call: 1, reply: 2, post: 3, sync: 4 } as const;
const OK: Message = { kind: 'ok' };
type FrameType = (typeof FrameType)[keyof typeof FrameType];

interface Frame {
  readonly type: FrameType;
  readonly seq: number;
  readonly message: Message;
}

export interface RingEndOptions {
  readonly name: string;
  readonly peer: string;
  /** How long a call (or a wait for ring space) may see no progress from the peer. */
  readonly callTimeoutMs: number;
  /** How long a wait spins before it sleeps (halt-poll.ts). */
  readonly spin?: HaltPollOptions;
}

/** Bytes received but not yet parsed into frames. */
class Inbox {
  bytes = new Uint8Array(4096);
  start = 0;
  end = 0;

  /** Room for `n` more bytes at `end`. */
  reserve(n: number): void {
    if (this.end + n <= this.bytes.length) return;
    const used = this.end - this.start;
    if (used + n <= this.bytes.length && this.start > 0) {
      this.bytes.copyWithin(0, this.start, this.end);
    } else {
      let capacity = this.bytes.length * 2;
      while (capacity < used + n) capacity *= 2;
      const grown = new Uint8Array(capacity);
      grown.set(this.bytes.subarray(this.start, this.end));
      this.bytes = grown;
    }
    this.start = 0;
    this.end = used;
  }
}

export class RingEnd implements ChannelEnd {
  readonly name: string;
  readonly peer: string;
  readonly stats: ChannelStats = emptyStats();
  private readonly shared: SharedChannel;
  private readonly side: Side;
  private readonly other: Side;
  private readonly control: Int32Array;
  private readonly out: Uint8Array;
  private readonly in: Uint8Array;
  private readonly mask: number;
  private outHead: number;
  private inTail: number;
  private readonly inbox = new Inbox();
  private readonly encoder = new MessageEncoder();
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private readonly headerView = new DataView(this.header.buffer);
  private readonly timeoutMs: number;
  private readonly spin: HaltPoll;
  /** When the current wait began (performance.now()). */
  private began = 0;
  /** The last doorbell this end rang found the peer asleep and woke it; and whether the current wait may spin. */
  private woke = false;
  private spinAllowed = true;
  private handler: ChannelHandler | undefined;
  private seq = 0;
  /** Our calls still waiting for a reply, innermost last (calls nest while the peer calls back). */
  private readonly pending = new Set<number>();
  /**
   * Replies to an outer call that arrived while an inner one waited: both sides
   * may have calls outstanding at once (a post handler that calls while the other
   * side's call is being served), so replies need not come back innermost first.
   */
  private readonly early = new Map<number, Message>();
  /** Calls that timed out: their late replies are dropped, not taken for another call's. */
  private readonly abandoned = new Set<number>();

  constructor(shared: SharedChannel, side: Side, options: RingEndOptions) {
    this.shared = shared;
    this.side = side;
    this.other = side === 0 ? 1 : 0;
    this.name = options.name;
    this.peer = options.peer;
    this.timeoutMs = options.callTimeoutMs;
    this.spin = new HaltPoll(options.spin);
    this.control = new Int32Array(shared.buffer, 0, CONTROL_BYTES / 4);
    this.out = new Uint8Array(shared.buffer, ringOffset(side, shared.ringBytes), shared.ringBytes);
    this.in = new Uint8Array(shared.buffer, ringOffset(this.other, shared.ringBytes), shared.ringBytes);
    this.mask = shared.ringBytes - 1;
    this.outHead = Atomics.load(this.control, headWord(side)) >>> 0;
    this.inTail = Atomics.load(this.control, tailWord(this.other)) >>> 0;
  }

  setHandler(handler: ChannelHandler): void {
    this.handler = handler;
  }

  call(message: Message): Message {
    this.checkSelf();
    this.checkPeer();
    this.stats.calls++;
    return this.roundTrip(FrameType.call, message);
  }

  flush(): void {
    this.checkSelf();
    this.checkPeer();
    this.roundTrip(FrameType.sync, OK);
  }

  /** Sends a call (or a sync) and serves the peer until its reply comes. */
  private roundTrip(type: FrameType, message: Message): Message {
    const seq = (this.seq = (this.seq + 1) >>> 0);
    this.woke = false;
    if (type === FrameType.sync) this.writeEncoded(type, seq, 0);
    else this.writeFrame(type, seq, message);
    // A peer this call woke answers only after its wake-up: spinning through that would burn a core (an idle
    // VM's tick). Its next wait still spins, so a busy pair is back to spinning after one round.
    const spin = !this.woke;
    this.pending.add(seq);
    try {
      for (;;) {
        const early = this.early.get(seq);
        if (early !== undefined) {
          this.early.delete(seq);
          return early;
        }
        const frame = this.nextFrame(true, spin);
        if (frame.type !== FrameType.reply) this.dispatch(frame);
        else if (frame.seq === seq) return frame.message;
        else this.routeReply(frame);
      }
    } catch (error) {
      if (error instanceof ChannelError && error.code === 'timeout') this.abandoned.add(seq);
      throw error;
    } finally {
      this.pending.delete(seq);
    }
  }

  /** A reply that is not for the innermost call: keep it for its caller, drop it, or give up on the stream. */
  private routeReply(frame: Frame): void {
    if (this.pending.has(frame.seq)) this.early.set(frame.seq, frame.message);
    else if (!this.abandoned.delete(frame.seq)) throw this.broken(`reply ${frame.seq} to no call`);
  }

  post(message: Message): void {
    this.checkSelf();
    this.checkPeer();
    this.stats.posts++;
    this.writeFrame(FrameType.post, 0, message);
  }

  poll(): number {
    this.checkSelf();
    let served = 0;
    this.pump();
    for (let frame = this.parseFrame(); frame !== undefined; frame = this.parseFrame()) {
      if (frame.type === FrameType.reply) {
        this.routeReply(frame);
      } else {
        this.dispatch(frame);
        served++;
      }
      this.pump();
    }
    return served;
  }

  serve(): void {
    // Until the peer closes, or a handler closes this end.
    while (Atomics.load(this.control, stateWord(this.side)) === SideState.open) {
      let frame: Frame;
      try {
        frame = this.nextFrame(false);
      } catch (error) {
        if (error instanceof ChannelError && error.code === 'closed') return;
        throw error;
      }
      if (frame.type === FrameType.reply) this.routeReply(frame);
      else this.dispatch(frame);
    }
  }

  close(): void {
    markSide(this.shared, this.side, SideState.closed, `${this.name} closed the channel`);
  }

  /** Marks this end dead (its handler failed), so the peer's pending call fails instead of waiting. */
  private die(reason: string): void {
    markSide(this.shared, this.side, SideState.dead, reason);
  }

  private checkSelf(): void {
    const state = Atomics.load(this.control, stateWord(this.side));
    if (state === SideState.open) return;
    const detail = state === SideState.closed ? 'this end is closed' : `this end failed: ${readNote(this.shared, this.side)}`;
    throw new ChannelError('closed', this.peer, detail);
  }

  private broken(detail: string): ChannelError {
    const error = new ChannelError('bad-message', this.peer, detail);
    this.die(`${this.name}: ${error.message}`);
    return error;
  }

  private dispatch(frame: Frame): void {
    this.stats.served++;
    if (frame.type === FrameType.post) {
      this.guard(() => { this.handler?.onPost(frame.message); });
      return;
    }
    if (frame.type === FrameType.sync) {
      // Everything the peer sent before it has been served (frames are served in order).
      this.writeFrame(FrameType.reply, frame.seq, OK);
      return;
    }
    // A reply no peer could decode is the handler's failure too.
    const length = this.guard(() => this.encoder.encodeInPlace(this.handler?.onCall(frame.message) ?? NO_HANDLER_REPLY));
    this.writeEncoded(FrameType.reply, frame.seq, length);
  }

  /** A handler that throws takes its end down with it: the peer is told, then the error goes on up. */
  private guard<T>(run: () => T): T {
    try {
      return run();
    } catch (error) {
      this.die(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
      throw error;
    }
  }

  // --- writing -------------------------------------------------------------

  private writeFrame(type: FrameType, seq: number, message: Message): void {
    this.writeEncoded(type, seq, this.encoder.encodeInPlace(message));
  }

  /** A frame whose body is the first `length` bytes of the encoder's buffer. */
  private writeEncoded(type: FrameType, seq: number, length: number): void {
    this.headerView.setUint32(0, length, true);
    this.headerView.setUint32(4, type, true);
    this.headerView.setUint32(8, seq, true);
    const start = this.outHead;
    try {
      this.write(this.header, FRAME_HEADER_BYTES);
      this.write(this.encoder.buffer, length);
    } catch (error) {
      // Part of a frame may already be in the ring; the stream cannot be resynchronised.
      if (this.outHead !== start) this.die(`${this.name}: a frame was cut short (${error instanceof Error ? error.message : String(error)})`);
      throw error;
    }
    this.publish();
    this.stats.bytesSent += FRAME_HEADER_BYTES + length;
  }

  /** The first `length` bytes of `src`, into the ring as space allows. */
  private write(src: Uint8Array, length: number): void {
    const capacity = this.out.length;
    let done = 0;
    while (done < length) {
      const used = (this.outHead - (Atomics.load(this.control, tailWord(this.side)) >>> 0)) >>> 0;
      const free = capacity - used;
      if (free === 0) {
        this.publish();
        this.waitForSpace();
        continue;
      }
      const n = Math.min(free, length - done);
      const at = this.outHead & this.mask;
      const first = Math.min(n, capacity - at);
      copyBytes(src, done, this.out, at, first);
      if (first < n) copyBytes(src, done + first, this.out, 0, n - first);
      this.outHead = (this.outHead + n) >>> 0;
      done += n;
    }
  }

  private publish(): void {
    Atomics.store(this.control, headWord(this.side), this.outHead | 0);
    this.ring(this.other);
  }

  /** Rings `side`'s doorbell; wakes it only if it sleeps (a spinning side sees the bell move). */
  private ring(side: Side): void {
    Atomics.add(this.control, bellWord(side), 1);
    if (Atomics.load(this.control, asleepWord(side)) !== 0) {
      Atomics.notify(this.control, bellWord(side));
      this.woke = true;
    }
  }

  /**
   * Spins on this side's doorbell for the halt-polling budget: true when it
   * moved from `bell` meanwhile (the peer wrote; no sleep, no wake-up). Time
   * is looked at once every 1024 loads, a µs or so here.
   */
  private spinFor(bell: number, allowed = true): boolean {
    const budget = allowed ? this.spin.budgetNs : 0;
    this.began = performance.now();
    this.spinAllowed = allowed;
    if (budget === 0) return false;
    const { control } = this;
    const word = bellWord(this.side);
    const until = this.began + budget / 1e6;
    for (let i = 1; ; i++) {
      if (Atomics.load(control, word) !== bell) {
        this.stats.caughtSpinning++;
        return true;
      }
      if ((i & 1023) === 0 && performance.now() >= until) return false;
    }
  }

  /**
   * After a spin that caught nothing: asleep in Atomics.wait until the
   * doorbell moves from `bell` or `until` (performance.now() time) passes —
   * whose wake-up the peer pays for only now. Throws `timeout` (`what`) if
   * `until` has passed.
   */
  private sleep(bell: number, until: number, what: string): void {
    const { control } = this;
    const remaining = until - performance.now();
    if (remaining <= 0) throw new ChannelError('timeout', this.peer, what);
    Atomics.store(control, asleepWord(this.side), 1);
    Atomics.wait(control, bellWord(this.side), bell, remaining);
    Atomics.store(control, asleepWord(this.side), 0);
    this.stats.slept++;
    // A wait whose length was the peer's wake-up says nothing of how long to spin.
    if (this.spinAllowed) this.spin.slept((performance.now() - this.began) * 1e6);
  }

  private waitForSpace(): void {
    const deadline = performance.now() + this.timeoutMs;
    // Raised before the space is looked at: a reader that frees space after the look sees it and rings.
    Atomics.store(this.control, fullWord(this.side), 1);
    try {
      this.awaitSpace(deadline);
    } finally {
      Atomics.store(this.control, fullWord(this.side), 0);
    }
  }

  private awaitSpace(deadline: number): void {
    for (;;) {
      const bell = Atomics.load(this.control, bellWord(this.side));
      if ((this.outHead - (Atomics.load(this.control, tailWord(this.side)) >>> 0)) >>> 0 < this.out.length) return;
      if (this.pump() > 0) continue;
      this.checkPeer();
      if (!this.spinFor(bell)) this.sleep(bell, deadline, `ring full, peer drained nothing for ${this.timeoutMs} ms`);
    }
  }

  // --- reading -------------------------------------------------------------

  /** Moves everything the peer has published into the inbox; returns the byte count. */
  private pump(): number {
    const head = Atomics.load(this.control, headWord(this.other)) >>> 0;
    const available = (head - this.inTail) >>> 0;
    if (available === 0) return 0;
    const inbox = this.inbox;
    inbox.reserve(available);
    const capacity = this.in.length;
    const at = this.inTail & this.mask;
    const first = Math.min(available, capacity - at);
    copyBytes(this.in, at, inbox.bytes, inbox.end, first);
    if (first < available) copyBytes(this.in, 0, inbox.bytes, inbox.end + first, available - first);
    inbox.end += available;
    this.inTail = (this.inTail + available) >>> 0;
    Atomics.store(this.control, tailWord(this.other), this.inTail | 0);
    if (Atomics.load(this.control, fullWord(this.other)) !== 0) this.ring(this.other);
    return available;
  }

  private parseFrame(): Frame | undefined {
    const inbox = this.inbox;
    const buffered = inbox.end - inbox.start;
    if (buffered < FRAME_HEADER_BYTES) return undefined;
    const { bytes, start } = inbox;
    const length = u32At(bytes, start);
    if (length > MAX_FRAME_BODY_BYTES) throw this.broken(`frame of ${length} bytes`);
    if (buffered < FRAME_HEADER_BYTES + length) return undefined;
    const typeWord = u32At(bytes, start + 4);
    const seq = u32At(bytes, start + 8);
    const bodyStart = inbox.start + FRAME_HEADER_BYTES;
    inbox.start = bodyStart + length;
    if (typeWord !== FrameType.call && typeWord !== FrameType.reply && typeWord !== FrameType.post && typeWord !== FrameType.sync) {
      throw this.broken(`frame of unknown type ${typeWord}`);
    }
    if (typeWord === FrameType.sync) {
      if (length !== 0) throw this.broken(`sync frame of ${length} bytes`);
      return { type: typeWord, seq, message: OK };
    }
    const decoded = decodeMessage(inbox.bytes, bodyStart, bodyStart + length);
    if (!decoded.ok) throw this.broken(`undecodable message: ${describeDecodeError(decoded)}`);
    return { type: typeWord, seq, message: decoded.message };
  }

  /**
   * The next frame from the peer, blocking until one arrives. Gives up when
   * the peer is gone, or — for a caller (`bounded`) — after the timeout with
   * no progress at all from the peer.
   */
  private nextFrame(bounded: boolean, spin = true): Frame {
    // The timeout counts from the first sleep since the peer last made progress (a spin is far shorter).
    let deadline = Number.NaN;
    for (;;) {
      const frame = this.parseFrame();
      if (frame !== undefined) return frame;
      const bell = Atomics.load(this.control, bellWord(this.side));
      if (this.pump() > 0) {
        deadline = Number.NaN;
        continue;
      }
      this.checkPeer();
      if (this.spinFor(bell, spin)) continue;
      if (Number.isNaN(deadline)) deadline = bounded ? this.began + this.timeoutMs : Number.POSITIVE_INFINITY;
      this.sleep(bell, deadline, `no answer within ${this.timeoutMs} ms`);
    }
  }

  /** Throws if the peer is gone — but only once everything it sent before going has been read. */
  private checkPeer(): void {
    const state = Atomics.load(this.control, stateWord(this.other));
    if (state === SideState.open || state === SideState.leaving) return;
    // Bytes it published before going are still delivered; a frame it never finished is not.
    if (this.pump() > 0) return;
    if (state === SideState.dead) throw new ChannelError('peer-lost', this.peer, `peer died: ${readNote(this.shared, this.other)}`);
    throw new ChannelError('closed', this.peer, 'peer closed the channel');
  }
}
