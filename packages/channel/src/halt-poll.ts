/**
 * How long a waiting end spins before it sleeps — KVM's halt polling
 * (virt/kvm/kvm_main.c, grow_halt_poll_ns / shrink_halt_poll_ns) applied to
 * a channel. A wake-up from `Atomics.wait` costs a futex round trip through
 * the host kernel (tens of µs on a VM); spinning on the doorbell costs
 * nothing but the core it burns. So each end keeps a spin budget: a wait
 * that slept but would have been caught by a longer spin (its whole block
 * shorter than the ceiling) doubles it, from a starting step; a wait longer
 * than the ceiling halves it, down to none. A busy peer answering in
 * microseconds is caught spinning; an idle one costs one short spin, then
 * none at all.
 *
 * The defaults are KVM's for x86: a 200 µs ceiling (KVM_HALT_POLL_NS_DEFAULT),
 * a 10 µs first step (halt_poll_ns_grow_start), grown ×2 and shrunk ÷2
 * (halt_poll_ns_grow, halt_poll_ns_shrink).
 */

export interface HaltPollOptions {
  /** The most a wait spins before sleeping, ns; 0: never spin (wait/notify only). */
  readonly maxSpinNs?: number;
  /** The budget's first step up from none, ns. */
  readonly growStartNs?: number;
}

export const DEFAULT_MAX_SPIN_NS = 200_000;
export const DEFAULT_GROW_START_NS = 10_000;

export class HaltPoll {
  /** How long the next wait spins, ns. */
  budgetNs = 0;
  readonly maxNs: number;
  private readonly growStartNs: number;

  constructor(options: HaltPollOptions = {}) {
    this.maxNs = options.maxSpinNs ?? DEFAULT_MAX_SPIN_NS;
    this.growStartNs = Math.min(options.growStartNs ?? DEFAULT_GROW_START_NS, this.maxNs);
    if (!(this.maxNs >= 0 && Number.isFinite(this.maxNs))) throw new RangeError(`a spin ceiling is a finite number of ns ≥ 0, not ${this.maxNs}`);
  }

  /** A wait spun, then slept; it ended `blockedNs` after it began (spin included). */
  slept(blockedNs: number): void {
    if (blockedNs <= this.maxNs) {
      // Spinning that long would have caught it: spin longer next time.
      this.budgetNs = this.budgetNs === 0 ? this.growStartNs : Math.min(this.budgetNs * 2, this.maxNs);
    } else {
      // Longer than any spin: spinning only burned the core.
      const halved = this.budgetNs / 2;
      this.budgetNs = halved < this.growStartNs ? 0 : halved;
    }
  }
}
