/**
 * The frame protocol every byte-stream transport speaks (the ring between
 * threads, the socket to a child process). Frames are
 *
 *   u32 body length | u8 type (call, reply, post, sync) | u8 0 | u16 0 | u32 seq | body
 *
 * where the body is the abi encoding of one message. Calls nest: while an end
 * waits for its reply it serves whatever the peer sends, calls included, and
 * a reply that is not for the innermost call is kept for its caller. A
 * transport supplies only the bytes: how they go out, how they come in, and
 * how an end waits for them and learns the peer is gone.
 */
import type { ErrorReply, Message } from '@splitvisor/abi';
import { MessageEncoder, badMessageReply, decodeMessage, describeDecodeError, u32At } from '@splitvisor/abi';
import type { ChannelEnd, ChannelHandler, ChannelStats } from './channel.ts';
import { ChannelError, NO_HANDLER_REPLY, emptyStats } from './channel.ts';

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
  /** A call or post whose body no decoder could read (its framing intact): the answer it gets; the message is a stand-in. */
  readonly undecodable?: ErrorReply;
}

/** Bytes received but not yet parsed into frames. */
export class Inbox {
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

export abstract class FramedEnd implements ChannelEnd {
  readonly name: string;
  readonly peer: string;
  readonly stats: ChannelStats = emptyStats();
  /** What has arrived from the peer and is not yet parsed. */
  protected readonly inbox = new Inbox();
  /**
   * Set by a transport whose send woke a sleeping peer: the reply to this
   * exchange comes only after that wake-up, so waiting for it should not
   * spin.
   */
  protected woke = false;
  private readonly encoder = new MessageEncoder();
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private readonly headerView = new DataView(this.header.buffer);
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

  constructor(name: string, peer: string) {
    this.name = name;
    this.peer = peer;
  }

  // --- what a transport supplies ----------------------------------------------

  /** Whether this end is still open (a handler may close it while serving). */
  protected abstract isOpen(): boolean;
  /** Throws `closed` if this end is closed or failed. */
  protected abstract checkSelf(): void;
  /** Throws if the peer is gone — but only once everything it sent before going has been received. */
  protected abstract checkPeer(): void;
  /** Marks this end dead with `reason`, so the peer's pending call fails instead of waiting. */
  protected abstract die(reason: string): void;
  abstract close(): void;
  /** Appends the first `length` bytes of `src` to the stream to the peer (blocking while the transport is full). */
  protected abstract write(src: Uint8Array, length: number): void;
  /** Makes everything written so far visible to the peer. */
  protected abstract publish(): void;
  /** How far the stream to the peer has got (bytes, any origin): a frame that failed midway moved it. */
  protected abstract sentPosition(): number;
  /** Moves what the peer has sent into the inbox without blocking; returns the byte count. */
  protected abstract pump(): number;
  /**
   * Blocks until something more has arrived in the inbox; throws when the
   * peer is gone, or — when `bounded` — when the peer made no progress for
   * the transport's timeout. `spin`: whether the wait may spin first.
   */
  protected abstract receive(bounded: boolean, spin: boolean): void;

  // --- the protocol ------------------------------------------------------------

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
      } else if (this.dispatch(frame)) {
        served++;
      }
      this.pump();
    }
    return served;
  }

  serve(): void {
    // Until the peer closes, or a handler closes this end.
    while (this.isOpen()) {
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

  protected broken(detail: string): ChannelError {
    const error = new ChannelError('bad-message', this.peer, detail);
    this.die(`${this.name}: ${error.message}`);
    return error;
  }

  /** Serves a call, post or sync from the peer; false when it was refused instead (its body no message). */
  private dispatch(frame: Frame): boolean {
    if (frame.undecodable !== undefined) {
      // EBADMSG, as the kernel answers an ioctl it cannot parse: counted, and a call still gets its answer.
      this.stats.refused++;
      if (frame.type === FrameType.call) this.writeFrame(FrameType.reply, frame.seq, frame.undecodable);
      return false;
    }
    this.stats.served++;
    if (frame.type === FrameType.post) {
      this.guard(() => { this.handler?.onPost(frame.message); });
    } else if (frame.type === FrameType.sync) {
      // Everything the peer sent before it has been served (frames are served in order).
      this.writeFrame(FrameType.reply, frame.seq, OK);
    } else {
      // A reply no peer could decode is the handler's failure too.
      const length = this.guard(() => this.encoder.encodeInPlace(this.handler?.onCall(frame.message) ?? NO_HANDLER_REPLY));
      this.writeEncoded(FrameType.reply, frame.seq, length);
    }
    return true;
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
    this.writeBody(type, seq, this.encoder.buffer, length);
    this.stats.bytesSent += FRAME_HEADER_BYTES + length;
  }

  /**
   * A frame of any type and body, unchecked — how a broken or hostile
   * peer's bytes look (the tests' peer that sends them).
   */
  protected writeRawFrame(type: number, seq: number, body: Uint8Array): void {
    this.writeBody(type, seq, body, body.length);
  }

  /** The header, then the first `length` bytes of `body`, published. */
  private writeBody(type: number, seq: number, body: Uint8Array, length: number): void {
    this.headerView.setUint32(0, length, true);
    this.headerView.setUint32(4, type, true);
    this.headerView.setUint32(8, seq, true);
    const start = this.sentPosition();
    try {
      this.write(this.header, FRAME_HEADER_BYTES);
      this.write(body, length);
    } catch (error) {
      // Part of a frame may already be on its way; the stream cannot be resynchronised.
      if (this.sentPosition() !== start) this.die(`${this.name}: a frame was cut short (${error instanceof Error ? error.message : String(error)})`);
      throw error;
    }
    this.publish();
  }

  // --- reading -------------------------------------------------------------

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
    if (decoded.ok) return { type: typeWord, seq, message: decoded.message };
    // A reply that cannot be read leaves its call without an answer: the peer is broken. A call or post whose
    // frame is whole but whose body is not a message is the peer's bad request: refused, and the stream goes on.
    if (typeWord === FrameType.reply) throw this.broken(`undecodable reply: ${describeDecodeError(decoded)}`);
    return { type: typeWord, seq, message: OK, undecodable: badMessageReply(decoded) };
  }

  /** The next frame from the peer, blocking until one arrives (see `receive`). */
  private nextFrame(bounded: boolean, spin = true): Frame {
    for (;;) {
      const frame = this.parseFrame();
      if (frame !== undefined) return frame;
      this.receive(bounded, spin);
    }
  }
}
