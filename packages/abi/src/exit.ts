/**
 * Exit records: why the run ioctl returned to the device host, modelled on
 * `struct kvm_run` (linux/include/uapi/linux/kvm.h: KVM_EXIT_IO, KVM_EXIT_MMIO,
 * KVM_EXIT_HLT, KVM_EXIT_IRQ_WINDOW_OPEN, KVM_EXIT_SHUTDOWN, KVM_EXIT_INTR,
 * KVM_EXIT_IOAPIC_EOI, KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_X86_RDMSR/WRMSR).
 *
 * Unlike kvm_run, each record carries the virtual time of the exit: the
 * device host has no clock of its own, and its devices' `now()` is the
 * guest's time at the exit.
 */
import type { AddressSpace, AccessSize, GuestAccessSize } from './io-region.ts';
import type { Nanoseconds } from './time.ts';

/** The fields kvm_run carries on every exit. */
export interface ExitHeader {
  readonly vcpu: number;
  readonly time: Nanoseconds;
  /** The guest's RFLAGS.IF at the exit (kvm_run.if_flag). */
  readonly ifFlag: boolean;
  /** An `interrupt` ioctl would be taken now (kvm_run.ready_for_interrupt_injection). */
  readonly readyForInterruptInjection: boolean;
}

/**
 * Port I/O (KVM_EXIT_IO). `count` > 1 is a string instruction (`rep insw`
 * for an ATA PIO sector is size 2, count 256). An `out` carries its
 * `size * count` bytes; an `in` carries none — the device host answers in
 * the completion of the next `run`.
 */
export interface IoExit extends ExitHeader {
  readonly kind: 'io';
  readonly direction: 'in' | 'out';
  readonly port: number;
  readonly size: AccessSize;
  readonly count: number;
  readonly data: Uint8Array;
}

/** Memory-mapped I/O (KVM_EXIT_MMIO): a write carries `length` bytes, a read none. */
export interface MmioExit extends ExitHeader {
  readonly kind: 'mmio';
  readonly address: number;
  readonly length: GuestAccessSize;
  readonly isWrite: boolean;
  readonly data: Uint8Array;
}

/**
 * A model-specific register the kernel does not handle (KVM_EXIT_X86_RDMSR /
 * KVM_EXIT_X86_WRMSR, with KVM_CAP_X86_USER_SPACE_MSR): a write carries the
 * value's 8 bytes, little-endian; a read none, and its completion is the 8
 * bytes read.
 */
export interface MsrExit extends ExitHeader {
  readonly kind: 'msr';
  readonly index: number;
  readonly isWrite: boolean;
  readonly data: Uint8Array;
}

/** The guest halted with no interrupt the kernel could deliver (KVM_EXIT_HLT, userspace irqchip). */
export interface HltExit extends ExitHeader {
  readonly kind: 'hlt';
}

/** The guest can take an interrupt now (KVM_EXIT_IRQ_WINDOW_OPEN), after `run` asked for the window. */
export interface IrqWindowOpenExit extends ExitHeader {
  readonly kind: 'irq-window-open';
}

/** Triple fault or reset request (KVM_EXIT_SHUTDOWN). */
export interface ShutdownExit extends ExitHeader {
  readonly kind: 'shutdown';
}

/**
 * The run was kicked (KVM_EXIT_INTR): the device host's own deadline (passed
 * in `run`) came, or it asked to be let in (`immediateExit`, pause).
 */
export interface IntrExit extends ExitHeader {
  readonly kind: 'intr';
}

/** A level-triggered vector was EOIed with the IOAPIC in userspace (KVM_EXIT_IOAPIC_EOI, split irqchip). */
export interface IoapicEoiExit extends ExitHeader {
  readonly kind: 'ioapic-eoi';
  readonly vector: number;
}

/** The kernel domain could not go on (KVM_EXIT_INTERNAL_ERROR). */
export interface InternalErrorExit extends ExitHeader {
  readonly kind: 'internal-error';
  readonly suberror: number;
  readonly detail: string;
}

export type Exit =
  | IoExit
  | MmioExit
  | MsrExit
  | HltExit
  | IrqWindowOpenExit
  | ShutdownExit
  | IntrExit
  | IoapicEoiExit
  | InternalErrorExit;

export type ExitKind = Exit['kind'];

/**
 * KVM_INTERNAL_ERROR_* suberrors, plus one of ours.
 * (linux/include/uapi/linux/kvm.h)
 */
export const InternalSuberror = {
  Emulation: 1,
  SimulEx: 2,
  DeliveryEv: 3,
  UnexpectedExitReason: 4,
  /** splitvisor: a device placed in the kernel threw; the guest cannot go on. */
  DeviceFault: 0x100,
} as const;

/**
 * One write queued in the coalesced ring (struct kvm_coalesced_mmio): delivered
 * to the device host in order, before the exit that flushes the ring.
 */
export interface CoalescedWrite {
  readonly space: AddressSpace;
  readonly address: number;
  /** 1..8 bytes. */
  readonly data: Uint8Array;
}

/** The coalesced ring's contents, sent ahead of the exit that flushes it. */
export interface CoalescedIo {
  readonly kind: 'coalesced-io';
  readonly writes: readonly CoalescedWrite[];
}
