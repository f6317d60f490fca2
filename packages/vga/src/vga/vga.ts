/**
 * The IBM VGA (IBM VGA Technical Reference; FreeVGA's "VGA Chipset
 * Reference"), with the Bochs VBE extension QEMU's std VGA adds. Where the
 * references are silent, QEMU 7.2's std VGA as observed in the shared traces;
 * each such place says so.
 *
 * Regions (offsets; the board owns the addresses):
 * - `ports`: 3B0h–3DFh (48 ports, byte or word access; a word access is the
 *   byte at the port then the byte at the next, so `outw 3C4h, 0204h` sets
 *   the index and then writes the register);
 * - `window`: the legacy memory window A0000h–BFFFFh (128 KiB);
 * - `vbe`: the Bochs DISPI index (1CEh) and data (1CFh, 1D0h) ports;
 * - `lfb`: the whole video memory as a linear framebuffer (QEMU's PCI BAR 0);
 * - `rom`, when the VGA is given one: its option ROM (the VGA BIOS), read-only,
 *   for the board to put behind the std VGA's PCI expansion ROM BAR (PCI
 *   Local Bus Specification 3.0 §6.2.5.2), where firmware copies it from.
 * There are no irq outputs (the VGA's vertical retrace interrupt is not
 * wired on the PC boards QEMU models).
 */
import type { AccessSize, Device, DeviceContext, DeviceProgram, FastPathHints, IoRegion } from '@splitvisor/abi';
import { expectState, ticksAt } from '@splitvisor/abi';
import {
  DISPI_ID_FIRST, DISPI_ID_LATEST, DISPI_MAX_BPP, DISPI_MAX_XRES, DISPI_MAX_YRES, DispiEnable, Dispi, fixupGeometry, lineBytes,
} from '../bochs-vbe/dispi.ts';
import type { CrtcTiming } from './crtc-timing.ts';
import { crtcTiming, inputStatus1At } from './crtc-timing.ts';
import type { DisplayMode } from './display.ts';
import { displayMode, vbeEnabled } from './display.ts';
import { OPEN_BUS, WINDOW_BYTES, peekWindow, readWindow, writeWindow } from './memory-access.ts';
import { drawGraphics } from './render-graphics.ts';
import { StatusScratch, statusProgram, statusScratch } from './status-program.ts';
import type { TextScreen } from './render-text.ts';
import { drawText, textScreen } from './render-text.ts';
import {
  ATTR_COUNT, ATTR_WRITABLE, Attr, AttrBits, Crtc, CrtcBits, DacMode, FEATURE_WRITABLE, GFX_WRITABLE, Gfx, GfxBits, Misc, PORT_BASE,
  PORT_COUNT, Port, SEQ_WRITABLE, Seq, SeqBits,
} from './registers.ts';
import { STANDARD_MODES, egaPalette, mode13Palette } from './standard-modes.ts';
import type { VgaRegisters, VgaState } from './state.ts';
import type { VgaStateV1 } from './state.ts';
import { MAX_MEMORY_BYTES, PLANAR_BYTES, VGA_MODEL, VGA_STATE_VERSION, checkState, exportRegisters, importRegisters, migrateState, powerOnRegisters } from './state.ts';

export interface VgaConfig {
  /**
   * Video memory in bytes: a multiple of 64 KiB from 256 KiB (the VGA's four
   * 64 KiB planes, the default) to 64 MiB. More only serves the Bochs VBE
   * modes (QEMU's std VGA has 16 MiB, which its VBE reports as 100h × 64 KiB).
   */
  readonly memoryBytes?: number;
  /**
   * What the registers hold when the device is created: `reset` (all zero,
   * as out of QEMU's reset; a BIOS sets a mode), or a standard mode already
   * set as a BIOS leaves it (registers, DAC palette; mode 03h also clears
   * the text page to white-on-black spaces), for guests that run without one.
   */
  readonly initialMode?: 'reset' | 0x03 | 0x12 | 0x13;
  /**
   * The option ROM the region `rom` answers, byte for byte, as long as it is
   * (the board gives it as its ROM BAR decodes it: QEMU's vgabios-stdvga.bin
   * padded with zeros to 64 KiB). Host configuration, not state: a VGA made
   * anew is given the same. None: no `rom` region.
   */
  readonly optionRom?: Uint8Array;
}

