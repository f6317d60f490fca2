/**
 * What a periodic timer does with ticks the guest has not taken yet — the
 * lost-tick policy of a timer on an edge-triggered line (a PIT, an HPET
 * periodic comparator, a local APIC timer in periodic mode). Each tick is a
 * pulse; under a pacing mode a tick is *in flight* from its pulse until the
 * irqchip's ack notifier says the guest took it, and ticks that come due
 * meanwhile wait:
 *
 * - `discard` — no pacing: every tick is delivered when due, and one the
 *   guest had not serviced before the next merges into it at the irqchip
 *   (an IRR bit already set), as on hardware.
 * - `delay` — every tick waiting is counted and re-delivered, one per
 *   acknowledgement (KVM's in-kernel PIT with reinjection; Xen's
 *   `delay_for_missed_ticks` and `no_delay_for_missed_ticks`).
 * - `merge` — ticks missed meanwhile collapse into one late tick (Xen's
 *   `one_missed_tick_pending`).
 *
 * The device keeps the two numbers in its state record; the pacer is how
 * they move, the same for every timer chip.
 */

export type TickPacing = 'discard' | 'delay' | 'merge';

/** A paced timer's ticks: one delivered and not yet acknowledged, and those waiting behind it. */
export interface PacedTicks {
  inFlight: boolean;
  pending: number;
}

export class TickPacer {
  readonly mode: TickPacing;
  private readonly deliver: () => void;
  /** The two numbers, read and restored with the device's state. */
  readonly ticks: PacedTicks = { inFlight: false, pending: 0 };

  constructor(mode: TickPacing, deliver: () => void) {
    this.mode = mode;
    this.deliver = deliver;
  }

  /** Whether ticks wait for acknowledgements (anything but `discard`). */
  get paced(): boolean {
    return this.mode !== 'discard';
  }

  /** A tick came due: delivered now, or kept waiting behind the one in flight. */
  tick(): void {
    if (!this.paced || !this.ticks.inFlight) {
      this.ticks.inFlight = this.paced;
      this.deliver();
      return;
    }
    if (this.mode === 'delay') this.ticks.pending++;
    else this.ticks.pending = 1;
  }

  /** The irqchip's ack notifier: the tick in flight was taken; the next waiting one goes. */
  acknowledged(): void {
    if (!this.paced) return;
    this.ticks.inFlight = false;
    if (this.ticks.pending > 0) {
      this.ticks.pending--;
      this.ticks.inFlight = true;
      this.deliver();
    }
  }

  /** The line was unmasked (KVM's mask notifier): a tick held for an acknowledgement that can no longer come is let go. */
  released(): void {
    this.ticks.inFlight = false;
  }

  /** Re-injection starts afresh (the guest reprogrammed the timer, as KVM's kvm_pit_reset_reinject). */
  reset(): void {
    this.ticks.inFlight = false;
    this.ticks.pending = 0;
  }

  restore(ticks: PacedTicks): void {
    this.ticks.inFlight = ticks.inFlight;
    this.ticks.pending = ticks.pending;
  }
}
