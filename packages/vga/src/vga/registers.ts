/**
 * The VGA's register files as the IBM VGA Technical Reference and FreeVGA
 * ("VGA Chipset Reference": General, Sequencer, CRT Controller, Graphics,
 * Attribute Controller and Color registers) lay them out. Bit layouts sit
 * next to each index. Ports are offsets in the `ports` region, which the
 * board puts at 3B0h, so port 3xyh is offset 3xyh − 3B0h.
 */

/** The `ports` region starts at 3B0h: the first port of the monochrome block. */
export const PORT_BASE = 0x3b0;

/** Offsets of the ports within the `ports` region (port − 3B0h). */
export const Port = {
  /** 3B4h/3B5h: CRTC index/data while the misc output selects monochrome decoding. */
  CRTC_INDEX_MONO: 0x04,
  CRTC_DATA_MONO: 0x05,
  /** 3BAh: input status 1 (read) / feature control (write), monochrome. */
  STATUS1_MONO: 0x0a,
  /** 3C0h: attribute address and data write, through the flip-flop. */
  ATTRIBUTE: 0x10,
  /** 3C1h: attribute data read. */
  ATTRIBUTE_READ: 0x11,
  /** 3C2h: misc output (write) / input status 0 (read). */
  MISC_WRITE: 0x12,
  /** 3C3h: video subsystem enable. */
  SUBSYSTEM_ENABLE: 0x13,
  SEQUENCER_INDEX: 0x14,
  SEQUENCER_DATA: 0x15,
  /** 3C6h: PEL mask. */
  PEL_MASK: 0x16,
  /** 3C7h: DAC read index (write) / DAC state (read). */
  DAC_READ_INDEX: 0x17,
  /** 3C8h: DAC write index. */
  DAC_WRITE_INDEX: 0x18,
  /** 3C9h: DAC data, three 6-bit components per entry. */
  DAC_DATA: 0x19,
  /** 3CAh: feature control (read). */
  FEATURE_READ: 0x1a,
  /** 3CCh: misc output (read). */
  MISC_READ: 0x1c,
  GRAPHICS_INDEX: 0x1e,
  GRAPHICS_DATA: 0x1f,
  /** 3D4h/3D5h: CRTC index/data while the misc output selects colour decoding. */
  CRTC_INDEX_COLOR: 0x24,
  CRTC_DATA_COLOR: 0x25,
  /** 3DAh: input status 1 (read) / feature control (write), colour. */
  STATUS1_COLOR: 0x2a,
} as const;

/** Length of the `ports` region: 3B0h–3DFh. */
export const PORT_COUNT = 0x30;

/** Miscellaneous output register (write 3C2h, read 3CCh). */
export const Misc = {
  /** I/OAS: 1 = colour decoding (3Dxh), 0 = monochrome (3Bxh). */
  COLOR: 0x01,
  /** RAM enable: 0 disables CPU access to video memory. */
  RAM_ENABLE: 0x02,
  /** Clock select: 00 = 25.175 MHz (640 dots), 01 = 28.322 MHz (720 dots). */
  CLOCK_SHIFT: 2,
  CLOCK_MASK: 0x03,
  /** Odd/even page select. */
  PAGE_HIGH: 0x20,
  /** Bit 4 is reserved: QEMU drops it on write, and so does this model. */
  WRITABLE: 0xef,
} as const;

/** Input status 1 (3BAh/3DAh read). */
export const Status1 = {
  /** DD: display disabled — the beam is outside the displayed area (horizontal or vertical). */
  DISPLAY_DISABLED: 0x01,
  /** VR: vertical retrace in progress. */
  VERTICAL_RETRACE: 0x08,
} as const;

/** Sequencer indices (3C4h/3C5h). */
export const Seq = {
  RESET: 0x00,
  /** Clocking mode: bit 0 8/9 dot (1 = 8), bit 3 dot clock ÷2, bit 5 screen off. */
  CLOCKING: 0x01,
  /** Map mask: planes written, bits 3–0. */
  MAP_MASK: 0x02,
  /** Character map select: map B in bits 4,1,0, map A in bits 5,3,2. */
  CHARACTER_MAP: 0x03,
  /** Memory mode: bit 1 extended memory, bit 2 odd/even disable, bit 3 chain 4. */
  MEMORY_MODE: 0x04,
} as const;

export const SeqBits = {
  EIGHT_DOT: 0x01,
  HALF_DOT_CLOCK: 0x08,
  SCREEN_OFF: 0x20,
  ODD_EVEN_DISABLE: 0x04,
  CHAIN4: 0x08,
} as const;

/** The sequencer keeps eight registers (index bits 2–0); the bits each one keeps, as QEMU's sequencer does. */
export const SEQ_WRITABLE: readonly number[] = [0x03, 0x3d, 0x0f, 0x3f, 0x0e, 0x00, 0x00, 0xff];
export const SEQ_COUNT = 8;

