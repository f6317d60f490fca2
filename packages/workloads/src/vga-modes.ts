/**
 * Setting a standard VGA mode at the register level, for the guests that
 * start from a powered-on VGA with no BIOS to have done it: the register
 * values are those of the IBM VGA Technical Reference's video parameter
 * table for modes 03h (80 × 25 text) and 13h (320 × 200 × 256), and the
 * order is the one register-level mode setters use (FreeVGA, "VGA Chipset
 * Reference"; the same sequence as a VGA BIOS's set-mode, with the
 * miscellaneous output first so that the colour CRTC at 3D4h answers):
 *
 * 1. miscellaneous output (3C2h): colour I/O at 3Dxh, RAM enabled, clock;
 * 2. the sequencer (3C4h/3C5h) held in synchronous reset (SR00 = 01h) while
 *    SR01–SR04 change, then released (SR00 = 03h);
 * 3. the CRTC (3D4h/3D5h): CR11 bit 7 cleared first to unprotect CR00–CR07,
 *    then CR00–CR18 (the table's CR11 protects them again);
 * 4. the graphics controller (3CEh/3CFh): GR00–GR08;
 * 5. the attribute controller (3C0h): before each index/data pair a read of
 *    input status 1 (3DAh) resets its flip-flop to "index"; AR00–AR14 with
 *    PAS clear (screen off), then index 20h: PAS set, palette locked, video on;
 * 6. the DAC: PEL mask FFh (3C6h), write index 0 (3C8h), then red, green
 *    and blue of each entry to 3C9h.
 *
 * Index/data pairs of the sequencer, CRTC and graphics controller are single
 * word writes to the index port (index in the low byte), as a BIOS does.
 */
import type { GuestProgram } from '@splitvisor/scripted-guest';

export const VGA_MISC_WRITE = 0x3c2;
export const VGA_SEQ_INDEX = 0x3c4;
export const VGA_CRTC_INDEX = 0x3d4;
export const VGA_CRTC_DATA = 0x3d5;
export const VGA_GC_INDEX = 0x3ce;
export const VGA_ATTR_INDEX = 0x3c0;
export const VGA_INPUT_STATUS_1 = 0x3da;
export const VGA_PEL_MASK = 0x3c6;
export const VGA_DAC_WRITE_INDEX = 0x3c8;
export const VGA_DAC_DATA = 0x3c9;
/** Attribute address register bit 5: palette address source (video on, palette locked). */
const ATTR_PAS = 0x20;

/**
 * A standard mode as the guest carries it — its own table per mode, as a
 * driver that sets modes without a BIOS does, not the device model's: the
 * values of the IBM VGA Technical Reference's video parameter table, in the
 * order the guest writes them.
 */
export interface VgaModeTable {
  /** Miscellaneous output. */
  readonly misc: number;
  /** SR00–SR04. */
  readonly sequencer: readonly number[];
  /** CR00–CR18. */
  readonly crtc: readonly number[];
  /** GR00–GR08. */
  readonly graphics: readonly number[];
  /** AR00–AR14. */
  readonly attribute: readonly number[];
  /** The DAC entries the guest loads: 6-bit red, green, blue from entry 0. */
  readonly palette: ArrayLike<number>;
}

/**
 * The EGA's 64 colours as 6-bit DAC entries, as a BIOS loads them for the
 * 16-colour modes: index bits 2/1/0 are red, green and blue at two thirds
 * (2Ah), bits 5/4/3 add one third (15h).
 */
function egaPalette(): Uint8Array {
  const palette = new Uint8Array(64 * 3);
  for (let index = 0; index < 64; index++) {
    const level = (primary: number, secondary: number) => ((index >> primary) & 1) * 0x2a + ((index >> secondary) & 1) * 0x15;
    palette.set([level(2, 5), level(1, 4), level(0, 3)], index * 3);
  }
  return palette;
}

/** 3-3-2 RGB over 256 entries: every colour index its own colour, which makes a rendered fill checkable. */
export function rgb332Palette(): number[] {
  const out: number[] = [];
  for (let i = 0; i < 256; i++) out.push(Math.round((((i >> 5) & 7) * 63) / 7), Math.round((((i >> 2) & 7) * 63) / 7), Math.round(((i & 3) * 63) / 3));
  return out;
}

/** 80 × 25 colour text, 9 × 16 cells, 720 × 400 at 70 Hz, B8000h (mode 03h), with the EGA palette. */
export const VGA_MODE_03H: VgaModeTable = {
  misc: 0x67,
  sequencer: [0x03, 0x00, 0x03, 0x00, 0x02],
  crtc: [
    0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00,
    0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff,
  ],
  graphics: [0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff],
  attribute: [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
    0x0c, 0x00, 0x0f, 0x08, 0x00,
  ],
  palette: egaPalette(),
};

/** 320 × 200, 256 colours, chain 4, 70 Hz, A0000h (mode 13h), with a 3-3-2 palette. */
export const VGA_MODE_13H: VgaModeTable = {
  misc: 0x63,
  sequencer: [0x03, 0x01, 0x0f, 0x00, 0x0e],
  crtc: [
    0x5f, 0x4f, 0x50, 0x82, 0x54, 0x80, 0xbf, 0x1f, 0x00, 0x41, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x9c, 0x8e, 0x8f, 0x28, 0x40, 0x96, 0xb9, 0xa3, 0xff,
  ],
  graphics: [0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0f, 0xff],
  attribute: [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x41, 0x00, 0x0f, 0x00, 0x00,
  ],
  palette: rgb332Palette(),
};

/** The register writes that set `mode`, in the order above. */
export function* setVgaMode(mode: VgaModeTable): GuestProgram {
  const word = (port: number, index: number, value: number) => ({ op: 'out', port, value: (value << 8) | index, size: 2 } as const);
  yield { op: 'out', port: VGA_MISC_WRITE, value: mode.misc };
  yield word(VGA_SEQ_INDEX, 0x00, 0x01); // synchronous reset
  for (let i = 1; i < mode.sequencer.length; i++) yield word(VGA_SEQ_INDEX, i, mode.sequencer[i] ?? 0);
  yield word(VGA_SEQ_INDEX, 0x00, mode.sequencer[0] ?? 0x03);
  yield word(VGA_CRTC_INDEX, 0x11, (mode.crtc[0x11] ?? 0) & 0x7f); // unprotect CR00–CR07
  for (let i = 0; i < mode.crtc.length; i++) yield word(VGA_CRTC_INDEX, i, mode.crtc[i] ?? 0);
  for (let i = 0; i < mode.graphics.length; i++) yield word(VGA_GC_INDEX, i, mode.graphics[i] ?? 0);
  for (let i = 0; i < mode.attribute.length; i++) {
    yield { op: 'in', port: VGA_INPUT_STATUS_1 };
    yield { op: 'out', port: VGA_ATTR_INDEX, value: i };
    yield { op: 'out', port: VGA_ATTR_INDEX, value: mode.attribute[i] ?? 0 };
  }
  yield { op: 'in', port: VGA_INPUT_STATUS_1 };
  yield { op: 'out', port: VGA_ATTR_INDEX, value: ATTR_PAS };
  yield { op: 'out', port: VGA_PEL_MASK, value: 0xff };
  yield { op: 'out', port: VGA_DAC_WRITE_INDEX, value: 0 };
  for (const component of Array.from(mode.palette)) yield { op: 'out', port: VGA_DAC_DATA, value: component };
}