export interface Framebuffer {
  readonly mode: 'text' | 'graphics' | 'blank';
  readonly width: number;
  readonly height: number;
  /** width × height pixels of red, green, blue, alpha (255), row by row from the top left. */
  readonly rgba: Uint8Array;
}

const PORTS_REGION = 'ports';
const WINDOW_REGION = 'window';
const VBE_REGION = 'vbe';
const LFB_REGION = 'lfb';
const ROM_REGION = 'rom';
/** `vbe`: index at offset 0 (1CEh), data at 1 (1CFh) and 2 (1D0h). */
const VBE_PORTS = 3;

type Anomaly = 'openBusReads' | 'ignoredWrites' | 'protectedCrtcWrites' | 'lockedPaletteWrites' | 'unmappedWindowAccesses' | 'vbeAdjustments';

const STATUS_PROGRAMS: readonly DeviceProgram[] = [
  { region: PORTS_REGION, offset: Port.STATUS1_MONO, length: 1, program: statusProgram(false) },
  { region: PORTS_REGION, offset: Port.STATUS1_COLOR, length: 1, program: statusProgram(true) },
];

export class Vga implements Device<VgaState> {
  readonly model: typeof VGA_MODEL = VGA_MODEL;
  readonly regions: readonly IoRegion[];
  readonly hints: FastPathHints;
  private readonly context: DeviceContext;
  private readonly memoryBytes: number;
  private readonly optionRom: Uint8Array | undefined;
  private r: VgaRegisters;
  private readonly odd: Record<Anomaly, number> = {
    openBusReads: 0, ignoredWrites: 0, protectedCrtcWrites: 0, lockedPaletteWrites: 0, unmappedWindowAccesses: 0, vbeAdjustments: 0,
  };

  constructor(context: DeviceContext, config: VgaConfig = {}) {
    this.context = context;
    const memoryBytes = config.memoryBytes ?? PLANAR_BYTES;
    if (!Number.isInteger(memoryBytes) || memoryBytes < PLANAR_BYTES || memoryBytes > MAX_MEMORY_BYTES || memoryBytes % 0x1_0000 !== 0) {
      throw new RangeError(`vga memoryBytes must be a multiple of 64 KiB from 256 KiB to 64 MiB, not ${memoryBytes}`);
    }
    this.memoryBytes = memoryBytes;
    if (config.optionRom?.length === 0) throw new RangeError('a vga optionRom has at least one byte');
    this.optionRom = config.optionRom?.slice();
    this.regions = [
      { name: PORTS_REGION, space: 'port', length: PORT_COUNT, sizes: [1, 2] },
      { name: WINDOW_REGION, space: 'mmio', length: WINDOW_BYTES, sizes: [1, 2, 4] },
      { name: VBE_REGION, space: 'port', length: VBE_PORTS, sizes: [1, 2] },
      { name: LFB_REGION, space: 'mmio', length: memoryBytes, sizes: [1, 2, 4] },
      ...(this.optionRom === undefined ? [] : [{ name: ROM_REGION, space: 'mmio', length: this.optionRom.length, sizes: [1, 2, 4] } as const]),
    ];
    const index = (port: number) => ({ region: PORTS_REGION, offset: port - PORT_BASE, length: 1 });
    this.hints = {
      // Memory writes and index selections have no effect a later access could see sooner than it reaches the device
      // (QEMU registers its VGA memory for KVM's coalesced MMIO).
      coalescedWrites: [
        { region: WINDOW_REGION, offset: 0, length: WINDOW_BYTES },
        { region: LFB_REGION, offset: 0, length: memoryBytes },
        index(0x3b4), index(0x3c4), index(0x3ce), index(0x3d4),
      ],
      cachedReads: [{ region: PORTS_REGION, offset: Port.MISC_READ, length: 1, invalidatedBy: [{ region: PORTS_REGION, offset: Port.MISC_WRITE, length: 1 }] }],
    };
    this.r = powerOnRegisters(memoryBytes);
    const mode = config.initialMode ?? 'reset';
    if (mode !== 'reset') this.setStandardMode(mode);
  }

