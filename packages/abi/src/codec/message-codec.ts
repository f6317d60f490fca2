/**
 * The binary codec for every message that crosses the boundary: fixed
 * layouts, little-endian, each message a u16 tag and a zero u16, then its
 * fields. Variable parts (data bytes, strings, device state) are u32
 * length-prefixed. Reserved bytes and padding must be zero and flags may use
 * only their defined bits, so decoding is strict: bytes that decode at all
 * re-encode to exactly themselves, and anything else is a typed DecodeError —
 * decoding never throws.
 */
import type { CoalescedWrite, Exit, ExitHeader } from '../exit.ts';
import type { AddressRange, CachedReadDescriptor, FastPathDescriptor, ProgramDescriptor } from '../fast-path.ts';
import type { Instruction } from '../fast-path-program.ts';
import { MAX_INSTRUCTIONS, MAX_SCRATCH_BYTES } from '../fast-path-program.ts';
import { MSR_BYTES, isAccessSize, isGuestAccessSize } from '../io-region.ts';
import type { AddressSpace } from '../io-region.ts';
import { ErrorCode, MAX_MEMORY_BYTES } from '../ioctl.ts';
import type { ErrorReply } from '../ioctl.ts';
import type { Message } from '../message.ts';
import { MessageTag } from '../message.ts';
import { decodeState, encodeState } from '../plain-state.ts';
import type { DeviceState } from '../plain-state.ts';
import { ByteReader, ByteWriter, EncodeError, Malformed } from './wire.ts';
import type { DecodeFailure } from './wire.ts';

export interface DecodeError {
  readonly ok: false;
  readonly reason: DecodeFailure;
  /** The field being read when decoding failed. */
  readonly field: string;
  /** Byte offset of that field. */
  readonly offset: number;
}

export type DecodeResult = { readonly ok: true; readonly message: Message } | DecodeError;

const FLAG_IF = 1;
const FLAG_READY = 2;
const FLAG_REQUEST_WINDOW = 1;
const FLAG_IMMEDIATE_EXIT = 2;
const FASTPATH_COUNTER = 1;
const FASTPATH_CACHED_READ = 2;
const FASTPATH_PROGRAM = 3;
/** The widths a cached read serves. */
const CACHED_READ_SIZES: readonly number[] = [1, 2, 4];
/** The most ranges a cached read names as invalidating it. */
const MAX_INVALIDATING_RANGES = 16;
const COALESCED_DATA_BYTES = 8;

const SPACE_CODE = { port: 0, mmio: 1, msr: 2 } as const satisfies Record<AddressSpace, number>;
const ERROR_CODES: ReadonlySet<number> = new Set(Object.values(ErrorCode));

const tagToKind = new Map<number, Message['kind']>(
  Object.entries(MessageTag).map(([kind, tag]) => [tag, kind as Message['kind']]),
);

function check(condition: boolean, field: string): void {
  if (!condition) throw new EncodeError(`invalid ${field}`);
}

function uint(value: number, max: number, field: string): number {
  check(Number.isInteger(value) && value >= 0 && value <= max, field);
  return value;
}

/** Looked up by string, so a space that is neither port nor mmio (from untyped code) is refused, not written as 0. */
const SPACE_CODES: ReadonlyMap<string, number> = new Map(Object.entries(SPACE_CODE));

function spaceCode(space: AddressSpace, field: string): number {
  const code = SPACE_CODES.get(space);
  if (code === undefined) throw new EncodeError(`invalid ${field}`);
  return code;
}

function writeHeader(w: ByteWriter, exit: ExitHeader): void {
  w.u16(uint(exit.vcpu, 0xffff, 'vcpu'));
  w.u8((exit.ifFlag ? FLAG_IF : 0) | (exit.readyForInterruptInjection ? FLAG_READY : 0));
  w.u8(0);
  w.u64(exit.time, 'time');
}

function writeState(w: ByteWriter, device: string, state: DeviceState): void {
  w.string(device, 'device');
  w.blob(encodeState(state));
}

