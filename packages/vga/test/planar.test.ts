// The graphics controller's data path on planar memory (mode 12h): write modes 0–3 with set/reset, rotate, logical
// function and bit mask, the map mask, the latches, read modes 0 and 1, and the memory map and addressing modes.
import { describe, expect, it } from 'vitest';
import { MODE_03H, MODE_12H, egaPalette } from '../src/index.ts';
import type { Pc } from './harness.ts';
import { pc, setMode } from './harness.ts';

const A0000 = 0xa_0000;

function mode12(): Pc {
  const p = pc();
  setMode(p, MODE_12H, egaPalette());
  return p;
}

function gfx(p: Pc, index: number, value: number): void {
  p.outw(0x3ce, value << 8 | index);
}

function mapMask(p: Pc, planes: number): void {
  p.outw(0x3c4, planes << 8 | 0x02);
}

/** The four planes at plane address `address`. */
function planes(p: Pc, address: number): number[] {
  return [0, 1, 2, 3].map((plane) => p.vga.planeByte(plane, address));
}

/** Sets the four planes at `address` to `bytes` through write mode 0, one plane at a time. */
function fill(p: Pc, address: number, bytes: readonly number[]): void {
  bytes.forEach((byte, plane) => {
    mapMask(p, 1 << plane);
    p.poke(A0000 + address, byte);
  });
  mapMask(p, 0x0f);
}

describe('write mode 0', () => {
  it('writes the CPU byte to every plane in the map mask', () => {
    const p = mode12();
    p.poke(A0000, 0xa5);
    expect(planes(p, 0)).toEqual([0xa5, 0xa5, 0xa5, 0xa5]);
    mapMask(p, 0b0101);
    p.poke(A0000, 0x3c);
    expect(planes(p, 0)).toEqual([0x3c, 0xa5, 0x3c, 0xa5]);
  });

  it('writes the set/reset colour to the planes set/reset is enabled for', () => {
    const p = mode12();
    gfx(p, 0x00, 0b0101); // set/reset: planes 0 and 2 all ones, 1 and 3 all zeros
    gfx(p, 0x01, 0b0011); // enabled for planes 0 and 1 only
    p.poke(A0000 + 1, 0x81);
    expect(planes(p, 1)).toEqual([0xff, 0x00, 0x81, 0x81]);
  });

  it('rotates the CPU byte right by GR03 bits 2–0', () => {
    const p = mode12();
    gfx(p, 0x03, 0x03);
    p.poke(A0000 + 2, 0x81); // 1000 0001 → 0011 0000
    expect(planes(p, 2)).toEqual([0x30, 0x30, 0x30, 0x30]);
  });

  it('combines with the latches by the logical function (AND, OR, XOR)', () => {
    const p = mode12();
    fill(p, 3, [0xf0, 0xcc, 0xaa, 0x0f]);
    for (const [fn, expected] of [
      [0x08, [0xf0 & 0x3c, 0xcc & 0x3c, 0xaa & 0x3c, 0x0f & 0x3c]],
      [0x10, [0xf0 | 0x3c, 0xcc | 0x3c, 0xaa | 0x3c, 0x0f | 0x3c]],
      [0x18, [0xf0 ^ 0x3c, 0xcc ^ 0x3c, 0xaa ^ 0x3c, 0x0f ^ 0x3c]],
    ] as const) {
      fill(p, 3, [0xf0, 0xcc, 0xaa, 0x0f]);
      gfx(p, 0x03, fn);
      p.peek(A0000 + 3); // the latches now hold the four planes
      p.poke(A0000 + 3, 0x3c);
      gfx(p, 0x03, 0x00);
      expect(planes(p, 3)).toEqual(expected);
    }
  });

  it('keeps the latched bits where the bit mask is clear', () => {
    const p = mode12();
    fill(p, 4, [0x00, 0xff, 0x55, 0xaa]);
    p.peek(A0000 + 4);
    gfx(p, 0x08, 0x0f);
    p.poke(A0000 + 4, 0xff);
    expect(planes(p, 4)).toEqual([0x0f, 0xff, 0x5f, 0xaf]);
  });
});