  // --- the Device contract ----------------------------------------------------------

  /** Input status 1 at either port, answered in the kernel from the published timing (`status-program.ts`). */
  readonly programs: readonly DeviceProgram[] = STATUS_PROGRAMS;

  programScratch(): Uint8Array {
    const timing = this.timing();
    const color = (this.r.miscOutput & Misc.COLOR) !== 0;
    return statusScratch(timing, ticksAt(this.context.now(), timing.dotClockHz), color, this.r.attributeDataNext);
  }

  /** A status read the program answered put the attribute flip-flop back to "address". */
  adoptProgramScratch(scratch: Uint8Array): void {
    this.r.attributeDataNext = scratch[StatusScratch.attributeDataNext] === 1;
  }

  /**
   * Misc output (3CCh) reads back what 3C2h wrote and nothing else changes
   * it: a domain may answer it. Input status 1, the other status register,
   * is a function of time (the retrace bits) whose read resets the
   * attribute flip-flop: never answered from a value.
   */
  cachedRead(region: string, offset: number): number | undefined {
    return region === PORTS_REGION && offset === Port.MISC_READ ? this.r.miscOutput : undefined;
  }

  read(region: string, offset: number, size: AccessSize): number {
    // Lowest address first (the latches keep the last byte read), assembled little-endian.
    let value = 0;
    for (let i = 0; i < size; i++) value += this.readByte(region, offset + i, i) * 2 ** (8 * i);
    return value;
  }

  write(region: string, offset: number, size: AccessSize, value: number): void {
    if (region === VBE_REGION) {
      this.writeVbe(offset, value & (size === 1 ? 0xff : 0xffff));
      return;
    }
    // Lowest address first: a word written to an index port selects the register, then writes it.
    for (let i = 0; i < size; i++) this.writeByte(region, offset + i, (value >>> (8 * i)) & 0xff);
  }

  getState(): VgaState {
    return { model: VGA_MODEL, version: VGA_STATE_VERSION, ...exportRegisters(this.r) };
  }

  /** Takes a version 2 record, or a version 1 record migrated (its whole video memory as written pages). */
  setState(state: VgaState | VgaStateV1): void {
    const current = state.version === 1 ? migrateState(state) : state;
    expectState(current, VGA_MODEL, VGA_STATE_VERSION);
    checkState(current, this.memoryBytes);
    this.r = importRegisters(current);
  }

  anomalies(): Readonly<Record<string, number>> {
    return { ...this.odd };
  }

  /** Counts guest input the hardware ignores or answers oddly, with a log line (a window access outside the map is routine probing: debug). */
  private note(anomaly: Anomaly, message: () => string): void {
    this.odd[anomaly]++;
    if (anomaly === 'unmappedWindowAccesses') this.context.log.debug(`vga: ${message()}`);
    else this.context.log.warn(`vga: ${message()}`);
  }

  // --- host API ---------------------------------------------------------------------

  /** What the screen shows now: text geometry, graphics geometry, or blank. */
  displayMode(): DisplayMode {
    return displayMode(this.r);
  }

  /** The text screen as rows of characters (code page 437 as Unicode), attributes and cursor; empty rows outside text modes. */
  textScreen(): TextScreen {
    const mode = displayMode(this.r);
    if (mode.kind !== 'text') return { mode: mode.kind, columns: 0, rows: [], attributes: [], cursor: undefined };
    return textScreen(this.r, mode);
  }

