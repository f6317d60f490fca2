/**
 * An encoder for the few ACPI Machine Language (AML) constructs a PC's
 * DSDT needs to describe its devices (ACPI 6.4, §20 "ACPI Machine
 * Language (AML) Specification"): names, scopes, devices, integers,
 * strings, buffers and EISA IDs. No methods, fields or operation regions:
 * what is here is declarations, which every AML reader — an OS's
 * interpreter, or SeaBIOS's DSDT scan (src/fw/dsdt_parser.c, which takes
 * Scope, Device, Name, Buffer and the integer forms, and skips a term it
 * does not know by giving up on the rest of its list) — reads alike.
 *
 * Encodings (§20.2):
 * * PkgLength (§20.2.4): the length of the package counted from the
 *   PkgLength's own first byte. One byte for up to 63 (bits 5–0); else
 *   bits 7–6 of the lead byte count the bytes that follow (1–3), its bits
 *   3–0 are the length's low nibble and each following byte the next 8 bits.
 * * NameSeg (§20.2.2): four characters, a lead A–Z or `_`, then A–Z, 0–9
 *   or `_`; a shorter name is padded with `_`. NameString: an optional root
 *   `\` (5Ch) or parent `^` (5Eh) prefixes, then one NameSeg, two after
 *   DualNamePrefix (2Eh), or a count of them after MultiNamePrefix (2Fh).
 * * Integers (§20.2.3): ZeroOp (00h), OneOp (01h), then the smallest of
 *   BytePrefix (0Ah), WordPrefix (0Bh), DWordPrefix (0Ch) — 32 bits at
 *   most, what a revision-1 DSDT's integers hold. OnesOp (FFh) is not
 *   used: SeaBIOS's scan does not know it.
 * * String (0Dh, ASCII, NUL-terminated); Buffer (11h PkgLength BufferSize
 *   bytes); NameOp (08h NameString DataRefObject); ScopeOp (10h PkgLength
 *   NameString TermList); DeviceOp (5Bh 82h PkgLength NameString TermList).
 */

/** AML opcodes used here (ACPI 6.4 §20.3). */
export const AmlOp = {
  ZERO: 0x00,
  ONE: 0x01,
  NAME: 0x08,
  BYTE_PREFIX: 0x0a,
  WORD_PREFIX: 0x0b,
  DWORD_PREFIX: 0x0c,
  STRING_PREFIX: 0x0d,
  SCOPE: 0x10,
  BUFFER: 0x11,
  DUAL_NAME_PREFIX: 0x2e,
  MULTI_NAME_PREFIX: 0x2f,
  EXT_OP_PREFIX: 0x5b,
  /** After EXT_OP_PREFIX. */
  DEVICE: 0x82,
  ROOT_CHAR: 0x5c,
  PARENT_PREFIX_CHAR: 0x5e,
} as const;

/** The longest package a PkgLength can say: 28 bits. */
const PKG_LENGTH_MAX = 0x0fff_ffff;

