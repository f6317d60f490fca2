/**
 * The Bochs VBE "DISPI" interface (Bochs `vbe.h` documentation; the same
 * ports and registers in QEMU's std VGA): an index port at 1CEh and a data
 * port at 1CFh (1D0h answers as data too, as in QEMU), both 16 bits wide,
 * through which a driver sets a linear-framebuffer mode by resolution and
 * depth instead of by CRTC timings.
 *
 * Register values are clamped to what the memory can hold whenever one of
 * the geometry registers is written while the interface is enabled; the
 * clamping rules are QEMU's as observed (a guest cannot be told "no", so
 * every value is moved to the nearest one that fits).
 */

export const Dispi = {
  ID: 0x0,
  XRES: 0x1,
  YRES: 0x2,
  BPP: 0x3,
  ENABLE: 0x4,
  BANK: 0x5,
  VIRT_WIDTH: 0x6,
  VIRT_HEIGHT: 0x7,
  X_OFFSET: 0x8,
  Y_OFFSET: 0x9,
  /** Read-only: video memory in 64 KiB units. */
  VIDEO_MEMORY_64K: 0xa,
} as const;

/** Registers 0–9 are stored; 0Ah is computed. */
export const DISPI_REGISTER_COUNT = 10;

export const DispiEnable = {
  ENABLED: 0x01,
  /** While set, XRES/YRES/BPP read back the maxima. */
  GETCAPS: 0x02,
  /** The DAC takes 8-bit components instead of 6-bit ones. */
  DAC_8BIT: 0x20,
  LFB_ENABLED: 0x40,
  /** Enabling does not clear the framebuffer. */
  NO_CLEAR_MEMORY: 0x80,
} as const;

/** B0C0h … B0C5h: the interface revisions a driver may ask for; QEMU powers up at B0C5h. */
export const DISPI_ID_FIRST = 0xb0c0;
export const DISPI_ID_LATEST = 0xb0c5;

export const DISPI_MAX_XRES = 16000;
export const DISPI_MAX_YRES = 12000;
export const DISPI_MAX_BPP = 32;

/** The depth a BPP register value stands for: 15 is stored as 15 but takes 16 bits; anything unknown becomes 8. */
export function storageBits(bpp: number): number {
  return bpp === 15 ? 16 : bpp;
}

export function isSupportedBpp(bpp: number): boolean {
  return bpp === 4 || bpp === 8 || bpp === 15 || bpp === 16 || bpp === 24 || bpp === 32;
}

/** Bytes per line of the virtual screen. */
export function lineBytes(registers: readonly number[]): number {
  return Math.floor(((registers[Dispi.VIRT_WIDTH] ?? 0) * storageBits(registers[Dispi.BPP] ?? 8)) / 8);
}

/** The byte of video memory where the visible screen starts. */
export function startByte(registers: readonly number[]): number {
  const bits = storageBits(registers[Dispi.BPP] ?? 8);
  return Math.floor(((registers[Dispi.X_OFFSET] ?? 0) * bits) / 8) + (registers[Dispi.Y_OFFSET] ?? 0) * lineBytes(registers);
}

/**
 * Moves every geometry register of an enabled interface to the nearest value
 * that fits `memoryBytes`: an unknown depth becomes 8 bpp; widths are whole
 * multiples of 8 pixels within 8 … 16000 and the virtual width at least the
 * visible one; the height at least 1 and at most what memory holds; the
 * panning offsets fall back to 0 when the screen would run past the end of
 * memory; VIRT_HEIGHT reports how many lines memory holds. Returns whether
 * anything was moved.
 */
export function fixupGeometry(registers: number[], memoryBytes: number): boolean {
  const before = registers.slice();
  if (!isSupportedBpp(registers[Dispi.BPP] ?? 0)) registers[Dispi.BPP] = 8;
  const clampWidth = (value: number) => Math.min(value & ~7, DISPI_MAX_XRES);
  const xres = clampWidth(registers[Dispi.XRES] ?? 0) || 8;
  registers[Dispi.XRES] = xres;
  registers[Dispi.VIRT_WIDTH] = Math.max(clampWidth(registers[Dispi.VIRT_WIDTH] ?? 0), xres);
  const line = lineBytes(registers);
  const linesInMemory = line === 0 ? 0 : Math.floor(memoryBytes / line);
  const yres = Math.min(Math.max(registers[Dispi.YRES] ?? 0, 1), DISPI_MAX_YRES, linesInMemory);
  registers[Dispi.YRES] = yres;
  registers[Dispi.X_OFFSET] = Math.min(registers[Dispi.X_OFFSET] ?? 0, DISPI_MAX_XRES);
  registers[Dispi.Y_OFFSET] = Math.min(registers[Dispi.Y_OFFSET] ?? 0, DISPI_MAX_YRES);
  const screenBytes = yres * line;
  if (startByte(registers) + screenBytes > memoryBytes) {
    registers[Dispi.Y_OFFSET] = 0;
    if (startByte(registers) + screenBytes > memoryBytes) registers[Dispi.X_OFFSET] = 0;
  }
  registers[Dispi.VIRT_HEIGHT] = Math.min(linesInMemory, 0xffff);
  // VIRT_HEIGHT is derived, not asked for: only the registers a driver wrote count as moved.
  return before.some((value, i) => i !== Dispi.VIRT_HEIGHT && value !== registers[i]);
}