  /** The screen as RGBA pixels: graphics modes pixel for pixel, text modes drawn with the font in plane 2. */
  framebuffer(): Framebuffer {
    const mode = displayMode(this.r);
    if (mode.kind === 'blank') return { mode: 'blank', width: 0, height: 0, rgba: new Uint8Array(0) };
    if (mode.kind === 'text') {
      const width = mode.columns * mode.characterWidth;
      const height = mode.rows * mode.characterHeight;
      const rgba = new Uint8Array(width * height * 4);
      drawText(this.r, mode, rgba);
      return { mode: 'text', width, height, rgba };
    }
    const rgba = new Uint8Array(mode.width * mode.height * 4);
    drawGraphics(this.r, mode, rgba);
    return { mode: 'graphics', width: mode.width, height: mode.height, rgba };
  }

  /** The frame timing the CRTC registers program now. */
  timing(): CrtcTiming {
    return crtcTiming(this.r.miscOutput, this.r.sequencer, this.r.crtc);
  }

  /** Input status 1 as a read would answer it now, without resetting the attribute flip-flop. */
  inputStatus1(): number {
    return inputStatus1At(this.timing(), this.context.now());
  }

  /** Byte `address` of plane `plane` (0–3), for inspection. */
  planeByte(plane: number, address: number): number {
    return this.r.memory[address * 4 + (plane & 3)] ?? OPEN_BUS;
  }

  /** What a CPU read of window `offset` would return now, without loading the latches. */
  peekWindow(offset: number): number {
    return peekWindow(this.r, offset) ?? OPEN_BUS;
  }

  // --- bytes --------------------------------------------------------------------------

  /** Byte `offset` of `region`; `lane` is its position in the access (the VBE ports answer 16 bits at once). */
  private readByte(region: string, offset: number, lane: number): number {
    switch (region) {
      case PORTS_REGION:
        if (offset < PORT_COUNT) return this.readPort(offset);
        break;
      case WINDOW_REGION: {
        if (offset >= WINDOW_BYTES) break;
        const value = readWindow(this.r, offset);
        if (value !== undefined) return value;
        this.note('unmappedWindowAccesses', () => `read of window offset ${hex(offset)} outside the memory map (or memory)`);
        return OPEN_BUS;
      }
      case VBE_REGION:
        if (offset - lane < VBE_PORTS) return (this.readVbe(offset - lane) >> (8 * lane)) & 0xff;
        break;
      case LFB_REGION:
        if (offset < this.memoryBytes) return this.r.memory[offset] ?? OPEN_BUS;
        break;
      case ROM_REGION: {
        const byte = this.optionRom?.[offset];
        if (byte !== undefined) return byte;
        break;
      }
      default:
        break;
    }
    this.note('openBusReads', () => `read of ${region} offset ${hex(offset)}, which nothing decodes`);
    return OPEN_BUS;
  }

  private writeByte(region: string, offset: number, value: number): void {
    switch (region) {
      case PORTS_REGION:
        if (offset < PORT_COUNT) {
          this.writePort(offset, value);
          return;
        }
        break;
      case WINDOW_REGION:
        if (offset >= WINDOW_BYTES) break;
        if (!writeWindow(this.r, offset, value)) this.note('unmappedWindowAccesses', () => `write of window offset ${hex(offset)} outside the memory map (or memory)`);
        return;
      case LFB_REGION:
        if (offset < this.memoryBytes) {
          this.r.memory[offset] = value;
          return;
        }
        break;
      case ROM_REGION:
        if (this.optionRom !== undefined && offset < this.optionRom.length) {
          this.note('ignoredWrites', () => `write of ${hex(value)} to option ROM offset ${hex(offset)}, which is read-only`);
          return;
        }
        break;
      default:
        break;
    }
    this.note('ignoredWrites', () => `write of ${hex(value)} to ${region} offset ${hex(offset)}, which nothing decodes`);
  }

  // --- ports --------------------------------------------------------------------------

  /** The CRTC and input status 1 answer at 3Dxh with colour decoding (misc output bit 0) and at 3Bxh without. */
  private inactive(offset: number): boolean {
    const color = (this.r.miscOutput & Misc.COLOR) !== 0;
    return color ? offset < 0x10 : offset >= 0x20;
  }

