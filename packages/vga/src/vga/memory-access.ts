/**
 * CPU access to video memory through the legacy window A0000h–BFFFFh
 * (FreeVGA, "VGA Memory Organization", "Graphics Registers": memory map
 * select, read modes 0–1, write modes 0–3, data rotate and logical
 * function, set/reset, bit mask; "Sequencer Registers": map mask, chain 4,
 * odd/even).
 *
 * Memory is four planes, packed as QEMU packs them: plane p at plane
 * address a is byte 4a + p. The window offset becomes a CPU address within
 * the selected map, then a plane address and a set of planes:
 * - chain 4 (SR04 bit 3): plane = A mod 4, plane address A ÷ 4 — so the
 *   window is a linear view of memory, which mode 13h and the Bochs VBE
 *   banked window rely on;
 * - odd/even (GR05 bit 4 for the address and the plane read, SR04 bit 2
 *   clear for the planes written): plane address A ÷ 2; reads take plane
 *   (GR04 bit 1) | A0, writes go to planes 0 and 2 for even addresses and
 *   1 and 3 for odd ones, within the map mask;
 * - otherwise planar: plane address A, reads take plane GR04, writes go to
 *   the planes in the map mask.
 * The packing (A ÷ 2, A ÷ 4) is QEMU's; the IBM VGA keeps A with its low
 * bits replaced. Both agree on everything a guest can see in one mode; they
 * differ only for a guest that writes in one addressing mode and reads the
 * same bytes back in another.
 *
 * Every read loads the four latches; the byte returned is the selected
 * plane (read mode 0) or the colour-compare result (read mode 1). Every
 * write goes through the write mode's data path, the logical function and
 * the bit mask, against the latches.
 *
 * A Bochs VBE mode above 4 bpp bypasses all of that: the window is a plain
 * 64 KiB view of linear memory at the bank (as QEMU, whose VBE modes force
 * chained access with plain stores), so a VBE driver need not know what the
 * VGA's graphics controller was left holding.
 */
import { DispiEnable, Dispi } from '../bochs-vbe/dispi.ts';
import { Gfx, GfxBits, Misc, Seq, SeqBits } from './registers.ts';
import type { VgaRegisters } from './state.ts';

/** Length of the `window` region: A0000h–BFFFFh. */
export const WINDOW_BYTES = 0x2_0000;

/** What a read of an unmapped window address (or one past the end of memory) returns: nothing drives the bus. */
export const OPEN_BUS = 0xff;

/** A window offset resolved: the plane address and the planes a read and a write would use. */
export interface WindowTarget {
  readonly planeAddress: number;
  readonly readPlane: number;
  readonly writePlanes: number;
}

/** Where the selected memory map (GR06 bits 3–2) puts a window offset, or −1 if it is outside the map. */
export function cpuAddress(r: VgaRegisters, offset: number): number {
  switch ((r.graphics[Gfx.MISC] ?? 0) >> GfxBits.MAP_SHIFT & 3) {
    case 0: // A0000h–BFFFFh, 128 KiB
      return offset;
    case 1: // A0000h–AFFFFh, 64 KiB: the Bochs VBE bank moves it through memory
      return offset < 0x1_0000 ? offset + bankOffset(r) : -1;
    case 2: // B0000h–B7FFFh, 32 KiB
      return offset >= 0x1_0000 && offset < 0x1_8000 ? offset - 0x1_0000 : -1;
    default: // B8000h–BFFFFh, 32 KiB
      return offset >= 0x1_8000 ? offset - 0x1_8000 : -1;
  }
}

/**
 * The Bochs VBE bank, in bytes, while the interface is enabled. (QEMU keeps
 * its own copy, which an ENABLE write that is not an enable clears while
 * the BANK register keeps its value; here the offset always follows BANK.)
 */
export function bankOffset(r: VgaRegisters): number {
  return ((r.vbe.registers[Dispi.ENABLE] ?? 0) & DispiEnable.ENABLED) !== 0 ? (r.vbe.registers[Dispi.BANK] ?? 0) * 0x1_0000 : 0;
}

/** The byte of linear memory window `offset` reaches in a VBE mode above 4 bpp, −1 if none; undefined outside such modes. */
function vbeLinearByte(r: VgaRegisters, offset: number): number | undefined {
  const enable = r.vbe.registers[Dispi.ENABLE] ?? 0;
  if ((enable & DispiEnable.ENABLED) === 0 || (r.vbe.registers[Dispi.BPP] ?? 0) === 4) return undefined;
  const a = (r.miscOutput & Misc.RAM_ENABLE) === 0 ? -1 : cpuAddress(r, offset);
  return a < r.memory.length ? a : -1;
}

/** The plane address and planes for window `offset`, or undefined when the access touches no memory. */
export function windowTarget(r: VgaRegisters, offset: number): WindowTarget | undefined {
  if ((r.miscOutput & Misc.RAM_ENABLE) === 0) return undefined;
  const a = cpuAddress(r, offset);
  if (a < 0) return undefined;
  const memoryMode = r.sequencer[Seq.MEMORY_MODE] ?? 0;
  const mode = r.graphics[Gfx.MODE] ?? 0;
  const readMap = r.graphics[Gfx.READ_MAP] ?? 0;
  let writePlanes = (r.sequencer[Seq.MAP_MASK] ?? 0) & 0x0f;
  let target: WindowTarget;
  if ((memoryMode & SeqBits.CHAIN4) !== 0) {
    target = { planeAddress: a >>> 2, readPlane: a & 3, writePlanes: writePlanes & (1 << (a & 3)) };
  } else {
    if ((memoryMode & SeqBits.ODD_EVEN_DISABLE) === 0) writePlanes &= (a & 1) !== 0 ? 0b1010 : 0b0101;
    target = (mode & GfxBits.HOST_ODD_EVEN) !== 0
      ? { planeAddress: a >>> 1, readPlane: (readMap & 2) | (a & 1), writePlanes }
      : { planeAddress: a, readPlane: readMap & 3, writePlanes };
  }
  return target.planeAddress * 4 + 3 < r.memory.length ? target : undefined;
}