/** Concatenates AML fragments. */
export function aml(...parts: readonly (Uint8Array | readonly number[])[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The PkgLength of a package whose contents after the PkgLength are `contentBytes` long (the encoding's own bytes counted in). */
export function pkgLength(contentBytes: number): Uint8Array {
  if (!Number.isSafeInteger(contentBytes) || contentBytes < 0) throw new RangeError(`a package of ${contentBytes} bytes`);
  if (contentBytes + 1 <= 0x3f) return Uint8Array.of(contentBytes + 1);
  for (let follow = 1; follow <= 3; follow++) {
    const total = contentBytes + 1 + follow;
    if (total < 2 ** (4 + 8 * follow)) {
      const bytes = new Uint8Array(1 + follow);
      bytes[0] = (follow << 6) | (total & 0x0f);
      for (let i = 1; i <= follow; i++) bytes[i] = Math.floor(total / 2 ** (4 + 8 * (i - 1))) & 0xff;
      return bytes;
    }
  }
  throw new RangeError(`a package of ${contentBytes} bytes: a PkgLength holds at most ${PKG_LENGTH_MAX}`);
}

/** One NameSeg: `name` (1–4 characters) padded with `_`. */
export function nameSeg(name: string): Uint8Array {
  if (!/^[A-Z_][A-Z0-9_]{0,3}$/.test(name)) throw new RangeError(`AML name segment "${name}": expected A–Z or _ then up to three of A–Z, 0–9, _`);
  return Uint8Array.from(name.padEnd(4, '_'), (c) => c.charCodeAt(0));
}

/** A NameString: `\`, then `^`s, then segments separated by dots (`\_SB.PCI0`, `^ISA`, `_HID`). */
export function nameString(path: string): Uint8Array {
  let rest = path;
  const prefix: number[] = [];
  if (rest.startsWith('\\')) {
    prefix.push(AmlOp.ROOT_CHAR);
    rest = rest.slice(1);
  } else {
    while (rest.startsWith('^')) {
      prefix.push(AmlOp.PARENT_PREFIX_CHAR);
      rest = rest.slice(1);
    }
  }
  const segments = rest === '' ? [] : rest.split('.').map(nameSeg);
  if (segments.length === 0) throw new RangeError(`AML name "${path}": no name segment`);
  if (segments.length > 0xff) throw new RangeError(`AML name "${path}": more than 255 segments`);
  if (segments.length === 1) return aml(prefix, ...segments);
  if (segments.length === 2) return aml(prefix, [AmlOp.DUAL_NAME_PREFIX], ...segments);
  return aml(prefix, [AmlOp.MULTI_NAME_PREFIX, segments.length], ...segments);
}

/** An integer constant in its shortest form, 32 bits at most. */
export function amlInteger(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new RangeError(`AML integer ${value}: expected 0 to FFFFFFFFh`);
  if (value === 0) return Uint8Array.of(AmlOp.ZERO);
  if (value === 1) return Uint8Array.of(AmlOp.ONE);
  if (value <= 0xff) return Uint8Array.of(AmlOp.BYTE_PREFIX, value);
  if (value <= 0xffff) return Uint8Array.of(AmlOp.WORD_PREFIX, value & 0xff, value >>> 8);
  return dword(value);
}

function dword(value: number): Uint8Array {
  return Uint8Array.of(AmlOp.DWORD_PREFIX, value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24);
}

/** A String constant (printable ASCII). */
export function amlString(text: string): Uint8Array {
  if (!/^[\x20-\x7e]*$/.test(text)) throw new RangeError(`AML string "${text}": expected printable ASCII`);
  return aml([AmlOp.STRING_PREFIX], Uint8Array.from(text, (c) => c.charCodeAt(0)), [0]);
}

/**
 * A compressed EISA ID, as ASL's EISAID() makes it (ACPI 6.4 §19.6.35):
 * three letters of five bits each (A = 1) in a big-endian 16-bit word, then
 * four hex digits as a big-endian 16-bit word — the four bytes in that
 * order, so `PNP0303` is the bytes 41h D0h 03h 03h. Always a DWordConst,
 * the form an EISA ID takes in a DSDT (and the one SeaBIOS compares).
 */
export function eisaId(id: string): Uint8Array {
  const match = /^([A-Z]{3})([0-9A-F]{4})$/.exec(id);
  if (match === null) throw new RangeError(`EISA ID "${id}": expected three letters A–Z and four hex digits`);
  const letters = match[1] ?? '';
  let vendor = 0;
  for (let i = 0; i < letters.length; i++) vendor = (vendor << 5) | (letters.charCodeAt(i) - 0x40);
  const product = Number.parseInt(match[2] ?? '0', 16);
  return Uint8Array.of(AmlOp.DWORD_PREFIX, vendor >>> 8, vendor & 0xff, product >>> 8, product & 0xff);
}

/** Name(name, object): `object` is an encoded data object (an integer, string, buffer, EISA ID). */
export function amlName(name: string, object: Uint8Array): Uint8Array {
  return aml([AmlOp.NAME], nameString(name), object);
}

/** Buffer(){bytes}: its size as an integer, then the bytes. */
export function amlBuffer(bytes: Uint8Array): Uint8Array {
  const contents = aml(amlInteger(bytes.length), bytes);
  return aml([AmlOp.BUFFER], pkgLength(contents.length), contents);
}

/** Scope(name){terms}. */
export function amlScope(name: string, ...terms: readonly Uint8Array[]): Uint8Array {
  const contents = aml(nameString(name), ...terms);
  return aml([AmlOp.SCOPE], pkgLength(contents.length), contents);
}

/** Device(name){terms}. */
export function amlDevice(name: string, ...terms: readonly Uint8Array[]): Uint8Array {
  const contents = aml(nameString(name), ...terms);
  return aml([AmlOp.EXT_OP_PREFIX, AmlOp.DEVICE], pkgLength(contents.length), contents);
}
