/**
 * What a device decodes. A device declares its regions by the datasheet's
 * name and size; the board (not the device) decides where each one sits in
 * port or MMIO space, so a device only ever sees offsets within a region.
 */

/**
 * Port I/O (`in`/`out`, 16-bit addresses), memory-mapped I/O, or model-specific
 * registers (`rdmsr`/`wrmsr`). MSR space is addressed by byte like the others:
 * MSR n is the 8 bytes from `msrAddress(n)` = n × 8, low half first, so a
 * 64-bit RDMSR/WRMSR is an 8-byte access a bus splits into the two 4-byte
 * halves a device's region answers (TSC_DEADLINE, 6E0h, is bytes 3700h–3707h).
 */
export type AddressSpace = 'port' | 'mmio' | 'msr';

/** Bytes of MSR space per MSR. */
export const MSR_BYTES = 8;

/** Where MSR `index` starts in MSR space. */
export function msrAddress(index: number): number {
  return index * MSR_BYTES;
}

/**
 * Access widths a device answers itself. Wider guest accesses (an 8-byte
 * MMIO read, an `inw` on a byte-wide port) are split by the bus into accepted
 * widths, lowest address first, as the ISA bus and QEMU's memory core do.
 */
export type AccessSize = 1 | 2 | 4;

/** A guest access width, as it appears in an exit record: MMIO may be 8 bytes wide. */
export type GuestAccessSize = 1 | 2 | 4 | 8;

export interface IoRegion {
  /** The datasheet's name for the block, e.g. `counters`, `control`, `index`. */
  readonly name: string;
  readonly space: AddressSpace;
  /** Length in bytes (ports or MMIO bytes). */
  readonly length: number;
  /** Widths the device accepts, e.g. `[1]` for the 8254, `[4]` for the LAPIC. */
  readonly sizes: readonly AccessSize[];
}

export function isAccessSize(size: number): size is AccessSize {
  return size === 1 || size === 2 || size === 4;
}

export function isGuestAccessSize(size: number): size is GuestAccessSize {
  return size === 1 || size === 2 || size === 4 || size === 8;
}
