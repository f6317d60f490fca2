/**
 * What the monitor drives: a virtual CPU that runs until it does I/O, halts,
 * or spends the cycles it was given. The monitor never knows which backend it
 * drives — a scripted guest today, an x86 interpreter running real firmware
 * later — so everything here is in the CPU's own terms: cycles, ports,
 * addresses, the interrupt flag, vectors.
 */
import type { AccessSize, GuestAccessSize } from './io-region.ts';
import type { DeviceState } from './plain-state.ts';

export type GuestExit =
  /** `out`/`in` (count > 1 for string I/O). A read waits for `complete` before the CPU runs on. */
  | { readonly kind: 'io'; readonly direction: 'in' | 'out'; readonly port: number; readonly size: AccessSize; readonly count: number; readonly data: Uint8Array }
  | { readonly kind: 'mmio'; readonly isWrite: boolean; readonly address: number; readonly length: GuestAccessSize; readonly data: Uint8Array }
  /** `rdmsr`/`wrmsr` of an MSR the CPU does not keep itself: a write's 8 bytes little-endian; a read waits for `complete`. */
  | { readonly kind: 'msr'; readonly isWrite: boolean; readonly index: number; readonly data: Uint8Array }
  /** `hlt`: the CPU waits for an interrupt. */
  | { readonly kind: 'hlt' }
  /** It became able to take an interrupt (`sti`, an `iret` restoring IF) while the monitor asked to know (interrupt-window exiting). */
  | { readonly kind: 'irq-window' }
  /** It ran the cycles it was given (a deadline came). */
  | { readonly kind: 'budget' }
  /** The guest has nothing more to do (a scripted program returned; a triple fault). */
  | { readonly kind: 'shutdown' };

export interface GuestRun {
  readonly exit: GuestExit;
  /** Cycles the CPU ran before the exit (the monitor adds them to guest time). */
  readonly cycles: number;
}

/**
 * The cycles one guest operation costs the guest itself — a scripted guest's
 * operation, an interpreter's instruction — the same in every backend, so a
 * program and its machine code take the same guest time (the exit costs are
 * the metrics' business).
 */
export const OP_CYCLES = 1;

/** What a read-only memory slot holds (`GuestCpu.mapReadOnly`): `bytes` from guest-physical `base`. */
export interface ReadOnlyRegion {
  readonly base: number;
  readonly bytes: Uint8Array;
}

export interface GuestCpu {
  /**
   * Runs for at most `budget` cycles (Infinity: until it exits). With
   * `exitOnInterruptWindow`, also stops as soon as it becomes interruptible
   * (the VMCS's interrupt-window exiting, which KVM sets when userspace asks
   * for an irq window). `tsc` is the guest's time-stamp counter at entry
   * (the host TSC plus the VMCS's TSC offset): `rdtsc` reads it plus the
   * cycles run since, without an exit.
   *
   * The result may be the CPU's own record, rewritten by its next `run`
   * (as the exit fields of a VMCS are): a caller reads it before running
   * the CPU again, and copies what it keeps.
   */
  run(budget: number, exitOnInterruptWindow?: boolean, tsc?: number): GuestRun;
  /**
   * Supplies the data of the `in`/MMIO read the last run stopped on. The
   * buffer may be the caller's own, reused for the next read: a CPU takes
   * the value now and does not keep it.
   */
  complete(data: Uint8Array): void;
  /** Whether an interrupt can be taken now (RFLAGS.IF set, no interrupt shadow). */
  readonly interruptible: boolean;
  /** Whether the CPU is halted. */
  readonly halted: boolean;
  /** Takes an external interrupt at an instruction boundary: its handler for `vector` runs next (and `hlt` ends). */
  inject(vector: number): void;
  /**
   * The board's A20 gate, between runs: `false` forces physical address bit
   * 20 to 0 (the PC's A20M#). A CPU with no 1 MiB wrap (a scripted guest)
   * has nothing to do with it.
   */
  setA20?(enabled: boolean): void;
  /**
   * INIT, between runs: the processor to its reset state, to run from its
   * reset vector, with memory and devices as they are (the PC's fast reset
   * through port 92h and the keyboard controller's reset pulse).
   */
  init?(): void;
  /**
   * A read-only memory slot, between runs (KVM_SET_USER_MEMORY_REGION with
   * KVM_MEM_READONLY): the guest reads `region.bytes` at `region.base`
   * without an exit, and its writes there exit as MMIO, as KVM's do. The
   * board maps a PCI expansion ROM this way where the guest enables its BAR
   * (QEMU's ROMs are memory, never dispatched to the device). `undefined`
   * deletes slot `slot`; mapping a slot again moves it. A slot lies outside
   * RAM. A CPU that reads no memory (a scripted guest) has nothing to do.
   */
  mapReadOnly?(slot: number, region: ReadOnlyRegion | undefined): void;
  /**
   * Keep what a snapshot needs from the first instruction on (a scripted
   * guest's journal of the values it was given); called before the first
   * `run` of a VM that may be snapshotted. A CPU that keeps its whole state
   * in registers and RAM needs nothing.
   */
  recordForSnapshots?(): void;
  /** The CPU's whole state as plain data (registers; a scripted guest's position), for a VM snapshot: taken between runs. */
  saveState?(): DeviceState;
  /** Restores `saveState`'s record into a fresh CPU of the same program; throws `DeviceStateError` when it is another's. */
  restoreState?(state: DeviceState): void;
}
