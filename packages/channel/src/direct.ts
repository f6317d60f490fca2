/**
 * The `direct` transport: both ends in one thread, a call is a function call.
 * Synchronous and deterministic — the transport of modelled runs. With
 * `codec: true` every message is also encoded and decoded on the way, so a
 * modelled run exercises exactly the bytes a worker run would send.
 */
import type { Message } from '@splitvisor/abi';
import { MessageEncoder, decodeMessage, describeDecodeError } from '@splitvisor/abi';
import type { ChannelEnd, ChannelHandler, ChannelStats } from './channel.ts';
import { ChannelError, NO_HANDLER_REPLY, emptyStats } from './channel.ts';

export interface DirectChannelOptions {
  /** The two ends' names, e.g. `['kernel', 'devhost']`. */
  readonly names?: readonly [string, string];
  /** Round-trip every message through the binary codec. */
  readonly codec?: boolean;
}

type EndState = { readonly kind: 'open' } | { readonly kind: 'closed' } | { readonly kind: 'dead'; readonly reason: string };

class DirectEnd implements ChannelEnd {
  readonly name: string;
  readonly peer: string;
  readonly stats: ChannelStats = emptyStats();
  state: EndState = { kind: 'open' };
  other: DirectEnd | undefined;
  handler: ChannelHandler | undefined;
  /** This end's encoder, when messages go through the codec: each is decoded from its buffer before anything else is sent. */
  private readonly encoder: MessageEncoder | undefined;

  constructor(name: string, peer: string, codec: boolean) {
    this.name = name;
    this.peer = peer;
    this.encoder = codec ? new MessageEncoder() : undefined;
  }

  setHandler(handler: ChannelHandler): void {
    this.handler = handler;
  }

  private transfer(message: Message): Message {
    const encoder = this.encoder;
    if (encoder === undefined) return message;
    const length = encoder.encodeInPlace(message); // first: encoding may grow the buffer
    const decoded = decodeMessage(encoder.buffer, 0, length);
    if (!decoded.ok) throw new ChannelError('bad-message', this.peer, `undecodable message: ${describeDecodeError(decoded)}`);
    return decoded.message;
  }

  /** The peer, if both ends are still open; otherwise the error a caller gets. */
  private reachablePeer(): DirectEnd {
    const other = this.other;
    if (other === undefined) throw new ChannelError('closed', this.peer, 'not connected');
    if (this.state.kind !== 'open') throw new ChannelError('closed', this.peer, 'this end is closed');
    if (other.state.kind === 'dead') throw new ChannelError('peer-lost', this.peer, `peer died: ${other.state.reason}`);
    if (other.state.kind === 'closed') throw new ChannelError('closed', this.peer, 'peer closed the channel');
    return other;
  }

  /** An exception in the peer's handler is the peer dying: it is marked so, and the caller is told. */
  private peerFailed(other: DirectEnd, error: unknown): ChannelError {
    // A failure of a channel further in (the peer's own call back to us) is reported as it is.
    if (error instanceof ChannelError) return error;
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    other.state = { kind: 'dead', reason };
    return new ChannelError('peer-lost', this.peer, `peer died: ${reason}`, { cause: error });
  }

  call(message: Message): Message {
    const other = this.reachablePeer();
    this.stats.calls++;
    const request = this.transfer(message);
    other.stats.served++;
    try {
      // Encoding the reply is the peer's work: a reply no one could decode is the peer failing.
      return other.transfer(other.handler?.onCall(request) ?? NO_HANDLER_REPLY);
    } catch (error) {
      throw this.peerFailed(other, error);
    }
  }

  post(message: Message): void {
    const other = this.reachablePeer();
    this.stats.posts++;
    const sent = this.transfer(message);
    other.stats.served++;
    try {
      other.handler?.onPost(sent);
    } catch (error) {
      throw this.peerFailed(other, error);
    }
  }

  poll(): number {
    return 0;
  }

  flush(): void {
    // Every call and post was served as it was made.
  }

  serve(): void {
    // Every call and post is served as it is made; there is nothing to wait for.
  }

  close(): void {
    if (this.state.kind === 'open') this.state = { kind: 'closed' };
  }
}

/** Two connected ends in this thread. */
export function createDirectChannel(options: DirectChannelOptions = {}): [ChannelEnd, ChannelEnd] {
  const [a, b] = options.names ?? ['kernel', 'devhost'];
  const codec = options.codec ?? false;
  const left = new DirectEnd(a, b, codec);
  const right = new DirectEnd(b, a, codec);
  left.other = right;
  right.other = left;
  return [left, right];
}
