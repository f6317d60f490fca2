/**
 * ACPI resource data descriptors (ACPI 6.4, §6.4 "Resource Data Types for
 * ACPI"): what a device's _CRS buffer lists — its I/O ports, interrupts,
 * DMA channels, memory, and for a bridge the windows it passes on.
 * Little-endian throughout; a template ends with the End Tag.
 *
 * Small items (§6.4.2): a tag byte, bits 6–3 the item's name and bits 2–0
 * its length after the tag.
 * * IRQ (§6.4.2.1): tag 22h, a 16-bit mask of the IRQs; no information
 *   byte: edge-triggered, active high, exclusive — an ISA interrupt.
 * * DMA (§6.4.2.2): tag 2Ah, a mask of the channels, then flags (here 0:
 *   compatibility timing, not a bus master, 8-bit transfers).
 * * I/O port (§6.4.2.5): tag 47h, information (bit 0: decodes 16 bits),
 *   minimum and maximum base (16-bit), alignment, length (8-bit).
 * * End Tag (§6.4.2.9): 79h, then a checksum byte; 0 says "treat as
 *   correct".
 *
 * Large items (§6.4.3): a tag byte (bit 7 set, bits 6–0 the item's name),
 * then the length after those three bytes (16-bit).
 * * 32-bit fixed memory range (§6.4.3.4): tag 86h, information (bit 0:
 *   writable), base, length.
 * * Word and DWord address space (§6.4.3.5.3, §6.4.3.5.2): tags 88h and
 *   87h, the resource type (0 memory, 1 I/O, 2 bus numbers), general flags
 *   (bit 3 max fixed, bit 2 min fixed, bit 1 subtractive decode, bit 0
 *   consumer — clear: a bridge producing the range for its children), type
 *   flags (I/O: bits 1–0 the range, 3 = ISA and non-ISA; memory: bit 0
 *   writable, bits 2–1 0 non-cacheable, 1 cacheable), then granularity,
 *   minimum, maximum, translation offset and length, each 16 or 32 bits.
 */
import { amlBuffer } from './aml.ts';
import { leBytes } from './sdt.ts';

export const ResourceTag = {
  IRQ: 0x22,
  DMA: 0x2a,
  IO: 0x47,
  END: 0x79,
  MEMORY32_FIXED: 0x86,
  DWORD_ADDRESS: 0x87,
  WORD_ADDRESS: 0x88,
} as const;

/** Word/DWord address space resource types. */
export const AddressSpaceType = { MEMORY: 0, IO: 1, BUS_NUMBER: 2 } as const;

/** General flags of a bridge's window: a producer, positive decode, its minimum and maximum fixed. */
const PRODUCER_FIXED = 0x0c;
/** I/O type flags: the entire range, ISA and non-ISA. */
const IO_ENTIRE_RANGE = 0x03;

const le = (bytes: number, value: number): number[] => [...leBytes(bytes, value)];

function checkRange(what: string, min: number, max: number, limit: number): void {
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max > limit || min > max) {
    throw new RangeError(`${what} ${min}–${max}: expected 0 ≤ minimum ≤ maximum ≤ ${limit}`);
  }
}

/** An IRQ descriptor for the ISA `irqs` (0–15): edge-triggered, active high. */
export function irqResource(irqs: readonly number[]): Uint8Array {
  let mask = 0;
  for (const irq of irqs) {
    if (!Number.isInteger(irq) || irq < 0 || irq > 15) throw new RangeError(`ISA IRQ ${irq}: expected 0 to 15`);
    mask |= 1 << irq;
  }
  return Uint8Array.of(ResourceTag.IRQ, ...le(2, mask));
}

/** A DMA descriptor for the ISA `channels` (0–7), compatibility timing, 8-bit, not a bus master. */
export function dmaResource(channels: readonly number[]): Uint8Array {
  let mask = 0;
  for (const channel of channels) {
    if (!Number.isInteger(channel) || channel < 0 || channel > 7) throw new RangeError(`DMA channel ${channel}: expected 0 to 7`);
    mask |= 1 << channel;
  }
  return Uint8Array.of(ResourceTag.DMA, mask, 0);
}

/** An I/O port descriptor for `length` ports (1–255) at the fixed `base`, decoding 16 bits. */
export function ioResource(base: number, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 1 || length > 0xff) throw new RangeError(`${length} I/O ports in one descriptor: expected 1 to 255`);
  checkRange('I/O ports', base, base + length - 1, 0xffff);
  return Uint8Array.of(ResourceTag.IO, 0x01, ...le(2, base), ...le(2, base), 0x01, length);
}

/** A 32-bit fixed memory range. */
export function memory32FixedResource(base: number, length: number, writable: boolean): Uint8Array {
  if (!Number.isInteger(length) || length < 1) throw new RangeError(`a memory range of ${length} bytes`);
  checkRange('memory', base, base + length - 1, 0xffff_ffff);
  return Uint8Array.of(ResourceTag.MEMORY32_FIXED, 9, 0, writable ? 1 : 0, ...le(4, base), ...le(4, length));
}

/** A bridge's window of bus numbers `min`–`max` (WordBusNumber). */
export function busNumberWindow(min: number, max: number): Uint8Array {
  checkRange('bus numbers', min, max, 0xff);
  return wordAddress(AddressSpaceType.BUS_NUMBER, 0, min, max);
}

/** A bridge's window of I/O ports `min`–`max` (WordIO). */
export function ioWindow(min: number, max: number): Uint8Array {
  checkRange('I/O window', min, max, 0xffff);
  return wordAddress(AddressSpaceType.IO, IO_ENTIRE_RANGE, min, max);
}

/** A bridge's window of memory `min`–`max` (DWordMemory), read-write, cacheable or not. */
export function memoryWindow(min: number, max: number, cacheable: boolean): Uint8Array {
  checkRange('memory window', min, max, 0xffff_ffff);
  const typeFlags = 0x01 | (cacheable ? 0x02 : 0);
  return Uint8Array.of(ResourceTag.DWORD_ADDRESS, 23, 0, AddressSpaceType.MEMORY, PRODUCER_FIXED, typeFlags, ...le(4, 0), ...le(4, min), ...le(4, max), ...le(4, 0), ...le(4, max - min + 1));
}

function wordAddress(type: number, typeFlags: number, min: number, max: number): Uint8Array {
  return Uint8Array.of(ResourceTag.WORD_ADDRESS, 13, 0, type, PRODUCER_FIXED, typeFlags, ...le(2, 0), ...le(2, min), ...le(2, max), ...le(2, 0), ...le(2, max - min + 1));
}

/** A resource template: the descriptors, the End Tag, all in an AML Buffer (what ASL's ResourceTemplate() makes). */
export function resourceTemplate(...descriptors: readonly Uint8Array[]): Uint8Array {
  const length = descriptors.reduce((n, d) => n + d.length, 0) + 2;
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const d of descriptors) {
    bytes.set(d, at);
    at += d.length;
  }
  bytes[at] = ResourceTag.END;
  return amlBuffer(bytes);
}
