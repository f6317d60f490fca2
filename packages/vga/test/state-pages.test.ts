// Video memory in a state record is its written pages: 16 MiB untouched is nothing to carry, and a record of the
// version before (memory whole) is migrated, never taken as something else.
import { createTestContext } from '@splitvisor/device-testkit';
import { encodeState } from '@splitvisor/abi';
import { describe, expect, it } from 'vitest';
import type { VgaStateV1 } from '../src/index.ts';
import { VRAM_PAGE_BYTES, Vga } from '../src/index.ts';

const MIB16 = 16 * 1024 * 1024;

function textConsole(): Vga {
  const vga = new Vga(createTestContext(), { memoryBytes: MIB16, initialMode: 0x03 });
  // Mode 03h's text screen at B8000h: 80 × 25 characters and their attributes.
  for (let i = 0; i < 4000; i++) vga.write('window', 0x18000 + i, 1, (i & 0xff) | 1);
  return vga;
}

describe('vga state pages', () => {
  it('carries only the pages written: a text console is kilobytes, not 16 MiB', () => {
    const fresh = new Vga(createTestContext(), { memoryBytes: MIB16 });
    expect(fresh.getState().pages).toEqual([]);
    expect(encodeState(fresh.getState()).length).toBeLessThan(4096);
    const vga = textConsole();
    const { pages, memoryBytes } = vga.getState();
    expect(memoryBytes).toBe(MIB16);
    expect(pages.length).toBeGreaterThan(0);
    expect(pages.length * VRAM_PAGE_BYTES).toBeLessThanOrEqual(64 * 1024); // the screen and its font in plane 2
  });

  it('restores what it carried', () => {
    const vga = textConsole();
    const restored = new Vga(createTestContext(), { memoryBytes: MIB16 });
    restored.setState(vga.getState());
    expect(restored.getState()).toEqual(vga.getState());
  });

  it('migrates a version 1 record (memory whole) to the same machine', () => {
    const vga = textConsole();
    const { version: _version, memoryBytes, pages, ...registers } = vga.getState();
    const memory = new Uint8Array(memoryBytes);
    for (const [page, bytes] of pages) memory.set(bytes, page * VRAM_PAGE_BYTES);
    const v1: VgaStateV1 = { ...registers, version: 1, memory };
    const restored = new Vga(createTestContext(), { memoryBytes: MIB16 });
    restored.setState(v1);
    expect(restored.getState()).toEqual(vga.getState());
  });

  it('refuses a version it does not know, and pages out of order or of the wrong size, leaving the device as it was', () => {
    const vga = textConsole();
    const before = vga.getState();
    expect(() => { vga.setState({ ...before, version: 3 as 2 }); }).toThrow(/version 3/);
    expect(() => { vga.setState({ ...before, pages: [[1, new Uint8Array(VRAM_PAGE_BYTES)], [0, new Uint8Array(VRAM_PAGE_BYTES)]] }); }).toThrow(/page/);
    expect(() => { vga.setState({ ...before, pages: [[0, new Uint8Array(10)]] }); }).toThrow(/page/);
    expect(vga.getState()).toEqual(before);
  });
});
