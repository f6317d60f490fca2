export type { Framebuffer, VgaConfig } from './vga/vga.ts';
export { Vga } from './vga/vga.ts';
export type { DacState, VbeState, VgaState, VgaStateV1 } from './vga/state.ts';
export { MAX_MEMORY_BYTES, PLANAR_BYTES, VGA_MODEL, VGA_STATE_VERSION, VRAM_PAGE_BYTES } from './vga/state.ts';
export type { DisplayMode } from './vga/display.ts';
export type { TextCursor, TextScreen } from './vga/render-text.ts';
export type { CrtcTiming } from './vga/crtc-timing.ts';
export { DOT_CLOCK_HZ, beamAt, crtcTiming, inputStatus1At, nextRetraceStart, refreshHz } from './vga/crtc-timing.ts';
export { OPEN_BUS, WINDOW_BYTES, colorCompare } from './vga/memory-access.ts';
export type { ModeTable } from './vga/standard-modes.ts';
export { MODE_03H, MODE_12H, MODE_13H, STANDARD_MODES, egaPalette, mode13Palette } from './vga/standard-modes.ts';
export { CP437_UNICODE } from './vga/cp437.ts';
export {
  ATTR_COUNT, ATTR_WRITABLE, Attr, AttrBits, CRTC_COUNT, Crtc, CrtcBits, DacMode, FEATURE_WRITABLE, GFX_COUNT, GFX_WRITABLE, Gfx, GfxBits,
  Misc, PORT_BASE, PORT_COUNT, Port, SEQ_COUNT, SEQ_WRITABLE, Seq, SeqBits, Status1,
} from './vga/registers.ts';
export {
  DISPI_ID_FIRST, DISPI_ID_LATEST, DISPI_MAX_BPP, DISPI_MAX_XRES, DISPI_MAX_YRES, DISPI_REGISTER_COUNT, Dispi, DispiEnable,
  fixupGeometry, isSupportedBpp, lineBytes, startByte, storageBits,
} from './bochs-vbe/dispi.ts';
