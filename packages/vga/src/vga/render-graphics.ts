/**
 * The screen of a graphics mode as RGBA pixels, from state (FreeVGA,
 * "Graphics Registers": the shift register modes of GR05 bits 6–5;
 * "Attribute Controller Registers": colour plane enable, palette, colour
 * select; "DAC"): one pixel per logical pixel — mode 13h is 320 × 200,
 * not the 640 × 400 dots the monitor is sent.
 *
 * - 4 bpp planar (16 colours, modes 0Dh–12h): each plane address gives
 *   8 pixels, bit 7 first, one bit from each plane;
 * - 2 bpp interleaved (CGA modes 4–5): each plane address gives 4 pixels of
 *   2 bits from plane 0, then 4 from plane 1;
 * - 8 bpp (mode 13h and unchained variants): each plane address gives
 *   4 pixels, one per plane; the byte indexes the DAC directly;
 * - Bochs VBE: the linear framebuffer at 8 (DAC), 15, 16, 24 or 32 bpp, or
 *   planar at 4 bpp.
 * Every colour goes through the PEL mask and the DAC.
 */
import { attributeToDac, dacColor, rowAddress, scanLayout, splitRow, vbeLayout } from './display.ts';
import type { DisplayMode } from './display.ts';
import type { VgaRegisters } from './state.ts';

export type GraphicsMode = Extract<DisplayMode, { kind: 'graphics' }>;

type Rgb = readonly [number, number, number];

function put(rgba: Uint8Array, pixel: number, color: Rgb): void {
  const at = pixel * 4;
  rgba[at] = color[0];
  rgba[at + 1] = color[1];
  rgba[at + 2] = color[2];
  rgba[at + 3] = 0xff;
}

/** The 8 pixels (4-bit colours) of plane address `address`, planar. */
function planarPixels(memory: Uint8Array, address: number, into: number[]): void {
  const at = address * 4;
  const p0 = memory[at] ?? 0;
  const p1 = memory[at + 1] ?? 0;
  const p2 = memory[at + 2] ?? 0;
  const p3 = memory[at + 3] ?? 0;
  for (let dot = 0; dot < 8; dot++) {
    const bit = 7 - dot;
    into[dot] = (p0 >> bit & 1) | (p1 >> bit & 1) << 1 | (p2 >> bit & 1) << 2 | (p3 >> bit & 1) << 3;
  }
}

/** The 8 pixels (2-bit colours, with planes 2–3 giving bits 3–2) of plane address `address`, interleaved. */
function interleavedPixels(memory: Uint8Array, address: number, into: number[]): void {
  const at = address * 4;
  for (let half = 0; half < 2; half++) {
    const low = memory[at + half] ?? 0;
    const high = memory[at + 2 + half] ?? 0;
    for (let i = 0; i < 4; i++) {
      const shift = 6 - 2 * i;
      into[half * 4 + i] = (low >> shift & 3) | (high >> shift & 3) << 2;
    }
  }
}

function drawVgaGraphics(r: VgaRegisters, mode: GraphicsMode, rgba: Uint8Array): void {
  const layout = scanLayout(r);
  const physicalPerLine = layout.doubleScan ? 2 : 1;
  const substituted = layout.scanBit0Address >= 0 || layout.scanBit1Address >= 0;
  const split = splitRow(layout, layout.rowScanLines * physicalPerLine);
  const dac: Rgb[] = Array.from({ length: 256 }, (_, index) => dacColor(r, index));
  const black: Rgb = [0, 0, 0];
  const attributeColors: Rgb[] = Array.from({ length: 16 }, (_, color) => dac[attributeToDac(r.attribute, color)] ?? black);
  const group: number[] = new Array<number>(8).fill(0);
  const pixelsPerAddress = mode.bitsPerPixel === 8 ? 4 : 8;
  for (let y = 0; y < mode.height; y++) {
    const row = substituted ? Math.floor(y / layout.rowScanLines) : y;
    const scan = substituted ? y % layout.rowScanLines : 0;
    const base = rowAddress(layout, row, scan, split);
    for (let x = 0; x < mode.width; x += pixelsPerAddress) {
      const address = (base + x / pixelsPerAddress) & 0xffff;
      if (mode.bitsPerPixel === 8) {
        for (let plane = 0; plane < 4; plane++) put(rgba, y * mode.width + x + plane, dac[r.memory[address * 4 + plane] ?? 0] ?? [0, 0, 0]);
        continue;
      }
      if (mode.bitsPerPixel === 2) interleavedPixels(r.memory, address, group);
      else planarPixels(r.memory, address, group);
      for (let dot = 0; dot < 8 && x + dot < mode.width; dot++) put(rgba, y * mode.width + x + dot, attributeColors[group[dot] ?? 0] ?? [0, 0, 0]);
    }
  }
}

function drawVbe(r: VgaRegisters, mode: GraphicsMode, rgba: Uint8Array): void {
  const { start, line, bits } = vbeLayout(r);
  const m = r.memory;
  const byte = (at: number) => m[at] ?? 0;
  if (bits === 4) {
    // Planar, as the VGA's 16-colour modes, 8 pixels per plane address.
    const colors = Array.from({ length: 16 }, (_, color) => dacColor(r, attributeToDac(r.attribute, color)));
    const group: number[] = new Array<number>(8).fill(0);
    for (let y = 0; y < mode.height; y++) {
      const base = Math.floor((start + y * line) / 4);
      for (let x = 0; x < mode.width; x += 8) {
        planarPixels(m, base + x / 8, group);
        for (let dot = 0; dot < 8 && x + dot < mode.width; dot++) put(rgba, y * mode.width + x + dot, colors[group[dot] ?? 0] ?? [0, 0, 0]);
      }
    }
    return;
  }
  const dac: Rgb[] = bits === 8 ? Array.from({ length: 256 }, (_, index) => dacColor(r, index)) : [];
  const bytesPerPixel = bits / 8;
  for (let y = 0; y < mode.height; y++) {
    for (let x = 0; x < mode.width; x++) {
      const at = start + y * line + x * bytesPerPixel;
      if (at + bytesPerPixel > m.length) continue;
      let color: Rgb;
      if (bits === 8) {
        color = dac[byte(at)] ?? [0, 0, 0];
      } else if (bits === 16) {
        const v = byte(at) | byte(at + 1) << 8;
        const bpp15 = mode.bitsPerPixel === 15;
        const [r5, g, b5] = bpp15 ? [v >> 10 & 0x1f, v >> 5 & 0x1f, v & 0x1f] : [v >> 11 & 0x1f, v >> 5 & 0x3f, v & 0x1f];
        const g8 = bpp15 ? (g << 3 | g >> 2) : (g << 2 | g >> 4);
        color = [r5 << 3 | r5 >> 2, g8, b5 << 3 | b5 >> 2];
      } else {
        // 24 and 32 bpp: blue, green, red in memory order.
        color = [byte(at + 2), byte(at + 1), byte(at)];
      }
      put(rgba, y * mode.width + x, color);
    }
  }
}

/** Draws a graphics mode into `rgba` (mode.width × mode.height pixels). */
export function drawGraphics(r: VgaRegisters, mode: GraphicsMode, rgba: Uint8Array): void {
  if (mode.source === 'vbe') drawVbe(r, mode, rgba);
  else drawVgaGraphics(r, mode, rgba);
}