function writeFastPath(w: ByteWriter, d: FastPathDescriptor): void {
  if (d.kind === 'cached-read') {
    writeCachedRead(w, d);
    return;
  }
  if (d.kind === 'program') {
    writeProgram(w, d);
    return;
  }
  w.u8(FASTPATH_COUNTER);
  w.u8(spaceCode(d.space, 'counter space'));
  check(isGuestAccessSize(d.size), 'counter size');
  w.u8(d.size);
  w.u8(uint(d.widthBits, 64, 'counter widthBits'));
  check(d.widthBits >= 1, 'counter widthBits');
  w.u8(d.running ? 1 : 0);
  w.u8(0);
  w.u16(0);
  w.u64(d.address, 'counter address');
  check(Number.isFinite(d.frequencyHz) && d.frequencyHz > 0, 'counter frequencyHz');
  w.f64(d.frequencyHz);
  check(d.base >= 0n && d.base < 1n << BigInt(d.widthBits), 'counter base');
  w.bigU64(d.base);
  w.u64(d.epoch, 'counter epoch');
}

function writeCachedRead(w: ByteWriter, d: CachedReadDescriptor): void {
  w.u8(FASTPATH_CACHED_READ);
  w.u8(spaceCode(d.space, 'cached read space'));
  check(CACHED_READ_SIZES.includes(d.size), 'cached read size');
  w.u8(d.size);
  w.u8(d.value === null ? 0 : 1);
  check(d.value === null || (Number.isInteger(d.value) && d.value >= 0 && d.value < 2 ** (8 * d.size)), 'cached read value');
  w.u32(d.value ?? 0);
  w.u64(d.address, 'cached read address');
  check(d.invalidatedBy.length <= MAX_INVALIDATING_RANGES, 'cached read invalidatedBy');
  w.u8(d.invalidatedBy.length);
  for (const range of d.invalidatedBy) {
    w.u8(spaceCode(range.space, 'invalidating range space'));
    w.u32(uint(range.length, 0xffff_ffff, 'invalidating range length'));
    w.u64(range.address, 'invalidating range address');
  }
}

/** A program's shape as it crosses: the verifier, at the kernel, judges what it says. */
function writeProgram(w: ByteWriter, d: ProgramDescriptor): void {
  w.u8(FASTPATH_PROGRAM);
  w.u8(spaceCode(d.space, 'program space'));
  w.u16(0);
  w.u32(uint(d.length, 0xffff_ffff, 'program range length'));
  w.u64(d.address, 'program address');
  w.u16(uint(d.program.scratchBytes, MAX_SCRATCH_BYTES, 'program scratch bytes'));
  w.u16(uint(d.program.instructions.length, MAX_INSTRUCTIONS, 'program length'));
  for (const instruction of d.program.instructions) for (const field of instruction) w.u32(uint(field, 0xffff_ffff, 'program instruction'));
  check(d.scratch.length === d.program.scratchBytes, 'program scratch');
  w.raw(d.scratch);
}

function writeCoalesced(w: ByteWriter, write: CoalescedWrite): void {
  w.u8(spaceCode(write.space, 'coalesced write space'));
  check(write.data.length >= 1 && write.data.length <= COALESCED_DATA_BYTES, 'coalesced write length');
  w.u8(write.data.length);
  w.u16(0);
  w.u64(write.address, 'coalesced write address');
  w.raw(write.data);
  for (let i = write.data.length; i < COALESCED_DATA_BYTES; i++) w.u8(0);
}

