/**
 * Little-endian fixed-layout primitives. The writer grows its buffer; the
 * reader checks every bound and throws `Malformed`, which the message decoder
 * (and nothing else) catches and turns into a typed `DecodeError`.
 */

const TWO_POW_32 = 0x1_0000_0000;
/** Largest u64 high word whose value is still a safe integer (2^53 - 1 >> 32). */
const SAFE_HIGH_MAX = 0x1f_ffff;
const NEVER_WORD = 0xffff_ffff;

/** UTF-8 cannot carry a lone surrogate; TextEncoder would silently replace it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether `text` survives UTF-8 unchanged (String.prototype.isWellFormed, which node 20's lib types lack). */
export function isWellFormedText(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export type DecodeFailure = 'truncated' | 'trailing-bytes' | 'unknown-tag' | 'invalid-field';

/** Thrown inside the decoder only; `decodeMessage` turns it into a DecodeError. */
export class Malformed extends Error {
  override readonly name = 'Malformed';
  readonly reason: DecodeFailure;
  readonly field: string;
  readonly offset: number;

  constructor(reason: DecodeFailure, field: string, offset: number) {
    super(`${reason} at byte ${offset} (${field})`);
    this.reason = reason;
    this.field = field;
    this.offset = offset;
  }
}

/** The host tried to encode something no peer could decode: a programming error. */
export class EncodeError extends Error {
  override readonly name = 'EncodeError';
}

/**
 * Strings up to this long (device names, placements, most details) are
 * tried as ASCII by hand, both ways: TextEncoder's new array and
 * TextDecoder's call cost more than the string, once per exit.
 */
const SHORT_TEXT = 32;

/** `bytes[at, at + n)` as a string if every byte is ASCII (its UTF-8 is itself), else undefined. */
function asciiAt(bytes: Uint8Array, at: number, n: number): string | undefined {
  let text = '';
  for (let i = at; i < at + n; i++) {
    const c = bytes[i] ?? 0;
    if (c >= 0x80) return undefined;
    text += String.fromCharCode(c);
  }
  return text;
}

/** Copies up to this long go byte by byte: `set` (and the view it may need) costs more than the loop. */
const SHORT_COPY = 32;

/** Copies `n` bytes of `src` from `from` into `dst` at `to`: short runs by hand, long ones with `set`. */
export function copyBytes(src: Uint8Array, from: number, dst: Uint8Array, to: number, n: number): void {
  if (n <= SHORT_COPY) for (let i = 0; i < n; i++) dst[to + i] = src[from + i] ?? 0;
  else dst.set(src.subarray(from, from + n), to);
}

/** The little-endian u32 at `at` of `bytes` (no view made). */
export function u32At(bytes: Uint8Array, at: number): number {
  return ((bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8) | ((bytes[at + 2] ?? 0) << 16) | ((bytes[at + 3] ?? 0) << 24)) >>> 0;
}

export class ByteWriter {
  private bytes: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(initialCapacity = 256) {
    this.bytes = new Uint8Array(initialCapacity);
    this.view = new DataView(this.bytes.buffer);
  }

  reset(): void {
    this.length = 0;
  }

  /** The bytes written so far: a view valid until the next write or reset. */
  written(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }

  /** The whole buffer, whose first `length` bytes are written: valid until the next write (no view made, for the hot path). */
  get buffer(): Uint8Array {
    return this.bytes;
  }

  /** Claims `n` bytes, growing the buffer; read `this.view` only after calling it. */
  private reserve(n: number): number {
    const at = this.length;
    const need = at + n;
    if (need > this.bytes.length) {
      let capacity = this.bytes.length * 2;
      while (capacity < need) capacity *= 2;
      const grown = new Uint8Array(capacity);
      grown.set(this.bytes.subarray(0, at));
      this.bytes = grown;
      this.view = new DataView(grown.buffer);
    }
    this.length = need;
    return at;
  }

  u8(value: number): void {
    const at = this.reserve(1);
    this.view.setUint8(at, value);
  }

  u16(value: number): void {
    const at = this.reserve(2);
    this.view.setUint16(at, value, true);
  }

  u32(value: number): void {
    const at = this.reserve(4);
    this.view.setUint32(at, value, true);
  }

  f64(value: number): void {
    const at = this.reserve(8);
    this.view.setFloat64(at, value, true);
  }

  bigU64(value: bigint): void {
    const at = this.reserve(8);
    this.view.setBigUint64(at, value, true);
  }

  /** A safe non-negative integer as u64; with `allowNever`, Infinity as all-ones (NEVER). */
  u64(value: number, field: string, allowNever = false): void {
    const at = this.reserve(8);
    if (value === Number.POSITIVE_INFINITY && allowNever) {
      this.view.setUint32(at, NEVER_WORD, true);
      this.view.setUint32(at + 4, NEVER_WORD, true);
      return;
    }
    if (!Number.isSafeInteger(value) || value < 0) throw new EncodeError(`${field} ${value} is not a safe non-negative integer`);
    this.view.setUint32(at, value % TWO_POW_32, true);
    this.view.setUint32(at + 4, Math.floor(value / TWO_POW_32), true);
  }

  raw(data: Uint8Array): void {
    const at = this.reserve(data.length);
    copyBytes(data, 0, this.bytes, at, data.length);
  }

  /** u32 length, then the bytes. */
  blob(data: Uint8Array): void {
    this.u32(data.length);
    this.raw(data);
  }

  string(value: string, field: string): void {
    if (typeof value !== 'string') throw new EncodeError(`${field} is not a string`);
    if (value.length <= SHORT_TEXT && this.ascii(value)) return;
    if (!isWellFormedText(value)) throw new EncodeError(`${field} is not well-formed Unicode`);
    this.blob(utf8Encoder.encode(value));
  }

  /** A short ASCII string written byte by byte (its UTF-8 is its char codes); false, nothing written, if it is not ASCII. */
  private ascii(value: string): boolean {
    const n = value.length;
    const start = this.length;
    this.u32(n);
    const at = this.reserve(n);
    const b = this.bytes;
    for (let i = 0; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c >= 0x80) {
        this.length = start;
        return false;
      }
      b[at + i] = c;
    }
    return true;
  }
}

