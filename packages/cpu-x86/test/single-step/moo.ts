/**
 * A reader of MOO files, the chunked binary format of the SingleStepTests CPU
 * suites (format specification: github.com/dbalsom/moo, doc/moo_format_v1.md,
 * "MOO File Format Specification, Version 1.1"). Written from that document
 * and the 80286 suite's README; it reads what a real-mode 80286 test needs
 * and skips the rest.
 *
 * Layout (all fields little-endian): a file is a sequence of chunks, each a
 * four-character type, a uint32 payload length and the payload; a reader
 * steps by the length and skips types it does not know (the format's rule,
 * so chunks may be added or dropped without breaking readers). The top level
 * holds `MOO ` (major, minor, 2 reserved, uint32 test count, 4-character CPU
 * id), `META` (file metadata) and one `TEST` per test: a uint32 index, then
 * subchunks — `NAME` and `BYTS` (each a uint32 length and the text or bytes),
 * `INIT` and `FINA` (each holding `REGS`: a uint16 mask over ax bx cx dx cs
 * ss ds es sp bp si di ip flags and one uint16 per set bit; and `RAM `: a
 * uint32 count of uint32 address + uint8 value pairs), `CYCL` (bus cycles,
 * not read here), `EXCP` (uint8 vector, uint32 address of the pushed FLAGS)
 * and `HASH` (20 bytes of SHA-1, the test's identity for the revocation
 * list). The 80286 files also carry a `GMET` subchunk the specification does
 * not describe; it is skipped like any unknown chunk.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** The registers of `REGS`, in the order of its mask's bits (bit 0 = ax). */
export const MOO_REGISTERS = ['ax', 'bx', 'cx', 'dx', 'cs', 'ss', 'ds', 'es', 'sp', 'bp', 'si', 'di', 'ip', 'flags'] as const;
export type MooRegister = (typeof MOO_REGISTERS)[number];

/** A final state lists only the registers the instruction changed. */
export type MooRegisters = Partial<Record<MooRegister, number>>;

/** One `RAM ` entry: a physical address and the byte there. */
export type MooRamEntry = readonly [address: number, value: number];

export interface MooState<R extends MooRegisters = MooRegisters> {
  readonly regs: R;
  readonly ram: readonly MooRamEntry[];
}

export interface MooException {
  /** The vector the instruction raised or called. */
  readonly vector: number;
  /**
   * The bus address of the FLAGS word the interrupt pushed. It is the word's
   * even address: with an odd SP the image starts one byte above it.
   */
  readonly flagAddress: number;
}

export interface MooTest {
  readonly index: number;
  /** A disassembly of the instruction. */
  readonly name: string;
  /** The instruction's bytes (with the HLT after it, as the suite records them). */
  readonly bytes: Uint8Array;
  /** Every register, and the bytes the test sets before it runs. */
  readonly initial: MooState<Record<MooRegister, number>>;
  /** The registers and bytes that changed. */
  readonly final: MooState;
  readonly exception: MooException | undefined;
  /** The SHA-1 from `HASH`, lower-case hex. */
  readonly hash: string;
}

export interface MooFile {
  readonly majorVersion: number;
  readonly minorVersion: number;
  /** The CPU the tests were captured on (`C286`: the Harris 80C286). */
  readonly cpu: string;
  /** The count the header declares. */
  readonly declaredTests: number;
  readonly tests: readonly MooTest[];
}

/** A chunk: its type and where its payload lies in the buffer. */
export interface MooChunk {
  readonly type: string;
  /** The offset of the chunk's header (its type field). */
  readonly start: number;
  /** The offset of its payload. */
  readonly payload: number;
  readonly length: number;
}

/** A MOO file that does not parse. */
export class MooFormatError extends Error {
  override readonly name = 'MooFormatError';
}

const CHUNK_HEADER = 8;
const utf8 = new TextDecoder();
const HASH_BYTES = 20;

function fourCc(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset] ?? 0, bytes[offset + 1] ?? 0, bytes[offset + 2] ?? 0, bytes[offset + 3] ?? 0);
}

/** The chunks between `start` and `end`, each checked to lie inside them. */
export function* chunksOf(bytes: Uint8Array, start = 0, end = bytes.length): Generator<MooChunk> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = start;
  while (offset < end) {
    if (offset + CHUNK_HEADER > end) throw new MooFormatError(`truncated chunk header at ${offset}`);
    const type = fourCc(bytes, offset);
    const length = view.getUint32(offset + 4, true);
    const payload = offset + CHUNK_HEADER;
    if (payload + length > end) throw new MooFormatError(`chunk '${type}' at ${offset} runs past its parent (${length} bytes)`);
    yield { type, start: offset, payload, length };
    offset = payload + length;
  }
}

function readRegisters(view: DataView, chunk: MooChunk): MooRegisters {
  const mask = view.getUint16(chunk.payload, true);
  const regs: MooRegisters = {};
  let offset = chunk.payload + 2;
  MOO_REGISTERS.forEach((name, bit) => {
    if ((mask & (1 << bit)) === 0) return;
    if (offset + 2 > chunk.payload + chunk.length) throw new MooFormatError(`REGS at ${chunk.start} is shorter than its mask`);
    regs[name] = view.getUint16(offset, true);
    offset += 2;
  });
  return regs;
}