/** Appends the encoding of `message` to `w`. Throws EncodeError for a message no peer could decode. */
export function writeMessage(w: ByteWriter, message: Message): void {
  // The u16 tag and its zero u16, as one little-endian u32; the hot kinds' tags without a keyed lookup.
  const kind = message.kind;
  w.u32(kind === 'io' ? MessageTag.io : kind === 'run' ? MessageTag.run : kind === 'mmio' ? MessageTag.mmio : MessageTag[kind]);
  switch (message.kind) {
    case 'io':
      writeHeader(w, message);
      w.u8(message.direction === 'out' ? 1 : 0);
      check(isAccessSize(message.size), 'io size');
      w.u8(message.size);
      w.u16(uint(message.port, 0xffff, 'io port'));
      check(message.count >= 1, 'io count');
      w.u32(uint(message.count, 0xffff_ffff, 'io count'));
      check(message.data.length === (message.direction === 'out' ? message.size * message.count : 0), 'io data length');
      w.blob(message.data);
      return;
    case 'mmio':
      writeHeader(w, message);
      w.u64(message.address, 'mmio address');
      check(isGuestAccessSize(message.length), 'mmio length');
      w.u8(message.length);
      w.u8(message.isWrite ? 1 : 0);
      w.u16(0);
      check(message.data.length === (message.isWrite ? message.length : 0), 'mmio data length');
      w.blob(message.data);
      return;
    case 'msr':
      writeHeader(w, message);
      w.u32(uint(message.index, 0xffff_ffff, 'msr index'));
      w.u8(message.isWrite ? 1 : 0);
      w.u8(0);
      w.u16(0);
      check(message.data.length === (message.isWrite ? MSR_BYTES : 0), 'msr data length');
      w.blob(message.data);
      return;
    case 'hlt':
    case 'irq-window-open':
    case 'shutdown':
    case 'intr':
      writeHeader(w, message);
      return;
    case 'ioapic-eoi':
      writeHeader(w, message);
      w.u32(uint(message.vector, 0xff, 'vector'));
      return;
    case 'internal-error':
      writeHeader(w, message);
      w.u32(uint(message.suberror, 0xffff_ffff, 'suberror'));
      w.string(message.detail, 'detail');
      return;
    case 'coalesced-io':
      w.u32(message.writes.length);
      for (const write of message.writes) writeCoalesced(w, write);
      return;
    case 'run':
      w.u16(uint(message.vcpu, 0xffff, 'vcpu'));
      w.u8((message.requestInterruptWindow ? FLAG_REQUEST_WINDOW : 0) | (message.immediateExit ? FLAG_IMMEDIATE_EXIT : 0));
      w.u8(0);
      w.u64(message.deadline, 'deadline', true);
      w.string(message.deadlineOwner, 'deadlineOwner');
      w.blob(message.completion);
      return;
    case 'irq-line':
      w.u32(uint(message.gsi, 0xffff_ffff, 'gsi'));
      w.u8(message.level ? 1 : 0);
      w.u8(0);
      w.u16(0);
      return;
    case 'interrupt':
      w.u16(uint(message.vcpu, 0xffff, 'vcpu'));
      w.u8(uint(message.vector, 0xff, 'vector'));
      w.u8(0);
      return;
    case 'msi':
      w.u32(uint(message.address, 0xffff_ffff, 'msi address'));
      w.u32(uint(message.data, 0xffff_ffff, 'msi data'));
      return;
    case 'get-device-state':
      w.string(message.device, 'device');
      return;
    case 'set-device-state':
    case 'device-state':
      writeState(w, message.device, message.state);
      return;
    case 'register-coalesced-range':
    case 'register-posted-range':
      w.u8(spaceCode(message.space, 'range space'));
      w.u8(message.enable ? 1 : 0);
      w.u16(0);
      w.u64(message.address, 'range address');
      w.u64(message.length, 'range length');
      return;
    case 'register-fast-path':
      w.string(message.device, 'device');
      writeFastPath(w, message.descriptor);
      return;
    case 'program-scratch':
      w.string(message.device, 'device');
      check(message.scratch.length <= MAX_SCRATCH_BYTES, 'program scratch');
      w.blob(message.scratch);
      return;
    case 'pause':
      w.u64(message.time, 'time');
      return;
    case 'place-device':
      w.string(message.device, 'device');
      w.string(message.placement, 'placement');
      return;
    case 'remove-device':
      w.string(message.device, 'device');
      return;
    case 'read-memory':
      w.u64(message.address, 'memory address');
      w.u32(uint(message.length, MAX_MEMORY_BYTES, 'memory length'));
      return;
    case 'write-memory':
      w.u64(message.address, 'memory address');
      check(message.bytes.length <= MAX_MEMORY_BYTES, 'memory bytes');
      w.blob(message.bytes);
      return;
    case 'memory':
      check(message.bytes.length <= MAX_MEMORY_BYTES, 'memory bytes');
      w.blob(message.bytes);
      return;
    case 'resume':
    case 'ok':
      return;
    case 'error':
      check(ERROR_CODES.has(message.code), 'error code');
      w.u16(message.code);
      w.u16(0);
      w.string(message.message, 'message');
      return;
  }
}

