// Mode sets through the register tables, as a VGA BIOS does them, and what the screen then shows; the frame timing.
import { describe, expect, it } from 'vitest';
import { MODE_03H, MODE_12H, MODE_13H, Status1, Vga, crtcTiming, egaPalette, mode13Palette, nextRetraceStart, refreshHz } from '../src/index.ts';
import { pc, printAt, rgbaAt, setMode } from './harness.ts';

/** An 8 × 16 font of solid blocks in plane 2 at map 0: each glyph's rows are its character code (enough to tell glyphs apart). */
function loadFont(p: ReturnType<typeof pc>): void {
  // As a BIOS loads a font: plane 2 only, sequential addressing, memory at A0000h.
  p.outw(0x3c4, 0x0100);
  p.outw(0x3c4, 0x0402);
  p.outw(0x3c4, 0x0704);
  p.outw(0x3c4, 0x0300);
  p.outw(0x3ce, 0x0204);
  p.outw(0x3ce, 0x0005);
  p.outw(0x3ce, 0x0406);
  for (let code = 0; code < 256; code++) for (let line = 0; line < 32; line++) p.poke(0xa_0000 + code * 32 + line, code);
  // Back to text: planes 0 and 1, odd/even, B8000h.
  p.outw(0x3c4, 0x0100);
  p.outw(0x3c4, 0x0302);
  p.outw(0x3c4, 0x0304);
  p.outw(0x3c4, 0x0300);
  p.outw(0x3ce, 0x0004);
  p.outw(0x3ce, 0x1005);
  p.outw(0x3ce, 0x0e06);
}

describe('mode 03h through the parameter table', () => {
  it('is 80 × 25 text of 9 × 16 cells at B8000h, at 70 Hz', () => {
    const p = pc();
    setMode(p, MODE_03H, egaPalette());
    expect(p.vga.displayMode()).toEqual({ kind: 'text', columns: 80, rows: 25, characterWidth: 9, characterHeight: 16 });
    printAt(p, 0, 'Hello, VGA', 0x1f);
    printAt(p, 80 * 24 + 70, 'bottom');
    const screen = p.vga.textScreen();
    expect(screen.rows).toHaveLength(25);
    expect(screen.rows[0]?.startsWith('Hello, VGA')).toBe(true);
    expect(screen.rows[24]?.slice(70, 76)).toBe('bottom');
    expect(screen.attributes[0]?.[0]).toBe(0x1f);
    // The table's cursor is lines 13–14 of the cell at address 0.
    expect(screen.cursor).toEqual({ row: 0, column: 0, startLine: 13, endLine: 14 });
    const timing = p.vga.timing();
    expect(timing).toMatchObject({ dotClockHz: 28_322_000, dotsPerCharacter: 9, lineCharacters: 100, frameLines: 449, displayLines: 400 });
    expect(refreshHz(timing)).toBeCloseTo(70.087, 3);
    // Reads back what the table wrote.
    p.outb(0x3d4, 0x09);
    expect(p.inb(0x3d5)).toBe(0x4f);
    expect(p.inb(0x3cc)).toBe(0x67);
  });

  it('draws the text with the font the guest loaded into plane 2, in the attribute colours', () => {
    const p = pc();
    setMode(p, MODE_03H, egaPalette());
    loadFont(p);
    printAt(p, 0, '\u00ff', 0x1e); // glyph FFh: every row all dots; yellow on blue
    printAt(p, 1, '\u0000', 0x1e); // glyph 00h: no dots
    const frame = p.vga.framebuffer();
    expect(frame).toMatchObject({ mode: 'text', width: 720, height: 400 });
    expect(rgbaAt(frame, 0, 5)).toEqual([0xff, 0xff, 0x55, 0xff]); // yellow: EGA 3Eh
    expect(rgbaAt(frame, 9 + 3, 5)).toEqual([0x00, 0x00, 0xaa, 0xff]); // blue background
    // The ninth column is background for ordinary characters.
    expect(rgbaAt(frame, 8, 5)).toEqual([0x00, 0x00, 0xaa, 0xff]);
  });
});