/**
 * Eight bytes and a view over them, for the reader's doubles and 64-bit
 * words: the reader reads its message's own bytes, never the message's
 * `buffer` — asking a small typed array for its buffer makes V8 move it off
 * the heap, which was a fifth of a modelled run whose device host answers
 * through the codec.
 */
const scratch = new Uint8Array(8);
const scratchView = new DataView(scratch.buffer);

/** What a zero-length field decodes to: one shared empty array (it holds nothing to alias). */
const NO_BYTES = new Uint8Array(0);

/** Reads `bytes[start, end)`; offsets (in errors too) count from `start`. */
export class ByteReader {
  private bytes: Uint8Array;
  private start: number;
  private end: number;
  private at: number;

  constructor(bytes: Uint8Array, start?: number, end?: number) {
    this.bytes = bytes;
    this.start = start ?? 0;
    this.end = end ?? bytes.length;
    this.at = this.start;
  }

  /** Reads `bytes[start, end)` from the beginning, as a new reader would (one reader serves a decoder that is never reentered). */
  reset(bytes: Uint8Array, start: number, end: number): this {
    this.bytes = bytes;
    this.start = start;
    this.end = end;
    this.at = start;
    return this;
  }

  /** Bytes read so far. */
  get offset(): number {
    return this.at - this.start;
  }

  get remaining(): number {
    return this.end - this.at;
  }

  private take(n: number, field: string): number {
    const at = this.at;
    if (n > this.end - at) throw new Malformed('truncated', field, at - this.start);
    this.at = at + n;
    return at;
  }

  /** The little-endian u32 at `at` (already taken). */
  private word(at: number): number {
    return u32At(this.bytes, at);
  }

  /** The 8 bytes at `at` (already taken), in the scratch view. */
  private eight(at: number): DataView {
    const b = this.bytes;
    for (let i = 0; i < 8; i++) scratch[i] = b[at + i] ?? 0;
    return scratchView;
  }

  u8(field: string): number {
    return this.bytes[this.take(1, field)] ?? 0;
  }

  u16(field: string): number {
    const at = this.take(2, field);
    return (this.bytes[at] ?? 0) | ((this.bytes[at + 1] ?? 0) << 8);
  }

  u32(field: string): number {
    return this.word(this.take(4, field));
  }

  f64(field: string): number {
    return this.eight(this.take(8, field)).getFloat64(0, true);
  }

  bigU64(field: string): bigint {
    return this.eight(this.take(8, field)).getBigUint64(0, true);
  }

  /** A u64 that must be a safe integer, or all-ones when `allowNever` (→ Infinity). */
  u64(field: string, allowNever = false): number {
    const at = this.take(8, field);
    const low = this.word(at);
    const high = this.word(at + 4);
    if (high === NEVER_WORD && low === NEVER_WORD && allowNever) return Number.POSITIVE_INFINITY;
    if (high > SAFE_HIGH_MAX) throw new Malformed('invalid-field', field, at - this.start);
    return high * TWO_POW_32 + low;
  }

  /** A reserved field: must be zero, so that no two byte strings mean one message. */
  zero(width: 1 | 2 | 4, field: string): void {
    const at = this.take(width, field);
    const b = this.bytes;
    for (let i = 0; i < width; i++) if (b[at + i] !== 0) throw new Malformed('invalid-field', field, at - this.start);
  }

  bool(field: string): boolean {
    const at = this.offset;
    const value = this.u8(field);
    if (value > 1) throw new Malformed('invalid-field', field, at);
    return value === 1;
  }

  /** `n` bytes, copied: a decoded message never aliases the buffer it came from. */
  raw(n: number, field: string): Uint8Array {
    const at = this.take(n, field);
    if (n === 0) return NO_BYTES;
    const copy = new Uint8Array(n);
    copyBytes(this.bytes, at, copy, 0, n);
    return copy;
  }

  blob(field: string): Uint8Array {
    return this.raw(this.u32(field), field);
  }

  string(field: string): string {
    const start = this.offset;
    const length = this.u32(field);
    const at = this.take(length, field);
    if (length <= SHORT_TEXT) {
      const ascii = asciiAt(this.bytes, at, length);
      if (ascii !== undefined) return ascii;
    }
    try {
      return utf8Decoder.decode(this.bytes.subarray(at, at + length));
    } catch {
      throw new Malformed('invalid-field', field, start);
    }
  }

  fail(field: string, at: number): never {
    throw new Malformed('invalid-field', field, at);
  }
}
