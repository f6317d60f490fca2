/**
 * One guest access, decoded once from the exit that carried it: the record
 * every domain's entry point takes and every bus answers. The run loop
 * decodes its CPU's exit into one (reused, so the hot path allocates
 * nothing); the device host decodes the kvm_run-style exit it is sent
 * (`decodeAccess`). Nothing downstream splits an exit into its fields again.
 */
import type { GuestExit } from './guest-cpu.ts';
import type { AddressSpace } from './io-region.ts';
import { MSR_BYTES, msrAddress } from './io-region.ts';

export interface Access {
  space: AddressSpace;
  /** The port, the physical address, or the MSR's address in the msr space (`msrAddress`). */
  address: number;
  /** Bytes per element: the port access's size, the MMIO length, 8 for an MSR. */
  width: number;
  /** Elements at the same address: more than one for string I/O (`rep insw`). */
  count: number;
  isWrite: boolean;
  /** A write's `width × count` bytes, little-endian; empty for a read. Valid during the call: copy what is kept. */
  data: Uint8Array;
}

const NO_DATA = new Uint8Array(0);

/** A blank record, for a caller that fills one in place for every access. */
export function blankAccess(): Access {
  return { space: 'port', address: 0, width: 1, count: 1, isWrite: false, data: NO_DATA };
}

/**
 * The fields an access exit carries, whoever made it: a CPU backend's exit
 * (`GuestExit`) or the kvm_run-style record the device host is sent (`Exit`).
 */
export type AccessExit = Extract<GuestExit, { kind: 'io' | 'mmio' | 'msr' }>;

/** The access an I/O, MMIO or MSR exit carries, written into `into` (a fresh record when none is given). */
export function decodeAccess(exit: AccessExit, into: Access = blankAccess()): Access {
  switch (exit.kind) {
    case 'io':
      into.space = 'port';
      into.address = exit.port;
      into.width = exit.size;
      into.count = exit.count;
      into.isWrite = exit.direction === 'out';
      break;
    case 'mmio':
      into.space = 'mmio';
      into.address = exit.address;
      into.width = exit.length;
      into.count = 1;
      into.isWrite = exit.isWrite;
      break;
    case 'msr':
      into.space = 'msr';
      into.address = msrAddress(exit.index);
      into.width = MSR_BYTES;
      into.count = 1;
      into.isWrite = exit.isWrite;
      break;
  }
  into.data = exit.data;
  return into;
}

/** The bytes a read returns: every element's. */
export function readLength(access: Access): number {
  return access.width * access.count;
}