  private readPort(offset: number): number {
    const r = this.r;
    if (this.inactive(offset)) {
      this.note('openBusReads', () => `read of port ${hex(PORT_BASE + offset)}, not decoded with misc output ${hex(r.miscOutput)}`);
      return OPEN_BUS;
    }
    switch (offset) {
      case Port.CRTC_INDEX_MONO:
      case Port.CRTC_INDEX_COLOR:
        return r.crtcIndex;
      case Port.CRTC_DATA_MONO:
      case Port.CRTC_DATA_COLOR:
        return r.crtc[r.crtcIndex] ?? 0;
      case Port.STATUS1_MONO:
      case Port.STATUS1_COLOR:
        // Reading input status 1 puts the attribute flip-flop back to "address".
        r.attributeDataNext = false;
        return this.inputStatus1();
      case Port.ATTRIBUTE:
        return r.attributeIndex;
      case Port.ATTRIBUTE_READ: {
        const index = r.attributeIndex & 0x1f;
        return index < ATTR_COUNT ? (r.attribute[index] ?? 0) : 0;
      }
      case Port.MISC_WRITE:
        // Input status 0: no switch sense and no retrace interrupt pending, as QEMU answers.
        return 0;
      case Port.SEQUENCER_INDEX:
        return r.sequencerIndex;
      case Port.SEQUENCER_DATA:
        return r.sequencer[r.sequencerIndex] ?? 0;
      case Port.PEL_MASK:
        return r.dac.pelMask;
      case Port.DAC_READ_INDEX:
        return r.dac.mode;
      case Port.DAC_WRITE_INDEX:
        return r.dac.writeIndex;
      case Port.DAC_DATA:
        return this.readDacData();
      case Port.FEATURE_READ:
        return r.featureControl;
      case Port.MISC_READ:
        return r.miscOutput;
      case Port.GRAPHICS_INDEX:
        return r.graphicsIndex;
      case Port.GRAPHICS_DATA:
        return r.graphics[r.graphicsIndex] ?? 0;
      case Port.SUBSYSTEM_ENABLE:
      case 0x1b:
      case 0x1d:
        // Decoded by the VGA (QEMU's 3C0h–3CFh block) but holding no register: they read 0.
        return 0;
      default:
        this.note('openBusReads', () => `read of port ${hex(PORT_BASE + offset)}, which the VGA does not decode`);
        return OPEN_BUS;
    }
  }

  private writePort(offset: number, value: number): void {
    const r = this.r;
    if (this.inactive(offset)) {
      this.note('ignoredWrites', () => `write of ${hex(value)} to port ${hex(PORT_BASE + offset)}, not decoded with misc output ${hex(r.miscOutput)}`);
      return;
    }
    switch (offset) {
      case Port.CRTC_INDEX_MONO:
      case Port.CRTC_INDEX_COLOR:
        r.crtcIndex = value;
        return;
      case Port.CRTC_DATA_MONO:
      case Port.CRTC_DATA_COLOR:
        this.writeCrtc(r.crtcIndex, value);
        return;
      case Port.STATUS1_MONO:
      case Port.STATUS1_COLOR:
        r.featureControl = value & FEATURE_WRITABLE;
        return;
      case Port.ATTRIBUTE:
        this.writeAttribute(value);
        return;
      case Port.MISC_WRITE:
        r.miscOutput = value & Misc.WRITABLE;
        return;
      case Port.SUBSYSTEM_ENABLE:
        return;
      case Port.SEQUENCER_INDEX:
        r.sequencerIndex = value & 7;
        return;
      case Port.SEQUENCER_DATA:
        r.sequencer[r.sequencerIndex] = value & (SEQ_WRITABLE[r.sequencerIndex] ?? 0);
        return;
      case Port.PEL_MASK:
        r.dac.pelMask = value;
        return;
      case Port.DAC_READ_INDEX:
        r.dac.readIndex = value;
        r.dac.component = 0;
        r.dac.mode = DacMode.READ;
        return;
      case Port.DAC_WRITE_INDEX:
        r.dac.writeIndex = value;
        r.dac.component = 0;
        r.dac.mode = DacMode.WRITE;
        return;
      case Port.DAC_DATA:
        this.writeDacData(value);
        return;
      case Port.GRAPHICS_INDEX:
        r.graphicsIndex = value & 0x0f;
        return;
      case Port.GRAPHICS_DATA:
        r.graphics[r.graphicsIndex] = value & (GFX_WRITABLE[r.graphicsIndex] ?? 0);
        return;
      default:
        // Read-only ports (3C1h, 3CAh, 3CCh) and ports the VGA does not decode.
        this.note('ignoredWrites', () => `write of ${hex(value)} to port ${hex(PORT_BASE + offset)}, which takes no writes`);
        return;
    }
  }

