/**
 * The levels at a chip's inputs are the wires', which the devices driving
 * them set. A chip restored from a snapshot next to devices placed
 * differently (a PIT that paces its ticks as pulses, where the snapshot's
 * held its output high as a square wave) must see the wires as those
 * devices drive them now, or the next tick is no edge — or a spurious one.
 * These take a saved state and give it the input levels of `current`, a
 * chip the devices drove as they stand; everything else (requests, masks,
 * in-service bits, the cascade the chips drive themselves) is the saved one's.
 */
import type { PicPairState } from './i8259/pic-pair.ts';
import type { IoapicState } from './ioapic/ioapic.ts';

/** The 8259 pair as saved, its inputs at `current`'s levels (the master's cascade input apart: the slave drives it). */
export function picWithInputs(saved: PicPairState, current: PicPairState): PicPairState {
  const cascade = 1 << 2; // IR2, the slave's INT (CASCADE_IRQ): spelled here so the chips' code stays out of a VMM that only restores states
  return {
    ...saved,
    master: { ...saved.master, lastLevels: (saved.master.lastLevels & cascade) | (current.master.lastLevels & ~cascade & 0xff) },
    slave: { ...saved.slave, lastLevels: current.slave.lastLevels },
  };
}

/** The I/O APIC as saved, its input lines at `current`'s levels. */
export function ioapicWithInputs(saved: IoapicState, current: IoapicState): IoapicState {
  return { ...saved, lines: current.lines };
}
