/**
 * The shared memory of a ring channel: one SharedArrayBuffer holding a
 * control block, a death note per side, and one single-producer
 * single-consumer byte ring per direction.
 *
 *   bytes 0..191    control words (Int32) on three 64-byte lines: line s
 *                   holds every word side s writes on the hot path — the
 *                   head of its ring, the tail of the ring it reads, the
 *                   peer's doorbell, its "asleep" and "waiting for space"
 *                   flags; line 2 the states, death-note lengths and a
 *                   child peer's process id
 *   192..703        death notes: 256 bytes per side, UTF-8, why it died
 *   704..           ring 0 (side 0 writes, side 1 reads), then ring 1
 *
 * A line per writer: what a side waits on (its doorbell, the head of the
 * ring it reads) and what it checks before writing (its ring's tail) arrive
 * together in the one line the peer writes, so a round trip moves as few
 * cache lines between the cores as the layout allows, and no line is
 * written from both sides.
 *
 * Heads and tails are free-running byte counts that wrap at 2^32; a ring's
 * capacity is a power of two, so the byte at count n is at n & (capacity-1).
 * Each side waits on its own doorbell, and the peer rings it whenever it
 * publishes bytes to that side, frees space that side was waiting for, or
 * changes state — so one Atomics.wait covers "data arrived", "space freed"
 * and "peer gone" — space freed only while that side has its "waiting for
 * space" flag up. A side sets its asleep flag before it sleeps on its
 * doorbell and clears it after; the peer calls `Atomics.notify` only when
 * the flag is set (the futex protocol: while a side spins, ringing its bell
 * is one atomic add).
 */
import { copyBytes } from '@splitvisor/abi';

export type Side = 0 | 1;

/** Int32 words in a 64-byte cache line. */
const LINE_WORDS = 16;
export const CONTROL_BYTES = 3 * LINE_WORDS * 4;
export const NOTE_BYTES = 256;
export const RINGS_OFFSET = CONTROL_BYTES + 2 * NOTE_BYTES;

/** `leaving`: claimed by whoever is writing the note; still open to the other side until the final state lands. */
export const SideState = { open: 0, closed: 1, dead: 2, leaving: 3 } as const;

/** Ring r carries side r's messages to the other side. */
/** The line of the words `side` writes. */
const writtenBy = (side: Side): number => side * LINE_WORDS;
const other = (side: Side): Side => (side === 0 ? 1 : 0);
export const headWord = (ring: Side): number => writtenBy(ring);
export const tailWord = (ring: Side): number => writtenBy(other(ring)) + 1;
export const bellWord = (side: Side): number => writtenBy(other(side)) + 2;
export const asleepWord = (side: Side): number => writtenBy(side) + 3;
export const fullWord = (side: Side): number => writtenBy(side) + 4;
export const stateWord = (side: Side): number => 2 * LINE_WORDS + side;
export const noteLengthWord = (side: Side): number => 2 * LINE_WORDS + 2 + side;
/** The process id of the peer behind side 1 when it is a child process (process.ts), 0 before it starts. */
export const pidWord = 2 * LINE_WORDS + 4;
export const noteOffset = (side: Side): number => CONTROL_BYTES + side * NOTE_BYTES;
export const ringOffset = (ring: Side, ringBytes: number): number => RINGS_OFFSET + ring * ringBytes;

/** Copies `n` bytes of `ring` from the byte at free-running count `at` on (wrapping at its end) into `into` at `offset`. */
export function copyFromRing(ring: Uint8Array, at: number, into: Uint8Array, offset: number, n: number): void {
  const from = at & (ring.length - 1);
  const first = Math.min(n, ring.length - from);
  copyBytes(ring, from, into, offset, first);
  if (first < n) copyBytes(ring, 0, into, offset + first, n - first);
}

/** Copies `n` bytes of `src` from `offset` into `ring` from the byte at free-running count `at` on (wrapping at its end). */
export function copyToRing(src: Uint8Array, offset: number, ring: Uint8Array, at: number, n: number): void {
  const to = at & (ring.length - 1);
  const first = Math.min(n, ring.length - to);
  copyBytes(src, offset, ring, to, first);
  if (first < n) copyBytes(src, offset + first, ring, 0, n - first);
}

/** What one side needs to join a channel: plain, structured-cloneable data. */
export interface SharedChannel {
  readonly buffer: SharedArrayBuffer;
  readonly ringBytes: number;
}

export function createSharedChannel(ringBytes: number, positionBase = 0): SharedChannel {
  if (!Number.isInteger(ringBytes) || ringBytes < 64 || (ringBytes & (ringBytes - 1)) !== 0 || ringBytes > 1 << 30) {
    throw new RangeError(`ring size ${ringBytes} is not a power of two between 64 bytes and 1 GiB`);
  }
  const buffer = new SharedArrayBuffer(RINGS_OFFSET + 2 * ringBytes);
  const control = new Int32Array(buffer, 0, CONTROL_BYTES / 4);
  for (const ring of [0, 1] as const) {
    control[headWord(ring)] = positionBase | 0;
    control[tailWord(ring)] = positionBase | 0;
  }
  return { buffer, ringBytes };
}

/** Marks `side` as gone (unless it already is) with a note saying why, and wakes the other side. */
export function markSide(shared: SharedChannel, side: Side, state: 1 | 2, reason: string): void {
  const control = new Int32Array(shared.buffer, 0, CONTROL_BYTES / 4);
  if (Atomics.compareExchange(control, stateWord(side), SideState.open, SideState.leaving) !== SideState.open) return;
  const note = new TextEncoder().encode(reason).subarray(0, NOTE_BYTES);
  new Uint8Array(shared.buffer, noteOffset(side), NOTE_BYTES).set(note);
  Atomics.store(control, noteLengthWord(side), note.length);
  // The note is in place before anyone can see the side gone.
  Atomics.store(control, stateWord(side), state);
  const other = side === 0 ? 1 : 0;
  Atomics.add(control, bellWord(other), 1);
  Atomics.notify(control, bellWord(other));
}

export function readNote(shared: SharedChannel, side: Side): string {
  const control = new Int32Array(shared.buffer, 0, CONTROL_BYTES / 4);
  const length = Math.min(Atomics.load(control, noteLengthWord(side)), NOTE_BYTES);
  // A note cut at 256 bytes may end mid-character; show what is there.
  return new TextDecoder().decode(new Uint8Array(shared.buffer, noteOffset(side), length).slice());
}