  /** CR11 bit 7 write-protects CR00–CR07, all but CR07's LC8 bit, which a driver moving the split screen still needs. */
  private writeCrtc(index: number, value: number): void {
    const crtc = this.r.crtc;
    if (((crtc[Crtc.VERTICAL_RETRACE_END] ?? 0) & CrtcBits.PROTECT) !== 0 && index <= Crtc.OVERFLOW) {
      if (index === Crtc.OVERFLOW) crtc[index] = ((crtc[index] ?? 0) & ~CrtcBits.LINE_COMPARE_8) | (value & CrtcBits.LINE_COMPARE_8);
      this.note('protectedCrtcWrites', () => `write of ${hex(value)} to CR${hex(index)} while CR11 bit 7 protects CR00–CR07`);
      return;
    }
    crtc[index] = value;
  }

  /** 3C0h: an address (index and PAS) or a data byte, as the flip-flop says; each write flips it. */
  private writeAttribute(value: number): void {
    const r = this.r;
    if (!r.attributeDataNext) {
      r.attributeIndex = value & 0x3f;
    } else {
      const index = r.attributeIndex & 0x1f;
      if (index >= ATTR_COUNT) {
        this.note('ignoredWrites', () => `write of ${hex(value)} to attribute register ${hex(index)}, which does not exist`);
      } else if (index <= Attr.PALETTE_LAST && (r.attributeIndex & AttrBits.PALETTE_ADDRESS_SOURCE) !== 0) {
        // While PAS is set the palette registers feed the display and cannot be written (FreeVGA, "Attribute Address Register").
        this.note('lockedPaletteWrites', () => `write of ${hex(value)} to palette register ${hex(index)} while PAS is set`);
      } else {
        r.attribute[index] = value & (ATTR_WRITABLE[index] ?? 0);
      }
    }
    r.attributeDataNext = !r.attributeDataNext;
  }

  private dac8Bit(): boolean {
    return ((this.r.vbe.registers[Dispi.ENABLE] ?? 0) & DispiEnable.DAC_8BIT) !== 0;
  }

  /**
   * 3C9h: red, green, blue of the entry at the read index; after blue the
   * index moves on. One component counter serves reads and writes (QEMU's
   * `dac_sub_index`); the indices wrap at 256.
   */
  private readDacData(): number {
    const dac = this.r.dac;
    const value = dac.palette[dac.readIndex * 3 + dac.component] ?? 0;
    if (++dac.component === 3) {
      dac.component = 0;
      dac.readIndex = (dac.readIndex + 1) & 0xff;
    }
    return value;
  }

  /** Components gather until blue arrives, then the entry at the write index changes and the index moves on. */
  private writeDacData(value: number): void {
    const dac = this.r.dac;
    // The VGA's DAC keeps 6 bits per component; the Bochs VBE 8-bit DAC mode keeps 8.
    dac.staged[dac.component] = value & (this.dac8Bit() ? 0xff : 0x3f);
    if (++dac.component === 3) {
      dac.palette.set(dac.staged, dac.writeIndex * 3);
      dac.component = 0;
      dac.writeIndex = (dac.writeIndex + 1) & 0xff;
    }
  }