/**
 * Encodes into a buffer it reuses: the returned view is valid until the next
 * `encode`. For the hot path (one encoder per channel end).
 */
export class MessageEncoder {
  private readonly writer = new ByteWriter(512);

  encode(message: Message): Uint8Array {
    this.writer.reset();
    writeMessage(this.writer, message);
    return this.writer.written();
  }

  /**
   * Encodes without making a view: the encoding is the first `n` bytes of
   * `buffer` (valid until the next encode), where `n` is returned.
   */
  encodeInPlace(message: Message): number {
    this.writer.reset();
    writeMessage(this.writer, message);
    return this.writer.length;
  }

  get buffer(): Uint8Array {
    return this.writer.buffer;
  }
}

const scratch = new ByteWriter(512);

/** Encodes into fresh bytes the caller owns. */
export function encodeMessage(message: Message): Uint8Array {
  scratch.reset();
  try {
    writeMessage(scratch, message);
  } catch (error) {
    scratch.reset();
    throw error;
  }
  return scratch.written().slice();
}

/**
 * An exit's header as last read: each reader builds its message from these
 * fields one by one (object spread on the hot path costs more than the rest
 * of a decode).
 */
const header = { vcpu: 0, ifFlag: false, readyForInterruptInjection: false, time: 0 };

function readHeader(r: ByteReader): ExitHeader {
  const vcpu = r.u16('vcpu');
  const at = r.offset;
  const flags = r.u8('flags');
  if ((flags & ~(FLAG_IF | FLAG_READY)) !== 0) r.fail('flags', at);
  r.zero(1, 'reserved');
  header.vcpu = vcpu;
  header.ifFlag = (flags & FLAG_IF) !== 0;
  header.readyForInterruptInjection = (flags & FLAG_READY) !== 0;
  header.time = r.u64('time');
  return header;
}

function readSpace(r: ByteReader, field: string): AddressSpace {
  const at = r.offset;
  const code = r.u8(field);
  if (code === SPACE_CODE.port) return 'port';
  if (code === SPACE_CODE.mmio) return 'mmio';
  if (code === SPACE_CODE.msr) return 'msr';
  return r.fail(field, at);
}

function readState(r: ByteReader): { device: string; state: DeviceState } {
  const device = r.string('device');
  const at = r.offset;
  const decoded = decodeState(r.blob('state'));
  if (!decoded.ok) r.fail('state', at);
  return { device, state: decoded.state };
}

function readIo(r: ByteReader, h: ExitHeader): Exit {
  let at = r.offset;
  const direction = r.u8('io direction');
  if (direction > 1) r.fail('io direction', at);
  at = r.offset;
  const size = r.u8('io size');
  if (!isAccessSize(size)) return r.fail('io size', at);
  const port = r.u16('io port');
  at = r.offset;
  const count = r.u32('io count');
  if (count === 0) r.fail('io count', at);
  at = r.offset;
  const length = r.u32('io data');
  if (length !== (direction === 1 ? size * count : 0)) r.fail('io data', at);
  const data = r.raw(length, 'io data');
  return { kind: 'io', vcpu: h.vcpu, time: h.time, ifFlag: h.ifFlag, readyForInterruptInjection: h.readyForInterruptInjection, direction: direction === 1 ? 'out' : 'in', port, size, count, data };
}

