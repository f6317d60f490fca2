/**
 * Who crossed which boundary, why, for which device, at what virtual time.
 * The monitor and the domains call a recorder at every hop; the metrics
 * package implements it (counts, histograms, the cost model).
 *
 *   guest ──exit──▶ monitor ──lightweight exit──▶ kernel ──heavyweight exit──▶ user
 *         ◀─entry──         ◀────────────────────        ◀──────ioctl──────────
 */
import type { Nanoseconds } from './time.ts';

export type Domain = 'guest' | 'monitor' | 'kernel' | 'user';

/** Why a boundary was crossed: an exit reason on the way out, what resumes on the way back. */
export type TransitionReason =
  | 'io'
  | 'mmio'
  | 'msr'
  | 'hlt'
  | 'irq-window-open'
  | 'shutdown'
  | 'intr'
  | 'ioapic-eoi'
  | 'internal-error'
  /** A device's timer in a domain came due. */
  | 'timer'
  /** An ioctl from the device host (irq-line, interrupt, get/set state, …). */
  | 'ioctl'
  /**
   * A write the kernel queued in its coalesced ring instead of exiting to
   * userspace: recorded kernel → kernel as the kernel appends it, and user →
   * user as the device host applies it, ahead of the next heavyweight exit.
   * Work within a domain, not a crossing (no boundary, no exit counted): the
   * cost model charges it as the ring's append and drain.
   */
  | 'coalesced'
  /**
   * A write the kernel sent on to the device host one way (a posted write,
   * as KVM's ioeventfd signals a userspace thread, or crosvm's one-way
   * proxied writes) instead of exiting to userspace and waiting for its
   * completion: recorded kernel → kernel as the kernel sends it. The guest
   * resumes at once; the device host applies it in its own thread, before
   * anything sent after it. Not a crossing of the vCPU (no exit counted):
   * the cost model charges the send.
   */
  | 'posted'
  /** Returning inward: the access or request is done. */
  | 'resume';

/** The depth of each domain, guest innermost: a crossing outward is an exit, inward a return. */
export const DomainDepth: Readonly<Record<Domain, number>> = { guest: 0, monitor: 1, kernel: 2, user: 3 };

/** The names VMM builders use for each outward crossing. */
export type Boundary = 'exit' | 'lightweight-exit' | 'heavyweight-exit';

/** `DomainDepth` as a switch: a keyed lookup by a domain name is a megamorphic load on the recording hot path. */
export function domainDepth(domain: Domain): number {
  switch (domain) {
    case 'guest': return 0;
    case 'monitor': return 1;
    case 'kernel': return 2;
    case 'user': return 3;
  }
}

export function boundaryOf(from: Domain, to: Domain): Boundary | undefined {
  if (domainDepth(to) <= domainDepth(from)) return undefined;
  if (to === 'user') return 'heavyweight-exit';
  if (to === 'kernel') return 'lightweight-exit';
  return 'exit';
}

/**
 * Positional arguments rather than a record, so that recording on the hot
 * path allocates nothing. `device` is the device's name on the board, or
 * null when no device is involved (a halt, a kick).
 */
export interface TransitionRecorder {
  record(from: Domain, to: Domain, reason: TransitionReason, device: string | null, time: Nanoseconds): void;
}

/** Records nothing: for runs that do not measure. */
export const nullRecorder: TransitionRecorder = {
  record(): void {
    // nothing recorded
  },
};
