// The register files through the ports: the attribute flip-flop, the DAC, the CRTC protect bit, mono/colour decoding,
// word writes to the index ports, and the bits each register keeps.
import { describe, expect, it } from 'vitest';
import { MODE_13H, mode13Palette } from '../src/index.ts';
import { pc, rgbaAt, setMode } from './harness.ts';

describe('attribute controller flip-flop', () => {
  it('alternates address and data on 3C0h, and a read of input status 1 (3DAh) puts it back to address', () => {
    const p = pc({ initialMode: 0x03 });
    p.inb(0x3da);
    p.outb(0x3c0, 0x12); // address: colour plane enable, PAS clear
    p.outb(0x3c0, 0x05); // data
    p.outb(0x3c0, 0x12);
    expect(p.inb(0x3c1)).toBe(0x05);
    // The flip-flop now expects data for 12h; reset it: the next write is an address again.
    p.inb(0x3da);
    p.outb(0x3c0, 0x33); // address 13h with PAS set
    expect(p.inb(0x3c0)).toBe(0x33);
    p.outb(0x3c0, 0x07); // data for 13h
    expect(p.inb(0x3c1)).toBe(0x07);
    p.outb(0x3c0, 0x12);
    expect(p.inb(0x3c1)).toBe(0x05);
    expect(p.vga.getState().attributeDataNext).toBe(true);
  });

  it('is reset by 3BAh, not 3DAh, while the misc output selects monochrome decoding', () => {
    const p = pc({ initialMode: 0x03 });
    p.outb(0x3c2, 0x66);
    p.inb(0x3ba);
    p.outb(0x3c0, 0x11);
    expect(p.inb(0x3da)).toBe(0xff); // not decoded in monochrome: open bus, flip-flop untouched
    p.outb(0x3c0, 0x2a); // so this is data for 11h (overscan)
    p.outb(0x3c0, 0x11);
    expect(p.inb(0x3c1)).toBe(0x2a);
    p.inb(0x3ba);
    expect(p.vga.getState().attributeDataNext).toBe(false);
  });

  it('locks the palette registers while PAS is set, as the display reads them', () => {
    const p = pc({ initialMode: 0x03 });
    p.inb(0x3da);
    p.outb(0x3c0, 0x21); // palette 1 with PAS set
    p.outb(0x3c0, 0x3f);
    p.outb(0x3c0, 0x01); // palette 1 with PAS clear (screen blanked)
    expect(p.inb(0x3c1)).toBe(0x01);
    expect(p.vga.displayMode()).toEqual({ kind: 'blank' });
    p.outb(0x3c0, 0x3f);
    expect(p.inb(0x3c1)).toBe(0x3f);
    expect(p.vga.anomalies().lockedPaletteWrites).toBe(1);
  });
});

describe('DAC', () => {
  it('auto-increments through red, green, blue and on to the next entry, for writes and reads, wrapping at 256', () => {
    const p = pc();
    p.outb(0x3c8, 0xff);
    for (const component of [0x01, 0x02, 0x03, 0x04, 0x05, 0x06]) p.outb(0x3c9, component);
    expect(p.inb(0x3c8)).toBe(0x01);
    expect(p.inb(0x3c7)).toBe(0x00); // write mode
    p.outb(0x3c7, 0xff);
    expect(p.inb(0x3c7)).toBe(0x03); // read mode
    expect([1, 2, 3, 4, 5, 6].map(() => p.inb(0x3c9))).toEqual([0x01, 0x02, 0x03, 0x04, 0x05, 0x06]);
    // The DAC keeps 6 bits per component.
    p.outb(0x3c8, 0x10);
    p.outb(0x3c9, 0xff);
    p.outb(0x3c9, 0x40);
    p.outb(0x3c9, 0x3f);
    p.outb(0x3c7, 0x10);
    expect([p.inb(0x3c9), p.inb(0x3c9), p.inb(0x3c9)]).toEqual([0x3f, 0x00, 0x3f]);
  });

  it('changes an entry only when its third component arrives', () => {
    const p = pc();
    p.outb(0x3c8, 0x20);
    p.outb(0x3c9, 0x3f);
    p.outb(0x3c9, 0x3f);
    expect(Array.from(p.vga.getState().dac.palette.subarray(0x60, 0x63))).toEqual([0, 0, 0]);
    p.outb(0x3c9, 0x3f);
    expect(Array.from(p.vga.getState().dac.palette.subarray(0x60, 0x63))).toEqual([0x3f, 0x3f, 0x3f]);
  });

  it('is what the framebuffer shows, through the PEL mask', () => {
    const p = pc();
    setMode(p, MODE_13H, mode13Palette());
    p.poke(0xa_0000, 0x37);
    p.outb(0x3c8, 0x37);
    p.outb(0x3c9, 0x10);
    p.outb(0x3c9, 0x20);
    p.outb(0x3c9, 0x30);
    expect(rgbaAt(p.vga.framebuffer(), 0, 0)).toEqual([0x41, 0x82, 0xc3, 0xff]);
    p.outb(0x3c6, 0x0f); // index 37h & 0Fh = 7: CGA light grey
    expect(p.inb(0x3c6)).toBe(0x0f);
    expect(rgbaAt(p.vga.framebuffer(), 0, 0)).toEqual([0xaa, 0xaa, 0xaa, 0xff]);
  });
});

