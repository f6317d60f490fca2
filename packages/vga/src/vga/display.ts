/**
 * What the registers make the screen show, as geometry: text (columns ×
 * rows of character cells) or graphics (pixels of a given depth, from the
 * VGA's shifters or the Bochs VBE linear framebuffer), or nothing (the
 * attribute controller's PAS bit clear, or the sequencer's screen-off bit).
 *
 * Addresses here are plane addresses of the packed memory (see
 * memory-access.ts). The CRT controller's memory address counter MA steps
 * once per character clock and by 2 × CR13 per row; in the packed layout
 * MA is the plane address in byte, word and doubleword mode alike, because
 * the CPU side packs odd/even by 2 and chain 4 by 4 — the same factors by
 * which word and doubleword mode spread MA over hardware addresses. Only
 * the CGA/Hercules row-scan substitution (CR17 bits 0–1 clear), which
 * replaces hardware address bits 13 and 14, has to be shifted down by that
 * factor.
 */
import { DispiEnable, Dispi, lineBytes, startByte, storageBits } from '../bochs-vbe/dispi.ts';
import { Attr, AttrBits, Crtc, CrtcBits, Gfx, GfxBits, Seq, SeqBits } from './registers.ts';
import type { VgaRegisters } from './state.ts';

export type DisplayMode =
  | { readonly kind: 'blank' }
  | {
    readonly kind: 'text';
    readonly columns: number;
    readonly rows: number;
    readonly characterWidth: number;
    readonly characterHeight: number;
  }
  | {
    readonly kind: 'graphics';
    readonly width: number;
    readonly height: number;
    /** 2 (CGA interleaved), 4 (planar), 8 (256-colour or VBE), or a VBE direct-colour depth 15, 16, 24, 32. */
    readonly bitsPerPixel: number;
    readonly source: 'vga' | 'vbe';
  };

/** How rows of the screen map to memory. */
export interface ScanLayout {
  readonly startAddress: number;
  /** Plane addresses from one row to the next (2 × CR13). */
  readonly rowAddresses: number;
  /** The first physical scan line shown from address 0 (the line compare split, CR18 with LC8 and LC9, + 1). */
  readonly lineCompare: number;
  /** Scan lines per row (CR09 bits 4–0, + 1). */
  readonly rowScanLines: number;
  /** Each scan line shown twice (CR09 bit 7). */
  readonly doubleScan: boolean;
  /** Address bits the row scan counter's bits 0 and 1 replace, or −1 where they are not substituted. */
  readonly scanBit0Address: number;
  readonly scanBit1Address: number;
}

function reg(values: readonly number[], index: number): number {
  return values[index] ?? 0;
}

export function vbeEnabled(r: VgaRegisters): boolean {
  return (reg(r.vbe.registers, Dispi.ENABLE) & DispiEnable.ENABLED) !== 0;
}

/** CR12 with VDE8 and VDE9, + 1: the scan lines displayed. */
export function displayedScanLines(crtc: readonly number[]): number {
  const overflow = reg(crtc, Crtc.OVERFLOW);
  return (reg(crtc, Crtc.VERTICAL_DISPLAY_END) | ((overflow >> 1) & 1) << 8 | ((overflow >> 6) & 1) << 9) + 1;
}

export function lineCompare(crtc: readonly number[]): number {
  const value = reg(crtc, Crtc.LINE_COMPARE) | ((reg(crtc, Crtc.OVERFLOW) >> 4) & 1) << 8 | ((reg(crtc, Crtc.MAX_SCAN_LINE) >> 6) & 1) << 9;
  // The counter compares with the line after it has been displayed: the split starts on the next line.
  return value + 1;
}

export function scanLayout(r: VgaRegisters): ScanLayout {
  const crtc = r.crtc;
  const mode = reg(crtc, Crtc.MODE_CONTROL);
  const maxScan = reg(crtc, Crtc.MAX_SCAN_LINE);
  // Hardware address = MA shifted by 2 (doubleword mode, CR14 bit 6), 1 (word mode, CR17 bit 6 clear) or 0.
  const packing = (reg(crtc, Crtc.UNDERLINE_LOCATION) & 0x40) !== 0 ? 2 : (mode & 0x40) === 0 ? 1 : 0;
  return {
    startAddress: reg(crtc, Crtc.START_ADDRESS_HIGH) << 8 | reg(crtc, Crtc.START_ADDRESS_LOW),
    rowAddresses: reg(crtc, Crtc.OFFSET) * 2,
    lineCompare: lineCompare(crtc),
    rowScanLines: (maxScan & 0x1f) + 1,
    doubleScan: (maxScan & CrtcBits.DOUBLE_SCAN) !== 0,
    scanBit0Address: (mode & CrtcBits.NO_CGA_SUBSTITUTION) === 0 ? 13 - packing : -1,
    scanBit1Address: (mode & CrtcBits.NO_HERCULES_SUBSTITUTION) === 0 ? 14 - packing : -1,
  };
}