function readMmio(r: ByteReader, h: ExitHeader): Exit {
  const address = r.u64('mmio address');
  let at = r.offset;
  const length = r.u8('mmio length');
  if (!isGuestAccessSize(length)) return r.fail('mmio length', at);
  const isWrite = r.bool('mmio isWrite');
  r.zero(2, 'reserved');
  at = r.offset;
  const dataLength = r.u32('mmio data');
  if (dataLength !== (isWrite ? length : 0)) r.fail('mmio data', at);
  const data = r.raw(dataLength, 'mmio data');
  return { kind: 'mmio', vcpu: h.vcpu, time: h.time, ifFlag: h.ifFlag, readyForInterruptInjection: h.readyForInterruptInjection, address, length, isWrite, data };
}

function readMsr(r: ByteReader, h: ExitHeader): Exit {
  const index = r.u32('msr index');
  const isWrite = r.bool('msr isWrite');
  r.zero(1, 'reserved');
  r.zero(2, 'reserved');
  const at = r.offset;
  const dataLength = r.u32('msr data');
  if (dataLength !== (isWrite ? MSR_BYTES : 0)) r.fail('msr data', at);
  const data = r.raw(dataLength, 'msr data');
  return { kind: 'msr', vcpu: h.vcpu, time: h.time, ifFlag: h.ifFlag, readyForInterruptInjection: h.readyForInterruptInjection, index, isWrite, data };
}

function readCoalescedWrite(r: ByteReader): CoalescedWrite {
  const space = readSpace(r, 'coalesced space');
  const at = r.offset;
  const length = r.u8('coalesced length');
  if (length < 1 || length > COALESCED_DATA_BYTES) r.fail('coalesced length', at);
  r.zero(2, 'reserved');
  const address = r.u64('coalesced address');
  const data = r.raw(length, 'coalesced data');
  for (let i = length; i < COALESCED_DATA_BYTES; i++) r.zero(1, 'coalesced padding');
  return { space, address, data };
}

function readCachedRead(r: ByteReader): CachedReadDescriptor {
  const space = readSpace(r, 'cached read space');
  let at = r.offset;
  const size = r.u8('cached read size');
  if (size !== 1 && size !== 2 && size !== 4) return r.fail('cached read size', at);
  const held = r.bool('cached read held');
  at = r.offset;
  const raw = r.u32('cached read value');
  if (!held && raw !== 0) r.fail('cached read value', at);
  if (raw >= 2 ** (8 * size)) r.fail('cached read value', at);
  const address = r.u64('cached read address');
  at = r.offset;
  const count = r.u8('cached read invalidatedBy');
  if (count > MAX_INVALIDATING_RANGES) r.fail('cached read invalidatedBy', at);
  const invalidatedBy: AddressRange[] = [];
  for (let i = 0; i < count; i++) {
    const rangeSpace = readSpace(r, 'invalidating range space');
    const length = r.u32('invalidating range length');
    invalidatedBy.push({ space: rangeSpace, address: r.u64('invalidating range address'), length });
  }
  return { kind: 'cached-read', space, address, size, value: held ? raw : null, invalidatedBy };
}

function readProgram(r: ByteReader): ProgramDescriptor {
  const space = readSpace(r, 'program space');
  r.zero(2, 'reserved');
  const length = r.u32('program range length');
  const address = r.u64('program address');
  let at = r.offset;
  const scratchBytes = r.u16('program scratch bytes');
  if (scratchBytes > MAX_SCRATCH_BYTES) r.fail('program scratch bytes', at);
  at = r.offset;
  const count = r.u16('program length');
  if (count > MAX_INSTRUCTIONS) r.fail('program length', at);
  const instructions: Instruction[] = [];
  for (let i = 0; i < count; i++) instructions.push([r.u32('program instruction'), r.u32('program instruction'), r.u32('program instruction'), r.u32('program instruction')]);
  const scratch = r.raw(scratchBytes, 'program scratch');
  return { kind: 'program', space, address, length, program: { instructions, scratchBytes }, scratch };
}