function readRam(view: DataView, chunk: MooChunk): MooRamEntry[] {
  const count = view.getUint32(chunk.payload, true);
  if (4 + count * 5 > chunk.length) throw new MooFormatError(`RAM at ${chunk.start} is shorter than its ${count} entries`);
  const ram: MooRamEntry[] = [];
  for (let i = 0, offset = chunk.payload + 4; i < count; i++, offset += 5) {
    ram.push([view.getUint32(offset, true), view.getUint8(offset + 4)]);
  }
  return ram;
}

function readState(bytes: Uint8Array, view: DataView, chunk: MooChunk): MooState {
  let regs: MooRegisters = {};
  let ram: MooRamEntry[] = [];
  for (const sub of chunksOf(bytes, chunk.payload, chunk.payload + chunk.length)) {
    if (sub.type === 'REGS') regs = readRegisters(view, sub);
    else if (sub.type === 'RAM ') ram = readRam(view, sub);
  }
  return { regs, ram };
}

/** `NAME` and `BYTS`: a uint32 length, then that many bytes. */
function lengthPrefixed(bytes: Uint8Array, view: DataView, chunk: MooChunk): Uint8Array {
  const length = view.getUint32(chunk.payload, true);
  if (4 + length > chunk.length) throw new MooFormatError(`'${chunk.type}' at ${chunk.start} is shorter than its length field`);
  return bytes.slice(chunk.payload + 4, chunk.payload + 4 + length);
}

function hex(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += byte.toString(16).padStart(2, '0');
  return text;
}

function hasAll(regs: MooRegisters): regs is Record<MooRegister, number> {
  return MOO_REGISTERS.every((name) => regs[name] !== undefined);
}

function readTest(bytes: Uint8Array, view: DataView, chunk: MooChunk): MooTest {
  const index = view.getUint32(chunk.payload, true);
  let name = '';
  let code: Uint8Array = new Uint8Array(0);
  let initial: MooState | undefined;
  let final: MooState | undefined;
  let exception: MooException | undefined;
  let hash = '';
  for (const sub of chunksOf(bytes, chunk.payload + 4, chunk.payload + chunk.length)) {
    switch (sub.type) {
      case 'NAME': name = utf8.decode(lengthPrefixed(bytes, view, sub)); break;
      case 'BYTS': code = lengthPrefixed(bytes, view, sub); break;
      case 'INIT': initial = readState(bytes, view, sub); break;
      case 'FINA': final = readState(bytes, view, sub); break;
      case 'EXCP': exception = { vector: view.getUint8(sub.payload), flagAddress: view.getUint32(sub.payload + 1, true) }; break;
      case 'HASH': hash = hex(bytes.subarray(sub.payload, sub.payload + Math.min(sub.length, HASH_BYTES))); break;
      default: break; // CYCL, GMET and anything newer
    }
  }
  if (initial === undefined || final === undefined) throw new MooFormatError(`test ${index} lacks its INIT or FINA chunk`);
  const { regs } = initial;
  if (!hasAll(regs)) throw new MooFormatError(`test ${index}: the initial REGS lacks a register`);
  return { index, name, bytes: code, initial: { regs, ram: initial.ram }, final, exception, hash };
}

/** Parses an uncompressed MOO file. */
export function parseMoo(bytes: Uint8Array): MooFile {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tests: MooTest[] = [];
  let header: Omit<MooFile, 'tests'> | undefined;
  for (const chunk of chunksOf(bytes)) {
    if (header === undefined) {
      if (chunk.type !== 'MOO ' || chunk.length < 12) throw new MooFormatError('not a MOO file: no MOO header chunk first');
      header = {
        majorVersion: view.getUint8(chunk.payload),
        minorVersion: view.getUint8(chunk.payload + 1),
        declaredTests: view.getUint32(chunk.payload + 4, true),
        cpu: fourCc(bytes, chunk.payload + 8),
      };
    } else if (chunk.type === 'TEST') {
      tests.push(readTest(bytes, view, chunk));
    }
  }
  if (header === undefined) throw new MooFormatError('empty file');
  return { ...header, tests };
}

/** The hashes of a `revocation_list.txt`: one hex hash a line; `#` starts a comment. */
export function parseRevocationList(text: string): ReadonlySet<string> {
  const hashes = new Set<string>();
  for (const line of text.split('\n')) {
    const hash = line.replace(/#.*/, '').trim().toLowerCase();
    if (hash !== '') hashes.add(hash);
  }
  return hashes;
}

/**
 * A `.MOO` or `.MOO.gz` file from disk, without the tests whose hash is in
 * `revoked`.
 */
export function readMooFile(path: string, revoked: ReadonlySet<string> = new Set()): MooFile {
  const raw = readFileSync(path);
  const bytes = path.toLowerCase().endsWith('.gz') ? gunzipSync(raw) : raw;
  const file = parseMoo(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return revoked.size === 0 ? file : { ...file, tests: file.tests.filter((test) => !revoked.has(test.hash)) };
}
