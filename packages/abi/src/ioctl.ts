/**
 * The requests that cross the boundary — the ioctls of KVM's vCPU and VM file
 * descriptors — and their replies.
 */
import type { FastPathDescriptor } from './fast-path.ts';
import type { AddressSpace } from './io-region.ts';
import type { DeviceState } from './plain-state.ts';
import type { Nanoseconds } from './time.ts';

/**
 * KVM_RUN. `completion` answers the exit being resumed: the bytes of an
 * `in` (size * count) or an MMIO read (length); empty otherwise. `deadline`
 * is the device host's next timer: when virtual time reaches it the run
 * returns with an `intr` exit, as QEMU's timer thread kicks a vCPU.
 */
export interface RunRequest {
  readonly kind: 'run';
  readonly vcpu: number;
  readonly completion: Uint8Array;
  /** kvm_run.request_interrupt_window: exit with `irq-window-open` once the guest can take an interrupt. */
  readonly requestInterruptWindow: boolean;
  /** kvm_run.immediate_exit: return an `intr` exit before entering the guest. */
  readonly immediateExit: boolean;
  readonly deadline: Nanoseconds;
  /**
   * Whose timer `deadline` is: its name in the device host (a device's, or
   * `device#n` for one of several, as each CPU's local APIC), '' when none —
   * the kick that deadline brings is that device's.
   */
  readonly deadlineOwner: string;
}

/** KVM_IRQ_LINE: set an input of the in-kernel irqchip (a GSI) high or low. */
export interface IrqLineRequest {
  readonly kind: 'irq-line';
  readonly gsi: number;
  readonly level: boolean;
}

/** KVM_INTERRUPT: inject a vector (userspace irqchip only). */
export interface InterruptRequest {
  readonly kind: 'interrupt';
  readonly vcpu: number;
  readonly vector: number;
}

/**
 * KVM_SIGNAL_MSI: a message-signalled interrupt into the in-kernel local
 * APICs — how a userspace I/O APIC delivers under the split irqchip. The
 * address and data are the MSI format of Intel SDM vol. 3A §11.11
 * (address FEEx_xxxxh: destination ID 19:12, destination mode bit 2; data:
 * vector 7:0, delivery mode 10:8, level bit 14, trigger mode bit 15).
 */
export interface MsiRequest {
  readonly kind: 'msi';
  readonly address: number;
  readonly data: number;
}

/** KVM_GET_PIT2, KVM_GET_IRQCHIP, … generalised: the whole state of a named device. */
export interface GetDeviceStateRequest {
  readonly kind: 'get-device-state';
  readonly device: string;
}

/** KVM_SET_PIT2, KVM_SET_IRQCHIP, … generalised. */
export interface SetDeviceStateRequest {
  readonly kind: 'set-device-state';
  readonly device: string;
  readonly state: DeviceState;
}

/** KVM_(UN)REGISTER_COALESCED_MMIO: writes to this range are queued, not exited on. */
export interface RegisterCoalescedRangeRequest {
  readonly kind: 'register-coalesced-range';
  readonly space: AddressSpace;
  readonly address: number;
  readonly length: number;
  /** false: unregister. */
  readonly enable: boolean;
}

/**
 * KVM_IOEVENTFD, generalised: writes to this range are sent on to the device
 * host one way (a posted write) — the guest does not wait for their
 * completion; the host's answer comes back one way too.
 */
export interface RegisterPostedRangeRequest {
  readonly kind: 'register-posted-range';
  readonly space: AddressSpace;
  readonly address: number;
  readonly length: number;
  /** false: unregister. */
  readonly enable: boolean;
}

/** Ask the kernel to serve a fast path (seed 002's generic counter) for the named device. */
export interface RegisterFastPathRequest {
  readonly kind: 'register-fast-path';
  readonly device: string;
  readonly descriptor: FastPathDescriptor;
}

/**
 * The kernel to the device host, ahead of the next heavyweight exit (or a
 * device-state request): what `device`'s fast-path programs left in its
 * scratch, for the device to fold back into its state.
 */