function readFastPath(r: ByteReader): FastPathDescriptor {
  let at = r.offset;
  const kind = r.u8('fast path kind');
  if (kind === FASTPATH_CACHED_READ) return readCachedRead(r);
  if (kind === FASTPATH_PROGRAM) return readProgram(r);
  if (kind !== FASTPATH_COUNTER) r.fail('fast path kind', at);
  const space = readSpace(r, 'counter space');
  at = r.offset;
  const size = r.u8('counter size');
  if (!isGuestAccessSize(size)) return r.fail('counter size', at);
  at = r.offset;
  const widthBits = r.u8('counter widthBits');
  if (widthBits < 1 || widthBits > 64) r.fail('counter widthBits', at);
  const running = r.bool('counter running');
  r.zero(1, 'reserved');
  r.zero(2, 'reserved');
  const address = r.u64('counter address');
  at = r.offset;
  const frequencyHz = r.f64('counter frequencyHz');
  if (!Number.isFinite(frequencyHz) || frequencyHz <= 0) r.fail('counter frequencyHz', at);
  at = r.offset;
  const base = r.bigU64('counter base');
  if (base >= 1n << BigInt(widthBits)) r.fail('counter base', at);
  const epoch = r.u64('counter epoch');
  return { kind: 'counter', space, address, size, widthBits, frequencyHz, base, epoch, running };
}

/** Guest memory's bytes as a request or reply carries them: no more than one request moves (checked before anything is copied). */
function readMemoryBytes(r: ByteReader): Uint8Array {
  const at = r.offset;
  const length = r.u32('memory bytes');
  if (length > MAX_MEMORY_BYTES) r.fail('memory bytes', at);
  return r.raw(length, 'memory bytes');
}

function readBody(r: ByteReader, kind: Message['kind']): Message {
  switch (kind) {
    case 'io':
      return readIo(r, readHeader(r));
    case 'mmio':
      return readMmio(r, readHeader(r));
    case 'msr':
      return readMsr(r, readHeader(r));
    case 'hlt':
    case 'irq-window-open':
    case 'shutdown':
    case 'intr': {
      const h = readHeader(r);
      return { kind, vcpu: h.vcpu, time: h.time, ifFlag: h.ifFlag, readyForInterruptInjection: h.readyForInterruptInjection };
    }
    case 'ioapic-eoi': {
      const { vcpu, time, ifFlag, readyForInterruptInjection } = readHeader(r);
      const at = r.offset;
      const vector = r.u32('vector');
      if (vector > 0xff) r.fail('vector', at);
      return { kind, vcpu, time, ifFlag, readyForInterruptInjection, vector };
    }
    case 'internal-error': {
      const { vcpu, time, ifFlag, readyForInterruptInjection } = readHeader(r);
      return { kind, vcpu, time, ifFlag, readyForInterruptInjection, suberror: r.u32('suberror'), detail: r.string('detail') };
    }
    case 'coalesced-io': {
      const count = r.u32('coalesced count');
      const writes: CoalescedWrite[] = [];
      for (let i = 0; i < count; i++) writes.push(readCoalescedWrite(r));
      return { kind, writes };
    }
    case 'run': {
      const vcpu = r.u16('vcpu');
      const at = r.offset;
      const flags = r.u8('flags');
      if ((flags & ~(FLAG_REQUEST_WINDOW | FLAG_IMMEDIATE_EXIT)) !== 0) r.fail('flags', at);
      r.zero(1, 'reserved');
      const deadline = r.u64('deadline', true);
      const deadlineOwner = r.string('deadlineOwner');
      return {
        kind, vcpu, deadline, deadlineOwner, completion: r.blob('completion'),
        requestInterruptWindow: (flags & FLAG_REQUEST_WINDOW) !== 0,
        immediateExit: (flags & FLAG_IMMEDIATE_EXIT) !== 0,
      };
    }
    case 'irq-line': {
      const gsi = r.u32('gsi');
      const level = r.bool('level');
      r.zero(1, 'reserved');
      r.zero(2, 'reserved');
      return { kind, gsi, level };
    }
    case 'interrupt': {
      const vcpu = r.u16('vcpu');
      const vector = r.u8('vector');
      r.zero(1, 'reserved');
      return { kind, vcpu, vector };
    }
    case 'msi':
      return { kind, address: r.u32('msi address'), data: r.u32('msi data') };
    case 'get-device-state':
      return { kind, device: r.string('device') };
    case 'set-device-state':
    case 'device-state':
      return { kind, ...readState(r) };
    case 'register-coalesced-range':
    case 'register-posted-range': {
      const space = readSpace(r, 'range space');
      const enable = r.bool('range enable');
      r.zero(2, 'reserved');
      return { kind, space, enable, address: r.u64('range address'), length: r.u64('range length') };
    }
    case 'register-fast-path':
      return { kind, device: r.string('device'), descriptor: readFastPath(r) };
    case 'program-scratch': {
      const device = r.string('device');
      const at = r.offset;
      const scratch = r.blob('program scratch');
      if (scratch.length > MAX_SCRATCH_BYTES) r.fail('program scratch', at);
      return { kind, device, scratch };
    }
    case 'pause':
      return { kind, time: r.u64('time') };
    case 'place-device':
      return { kind, device: r.string('device'), placement: r.string('placement') };
    case 'remove-device':
      return { kind, device: r.string('device') };
    case 'read-memory': {
      const address = r.u64('memory address');
      const at = r.offset;
      const length = r.u32('memory length');
      if (length > MAX_MEMORY_BYTES) r.fail('memory length', at);
      return { kind, address, length };
    }
    case 'write-memory': {
      const address = r.u64('memory address');
      return { kind, address, bytes: readMemoryBytes(r) };
    }
    case 'memory':
      return { kind, bytes: readMemoryBytes(r) };
    case 'resume':
    case 'ok':
      return { kind };
    case 'error': {
      const at = r.offset;
      const code = r.u16('error code');
      if (!ERROR_CODES.has(code)) r.fail('error code', at);
      r.zero(2, 'reserved');
      return { kind, code: code as ErrorCode, message: r.string('message') };
    }
  }
}

