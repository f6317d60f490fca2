// A VGA on a virtual clock, driven the way a driver drives it: port numbers and physical addresses, as the PC decodes them.
import type { AccessSize } from '@splitvisor/abi';
import type { TestContext } from '@splitvisor/device-testkit';
import { createTestContext } from '@splitvisor/device-testkit';
import type { ModeTable, VgaConfig } from '../src/index.ts';
import { Vga } from '../src/index.ts';

export interface Pc {
  readonly context: TestContext;
  readonly vga: Vga;
  outb(port: number, value: number): void;
  outw(port: number, value: number): void;
  inb(port: number): number;
  inw(port: number): number;
  /** A CPU store to physical memory in A0000h–BFFFFh. */
  poke(address: number, value: number, size?: AccessSize): void;
  peek(address: number, size?: AccessSize): number;
}

/** Where the port lives: the VGA's block at 3B0h or the Bochs VBE ports at 1CEh. */
function decode(port: number): { region: string; offset: number } {
  if (port >= 0x1ce && port <= 0x1d0) return { region: 'vbe', offset: port - 0x1ce };
  if (port >= 0x3b0 && port < 0x3e0) return { region: 'ports', offset: port - 0x3b0 };
  throw new RangeError(`port ${port.toString(16)} is not the VGA's`);
}

function window(address: number): number {
  if (address < 0xa_0000 || address >= 0xc_0000) throw new RangeError(`address ${address.toString(16)} is not in the VGA window`);
  return address - 0xa_0000;
}

export function pc(config: VgaConfig = {}): Pc {
  const context = createTestContext();
  const vga = new Vga(context, config);
  return {
    context,
    vga,
    outb: (port, value) => { const at = decode(port); vga.write(at.region, at.offset, 1, value); },
    outw: (port, value) => { const at = decode(port); vga.write(at.region, at.offset, 2, value); },
    inb: (port) => { const at = decode(port); return vga.read(at.region, at.offset, 1); },
    inw: (port) => { const at = decode(port); return vga.read(at.region, at.offset, 2); },
    poke: (address, value, size = 1) => { vga.write('window', window(address), size, value); },
    peek: (address, size = 1) => vga.read('window', window(address), size),
  };
}

/**
 * A BIOS mode set through the parameter table, in the order SeaBIOS's VGA BIOS uses (and with its word writes to the
 * index ports): misc output; sequencer held in synchronous reset while SR01–SR04 change; CRTC unprotected, then
 * CR00–CR18; the attribute controller (flip-flop reset by reading input status 1) with the display off; the graphics
 * controller; display back on (PAS); the DAC from `palette` (6-bit RGB triples, from entry 0).
 */
export function setMode(p: Pc, table: ModeTable, palette?: Uint8Array): void {
  p.outb(0x3c2, table.misc);
  const crtc = (table.misc & 1) !== 0 ? 0x3d4 : 0x3b4;
  const status1 = crtc + 6;
  p.outw(0x3c4, 0x0100);
  table.sequencer.forEach((value, index) => { if (index !== 0) p.outw(0x3c4, value << 8 | index); });
  p.outw(0x3c4, (table.sequencer[0] ?? 3) << 8);
  p.outw(crtc, ((table.crtc[0x11] ?? 0) & 0x7f) << 8 | 0x11);
  table.crtc.forEach((value, index) => { p.outw(crtc, value << 8 | index); });
  p.inb(status1);
  table.attribute.forEach((value, index) => {
    p.outb(0x3c0, index);
    p.outb(0x3c0, value);
  });
  table.graphics.forEach((value, index) => { p.outw(0x3ce, value << 8 | index); });
  p.inb(status1);
  p.outb(0x3c0, 0x20);
  if (palette !== undefined) {
    p.outb(0x3c6, 0xff);
    p.outb(0x3c8, 0);
    for (const component of palette) p.outb(0x3c9, component);
  }
}

/** Writes a string at text cell `cell` with attribute `attribute`, a 16-bit character-attribute word per cell (as vgacon's scr_writew). */
export function printAt(p: Pc, cell: number, text: string, attribute = 0x07, base = 0xb_8000): void {
  Array.from(text).forEach((char, i) => { p.poke(base + (cell + i) * 2, attribute << 8 | (char.codePointAt(0) ?? 0x3f), 2); });
}

export function rgbaAt(frame: { width: number; rgba: Uint8Array }, x: number, y: number): number[] {
  const at = (y * frame.width + x) * 4;
  return Array.from(frame.rgba.subarray(at, at + 4));
}
