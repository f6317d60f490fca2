/**
 * One end of a channel over shared memory (see ring-layout.ts), speaking the
 * frame protocol (frame-end.ts). A frame larger than the ring streams through
 * it: the writer publishes what fits and waits for the reader to drain. While
 * it waits — for space or for a reply — an end keeps draining what the peer
 * sends it into its inbox, so two ends writing large frames to each other
 * cannot deadlock.
 */
import { performance } from 'node:perf_hooks';
import { ChannelError } from './channel.ts';
import { FramedEnd } from './frame-end.ts';
import type { SharedChannel, Side } from './ring-layout.ts';
import {
  CONTROL_BYTES, SideState, asleepWord, bellWord, copyFromRing, copyToRing, fullWord, headWord, markSide, readNote, ringOffset, stateWord, tailWord,
} from './ring-layout.ts';
import type { HaltPollOptions } from './halt-poll.ts';
import { HaltPoll } from './halt-poll.ts';

export interface RingEndOptions {
  readonly name: string;
  readonly peer: string;
  /** How long a call (or a wait for ring space) may see no progress from the peer. */
  readonly callTimeoutMs: number;
  /** How long a wait spins before it sleeps (halt-poll.ts). */
  readonly spin?: HaltPollOptions;
}

export class RingEnd extends FramedEnd {
  private readonly shared: SharedChannel;
  private readonly side: Side;
  private readonly other: Side;
  private readonly control: Int32Array;
  private readonly out: Uint8Array;
  private readonly in: Uint8Array;
  private outHead: number;
  private inTail: number;
  /** Bytes pumped from the peer so far (any origin): what a wait watches for. */
  private received = 0;
  private readonly timeoutMs: number;
  private readonly spin: HaltPoll;
  /** When the current wait began (performance.now()). */
  private began = 0;
  /** Whether the current wait may spin (a wait whose length was the peer's wake-up says nothing of how long to spin). */
  private spinAllowed = true;

  constructor(shared: SharedChannel, side: Side, options: RingEndOptions) {
    super(options.name, options.peer);
    this.shared = shared;
    this.side = side;
    this.other = side === 0 ? 1 : 0;
    this.timeoutMs = options.callTimeoutMs;
    this.spin = new HaltPoll(options.spin);
    this.control = new Int32Array(shared.buffer, 0, CONTROL_BYTES / 4);
    this.out = new Uint8Array(shared.buffer, ringOffset(side, shared.ringBytes), shared.ringBytes);
    this.in = new Uint8Array(shared.buffer, ringOffset(this.other, shared.ringBytes), shared.ringBytes);
    this.outHead = Atomics.load(this.control, headWord(side)) >>> 0;
    this.inTail = Atomics.load(this.control, tailWord(this.other)) >>> 0;
  }


  // --- the transport ---------------------------------------------------------

  protected isOpen(): boolean {
    return Atomics.load(this.control, stateWord(this.side)) === SideState.open;
  }

  close(): void {
    markSide(this.shared, this.side, SideState.closed, `${this.name} closed the channel`);
  }

  protected die(reason: string): void {
    markSide(this.shared, this.side, SideState.dead, reason);
  }

  protected checkSelf(): void {
    const state = Atomics.load(this.control, stateWord(this.side));
    if (state === SideState.open) return;
    const detail = state === SideState.closed ? 'this end is closed' : `this end failed: ${readNote(this.shared, this.side)}`;
    throw new ChannelError('closed', this.peer, detail);
  }

  protected checkPeer(): void {
    const state = Atomics.load(this.control, stateWord(this.other));
    if (state === SideState.open || state === SideState.leaving) return;
    // Bytes it published before going are still delivered; a frame it never finished is not.
    if (this.pump() > 0) return;
    if (state === SideState.dead) throw new ChannelError('peer-lost', this.peer, `peer died: ${readNote(this.shared, this.other)}`);
    throw new ChannelError('closed', this.peer, 'peer closed the channel');
  }

  protected sentPosition(): number {
    return this.outHead;
  }

  /** The first `length` bytes of `src`, into the ring as space allows. */
  protected write(src: Uint8Array, length: number): void {
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
      copyToRing(src, done, this.out, this.outHead, n);
      this.outHead = (this.outHead + n) >>> 0;
      done += n;
    }
  }

  protected publish(): void {
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

  /** Moves everything the peer has published into the inbox; returns the byte count. */
  protected pump(): number {
    const head = Atomics.load(this.control, headWord(this.other)) >>> 0;
    const available = (head - this.inTail) >>> 0;
    if (available === 0) return 0;
    const inbox = this.inbox;
    inbox.reserve(available);
    copyFromRing(this.in, this.inTail, inbox.bytes, inbox.end, available);
    inbox.end += available;
    this.received += available;
    this.inTail = (this.inTail + available) >>> 0;
    Atomics.store(this.control, tailWord(this.other), this.inTail | 0);
    if (Atomics.load(this.control, fullWord(this.other)) !== 0) this.ring(this.other);
    return available;
  }

  /**
   * Blocks until the peer publishes something. Gives up when the peer is
   * gone, or — for a caller (`bounded`) — after the timeout with no progress
   * at all from the peer, counted from the first sleep (a spin is far shorter).
   */
  protected receive(bounded: boolean, spin: boolean): void {
    let deadline = Number.NaN;
    const before = this.received;
    for (;;) {
      const bell = Atomics.load(this.control, bellWord(this.side));
      this.pump();
      this.checkPeer(); // which may pump what the peer published before it went
      if (this.received !== before) return;
      if (this.spinFor(bell, spin)) continue;
      if (Number.isNaN(deadline)) deadline = bounded ? this.began + this.timeoutMs : Number.POSITIVE_INFINITY;
      this.sleep(bell, deadline, `no answer within ${this.timeoutMs} ms`);
    }
  }
}
