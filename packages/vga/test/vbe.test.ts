// The Bochs VBE DISPI interface: SeaBIOS's probe (as in the traces), linear framebuffer modes, the banked window, the
// 8-bit DAC, and the clamping of geometry that does not fit.
import { describe, expect, it } from 'vitest';
import { DISPI_ID_LATEST, Dispi, DispiEnable } from '../src/index.ts';
import type { Pc } from './harness.ts';
import { pc, rgbaAt } from './harness.ts';

function dispi(p: Pc, index: number, value?: number): number {
  p.outw(0x1ce, index);
  if (value !== undefined) p.outw(0x1cf, value);
  return p.inw(0x1cf);
}

describe('Bochs VBE', () => {
  it('answers the VGA BIOS probe as QEMU does: ID, memory size, capabilities', () => {
    const p = pc({ memoryBytes: 16 << 20 });
    expect(dispi(p, Dispi.ID)).toBe(DISPI_ID_LATEST);
    expect(dispi(p, Dispi.ID, 0xb0c0)).toBe(0xb0c0);
    expect(dispi(p, Dispi.ID, 0x1234)).toBe(0xb0c0); // not a revision: ignored
    dispi(p, Dispi.ID, 0xb0c5);
    expect(dispi(p, Dispi.VIDEO_MEMORY_64K)).toBe(0x100);
    expect(dispi(p, Dispi.ENABLE)).toBe(0);
    dispi(p, Dispi.ENABLE, DispiEnable.GETCAPS);
    expect([dispi(p, Dispi.XRES), dispi(p, Dispi.YRES), dispi(p, Dispi.BPP)]).toEqual([16000, 12000, 32]);
    dispi(p, Dispi.ENABLE, 0);
    expect(dispi(p, Dispi.XRES)).toBe(0);
    expect(p.inw(0x1ce)).toBe(Dispi.XRES);
  });

  it('sets a 32 bpp linear framebuffer mode whose pixels are blue, green, red, unused in memory', () => {
    const p = pc({ memoryBytes: 4 << 20 });
    dispi(p, Dispi.XRES, 800);
    dispi(p, Dispi.YRES, 600);
    dispi(p, Dispi.BPP, 32);
    dispi(p, Dispi.ENABLE, DispiEnable.ENABLED | DispiEnable.LFB_ENABLED);
    p.inb(0x3da);
    p.outb(0x3c0, 0x20);
    expect(p.vga.displayMode()).toEqual({ kind: 'graphics', width: 800, height: 600, bitsPerPixel: 32, source: 'vbe' });
    expect(dispi(p, Dispi.VIRT_WIDTH)).toBe(800);
    expect(dispi(p, Dispi.VIRT_HEIGHT)).toBe(Math.floor((4 << 20) / 3200));
    p.vga.write('lfb', (10 * 800 + 20) * 4, 4, 0x00_11_22_33);
    const frame = p.vga.framebuffer();
    expect(frame).toMatchObject({ width: 800, height: 600 });
    expect(rgbaAt(frame, 20, 10)).toEqual([0x11, 0x22, 0x33, 0xff]);
    // Panning: the visible screen starts Y_OFFSET lines into memory.
    dispi(p, Dispi.Y_OFFSET, 10);
    expect(rgbaAt(p.vga.framebuffer(), 20, 0)).toEqual([0x11, 0x22, 0x33, 0xff]);
  });

  it('serves an 8 bpp mode through the 64 KiB banked window at A0000h, in the colours of an 8-bit DAC', () => {
    const p = pc({ memoryBytes: 1 << 20 });
    dispi(p, Dispi.XRES, 640);
    dispi(p, Dispi.YRES, 480);
    dispi(p, Dispi.BPP, 8);
    dispi(p, Dispi.ENABLE, DispiEnable.ENABLED | DispiEnable.DAC_8BIT);
    p.outb(0x3c2, 0x63);
    p.inb(0x3da);
    p.outb(0x3c0, 0x20);
    // Pixel (100, 300) is byte 192 100 = bank 2, offset EE64h.
    dispi(p, Dispi.BANK, 2);
    p.poke(0xa_0000 + 0xee64, 0x80);
    expect(p.vga.read('lfb', 300 * 640 + 100, 1)).toBe(0x80);
    p.outb(0x3c8, 0x80);
    for (const component of [0xfe, 0x80, 0x01]) p.outb(0x3c9, component);
    expect(rgbaAt(p.vga.framebuffer(), 100, 300)).toEqual([0xfe, 0x80, 0x01, 0xff]);
    expect(p.peek(0xa_0000 + 0xee64)).toBe(0x80);
  });

  it('moves geometry that does not fit to the nearest that does, and counts it', () => {
    const p = pc(); // 256 KiB
    dispi(p, Dispi.ENABLE, DispiEnable.ENABLED | DispiEnable.NO_CLEAR_MEMORY);
    dispi(p, Dispi.BPP, 7);
    expect(dispi(p, Dispi.BPP)).toBe(8);
    dispi(p, Dispi.XRES, 641);
    expect(dispi(p, Dispi.XRES)).toBe(640);
    dispi(p, Dispi.YRES, 480); // 640 × 480 bytes do not fit in 256 KiB: 409 lines do
    expect(dispi(p, Dispi.YRES)).toBe(409);
    dispi(p, Dispi.Y_OFFSET, 300); // past the end of memory with 409 lines shown: back to 0
    expect(dispi(p, Dispi.Y_OFFSET)).toBe(0);
    // Five: enabling with nothing set moved the geometry to 8 × 1 at 8 bpp, then each write above.
    expect(p.vga.anomalies().vbeAdjustments).toBe(5);
  });

  it('clears the lines it shows when enabled, unless told not to', () => {
    const p = pc();
    p.vga.write('lfb', 100, 1, 0x55);
    dispi(p, Dispi.XRES, 320);
    dispi(p, Dispi.YRES, 200);
    dispi(p, Dispi.BPP, 8);
    dispi(p, Dispi.ENABLE, DispiEnable.ENABLED | DispiEnable.NO_CLEAR_MEMORY);
    expect(p.vga.read('lfb', 100, 1)).toBe(0x55);
    dispi(p, Dispi.ENABLE, 0);
    dispi(p, Dispi.ENABLE, DispiEnable.ENABLED);
    expect(p.vga.read('lfb', 100, 1)).toBe(0);
  });
});
