/**
 * The monitor's domain: the devices placed in the monitor (plex86 put the
 * timer and interrupt controller there, seed 000), answered inline at the
 * guest's exit without a lightweight exit to the kernel. The room for what
 * only the monitor can do — serving in-port reads from a cache until an
 * invalidating access (seed 003) — is here.
 */
import type { GuestMemory, Nanoseconds } from '@splitvisor/abi';
import { DeviceDomain, NO_MEMORY } from '@splitvisor/abi';
import { TimerQueue } from '@splitvisor/clock';

export class MonitorDomain extends DeviceDomain<'monitor'> {
  /** `now`: the monitor's virtual time; `memory`: guest RAM, for the DMA of devices placed here. */
  constructor(now: () => Nanoseconds, memory: GuestMemory = NO_MEMORY) {
    super('monitor', { now, timers: new TimerQueue(), memory });
  }
}
