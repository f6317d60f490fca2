/**
 * A CPU that never runs guest code: time passes and devices act, but nothing
 * takes interrupts — QEMU's qtest accelerator, where the test itself makes
 * the machine's accesses and steps its clock.
 */
import type { GuestCpu, GuestRun } from '@splitvisor/abi';

export class IdleCpu implements GuestCpu {
  readonly interruptible = false;
  /** Never running guest code, it is never out of it either: no exit is its, no time lost to one. */
  readonly halted = true;

  run(budget: number): GuestRun {
    return { exit: { kind: 'budget' }, cycles: budget };
  }

  complete(): void {
    // Nothing waits for data: accesses are issued from outside (RunLoop.issue).
  }

  inject(vector: number): void {
    throw new Error(`an idle CPU cannot take interrupt ${vector}: it is never interruptible`);
  }
}