export function displayMode(r: VgaRegisters): DisplayMode {
  if ((r.attributeIndex & AttrBits.PALETTE_ADDRESS_SOURCE) === 0 || (reg(r.sequencer, Seq.CLOCKING) & SeqBits.SCREEN_OFF) !== 0) {
    return { kind: 'blank' };
  }
  if (vbeEnabled(r)) {
    const v = r.vbe.registers;
    return { kind: 'graphics', width: reg(v, Dispi.XRES), height: reg(v, Dispi.YRES), bitsPerPixel: reg(v, Dispi.BPP), source: 'vbe' };
  }
  const crtc = r.crtc;
  const scanLines = displayedScanLines(crtc);
  const layout = scanLayout(r);
  const characters = reg(crtc, Crtc.HORIZONTAL_DISPLAY_END) + 1;
  if ((reg(r.graphics, Gfx.MISC) & GfxBits.GRAPHICS) === 0) {
    const characterWidth = (reg(r.sequencer, Seq.CLOCKING) & SeqBits.EIGHT_DOT) !== 0 ? 8 : 9;
    const rowLines = layout.rowScanLines * (layout.doubleScan ? 2 : 1);
    return { kind: 'text', columns: characters, rows: Math.floor(scanLines / rowLines), characterWidth, characterHeight: layout.rowScanLines };
  }
  const shift = reg(r.graphics, Gfx.MODE);
  const lines = layout.doubleScan ? Math.floor(scanLines / 2) : scanLines;
  const substituted = layout.scanBit0Address >= 0 || layout.scanBit1Address >= 0;
  // Without substitution every scan line of a row shows the same memory: a row is one line of pixels.
  const height = substituted ? lines : Math.ceil(lines / layout.rowScanLines);
  if ((shift & GfxBits.SHIFT_256) !== 0) return { kind: 'graphics', width: characters * 4, height, bitsPerPixel: 8, source: 'vga' };
  const bitsPerPixel = (shift & GfxBits.SHIFT_INTERLEAVE) !== 0 ? 2 : 4;
  return { kind: 'graphics', width: characters * 8, height, bitsPerPixel, source: 'vga' };
}

/**
 * The plane address of the first character or pixel group of character row
 * `row` at row scan line `scan`: rows from `split` on are shown from address
 * 0 (the line compare split); the row-scan substitution replaces address bits.
 */
export function rowAddress(layout: ScanLayout, row: number, scan: number, split: number): number {
  let address = row >= split ? (row - split) * layout.rowAddresses : layout.startAddress + row * layout.rowAddresses;
  if (layout.scanBit0Address >= 0) address = (address & ~(1 << layout.scanBit0Address)) | (scan & 1) << layout.scanBit0Address;
  if (layout.scanBit1Address >= 0) address = (address & ~(1 << layout.scanBit1Address)) | (scan >> 1 & 1) << layout.scanBit1Address;
  return address & 0xffff;
}

/** The first character row (of `rowLines` physical scan lines each) that starts at or after the line compare split. */
export function splitRow(layout: ScanLayout, rowLines: number): number {
  return Math.ceil(layout.lineCompare / rowLines);
}

/** The 8-bit DAC index for a 4-bit attribute colour: colour plane enable, palette register, colour select (FreeVGA, "Attribute Controller Registers"). */
export function attributeToDac(attribute: readonly number[], color: number): number {
  const index = color & reg(attribute, Attr.COLOR_PLANE_ENABLE) & 0x0f;
  const palette = reg(attribute, index);
  const select = reg(attribute, Attr.COLOR_SELECT);
  const high = (select & 0x0c) << 4;
  if ((reg(attribute, Attr.MODE_CONTROL) & AttrBits.P54_SELECT) !== 0) return high | (select & 0x03) << 4 | (palette & 0x0f);
  return high | (palette & 0x3f);
}

/** Red, green, blue (0–255) of DAC entry `index` after the PEL mask; 6-bit components are scaled to 8 bits. */
export function dacColor(r: VgaRegisters, index: number): [number, number, number] {
  const at = (index & r.dac.pelMask) * 3;
  const p = r.dac.palette;
  const wide = (reg(r.vbe.registers, Dispi.ENABLE) & DispiEnable.DAC_8BIT) !== 0;
  const scale = (v: number) => (wide ? v : ((v & 0x3f) << 2) | ((v & 0x3f) >> 4));
  return [scale(p[at] ?? 0), scale(p[at + 1] ?? 0), scale(p[at + 2] ?? 0)];
}

/** The Bochs VBE linear framebuffer: its first byte and bytes per line. */
export function vbeLayout(r: VgaRegisters): { start: number; line: number; bits: number } {
  return { start: startByte(r.vbe.registers), line: lineBytes(r.vbe.registers), bits: storageBits(reg(r.vbe.registers, Dispi.BPP)) };
}
