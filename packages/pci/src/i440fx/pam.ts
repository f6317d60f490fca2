/**
 * The i440FX's Programmable Attribute Map (Intel 82441FX PMC datasheet,
 * order number 290549, "PAM—Programmable Attribute Map Registers", 59h–5Fh): thirteen
 * segments between 768 KiB (C0000h) and 1 MiB whose reads and writes go either to
 * DRAM or to PCI (where the BIOS ROM and option ROMs answer).
 *
 *   PAM0 (59h) bits 5:4  0F0000h–0FFFFFh (64 KiB, the system BIOS)
 *   PAMn (5Ah–5Fh) bits 1:0 and 5:4  0C0000h–0EFFFFh in 16 KiB segments:
 *        PAM1 low C0000h, PAM1 high C4000h, PAM2 low C8000h, … PAM6 high EC000h
 *
 *   each field: bit 0 RE (reads go to DRAM), bit 1 WE (writes go to DRAM);
 *   00 disabled (all to PCI), 01 read-only, 10 write-only, 11 read/write.
 *   Bits 3:2 and 7:6 are reserved (the 82441FX leaves caching to the MTRRs).
 *
 * SeaBIOS shadows itself by writing 33h to PAM0–PAM6 (read/write), copying,
 * then 11h (read-only); QEMU maps each segment accordingly (pam_update).
 */
import { readConfig } from '../pci/config-space.ts';

/** Offset of PAM0; PAM1–PAM6 follow (82441FX). */
export const PAM0 = 0x59;
/** Number of PAM registers. */
export const PAM_REGISTERS = 7;

/** Attribute bits of one segment's field (the datasheet's RE and WE). */
export const PamAttribute = { READ_ENABLE: 0x1, WRITE_ENABLE: 0x2 } as const;

/** Where a segment's accesses go: `disabled` sends both to PCI (ROM), `read-write` both to DRAM. */
export type PamAccess = 'disabled' | 'read-only' | 'write-only' | 'read-write';

export interface PamSegment {
  /** 0 for the BIOS segment at F0000h, 1–12 for the 16 KiB segments from C0000h. */
  readonly segment: number;
  readonly base: number;
  readonly size: number;
  readonly access: PamAccess;
}

const ACCESS: readonly PamAccess[] = ['disabled', 'read-only', 'write-only', 'read-write'];

/** Segment 0: the system BIOS, 64 KiB at F0000h, in PAM0's high field. */
const BIOS_BASE = 0xf0000;
const BIOS_BYTES = 0x10000;
/** Segments 1–12: 16 KiB each from C0000h, PAM1's low field first. */
const EXPANSION_BASE = 0xc0000;
const EXPANSION_BYTES = 0x4000;
export const PAM_SEGMENTS = 13;

/** The register and bit position of segment `segment`'s field. */
export function pamField(segment: number): { readonly register: number; readonly shift: number } {
  if (segment === 0) return { register: PAM0, shift: 4 };
  return { register: PAM0 + Math.ceil(segment / 2), shift: segment % 2 === 1 ? 0 : 4 };
}

/** Every segment's access as the host bridge's configuration space sets it, segment 0 first. */
export function pamSegments(config: Uint8Array): PamSegment[] {
  const segments: PamSegment[] = [];
  for (let segment = 0; segment < PAM_SEGMENTS; segment++) {
    const { register, shift } = pamField(segment);
    const field = (readConfig(config, register, 1) >> shift) & 0x3;
    segments.push({
      segment,
      base: segment === 0 ? BIOS_BASE : EXPANSION_BASE + (segment - 1) * EXPANSION_BYTES,
      size: segment === 0 ? BIOS_BYTES : EXPANSION_BYTES,
      access: ACCESS[field] ?? 'disabled',
    });
  }
  return segments;
}
