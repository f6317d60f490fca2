/**
 * A window of a run as a timeline: every crossing between `fromNs` and
 * `toNs`, in order, passed on to the recorder that counts them. Seed 001
 * draws the same picture by hand — rows H (host), M (monitor), G (guest),
 * time left to right — to show where a vCPU's time goes.
 */
import type { Domain, Nanoseconds, TransitionReason, TransitionRecorder } from '@splitvisor/abi';

export interface TimelineEvent {
  readonly time: Nanoseconds;
  readonly from: Domain;
  readonly to: Domain;
  readonly reason: TransitionReason;
  readonly device: string | null;
}

export interface TimelineWindow {
  readonly fromNs: Nanoseconds;
  readonly toNs: Nanoseconds;
}

/** Keeps the window's crossings (at most `limit`, the rest counted) and hands every crossing on to `next`. */
export class TimelineRecorder implements TransitionRecorder {
  readonly events: TimelineEvent[] = [];
  /** Crossings in the window past `limit`, not kept. */
  dropped = 0;
  /** Where the vCPU was when the window opened: the domain the last crossing before it went to. */
  startsIn: Domain = 'guest';
  /** When the window opened halted: the innermost domain the halt went to (the wake-up is no crossing). */
  startsHaltedIn: Domain | undefined;
  private haltAt: Nanoseconds = -1;
  private readonly window: TimelineWindow;
  private readonly next: TransitionRecorder;
  private readonly limit: number;

  constructor(window: TimelineWindow, next: TransitionRecorder, limit = 100_000) {
    this.window = window;
    this.next = next;
    this.limit = limit;
  }

  record(from: Domain, to: Domain, reason: TransitionReason, device: string | null, time: Nanoseconds): void {
    this.next.record(from, to, reason, device, time);
    if (time < this.window.fromNs) {
      this.startsIn = to;
      if (reason === 'hlt') {
        this.startsHaltedIn = to;
        this.haltAt = time;
      } else if (time > this.haltAt) this.startsHaltedIn = undefined;
      return;
    }
    if (time > this.window.toNs) return;
    if (this.events.length >= this.limit) this.dropped++;
    else this.events.push({ time, from, to, reason, device });
  }
}
