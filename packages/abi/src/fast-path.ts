/**
 * What a device may let a domain do on its behalf without calling it: the
 * hints a device declares (in its own offsets) and the descriptors the
 * device host registers with the kernel (at the board's addresses).
 *
 * Grown from seed 003 (plex86: cache out-ports, serve some in-ports from a
 * cache that a write invalidates) and seed 002 (KVM: a generic kernel counter
 * with a configurable divider and width, instead of a kernel PIT/HPET/PM timer).
 */
import type { AddressSpace, GuestAccessSize } from './io-region.ts';
import { ticksAt } from './clock-math.ts';
import type { FastPathProgram } from './fast-path-program.ts';
import type { Nanoseconds } from './time.ts';

/** A byte range within one of the device's regions. */
export interface RegionSpan {
  readonly region: string;
  readonly offset: number;
  readonly length: number;
}

/** A read whose value may be served from a cache until one of `invalidatedBy` is written. */
export interface CachedRead extends RegionSpan {
  readonly invalidatedBy: readonly RegionSpan[];
}

/** A free-running counter that a domain can compute from virtual time alone. */
export interface CounterHint extends RegionSpan {
  /** Bits that count; the value wraps at 2^widthBits (24 for the ACPI PM timer). */
  readonly widthBits: number;
  readonly frequencyHz: number;
}

export interface FastPathHints {
  /** Writes that may be queued in a coalesced ring and delivered, in order, at the next exit. */
  readonly coalescedWrites?: readonly RegionSpan[];
  readonly cachedReads?: readonly CachedRead[];
  readonly counters?: readonly CounterHint[];
}

/**
 * A counter the kernel serves on a lightweight exit: while running, its value
 * at time t is (base + ticks(t) - ticks(epoch)) mod 2^widthBits, where ticks(t)
 * counts the edges of a `frequencyHz` clock since time 0 (`ticksAt`); while
 * stopped, it is `base`. Reads of other bytes, and every write, still go to
 * the device. (Seed 002: a read-only view of a counter with a configurable
 * divider and width, instead of a kernel PIT, HPET and PM timer.)
 */
export interface CounterDescriptor {
  readonly kind: 'counter';
  readonly space: AddressSpace;
  readonly address: number;
  /** The access width served, e.g. 4 for `inl` of the PM timer. */
  readonly size: GuestAccessSize;
  readonly widthBits: number;
  readonly frequencyHz: number;
  readonly base: bigint;
  readonly epoch: Nanoseconds;
  readonly running: boolean;
}

/** Bytes of an address space: a range of ports or of MMIO. */
export interface AddressRange {
  readonly space: AddressSpace;
  readonly address: number;
  readonly length: number;
}

/**
 * A read the kernel answers from a value the device host published (seed
 * 003's coupled in-port cache: a status register served without a
 * heavyweight exit). The host republishes it with every reply, so it is
 * exact at the guest's next entry; the kernel serves it only while no timer
 * of the host has come due since (one could change it) and while no write to
 * `invalidatedBy` waits in the coalesced ring (the ring is drained by the
 * read's exit to the device instead). `value` null withdraws it: a read now
 * would have a side effect, or the value is not the device's to promise.
 */
export interface CachedReadDescriptor {
  readonly kind: 'cached-read';
  readonly space: AddressSpace;
  readonly address: number;
  /** The access width served: 1, 2 or 4. */
  readonly size: 1 | 2 | 4;
  readonly value: number | null;
  readonly invalidatedBy: readonly AddressRange[];
}

/**
 * A verified program (seed 002's bytecode, `fast-path-program.ts`) that the
 * kernel runs for accesses to `length` bytes at `address`, with its device's
 * scratch as it stands after the exit this registration came with. The
 * kernel runs it only while no timer of the device host has come due and no
 * write to its range waits in the coalesced ring; what it leaves in the
 * scratch goes back to the device (`program-scratch`) ahead of the next
 * heavyweight exit. A device's programs share its one scratch.
 */
export interface ProgramDescriptor {
  readonly kind: 'program';
  readonly space: AddressSpace;
  readonly address: number;
  readonly length: number;
  readonly program: FastPathProgram;
  readonly scratch: Uint8Array;
}

/** Every kind of fast path the kernel can be asked to serve. A tagged union, so new kinds slot in. */
export type FastPathDescriptor = CounterDescriptor | CachedReadDescriptor | ProgramDescriptor;

/** A counter as its device would describe it, in its own offsets: what a domain turns into a CounterDescriptor. */
export interface CounterView {
  readonly region: string;
  readonly offset: number;
  readonly widthBits: number;
  readonly frequencyHz: number;
  readonly base: bigint;
  readonly epoch: Nanoseconds;
  readonly running: boolean;
}

/** The counter's value at `time`, as the kernel serves it. */
export function counterValueAt(counter: Pick<CounterView, 'widthBits' | 'frequencyHz' | 'base' | 'epoch' | 'running'>, time: Nanoseconds): bigint {
  const mask = (1n << BigInt(counter.widthBits)) - 1n;
  if (!counter.running) return counter.base & mask;
  return (counter.base + BigInt(ticksAt(time, counter.frequencyHz) - ticksAt(counter.epoch, counter.frequencyHz))) & mask;
}