/** The one reader: decoding calls nothing that decodes again, so it is never in use twice. */
const reader = new ByteReader(new Uint8Array(0));

/**
 * Decodes exactly one message from `bytes` (or from its bytes `start` to
 * `end`). Never throws: a span that is not inside `bytes` is `truncated`
 * (nothing past the end is read as zeros).
 */
export function decodeMessage(bytes: Uint8Array, start?: number, end?: number): DecodeResult {
  const from = start ?? 0;
  const to = end ?? (bytes instanceof Uint8Array ? bytes.length : 0);
  if (!(bytes instanceof Uint8Array) || !Number.isInteger(from) || !Number.isInteger(to) || from < 0 || from > to || to > bytes.length) {
    return { ok: false, reason: 'truncated', field: 'frame', offset: 0 };
  }
  const r = reader.reset(bytes, from, to);
  try {
    const tag = r.u16('tag');
    const kind = tagToKind.get(tag);
    if (kind === undefined) return { ok: false, reason: 'unknown-tag', field: 'tag', offset: 0 };
    r.zero(2, 'reserved');
    const message = readBody(r, kind);
    if (r.remaining !== 0) return { ok: false, reason: 'trailing-bytes', field: 'end', offset: r.offset };
    return { ok: true, message };
  } catch (error) {
    if (error instanceof Malformed) return { ok: false, reason: error.reason, field: error.field, offset: error.offset };
    // Only a defect of the codec itself lands here; report it as data, never let it escape.
    return { ok: false, reason: 'invalid-field', field: `codec defect: ${String(error)}`, offset: r.offset };
  }
}

/** A one-line description of a decode error, for logs and exceptions. */
export function describeDecodeError(error: DecodeError): string {
  return `${error.reason} at byte ${error.offset} (${error.field})`;
}

/** The answer to bytes that do not decode (EBADMSG), saying why: what a side replies to a call it cannot read. */
export function badMessageReply(error: DecodeError): ErrorReply {
  return { kind: 'error', code: ErrorCode.BadMessage, message: `undecodable message: ${describeDecodeError(error)}` };
}
