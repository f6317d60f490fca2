/**
 * The `direct` transport: both ends in one thread, a call is a function call.
 * Synchronous and deterministic — the transport of modelled runs. With
 * `codec: true` every message is also encoded and decoded on the way, so a
 * modelled run exercises exactly the bytes a worker run would send.
 */
import type { Message } from '@splitvisor/abi';
import { decodeMessage, describeDecodeError, encodeMessage } from '@splitvisor/abi';
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
  private handler: ChannelHandler | undefined;
  private readonly codec: boolean;

  constructor(name: string, peer: string, codec: boolean) {
    this.name = name;
    this.peer = peer;
    this.codec = codec;
  }

  setHandler(handler: ChannelHandler): void {
    this.handler = handler;
  }

  private transfer(message: Message): Message {
    if (!this.codec) return message;
    const decoded = decodeMessage(encodeMessage(message));
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

  /** Runs the peer's handler; an exception there is the peer dying, and the caller is told so. */
  private enter<T>(other: DirectEnd, dispatch: (handler: ChannelHandler | undefined) => T): T {
    other.stats.served++;
    try {
      return dispatch(other.handler);
    } catch (error) {
      // A failure of a channel further in (the peer's own call back to us) is reported as it is.
      if (error instanceof ChannelError) throw error;
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      other.state = { kind: 'dead', reason };
      throw new ChannelError('peer-lost', this.peer, `peer died: ${reason}`, { cause: error });
    }
  }

  call(message: Message): Message {
    const other = this.reachablePeer();
    this.stats.calls++;
    const request = this.transfer(message);
    // Encoding the reply is the peer's work: a reply no one could decode is the peer failing.
    return this.enter(other, (handler) => other.transfer(handler?.onCall(request) ?? NO_HANDLER_REPLY));
  }

  post(message: Message): void {
    const other = this.reachablePeer();
    this.stats.posts++;
    const sent = this.transfer(message);
    this.enter(other, (handler) => { handler?.onPost(sent); });
  }

  poll(): number {
    return 0;
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