describe('mode 13h through the parameter table', () => {
  it('is 320 × 200 × 256 chained at A0000h: a fill shows in the framebuffer through the DAC', () => {
    const p = pc();
    setMode(p, MODE_13H, mode13Palette());
    expect(p.vga.displayMode()).toEqual({ kind: 'graphics', width: 320, height: 200, bitsPerPixel: 8, source: 'vga' });
    expect(refreshHz(p.vga.timing())).toBeCloseTo(70.086, 3);
    // A diagonal gradient: pixel (x, y) = (x + y) mod 256, 32-bit stores as a blitter would.
    for (let y = 0; y < 200; y++) {
      for (let x = 0; x < 320; x += 4) {
        const bytes = [0, 1, 2, 3].map((i) => (x + i + y) & 0xff);
        p.poke(0xa_0000 + y * 320 + x, (bytes[0] ?? 0) | (bytes[1] ?? 0) << 8 | (bytes[2] ?? 0) << 16 | (bytes[3] ?? 0) * 0x100_0000, 4);
      }
    }
    p.outb(0x3c8, 200);
    p.outb(0x3c9, 0x3f);
    p.outb(0x3c9, 0x20);
    p.outb(0x3c9, 0x01);
    const frame = p.vga.framebuffer();
    expect(frame).toMatchObject({ mode: 'graphics', width: 320, height: 200 });
    expect(rgbaAt(frame, 150, 50)).toEqual([0xff, 0x82, 0x04, 0xff]); // entry 200: 6-bit 3F/20/01 scaled to 8 bits
    expect(rgbaAt(frame, 0, 0)).toEqual([0, 0, 0, 0xff]);
    expect(rgbaAt(frame, 1, 0)).toEqual([0, 0, 0xaa, 0xff]); // entry 1: CGA blue
    // Chain 4: byte A is plane A mod 4 at plane address A ÷ 4, and reads back through the window.
    expect(p.vga.planeByte(2, (50 * 320 + 150) >> 2)).toBe(200);
    expect(p.peek(0xa_0000 + 50 * 320 + 150)).toBe(200);
  });
});

describe('mode 12h through the parameter table', () => {
  it('is 640 × 480 × 16 planar at 60 Hz', () => {
    const p = pc();
    setMode(p, MODE_12H, egaPalette());
    expect(p.vga.displayMode()).toEqual({ kind: 'graphics', width: 640, height: 480, bitsPerPixel: 4, source: 'vga' });
    expect(refreshHz(p.vga.timing())).toBeCloseTo(59.94, 2);
    // Write mode 2: a byte's low nibble is the colour of the pixels the bit mask selects.
    p.outw(0x3ce, 0x0205);
    p.outw(0x3ce, 0x8008); // leftmost pixel of the byte
    p.peek(0xa_0000 + 80 * 10); // load the latches
    p.poke(0xa_0000 + 80 * 10, 0x0e);
    const frame = p.vga.framebuffer();
    expect(rgbaAt(frame, 0, 10)).toEqual([0xff, 0xff, 0x55, 0xff]); // colour 14 → AR0E = 3Eh → yellow
    expect(rgbaAt(frame, 1, 10)).toEqual([0, 0, 0, 0xff]);
  });
});

describe('input status 1 follows the beam in virtual time', () => {
  it('shows vertical retrace for the programmed lines of each frame and display-disabled outside the active area', () => {
    const p = pc({ initialMode: 0x03 });
    const timing = crtcTiming(0x67, [3, 0, 3, 0, 2], MODE_03H.crtc);
    expect(p.vga.timing()).toEqual(timing);
    // Mode 3: retrace from line 19Ch for 2 lines (CR11 = 8Eh: ends when the line counter's low bits reach Eh).
    expect(timing).toMatchObject({ retraceStart: 0x19c, retraceLines: 2 });
    const start = nextRetraceStart(timing, p.context.now());
    p.context.advanceTo(start);
    expect(p.inb(0x3da) & (Status1.VERTICAL_RETRACE | Status1.DISPLAY_DISABLED)).toBe(Status1.VERTICAL_RETRACE | Status1.DISPLAY_DISABLED);
    const lineNs = (100 * 9 * 1e9) / 28_322_000;
    p.context.advance(Math.ceil(2 * lineNs));
    expect(p.inb(0x3da) & Status1.VERTICAL_RETRACE).toBe(0);
    // Sampling a whole frame: the retrace share is 2/449 lines; the display share 400/449 lines × 80/100 characters.
    let retrace = 0;
    let displayed = 0;
    const samples = 44_900;
    const frameNs = 1e9 / refreshHz(timing);
    for (let i = 0; i < samples; i++) {
      p.context.advance(Math.round(frameNs / samples));
      const status = p.inb(0x3da);
      if ((status & Status1.VERTICAL_RETRACE) !== 0) retrace++;
      if ((status & Status1.DISPLAY_DISABLED) === 0) displayed++;
    }
    expect(retrace / samples).toBeCloseTo(2 / 449, 3);
    expect(displayed / samples).toBeCloseTo((400 / 449) * (80 / 100), 2);
  });
});

describe('the README example', () => {
  it('answers as the README says', () => {
    const { context } = pc();
    const vga = new Vga(context, { initialMode: 0x03 });
    // What a guest does: character-attribute words into B8000h, the cursor through CRTC 0Eh/0Fh.
    Array.from('Hello').forEach((c, i) => { vga.write('window', 0x1_8000 + i * 2, 2, 0x0700 | (c.codePointAt(0) ?? 0)); });
    vga.write('ports', 0x24, 2, 0x000e); // 3D4h ← 0Eh, 3D5h ← 00h
    vga.write('ports', 0x24, 2, 0x050f); // 3D4h ← 0Fh, 3D5h ← 05h
    const screen = vga.textScreen();
    expect(screen.rows[0]).toBe(`Hello${' '.repeat(75)}`);
    expect(screen.cursor).toEqual({ row: 0, column: 5, startLine: 13, endLine: 14 });
    expect(vga.framebuffer()).toMatchObject({ mode: 'text', width: 720, height: 400 });
  });
});
