/**
 * The process's monotonic clock as the host clock of a live run whose guest
 * time is host time (the `wall` policy run live): ns since it was first read
 * — the vCPU's first entry, at guest time 0 — and a sleep on it. The sleep is
 * `Atomics.wait` with a timeout on a cell nothing notifies: the thread blocks
 * in the host's futex, as a halted vCPU thread blocks in the kernel, and the
 * timeout is the only way out, so it always returns. It wakes late by the
 * host's timer slack, which the guest sees as its timers' lateness.
 */
import type { Nanoseconds } from '@splitvisor/abi';
import type { HostClock } from '@splitvisor/monitor';

export class MonotonicHostClock implements HostClock {
  /** performance.now() at the first reading (ms), NaN before it. */
  private origin = Number.NaN;
  private readonly cell = new Int32Array(new SharedArrayBuffer(4));

  now(): Nanoseconds {
    const ms = performance.now();
    if (Number.isNaN(this.origin)) this.origin = ms;
    return Math.floor((ms - this.origin) * 1e6);
  }

  waitUntil(time: Nanoseconds): void {
    for (let left = time - this.now(); left > 0; left = time - this.now()) Atomics.wait(this.cell, 0, 0, left / 1e6);
  }
}
