/**
 * Segment and gate descriptors as protected mode reads them from the GDT, an
 * LDT or the IDT (Intel SDM vol. 3A §3.4.5 "Segment Descriptors", Figure
 * 3-8; §3.5 "System Descriptor Types", Table 3-2; §6.11 "IDT Descriptors",
 * Figure 6-2). A descriptor is 8 bytes, given here as its low and high
 * doublewords.
 */

/** The S bit clear: a system descriptor (TSS, LDT, gate); set: code or data. */
export const DESC_S = 0x1000;
/** Present. */
export const DESC_P = 0x8000;
/** Code (type bit 3) in a code/data descriptor. */
export const TYPE_CODE = 0x8;
/** Data: writable (type bit 1); code: readable. */
export const TYPE_RW = 0x2;
/** Data: expand-down (type bit 2); code: conforming. */
export const TYPE_EC = 0x4;
/** Accessed (type bit 0). */
export const TYPE_ACCESSED = 0x1;

/** System descriptor and gate types (Table 3-2). */
export const SYS_TSS16_AVAILABLE = 0x1;
export const SYS_LDT = 0x2;
export const SYS_TSS16_BUSY = 0x3;
export const SYS_CALL_GATE16 = 0x4;
export const SYS_TASK_GATE = 0x5;
export const SYS_INT_GATE16 = 0x6;
export const SYS_TRAP_GATE16 = 0x7;
export const SYS_TSS32_AVAILABLE = 0x9;
export const SYS_TSS32_BUSY = 0xb;
export const SYS_CALL_GATE32 = 0xc;
export const SYS_INT_GATE32 = 0xe;
export const SYS_TRAP_GATE32 = 0xf;

/** The segment base: bits 15:0 of the low doubleword's high half, bits 23:16 and 31:24 of the high doubleword. */
export function descriptorBase(low: number, high: number): number {
  return ((low >>> 16) | ((high & 0xff) << 16) | (high & 0xff00_0000)) >>> 0;
}

/** The limit in bytes: 20 bits, scaled by 4 KiB with the G bit (the low 12 bits then all ones). */
export function descriptorLimit(low: number, high: number): number {
  const raw = (low & 0xffff) | (high & 0xf_0000);
  return (high & 0x80_0000) !== 0 ? ((raw << 12) | 0xfff) >>> 0 : raw;
}

/**
 * The attribute bits kept in a segment register's hidden part: the high
 * doubleword's bits 8–23 (type, S, DPL, P, AVL, L, D/B, G) shifted down, so
 * bits 0–3 are the type, 4 is S, 5–6 DPL, 7 P, 14 D/B, 15 G.
 */
export function descriptorAttributes(high: number): number {
  return (high >>> 8) & 0xf0ff;
}

/** Attribute-word fields (after `descriptorAttributes`). */
export const ATTR_S = 0x10;
export const ATTR_P = 0x80;
/** D/B: 32-bit code, a 32-bit stack, an expand-down data segment up to 4 GiB. */
export const ATTR_DB = 0x4000;

export function attrType(attributes: number): number {
  return attributes & 0xf;
}

export function attrDpl(attributes: number): number {
  return (attributes >> 5) & 3;
}

/** What a real-mode segment register holds after reset or a load (SDM vol. 3A §9.1.1, Table 9-1): present, writable data, accessed. */
export const REAL_MODE_DATA_ATTRIBUTES = ATTR_P | ATTR_S | TYPE_RW | TYPE_ACCESSED;
/** CS after reset: present, readable code, accessed. */
export const REAL_MODE_CODE_ATTRIBUTES = ATTR_P | ATTR_S | TYPE_CODE | TYPE_RW | TYPE_ACCESSED;