describe('write modes 1–3', () => {
  it('write mode 1 copies the four latches (a screen-to-screen blit), whatever the CPU writes', () => {
    const p = mode12();
    fill(p, 10, [0x12, 0x34, 0x56, 0x78]);
    gfx(p, 0x05, 0x01);
    gfx(p, 0x08, 0x00); // the bit mask does not apply to write mode 1
    p.peek(A0000 + 10);
    p.poke(A0000 + 20, 0xee);
    expect(planes(p, 20)).toEqual([0x12, 0x34, 0x56, 0x78]);
  });

  it('write mode 2 takes the colour from CPU bits 3–0 and draws it through the bit mask', () => {
    const p = mode12();
    fill(p, 5, [0xff, 0x00, 0xff, 0x00]);
    gfx(p, 0x05, 0x02);
    gfx(p, 0x08, 0x81);
    p.peek(A0000 + 5);
    p.poke(A0000 + 5, 0xfa); // colour 1010b; the high nibble is ignored
    expect(planes(p, 5)).toEqual([0x7e, 0x81, 0x7e, 0x81]);
  });

  it('write mode 3 draws the set/reset colour through the rotated CPU byte ANDed with the bit mask', () => {
    const p = mode12();
    fill(p, 6, [0x0f, 0x0f, 0x0f, 0x0f]);
    gfx(p, 0x05, 0x03);
    gfx(p, 0x00, 0x0c); // colour 1100b
    gfx(p, 0x01, 0x00); // enable set/reset is ignored in write mode 3
    gfx(p, 0x03, 0x04); // rotate 4
    gfx(p, 0x08, 0xf3);
    p.peek(A0000 + 6);
    p.poke(A0000 + 6, 0x0f); // rotated: F0h; mask F0h & F3h = F0h
    expect(planes(p, 6)).toEqual([0x0f, 0x0f, 0xff, 0xff]);
  });
});

describe('reads', () => {
  it('read mode 0 returns the plane GR04 selects and loads all four latches', () => {
    const p = mode12();
    fill(p, 7, [0x11, 0x22, 0x33, 0x44]);
    for (let plane = 0; plane < 4; plane++) {
      gfx(p, 0x04, plane);
      expect(p.peek(A0000 + 7)).toBe(0x11 * (plane + 1));
    }
    expect(p.vga.getState().latch).toBe(0x4433_2211);
  });

  it('read mode 1 returns 1 where a pixel has the compare colour in the planes colour-don\'t-care selects', () => {
    const p = mode12();
    // Pixels (bit 7 first) of colours 0, 1, 5, 5, 15, 4, 5, 0.
    fill(p, 8, [0b0111_1010, 0b0000_1000, 0b0011_1110, 0b0000_1000]);
    gfx(p, 0x05, 0x08);
    gfx(p, 0x02, 0x05);
    gfx(p, 0x07, 0x0f);
    expect(p.peek(A0000 + 8)).toBe(0b0011_0010);
    gfx(p, 0x07, 0b0101); // compare planes 0 and 2 only: colours 5, 15 and 7 all match
    expect(p.peek(A0000 + 8)).toBe(0b0011_1010);
    gfx(p, 0x07, 0x00); // nothing compared: every bit matches
    expect(p.peek(A0000 + 8)).toBe(0xff);
  });

  it('read mode 1 in the framebuffer: the colours compared are the colours shown', () => {
    const p = mode12();
    gfx(p, 0x05, 0x02);
    for (let color = 0; color < 8; color++) {
      gfx(p, 0x08, 0x80 >> color);
      p.peek(A0000 + 9);
      p.poke(A0000 + 9, color * 2);
    }
    gfx(p, 0x05, 0x08);
    gfx(p, 0x07, 0x0f);
    gfx(p, 0x02, 6);
    expect(p.peek(A0000 + 9)).toBe(0b0001_0000);
  });
});

describe('memory maps and addressing', () => {
  it('GR06 selects which part of A0000h–BFFFFh answers; the rest reads FFh and drops writes', () => {
    const p = mode12(); // map 1: A0000h–AFFFFh
    p.poke(A0000, 0x5a);
    expect(p.peek(0xb_0000)).toBe(0xff);
    p.poke(0xb_8000, 0x77);
    gfx(p, 0x06, 0x01); // map 0: 128 KiB at A0000h
    expect(p.peek(A0000)).toBe(0x5a);
    gfx(p, 0x06, 0x09); // map 2: B0000h–B7FFFh
    expect(p.peek(0xb_0000)).toBe(0x5a);
    expect(p.peek(A0000)).toBe(0xff);
    expect(p.vga.anomalies().unmappedWindowAccesses).toBe(3);
  });

  it('odd/even text addressing: even bytes are characters in plane 0, odd bytes attributes in plane 1', () => {
    const p = pc();
    setMode(p, MODE_03H);
    p.poke(0xb_8000 + 2 * 7, 0x1741, 2);
    expect([p.vga.planeByte(0, 7), p.vga.planeByte(1, 7), p.vga.planeByte(2, 7)]).toEqual([0x41, 0x17, 0]);
    expect(p.peek(0xb_8000 + 2 * 7, 2)).toBe(0x1741);
    // GR04 bit 1 reads planes 2 and 3 instead.
    gfx(p, 0x04, 0x02);
    expect(p.peek(0xb_8000 + 2 * 7, 2)).toBe(0x0000);
  });

  it('the misc output\'s RAM enable bit disconnects the memory from the CPU', () => {
    const p = pc({ initialMode: 0x03 });
    p.outb(0x3c2, 0x65);
    p.poke(0xb_8000, 0x41);
    expect(p.peek(0xb_8000)).toBe(0xff);
    p.outb(0x3c2, 0x67);
    expect(p.peek(0xb_8000)).toBe(0x20);
  });
});