  // --- Bochs VBE ----------------------------------------------------------------------

  private readVbe(offset: number): number {
    const vbe = this.r.vbe;
    if (offset === 0) return vbe.index;
    const index = vbe.index;
    const registers = vbe.registers;
    if (index === Dispi.VIDEO_MEMORY_64K) return this.memoryBytes >>> 16;
    if (index >= registers.length) return 0;
    if (((registers[Dispi.ENABLE] ?? 0) & DispiEnable.GETCAPS) !== 0) {
      if (index === Dispi.XRES) return DISPI_MAX_XRES;
      if (index === Dispi.YRES) return DISPI_MAX_YRES;
      if (index === Dispi.BPP) return DISPI_MAX_BPP;
    }
    return registers[index] ?? 0;
  }

  private writeVbe(offset: number, value: number): void {
    const vbe = this.r.vbe;
    if (offset >= VBE_PORTS) {
      this.note('ignoredWrites', () => `write of ${hex(value)} to vbe offset ${hex(offset)}, which nothing decodes`);
      return;
    }
    if (offset === 0) {
      vbe.index = value;
      return;
    }
    const registers = vbe.registers;
    switch (vbe.index) {
      case Dispi.ID:
        if (value >= DISPI_ID_FIRST && value <= DISPI_ID_LATEST) registers[Dispi.ID] = value;
        else this.note('ignoredWrites', () => `VBE ID ${hex(value)} is no interface revision`);
        return;
      case Dispi.XRES:
      case Dispi.YRES:
      case Dispi.BPP:
      case Dispi.VIRT_WIDTH:
      case Dispi.X_OFFSET:
      case Dispi.Y_OFFSET:
        registers[vbe.index] = value;
        if (vbeEnabled(this.r)) {
          this.fixupVbe();
          this.programVgaForVbe();
        }
        return;
      case Dispi.BANK: {
        const banks = (this.memoryBytes >>> 16) - 1;
        registers[Dispi.BANK] = value & ((registers[Dispi.BPP] ?? 0) === 4 ? banks >> 2 : banks);
        return;
      }
      case Dispi.ENABLE:
        this.writeVbeEnable(value);
        return;
      default:
        this.note('ignoredWrites', () => `write of ${hex(value)} to VBE register ${hex(vbe.index)}, which takes no writes`);
        return;
    }
  }

  private fixupVbe(): void {
    const asked = this.r.vbe.registers.slice();
    if (fixupGeometry(this.r.vbe.registers, this.memoryBytes)) {
      this.note('vbeAdjustments', () => `VBE geometry ${asked.join(',')} does not fit ${this.memoryBytes} bytes: now ${this.r.vbe.registers.join(',')}`);
    }
  }

  /**
   * ENABLE: turning the interface on starts from an unpanned screen as wide
   * as the mode, clears the lines it shows (unless NOCLEARMEM) and sets the
   * VGA up for it; the value written is kept whole (GETCAPS, 8-bit DAC, …).
   */
  private writeVbeEnable(value: number): void {
    const registers = this.r.vbe.registers;
    const wasEnabled = ((registers[Dispi.ENABLE] ?? 0) & DispiEnable.ENABLED) !== 0;
    if ((value & DispiEnable.ENABLED) !== 0 && !wasEnabled) {
      registers[Dispi.VIRT_WIDTH] = 0;
      registers[Dispi.X_OFFSET] = 0;
      registers[Dispi.Y_OFFSET] = 0;
      registers[Dispi.ENABLE] = value;
      this.fixupVbe();
      if ((value & DispiEnable.NO_CLEAR_MEMORY) === 0) this.r.memory.fill(0, 0, Math.min(this.memoryBytes, (registers[Dispi.YRES] ?? 0) * lineBytes(registers)));
      this.programVgaForVbe();
    }
    registers[Dispi.ENABLE] = value;
  }