function loadLatch(memory: Uint8Array, planeAddress: number): number {
  const at = planeAddress * 4;
  return ((memory[at] ?? 0) | (memory[at + 1] ?? 0) << 8 | (memory[at + 2] ?? 0) << 16 | (memory[at + 3] ?? 0) << 24) >>> 0;
}

function planeOf(latch: number, plane: number): number {
  return (latch >>> (plane * 8)) & 0xff;
}

/** Read mode 1: a bit is 1 where every plane in the colour-don't-care mask matches the colour-compare value. */
export function colorCompare(latch: number, compare: number, care: number): number {
  let result = 0xff;
  for (let plane = 0; plane < 4; plane++) {
    if ((care >> plane & 1) === 0) continue;
    const wanted = (compare >> plane & 1) !== 0 ? 0xff : 0x00;
    result &= ~(planeOf(latch, plane) ^ wanted);
  }
  return result & 0xff;
}

function answer(r: VgaRegisters, target: WindowTarget, latch: number): number {
  if (((r.graphics[Gfx.MODE] ?? 0) & GfxBits.READ_MODE_1) === 0) return planeOf(latch, target.readPlane);
  return colorCompare(latch, r.graphics[Gfx.COLOR_COMPARE] ?? 0, r.graphics[Gfx.COLOR_DONT_CARE] ?? 0);
}

/** A CPU read of one byte at window `offset`: loads the latches. Returns undefined (open bus) when no memory answers. */
export function readWindow(r: VgaRegisters, offset: number): number | undefined {
  const linear = vbeLinearByte(r, offset);
  if (linear !== undefined) return linear < 0 ? undefined : r.memory[linear];
  const target = windowTarget(r, offset);
  if (target === undefined) return undefined;
  r.latch = loadLatch(r.memory, target.planeAddress);
  return answer(r, target, r.latch);
}

/** What a read at `offset` would return, without loading the latches. */
export function peekWindow(r: VgaRegisters, offset: number): number | undefined {
  const linear = vbeLinearByte(r, offset);
  if (linear !== undefined) return linear < 0 ? undefined : r.memory[linear];
  const target = windowTarget(r, offset);
  return target === undefined ? undefined : answer(r, target, loadLatch(r.memory, target.planeAddress));
}

function rotateRight(value: number, count: number): number {
  return ((value >>> count) | (value << (8 - count))) & 0xff;
}

/** The logical function of GR03 bits 4–3 applied to the data of one plane and its latch. */
function combine(data: number, latch: number, fn: number): number {
  switch (fn) {
    case 1: return data & latch;
    case 2: return data | latch;
    case 3: return data ^ latch;
    default: return data;
  }
}

/** A CPU write of one byte at window `offset`; returns false when no memory takes it. */
export function writeWindow(r: VgaRegisters, offset: number, value: number): boolean {
  const linear = vbeLinearByte(r, offset);
  if (linear !== undefined) {
    if (linear >= 0) r.memory[linear] = value & 0xff;
    return linear >= 0;
  }
  const target = windowTarget(r, offset);
  if (target === undefined) return false;
  const g = r.graphics;
  const writeMode = (g[Gfx.MODE] ?? 0) & 3;
  const rotate = g[Gfx.DATA_ROTATE] ?? 0;
  const rotated = rotateRight(value & 0xff, rotate & 7);
  const fn = (rotate >> 3) & 3;
  const setReset = g[Gfx.SET_RESET] ?? 0;
  const enableSetReset = g[Gfx.ENABLE_SET_RESET] ?? 0;
  const bitMask = g[Gfx.BIT_MASK] ?? 0;
  const at = target.planeAddress * 4;
  for (let plane = 0; plane < 4; plane++) {
    if ((target.writePlanes >> plane & 1) === 0) continue;
    const latch = planeOf(r.latch, plane);
    const expanded = (bits: number) => ((bits >> plane & 1) !== 0 ? 0xff : 0x00);
    let byte: number;
    switch (writeMode) {
      case 0: {
        // Rotated CPU data, or the set/reset colour on planes with set/reset enabled.
        const data = (enableSetReset >> plane & 1) !== 0 ? expanded(setReset) : rotated;
        byte = merge(combine(data, latch, fn), latch, bitMask);
        break;
      }
      case 1:
        // The latches as they were loaded: a 4-plane copy (mask and function do not apply).
        byte = latch;
        break;
      case 2:
        // CPU bits 3–0 are the colour, one bit per plane; the data is not rotated.
        byte = merge(combine(expanded(value), latch, fn), latch, bitMask);
        break;
      default:
        // The set/reset colour, drawn through the rotated CPU data ANDed with the bit mask.
        byte = merge(combine(expanded(setReset), latch, fn), latch, bitMask & rotated);
        break;
    }
    r.memory[at + plane] = byte;
  }
  return true;
}

/** Bits set in the bit mask take the new data; the others keep the latch. */
function merge(data: number, latch: number, mask: number): number {
  return ((data & mask) | (latch & ~mask)) & 0xff;
}
