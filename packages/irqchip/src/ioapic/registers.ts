/**
 * I/O APIC registers. Intel 82093AA I/O Advanced Programmable Interrupt
 * Controller datasheet (290566-001), §3.0 "Register Description": IOREGSEL
 * (00h) selects, IOWIN (10h) reads and writes; the indirect registers are
 * IOAPICID (00h), IOAPICVER (01h), IOAPICARB (02h) and the redirection table
 * (10h–3Fh, two 32-bit halves per entry). Version 20h parts add the EOI
 * register at 40h (as QEMU's IOAPIC, version 20h).
 */

export const IoapicMmio = {
  IOREGSEL: 0x00,
  IOWIN: 0x10,
  EOI: 0x40,
} as const;

export const IoapicIndex = {
  ID: 0x00,
  VERSION: 0x01,
  ARBITRATION: 0x02,
  REDIRECTION_TABLE: 0x10,
} as const;

export const IOAPIC_PINS = 24;
/** As QEMU: version 20h, maximum redirection entry 23 — IOAPICVER reads 00170020h. */
export const IOAPIC_VERSION = 0x20;

/** Redirection table entry, low half. */
export const Redirection = {
  VECTOR_MASK: 0xff,
  DELIVERY_MODE_SHIFT: 8,
  DELIVERY_MODE_MASK: 0x7,
  DEST_MODE_LOGICAL: 0x800,
  DELIVERY_STATUS: 0x1000, // RO: send pending
  POLARITY_LOW: 0x2000,
  REMOTE_IRR: 0x4000, // RO
  TRIGGER_LEVEL: 0x8000,
  MASKED: 0x1_0000,
} as const;

/** The defined bits of the low half (vector through mask). */
export const REDIRECTION_DEFINED = 0x1_ffff;

/** Bits of the low half software cannot write. */
export const REDIRECTION_RO: number = Redirection.DELIVERY_STATUS | Redirection.REMOTE_IRR;

/** Delivery modes (shared with the local APIC's LVT and ICR). */
export const DeliveryMode = {
  fixed: 0,
  lowestPriority: 1,
  smi: 2,
  nmi: 4,
  init: 5,
  startup: 6,
  extInt: 7,
} as const;