/** CRT controller indices (3B4h/3B5h or 3D4h/3D5h). */
export const Crtc = {
  HORIZONTAL_TOTAL: 0x00,
  HORIZONTAL_DISPLAY_END: 0x01,
  START_HORIZONTAL_BLANK: 0x02,
  END_HORIZONTAL_BLANK: 0x03,
  START_HORIZONTAL_RETRACE: 0x04,
  END_HORIZONTAL_RETRACE: 0x05,
  VERTICAL_TOTAL: 0x06,
  /** Overflow: bit 0 VT8, 1 VDE8, 2 VRS8, 3 SVB8, 4 LC8, 5 VT9, 6 VDE9, 7 VRS9. */
  OVERFLOW: 0x07,
  PRESET_ROW_SCAN: 0x08,
  /** Maximum scan line: bits 4–0 scan lines per row − 1, bit 6 LC9, bit 7 double scan. */
  MAX_SCAN_LINE: 0x09,
  /** Cursor start: bits 4–0 first line, bit 5 cursor off. */
  CURSOR_START: 0x0a,
  /** Cursor end: bits 4–0 last line, bits 6–5 skew. */
  CURSOR_END: 0x0b,
  START_ADDRESS_HIGH: 0x0c,
  START_ADDRESS_LOW: 0x0d,
  CURSOR_LOCATION_HIGH: 0x0e,
  CURSOR_LOCATION_LOW: 0x0f,
  VERTICAL_RETRACE_START: 0x10,
  /** Vertical retrace end: bits 3–0 end (low 4 bits of the line counter), bit 7 protects CR00–CR07. */
  VERTICAL_RETRACE_END: 0x11,
  VERTICAL_DISPLAY_END: 0x12,
  /** Offset: words per row, in units of 2 plane addresses. */
  OFFSET: 0x13,
  UNDERLINE_LOCATION: 0x14,
  START_VERTICAL_BLANK: 0x15,
  END_VERTICAL_BLANK: 0x16,
  /** Mode control: bit 0 CGA row-scan substitution off, bit 1 Hercules substitution off, bit 2 VT×2, bit 7 sync enable. */
  MODE_CONTROL: 0x17,
  LINE_COMPARE: 0x18,
} as const;

export const CrtcBits = {
  /** CR11 bit 7: CR00–CR07 are write-protected, except CR07 bit 4 (LC8). */
  PROTECT: 0x80,
  /** CR07 bit 4 stays writable under the protect bit. */
  LINE_COMPARE_8: 0x10,
  CURSOR_OFF: 0x20,
  DOUBLE_SCAN: 0x80,
  /** CR17 bit 0 clear: row scan bit 0 replaces address bit 13 (CGA interleave). */
  NO_CGA_SUBSTITUTION: 0x01,
  /** CR17 bit 1 clear: row scan bit 1 replaces address bit 14 (Hercules interleave). */
  NO_HERCULES_SUBSTITUTION: 0x02,
  VERTICAL_TIMING_X2: 0x04,
} as const;

/** The CRTC index is 8 bits wide and every index stores a byte, as in QEMU. */
export const CRTC_COUNT = 256;

/** Graphics controller indices (3CEh/3CFh). */
export const Gfx = {
  SET_RESET: 0x00,
  ENABLE_SET_RESET: 0x01,
  COLOR_COMPARE: 0x02,
  /** Data rotate: bits 2–0 rotate count, bits 4–3 function (replace, AND, OR, XOR). */
  DATA_ROTATE: 0x03,
  READ_MAP: 0x04,
  /** Graphics mode: bits 1–0 write mode, bit 3 read mode, bit 4 host odd/even, bit 5 shift interleave, bit 6 256-colour shift. */
  MODE: 0x05,
  /** Miscellaneous: bit 0 graphics (alphanumerics off), bit 1 chain odd/even, bits 3–2 memory map. */
  MISC: 0x06,
  COLOR_DONT_CARE: 0x07,
  BIT_MASK: 0x08,
} as const;

export const GfxBits = {
  READ_MODE_1: 0x08,
  HOST_ODD_EVEN: 0x10,
  SHIFT_INTERLEAVE: 0x20,
  SHIFT_256: 0x40,
  GRAPHICS: 0x01,
  MAP_SHIFT: 2,
} as const;

/** The graphics controller keeps sixteen (index bits 3–0); the bits each keeps, as QEMU's does. */
export const GFX_WRITABLE: readonly number[] = [0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff, 0, 0, 0, 0, 0, 0, 0];
export const GFX_COUNT = 16;

/** Attribute controller indices (through 3C0h, read at 3C1h). */
export const Attr = {
  /** 00h–0Fh: the sixteen palette registers, 6 bits each. */
  PALETTE_LAST: 0x0f,
  /** Mode control: bit 0 graphics, 2 line graphics (9th column), 3 blink, 6 8-bit pixels, 7 P5/P4 from colour select. */
  MODE_CONTROL: 0x10,
  OVERSCAN: 0x11,
  COLOR_PLANE_ENABLE: 0x12,
  PEL_PANNING: 0x13,
  /** Colour select: bits 1–0 replace P5/P4 (with mode bit 7), bits 3–2 are P7/P6. */
  COLOR_SELECT: 0x14,
} as const;

export const AttrBits = {
  /** Address register bit 5, PAS: set for normal display; while clear the screen is blanked and the palette may be loaded. */
  PALETTE_ADDRESS_SOURCE: 0x20,
  LINE_GRAPHICS: 0x04,
  BLINK: 0x08,
  EIGHT_BIT: 0x40,
  P54_SELECT: 0x80,
} as const;

export const ATTR_COUNT = 0x15;
/** The bits each attribute register keeps (mode control bit 4 is reserved), as QEMU's attribute controller. */
export const ATTR_WRITABLE: readonly number[] = [
  0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f,
  0xef, 0xff, 0x3f, 0x0f, 0x0f,
];

/** DAC state (3C7h read): what the last index write set the DAC up to do. */
export const DacMode = {
  WRITE: 0x00,
  READ: 0x03,
} as const;

/** The feature control register keeps FC1/FC0 and VSS (FreeVGA, "Feature Control Register"). */
export const FEATURE_WRITABLE = 0x0b;
