/**
 * The VGA's whole state as one plain, versioned record: the register files,
 * the attribute flip-flop, the DAC, the latches, the Bochs VBE registers and
 * the video memory. Nothing else is kept: what the screen shows and what
 * input status 1 reads are functions of this record and virtual time.
 */
import { DeviceStateError } from '@splitvisor/abi';
import { DISPI_ID_LATEST, DISPI_REGISTER_COUNT, Dispi } from '../bochs-vbe/dispi.ts';
import { ATTR_COUNT, CRTC_COUNT, DacMode, GFX_COUNT, SEQ_COUNT } from './registers.ts';

export const VGA_MODEL = 'vga' as const;
export const VGA_STATE_VERSION = 1;

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
  /** Video memory, packed as QEMU packs it: byte 4a + p is plane p at plane address a. */
  readonly memory: Uint8Array;
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer E)[] ? E[] : T[K] extends Uint8Array ? Uint8Array : T[K] extends object ? Mutable<T[K]> : T[K] };

/** The model's working copy of its state: the same record, writable. */
export type VgaRegisters = Mutable<Omit<VgaState, 'model' | 'version'>>;

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
  if (!(state.memory instanceof Uint8Array) || state.memory.length !== memoryBytes) {
    throw new DeviceStateError(`vga state holds ${String(state.memory.length)} bytes of video memory, this VGA has ${memoryBytes}`);
  }
  if (!(state.dac.palette instanceof Uint8Array) || state.dac.palette.length !== 768) throw new DeviceStateError('vga state: dac.palette must be 768 bytes');
}