export interface ProgramScratchRequest {
  readonly kind: 'program-scratch';
  readonly device: string;
  readonly scratch: Uint8Array;
}

/**
 * The guest is stopped at `time` (to snapshot, restore, or move devices
 * between domains): the other side applies what it holds for its devices —
 * the coalesced ring's writes — and takes `time` as its devices' now,
 * running no timer (one due and not yet delivered stays due), so the
 * device states it answers next are whole and its restores happen at the
 * guest's time.
 */
export interface PauseRequest {
  readonly kind: 'pause';
  readonly time: Nanoseconds;
}

/**
 * The kernel to the device host, in a live move of `device` into it: make
 * the device here, at the board's addresses and lines, configured as
 * `placement` (the VM's placement after the move, as JSON) says, and offer
 * the kernel its fast paths; its state follows with set-device-state. The
 * host answers ok, or an error when its build cannot make the device.
 */
export interface PlaceDeviceRequest {
  readonly kind: 'place-device';
  readonly device: string;
  readonly placement: string;
}

/**
 * The kernel to the device host, in a live move of `device` out of it: take
 * the device out — its regions unregistered, its timers cancelled, its lines
 * forgotten (its state was read first).
 */
export interface RemoveDeviceRequest {
  readonly kind: 'remove-device';
  readonly device: string;
}

export interface ResumeRequest {
  readonly kind: 'resume';
}

/**
 * The most bytes one `read-memory` or `write-memory` moves (16 MiB): a
 * larger DMA is several requests, and no request makes the other side
 * allocate more than this.
 */
export const MAX_MEMORY_BYTES = 0x100_0000;

/**
 * Xen's GNTTABOP_copy (xen/include/public/grant_table.h), from the guest:
 * `length` bytes of guest physical memory from `address`, answered with a
 * `memory` reply — how a device host that shares no RAM with the guest (a
 * separate process) does its devices' DMA reads. A run not wholly inside
 * guest RAM, or longer than MAX_MEMORY_BYTES, is refused (EINVAL).
 */
export interface ReadMemoryRequest {
  readonly kind: 'read-memory';
  readonly address: number;
  readonly length: number;
}

/**
 * GNTTABOP_copy, to the guest: `bytes` into guest physical memory at
 * `address` (a device's DMA write), answered `ok`. A run not wholly inside
 * guest RAM, or longer than MAX_MEMORY_BYTES, is refused (EINVAL) and
 * writes nothing.
 */
export interface WriteMemoryRequest {
  readonly kind: 'write-memory';
  readonly address: number;
  readonly bytes: Uint8Array;
}

export type Request =
  | RunRequest
  | IrqLineRequest
  | InterruptRequest
  | MsiRequest
  | GetDeviceStateRequest
  | SetDeviceStateRequest
  | RegisterCoalescedRangeRequest
  | RegisterPostedRangeRequest
  | RegisterFastPathRequest
  | ProgramScratchRequest
  | PauseRequest
  | ResumeRequest
  | PlaceDeviceRequest
  | RemoveDeviceRequest
  | ReadMemoryRequest
  | WriteMemoryRequest;

export interface OkReply {
  readonly kind: 'ok';
}

/** Why a request failed, as errno would say it. */
export const ErrorCode = {
  /** No such device here (ENOENT). */
  NoDevice: 1,
  /** The request makes no sense now or with these arguments (EINVAL). */
  Invalid: 2,
  /** Not served by this side (ENOTTY: the ioctl does not exist here). */
  Unsupported: 3,
  /** The other side is gone or stopped answering (EIO). */
  PeerLost: 4,
  /** The bytes could not be decoded (EBADMSG). */
  BadMessage: 5,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ErrorReply {
  readonly kind: 'error';
  readonly code: ErrorCode;
  readonly message: string;
}

export interface DeviceStateReply {
  readonly kind: 'device-state';
  readonly device: string;
  readonly state: DeviceState;
}

/** The bytes a `read-memory` asked for: `length` of them, from its `address` on. */
export interface MemoryReply {
  readonly kind: 'memory';
  readonly bytes: Uint8Array;
}

export type Reply = OkReply | ErrorReply | DeviceStateReply | MemoryReply;
