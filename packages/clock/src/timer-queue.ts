/**
 * The timer queue of a domain: every device timer armed in it, ordered by
 * deadline (then by the order they were armed, so runs are deterministic),
 * in an indexed binary heap — arming, re-arming and cancelling are
 * O(log n), the next deadline O(1), for the thousands of timers of many
 * vCPUs' LAPICs (seed 004: one host timer for the nearest guest deadline).
 */
import type { Nanoseconds, Timer } from '@splitvisor/abi';
import { NEVER } from '@splitvisor/abi';

/** A timer in a queue: the abi `Timer` a device holds, plus its place in the heap. */
export class QueuedTimer implements Timer {
  deadline: Nanoseconds | undefined;
  /** Arming order, the tie-break between equal deadlines. */
  order = 0;
  /** Index in the heap, or -1 when not armed. */
  slot = -1;
  readonly callback: (now: Nanoseconds) => void;
  private readonly queue: TimerQueue;

  constructor(queue: TimerQueue, callback: (now: Nanoseconds) => void) {
    this.queue = queue;
    this.callback = callback;
  }

  arm(deadline: Nanoseconds): void {
    if (!(deadline >= 0) || deadline === NEVER) {
      this.cancel();
      return;
    }
    this.queue.schedule(this, deadline);
  }

  cancel(): void {
    this.queue.remove(this);
  }
}

export class TimerQueue {
  private readonly heap: QueuedTimer[] = [];
  private armed = 0;

  /** A timer for `callback`, disarmed until armed. */
  timer(callback: (now: Nanoseconds) => void): QueuedTimer {
    return new QueuedTimer(this, callback);
  }

  get size(): number {
    return this.heap.length;
  }

  /** The earliest deadline, or NEVER. */
  nextDeadline(): Nanoseconds {
    return this.heap[0]?.deadline ?? NEVER;
  }

  /** The timer with the earliest deadline (of equal ones, the first armed), or undefined. */
  nextTimer(): QueuedTimer | undefined {
    return this.heap[0];
  }

  schedule(timer: QueuedTimer, deadline: Nanoseconds): void {
    if (timer.slot >= 0) this.remove(timer);
    timer.deadline = deadline;
    timer.order = ++this.armed;
    timer.slot = this.heap.length;
    this.heap.push(timer);
    this.up(timer.slot);
  }

  remove(timer: QueuedTimer): void {
    const slot = timer.slot;
    if (slot < 0) return;
    const last = this.heap.pop();
    timer.slot = -1;
    timer.deadline = undefined;
    if (last === undefined || last === timer) return;
    this.heap[slot] = last;
    last.slot = slot;
    this.down(slot);
    this.up(last.slot);
  }

  /**
   * Fires, in order, every timer due at or before `now`, each told the time it
   * was due (its deadline), including timers that callbacks arm for a time
   * already reached. Returns how many fired; stops after `limit` (a guard
   * against a timer that keeps re-arming itself in the past).
   */
  runDue(now: Nanoseconds, limit = Number.POSITIVE_INFINITY): number {
    let fired = 0;
    for (let top = this.heap[0]; fired < limit && top?.deadline !== undefined && top.deadline <= now; top = this.heap[0]) {
      const due = top.deadline;
      this.remove(top);
      top.callback(due);
      fired++;
    }
    return fired;
  }

  /** Calls `visit` with every timer due at or before `now` (in no particular order), without firing any. */
  forEachDue(now: Nanoseconds, visit: (timer: QueuedTimer) => void): void {
    const walk = (slot: number): void => {
      const timer = this.heap[slot];
      if (timer?.deadline === undefined || timer.deadline > now) return; // a heap: nothing below is due either
      visit(timer);
      walk(2 * slot + 1);
      walk(2 * slot + 2);
    };
    walk(0);
  }

  /**
   * Fires every timer due by `time`, in order, first moving the owner's clock
   * to each deadline (`at(deadline)`) so a callback reads the time it was due.
   * Returns how many fired; stops after `limit`.
   */
  advanceTo(time: Nanoseconds, at: (deadline: Nanoseconds) => void, limit = Number.POSITIVE_INFINITY): number {
    let fired = 0;
    for (let due = this.nextDeadline(); due <= time && fired < limit; due = this.nextDeadline()) {
      at(due);
      fired += this.runDue(due, limit - fired);
    }
    return fired;
  }

  private before(a: QueuedTimer, b: QueuedTimer): boolean {
    const da = a.deadline ?? NEVER;
    const db = b.deadline ?? NEVER;
    return da < db || (da === db && a.order < b.order);
  }

  private up(slot: number): void {
    const heap = this.heap;
    let i = slot;
    const timer = heap[i];
    if (timer === undefined) return;
    while (i > 0) {
      const parentSlot = (i - 1) >> 1;
      const parent = heap[parentSlot];
      if (parent === undefined || !this.before(timer, parent)) break;
      heap[i] = parent;
      parent.slot = i;
      i = parentSlot;
    }
    heap[i] = timer;
    timer.slot = i;
  }

  private down(slot: number): void {
    const heap = this.heap;
    let i = slot;
    const timer = heap[i];
    if (timer === undefined) return;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      let child = left;
      const l = heap[left];
      const r = heap[right];
      if (r !== undefined && l !== undefined && this.before(r, l)) child = right;
      const next = heap[child];
      if (next === undefined || !this.before(next, timer)) break;
      heap[i] = next;
      next.slot = i;
      i = child;
    }
    heap[i] = timer;
    timer.slot = i;
  }
}
