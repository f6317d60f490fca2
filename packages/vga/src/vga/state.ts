/**
 * The VGA's whole state as one plain, versioned record: the register files,
 * the attribute flip-flop, the DAC, the latches, the Bochs VBE registers and
 * the video memory. Nothing else is kept: what the screen shows and what
 * input status 1 reads are functions of this record and virtual time.
 */
import type { ImagePages } from '@splitvisor/abi';
import { DeviceStateError, IMAGE_PAGE_BYTES, layOutPages, pagesProblem, writtenPages } from '@splitvisor/abi';
import { DISPI_ID_LATEST, DISPI_REGISTER_COUNT, Dispi } from '../bochs-vbe/dispi.ts';
import { ATTR_COUNT, CRTC_COUNT, DacMode, GFX_COUNT, SEQ_COUNT } from './registers.ts';

export const VGA_MODEL = 'vga' as const;
/** Version 2 keeps video memory as its written pages; version 1's whole image is still taken (`migrateState`). */
export const VGA_STATE_VERSION = 2;

/** The page video memory is kept in, in a state record: only pages with a byte other than zero are written. */
export const VRAM_PAGE_BYTES: number = IMAGE_PAGE_BYTES;

/** The smallest video memory: four planes of 64 KiB. */
export const PLANAR_BYTES: number = 256 * 1024;
/** The most the Bochs VBE bank and memory-size registers can address. */
export const MAX_MEMORY_BYTES: number = 64 * 1024 * 1024;

export type DacState = {
  readonly writeIndex: number;
  readonly readIndex: number;
  /** Which component (0 red, 1 green, 2 blue) the next data access is. */
  readonly component: number;
  /** What 3C7h reads: 00h after a write-index write, 03h after a read-index write. */
  readonly mode: number;
  /** Components written so far for the entry at `writeIndex`: the entry changes only when its third arrives. */
  readonly staged: readonly number[];
  readonly pelMask: number;
  /** 256 entries of red, green, blue. */
  readonly palette: Uint8Array;
};

export type VbeState = {
  readonly index: number;
  /** DISPI registers 0–9 (ID … Y_OFFSET). */
  readonly registers: readonly number[];
};

export type VgaState = {
  readonly model: typeof VGA_MODEL;
  readonly version: typeof VGA_STATE_VERSION;
  readonly miscOutput: number;
  readonly featureControl: number;
  readonly sequencerIndex: number;
  readonly sequencer: readonly number[];
  readonly crtcIndex: number;
  readonly crtc: readonly number[];
  readonly graphicsIndex: number;
  readonly graphics: readonly number[];
  /** The attribute address register: index in bits 4–0, PAS in bit 5. */
  readonly attributeIndex: number;
  /** The 3C0h flip-flop: false = the next write is an address, true = it is data. */
  readonly attributeDataNext: boolean;
  readonly attribute: readonly number[];
  readonly dac: DacState;
  /** The four latches, plane n in bits 8n+7 … 8n. */
  readonly latch: number;
  readonly vbe: VbeState;
  /** Video memory's size in bytes. */
  readonly memoryBytes: number;
  /**
   * Video memory, packed as QEMU packs it (byte 4a + p is plane p at plane
   * address a), as the 4 KiB pages holding anything but zeros: [page
   * number, its bytes], in page order. Most of 16 MiB is never touched: a
   * text console's state is a few pages, not 16 MiB.
   */
  readonly pages: ImagePages;
};

/** Version 1: the registers of version 2, and video memory whole. */
export type VgaStateV1 = Omit<VgaState, 'version' | 'memoryBytes' | 'pages'> & { readonly version: 1; readonly memory: Uint8Array };

/** The registers as the model works on them: video memory whole. */
type Working = Omit<VgaState, 'model' | 'version' | 'memoryBytes' | 'pages'> & { readonly memory: Uint8Array };

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer E)[] ? E[] : T[K] extends Uint8Array ? Uint8Array : T[K] extends object ? Mutable<T[K]> : T[K] };

/** The model's working copy of its state: the same record, writable, with video memory whole. */
export type VgaRegisters = Mutable<Working>;

