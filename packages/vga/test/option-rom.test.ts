// The option ROM a VGA is given: the region `rom`, as long as the image the board gives it (its ROM BAR's size),
// read byte for byte at every width, writes dropped and counted; no image, no region; not part of the state.
import { createTestContext } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import { Vga } from '../src/index.ts';

/** A 2 KiB ROM as the board pads one: the option ROM header (55h AAh, its length in 512-byte blocks, a jump) then zeros. */
function rom(): Uint8Array {
  const bytes = new Uint8Array(0x800);
  bytes.set([0x55, 0xaa, 0x01, 0xe9, 0x34, 0x12]);
  bytes[0x7ff] = 0xc3;
  return bytes;
}

describe('the option ROM', () => {
  it('answers its bytes, little-endian at every width, in a region as long as the image', () => {
    const vga = new Vga(createTestContext(), { optionRom: rom() });
    expect(vga.regions.find((r) => r.name === 'rom')).toEqual({ name: 'rom', space: 'mmio', length: 0x800, sizes: [1, 2, 4] });
    expect([vga.read('rom', 0, 1), vga.read('rom', 0, 2), vga.read('rom', 0, 4), vga.read('rom', 3, 2), vga.read('rom', 0x7ff, 1)]).toEqual([0x55, 0xaa55, 0xe901_aa55, 0x34e9, 0xc3]);
    expect(vga.anomalies()).toMatchObject({ openBusReads: 0, ignoredWrites: 0 });
  });

  it('is read-only: a write changes nothing and is counted', () => {
    const given = rom();
    const vga = new Vga(createTestContext(), { optionRom: given });
    vga.write('rom', 0, 4, 0);
    given[2] = 0x7f; // the host's buffer is not the ROM's either
    expect([vga.read('rom', 0, 4), vga.anomalies().ignoredWrites]).toEqual([0xe901_aa55, 4]);
  });

  it('is no region without an image, and no part of the state (a VGA made anew is given the same)', () => {
    const bare = new Vga(createTestContext());
    expect(bare.regions.map((r) => r.name)).toEqual(['ports', 'window', 'vbe', 'lfb']);
    expect(bare.read('rom', 0, 1)).toBe(0xff);
    expect(bare.anomalies().openBusReads).toBe(1);
    const vga = new Vga(createTestContext(), { optionRom: rom() });
    expect(vga.getState()).toEqual(bare.getState());
    expect(() => new Vga(createTestContext(), { optionRom: new Uint8Array(0) })).toThrow(RangeError);
  });
});