describe('CRT controller protect bit', () => {
  it('blocks writes to CR00–CR07 while CR11 bit 7 is set, except CR07 bit 4 (line compare bit 8)', () => {
    const p = pc({ initialMode: 0x03 }); // CR11 = 8Eh: protected
    const read = (index: number) => {
      p.outb(0x3d4, index);
      return p.inb(0x3d5);
    };
    for (let index = 0; index <= 6; index++) p.outw(0x3d4, 0x00 << 8 | index);
    expect([0, 1, 2, 3, 4, 5, 6].map(read)).toEqual([0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf]);
    p.outw(0x3d4, 0x07 | 0x00 << 8); // only LC8 changes: 1Fh → 0Fh
    expect(read(0x07)).toBe(0x0f);
    p.outw(0x3d4, 0x07 | 0xff << 8);
    expect(read(0x07)).toBe(0x1f);
    p.outw(0x3d4, 0x09 | 0x4e << 8); // CR08 and up stay writable
    expect(read(0x09)).toBe(0x4e);
    p.outw(0x3d4, 0x11 | 0x0e << 8); // unprotect
    p.outw(0x3d4, 0x01 | 0x27 << 8);
    expect(read(0x01)).toBe(0x27);
    expect(p.vga.anomalies().protectedCrtcWrites).toBe(9);
  });
});

describe('port decoding', () => {
  it('answers the CRTC at 3Dxh with colour decoding and at 3Bxh with monochrome, per misc output bit 0', () => {
    const p = pc(); // power-on: misc output 0, monochrome
    p.outw(0x3b4, 0x0e | 0x12 << 8);
    p.outb(0x3b4, 0x0e);
    expect(p.inb(0x3b5)).toBe(0x12);
    expect(p.inb(0x3d5)).toBe(0xff);
    p.outw(0x3d4, 0x0e | 0x34 << 8); // ignored
    p.outb(0x3c2, 0x01);
    expect(p.inb(0x3d5)).toBe(0x12);
    expect(p.inb(0x3b5)).toBe(0xff);
    expect(p.vga.anomalies()).toMatchObject({ openBusReads: 2, ignoredWrites: 2 });
  });

  it('takes a word at an index port as the index, then the data; a word read is index and data', () => {
    const p = pc();
    p.outw(0x3c4, 0x0f02);
    p.outw(0x3ce, 0xff08);
    expect(p.inw(0x3c4)).toBe(0x0f02);
    expect(p.inw(0x3ce)).toBe(0xff08);
    // Each register keeps only its defined bits: SR02 bits 3–0, GR05 without bits 7 and 2.
    p.outw(0x3c4, 0xff02);
    p.outw(0x3ce, 0xff05);
    expect(p.inw(0x3c4)).toBe(0x0f02);
    expect(p.inw(0x3ce)).toBe(0x7b05);
  });

  it('answers FFh for the ports the VGA does not decode and 0 for the empty ones in its 3C0h block', () => {
    const p = pc({ initialMode: 0x03 });
    for (const port of [0x3b0, 0x3b8, 0x3bf, 0x3d0, 0x3db, 0x3df]) expect(p.inb(port)).toBe(0xff);
    for (const port of [0x3c3, 0x3cb, 0x3cd]) expect(p.inb(port)).toBe(0x00);
    expect(p.inb(0x3c2)).toBe(0x00); // input status 0
  });
});