  /**
   * The VGA registers a VBE mode implies, so that the banked window and the
   * CRTC describe it too: graphics, memory map A0000h/64 KiB, no row-scan
   * substitution or double scan, row offset and display end from the
   * geometry, no split; chained 256-colour addressing above 4 bpp.
   */
  private programVgaForVbe(): void {
    const r = this.r;
    const v = r.vbe.registers;
    if (((v[Dispi.ENABLE] ?? 0) & DispiEnable.ENABLED) === 0) return;
    const g = r.graphics;
    const c = r.crtc;
    const s = r.sequencer;
    g[Gfx.MISC] = ((g[Gfx.MISC] ?? 0) & ~0x0c) | 1 << GfxBits.MAP_SHIFT | GfxBits.GRAPHICS;
    c[Crtc.MODE_CONTROL] = (c[Crtc.MODE_CONTROL] ?? 0) | CrtcBits.NO_CGA_SUBSTITUTION | CrtcBits.NO_HERCULES_SUBSTITUTION;
    c[Crtc.OFFSET] = (lineBytes(v) >>> 3) & 0xff;
    c[Crtc.HORIZONTAL_DISPLAY_END] = (((v[Dispi.XRES] ?? 8) >>> 3) - 1) & 0xff;
    const lastLine = (v[Dispi.YRES] ?? 1) - 1;
    c[Crtc.VERTICAL_DISPLAY_END] = lastLine & 0xff;
    c[Crtc.OVERFLOW] = ((c[Crtc.OVERFLOW] ?? 0) & ~0x42) | (lastLine >> 7 & 0x02) | (lastLine >> 3 & 0x40) | CrtcBits.LINE_COMPARE_8;
    c[Crtc.LINE_COMPARE] = 0xff;
    c[Crtc.MAX_SCAN_LINE] = ((c[Crtc.MAX_SCAN_LINE] ?? 0) | 0x40) & ~0x9f;
    const planar = (v[Dispi.BPP] ?? 8) === 4;
    g[Gfx.MODE] = ((g[Gfx.MODE] ?? 0) & ~(GfxBits.SHIFT_256 | GfxBits.SHIFT_INTERLEAVE)) | (planar ? 0 : GfxBits.SHIFT_256);
    if (planar) {
      s[Seq.CLOCKING] = (s[Seq.CLOCKING] ?? 0) & ~SeqBits.HALF_DOT_CLOCK;
    } else {
      s[Seq.MEMORY_MODE] = (s[Seq.MEMORY_MODE] ?? 0) | SeqBits.CHAIN4;
      s[Seq.MAP_MASK] = (s[Seq.MAP_MASK] ?? 0) | 0x0f;
    }
  }

  // --- power-on modes -----------------------------------------------------------------

  private setStandardMode(number: 0x03 | 0x12 | 0x13): void {
    const table = STANDARD_MODES[number];
    const r = this.r;
    r.miscOutput = table.misc & Misc.WRITABLE;
    table.sequencer.forEach((value, i) => { r.sequencer[i] = value & (SEQ_WRITABLE[i] ?? 0); });
    table.crtc.forEach((value, i) => { r.crtc[i] = value; });
    table.attribute.forEach((value, i) => { r.attribute[i] = value & (ATTR_WRITABLE[i] ?? 0); });
    table.graphics.forEach((value, i) => { r.graphics[i] = value & (GFX_WRITABLE[i] ?? 0); });
    r.attributeIndex = AttrBits.PALETTE_ADDRESS_SOURCE;
    r.dac.palette.set(number === 0x13 ? mode13Palette() : egaPalette());
    if (number === 0x03) {
      // A blank page: spaces (plane 0), light grey on black (plane 1), over the 32 KiB at B8000h.
      for (let address = 0; address < 0x4000; address++) {
        r.memory[address * 4] = 0x20;
        r.memory[address * 4 + 1] = 0x07;
      }
    }
  }
}

function hex(value: number): string {
  return `${value.toString(16).toUpperCase()}h`;
}
