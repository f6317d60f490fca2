/**
 * One end of the boundary between two domains. Either side may `call` (send a
 * request and block for its reply) or `post` (send one-way); whichever side is
 * blocked in `call` serves the other side's calls and posts meanwhile, so an
 * ioctl from the device host (an irq-line while it handles an exit) reaches
 * the kernel side while that side waits for the exit's completion — and
 * neither side can deadlock the other by calling back.
 *
 * Ordering: everything one end sends arrives in the order sent, so a posted
 * write is always handled before a later call from the same end.
 */
import type { Message } from '@splitvisor/abi';
import { ErrorCode } from '@splitvisor/abi';

export interface ChannelHandler {
  /** A request from the peer; the returned message is its reply. */
  onCall(message: Message): Message;
  /** A one-way message from the peer. */
  onPost(message: Message): void;
}

export interface ChannelStats {
  calls: number;
  posts: number;
  /** Calls and posts received from the peer and dispatched to the handler. */
  served: number;
  /**
   * Calls and posts from the peer whose frame was whole but whose body no
   * decoder could read: a call answered with a BadMessage error, a post
   * dropped — the stream goes on. (An unreadable reply, or a broken frame,
   * ends the channel: nothing after it can be trusted.)
   */
  refused: number;
  /** Bytes written to the transport (frames, headers included); 0 for direct. */
  bytesSent: number;
  /** Waits that ended while spinning, and waits that slept (halt-poll.ts); 0 for direct. */
  caughtSpinning: number;
  slept: number;
}

export interface ChannelEnd {
  /** This side's name, e.g. `kernel`. */
  readonly name: string;
  /** The other side's name, e.g. `devhost`: every error names it. */
  readonly peer: string;
  /** Who answers the peer's calls and posts. Without one, a call is answered with an `error` reply. */
  setHandler(handler: ChannelHandler): void;
  /** Sends `message` and blocks until the peer replies, serving the peer meanwhile. */
  call(message: Message): Message;
  /** Sends `message` needing no reply. May block while the transport is full (back-pressure). */
  post(message: Message): void;
  /**
   * Blocks until the peer has served everything this end sent before it
   * (serving the peer meanwhile, so what it posted in answer has arrived).
   */
  flush(): void;
  /** Serves whatever the peer has sent, without blocking. Returns how many messages were served. */
  poll(): number;
  /** Serves the peer until it closes this channel (the device host's main loop). */
  serve(): void;
  /** Ends the channel: the peer's pending and later calls fail with `closed`. Idempotent. */
  close(): void;
  readonly stats: Readonly<ChannelStats>;
}

export type ChannelErrorCode = 'peer-lost' | 'timeout' | 'closed' | 'bad-message';

/** A failure of the boundary itself (not of a request: those are `error` replies). */
export class ChannelError extends Error {
  override readonly name = 'ChannelError';
  readonly code: ChannelErrorCode;
  readonly peer: string;

  constructor(code: ChannelErrorCode, peer: string, detail: string, options?: ErrorOptions) {
    super(`channel to ${peer}: ${detail}`, options);
    this.code = code;
    this.peer = peer;
  }
}

export function emptyStats(): ChannelStats {
  return { calls: 0, posts: 0, served: 0, refused: 0, bytesSent: 0, caughtSpinning: 0, slept: 0 };
}

/** The answer a side without a handler gives, so the caller is not left waiting. */
export const NO_HANDLER_REPLY: Message = { kind: 'error', code: ErrorCode.Unsupported, message: 'no handler on this side' };
