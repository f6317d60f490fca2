/**
 * What the monitor drives: a virtual CPU that runs until it does I/O, halts,
 * or spends the cycles it was given. The monitor never knows which backend it
 * drives — a scripted guest today, an x86 interpreter running real firmware
 * later — so everything here is in the CPU's own terms: cycles, ports,
 * addresses, the interrupt flag, vectors.
 */
import type { AccessSize, GuestAccessSize } from '@splitvisor/abi';

export type GuestExit =
  /** `out`/`in` (count > 1 for string I/O). A read waits for `complete` before the CPU runs on. */
  | { readonly kind: 'io'; readonly direction: 'in' | 'out'; readonly port: number; readonly size: AccessSize; readonly count: number; readonly data: Uint8Array }
  | { readonly kind: 'mmio'; readonly isWrite: boolean; readonly address: number; readonly length: GuestAccessSize; readonly data: Uint8Array }
  /** `hlt`: the CPU waits for an interrupt. */
  | { readonly kind: 'hlt' }
  /** It ran the cycles it was given (a deadline came). */
  | { readonly kind: 'budget' }
  /** The guest has nothing more to do (a scripted program returned; a triple fault). */
  | { readonly kind: 'shutdown' };

export interface GuestRun {
  readonly exit: GuestExit;
  /** Cycles the CPU ran before the exit (the monitor adds them to guest time). */
  readonly cycles: number;
}

export interface GuestCpu {
  /** Runs for at most `budget` cycles (Infinity: until it exits). */
  run(budget: number): GuestRun;
  /** Supplies the data of the `in`/MMIO read the last run stopped on. */
  complete(data: Uint8Array): void;
  /** Whether an interrupt can be taken now (RFLAGS.IF set, no interrupt shadow). */
  readonly interruptible: boolean;
  /** Whether the CPU is halted. */
  readonly halted: boolean;
  /** Takes an external interrupt at an instruction boundary: its handler for `vector` runs next (and `hlt` ends). */
  inject(vector: number): void;
}