/** The record of the working registers: a copy, video memory as its written pages. */
export function exportRegisters(r: VgaRegisters): Omit<VgaState, 'model' | 'version'> {
  const { memory: _memory, ...registers } = copyRegisters({ ...r, memory: new Uint8Array(0) });
  return { ...registers, memoryBytes: r.memory.length, pages: writtenPages(r.memory) };
}

/** The working registers of a record (checked): a copy, video memory whole again. */
export function importRegisters(state: VgaState): VgaRegisters {
  const { model: _model, version: _version, memoryBytes, pages, ...registers } = state;
  return { ...copyRegisters({ ...(registers as Omit<VgaRegisters, 'memory'>), memory: new Uint8Array(0) }), memory: layOutPages(pages, new Uint8Array(memoryBytes)) };
}

/** A version 1 record as version 2 (the same registers; its whole video memory as written pages). */
export function migrateState(state: VgaStateV1): VgaState {
  const { memory, version: _version, ...registers } = state;
  if (!(memory instanceof Uint8Array)) throw new DeviceStateError('vga state version 1 holds no video memory');
  return { ...registers, version: VGA_STATE_VERSION, memoryBytes: memory.length, pages: writtenPages(memory) };
}

/**
 * Power-on: every register zero (so decoding is monochrome until the BIOS
 * writes the misc output), the DAC black, PEL mask FFh, the VBE interface
 * disabled and reporting its latest revision — as QEMU's VGA comes out of reset.
 */
export function powerOnRegisters(memoryBytes: number): VgaRegisters {
  const vbe = new Array<number>(DISPI_REGISTER_COUNT).fill(0);
  vbe[Dispi.ID] = DISPI_ID_LATEST;
  return {
    miscOutput: 0,
    featureControl: 0,
    sequencerIndex: 0,
    sequencer: new Array<number>(SEQ_COUNT).fill(0),
    crtcIndex: 0,
    crtc: new Array<number>(CRTC_COUNT).fill(0),
    graphicsIndex: 0,
    graphics: new Array<number>(GFX_COUNT).fill(0),
    attributeIndex: 0,
    attributeDataNext: false,
    attribute: new Array<number>(ATTR_COUNT).fill(0),
    dac: { writeIndex: 0, readIndex: 0, component: 0, mode: DacMode.WRITE, staged: [0, 0, 0], pelMask: 0xff, palette: new Uint8Array(768) },
    latch: 0,
    vbe: { index: 0, registers: vbe },
    memory: new Uint8Array(memoryBytes),
  };
}

export function copyRegisters(r: VgaRegisters): VgaRegisters {
  return {
    ...r,
    sequencer: r.sequencer.slice(),
    crtc: r.crtc.slice(),
    graphics: r.graphics.slice(),
    attribute: r.attribute.slice(),
    dac: { ...r.dac, staged: r.dac.staged.slice(), palette: r.dac.palette.slice() },
    vbe: { index: r.vbe.index, registers: r.vbe.registers.slice() },
    memory: r.memory.slice(),
  };
}

function expectBytes(what: string, values: readonly number[], length: number, max = 0xff): void {
  if (values.length !== length || values.some((v) => !Number.isInteger(v) || v < 0 || v > max)) {
    throw new DeviceStateError(`vga state: ${what} must be ${length} integers 0–${max}`);
  }
}

/** Checks a state's shape against the model's (a host error if it does not fit: another configuration, or corrupt). */
export function checkState(state: VgaState, memoryBytes: number): void {
  expectBytes('sequencer', state.sequencer, SEQ_COUNT);
  expectBytes('crtc', state.crtc, CRTC_COUNT);
  expectBytes('graphics', state.graphics, GFX_COUNT);
  expectBytes('attribute', state.attribute, ATTR_COUNT);
  expectBytes('dac.staged', state.dac.staged, 3);
  expectBytes('vbe.registers', state.vbe.registers, DISPI_REGISTER_COUNT, 0xffff);
  if (state.memoryBytes !== memoryBytes) throw new DeviceStateError(`vga state holds ${String(state.memoryBytes)} bytes of video memory, this VGA has ${memoryBytes}`);
  const problem = pagesProblem(state.pages, memoryBytes);
  if (problem !== undefined) throw new DeviceStateError(`vga state: video memory ${problem}`);
  if (!(state.dac.palette instanceof Uint8Array) || state.dac.palette.length !== 768) throw new DeviceStateError('vga state: dac.palette must be 768 bytes');
}
