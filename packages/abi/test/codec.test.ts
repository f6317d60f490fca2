import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Message } from '../src/index.ts';
import { EncodeError, ErrorCode, MAX_MEMORY_BYTES, MessageEncoder, MessageTag, NEVER, badMessageReply, decodeMessage, encodeMessage, sameBytes } from '../src/index.ts';
import { message } from './arbitraries.ts';

// fast-check prints the failing seed and path on failure; pin runs so CI stays quick.
const runs = { numRuns: 2000 };

function roundTrip(m: Message): Message {
  const decoded = decodeMessage(encodeMessage(m));
  if (!decoded.ok) throw new Error(`decode failed: ${JSON.stringify(decoded)}`);
  return decoded.message;
}

describe('message codec', () => {
  it('decodes what it encodes, for every message kind', () => {
    fc.assert(fc.property(message, (m) => {
      expect(roundTrip(m)).toEqual(m);
    }), runs);
  });

  it('reuses one buffer per encoder and still round-trips', () => {
    const encoder = new MessageEncoder();
    fc.assert(fc.property(fc.array(message, { minLength: 1, maxLength: 5 }), (ms) => {
      for (const m of ms) {
        const decoded = decodeMessage(encoder.encode(m));
        expect(decoded.ok && decoded.message).toEqual(m);
      }
    }), { numRuns: 300 });
  });

  it('decodes a message wherever it sits in a larger buffer (a ring, a writer\'s buffer)', () => {
    fc.assert(fc.property(message, fc.nat({ max: 13 }), fc.nat({ max: 7 }), (m, before, after) => {
      const bytes = encodeMessage(m);
      const larger = new Uint8Array(before + bytes.length + after).fill(0xa5);
      larger.set(bytes, before);
      const decoded = decodeMessage(larger.subarray(before, before + bytes.length));
      expect(decoded.ok && decoded.message).toEqual(m);
    }), { numRuns: 500 });
  });

  it('never throws on arbitrary bytes, and accepts only canonical encodings', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 96 }), (bytes) => {
      const decoded = decodeMessage(bytes);
      if (decoded.ok) expect(encodeMessage(decoded.message)).toEqual(bytes);
      else expect(['truncated', 'trailing-bytes', 'unknown-tag', 'invalid-field']).toContain(decoded.reason);
    }), { numRuns: 20_000 });
  });

  it('never throws on arbitrary bytes behind a valid tag', () => {
    const tags = Object.values(MessageTag);
    fc.assert(fc.property(fc.constantFrom(...tags), fc.uint8Array({ maxLength: 80 }), (tag, body) => {
      const bytes = new Uint8Array(4 + body.length);
      new DataView(bytes.buffer).setUint16(0, tag, true);
      bytes.set(body, 4);
      const decoded = decodeMessage(bytes);
      if (decoded.ok) expect(encodeMessage(decoded.message)).toEqual(bytes);
    }), { numRuns: 20_000 });
  });

  it('rejects or canonically accepts every corruption of a valid message', () => {
    fc.assert(fc.property(message, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.nat(), (m, where, flip, cut) => {
      const bytes = encodeMessage(m);
      const flipped = bytes.slice();
      const at = where % flipped.length;
      flipped[at] = (flipped[at] ?? 0) ^ flip;
      for (const corrupt of [flipped, bytes.subarray(0, cut % bytes.length)]) {
        const decoded = decodeMessage(corrupt);
        if (decoded.ok) expect(encodeMessage(decoded.message)).toEqual(corrupt);
      }
    }), runs);
  });

  it('names what is wrong', () => {
    expect(decodeMessage(new Uint8Array([0xff, 0xff, 0, 0]))).toMatchObject({ ok: false, reason: 'unknown-tag' });
    const io = encodeMessage({
      kind: 'io', vcpu: 0, time: 5, ifFlag: true, readyForInterruptInjection: false,
      direction: 'out', port: 0x43, size: 1, count: 1, data: Uint8Array.of(0x34),
    });
    expect(decodeMessage(io.subarray(0, io.length - 1))).toMatchObject({ ok: false, reason: 'truncated', field: 'io data' });
    expect(decodeMessage(Uint8Array.of(...io, 0))).toMatchObject({ ok: false, reason: 'trailing-bytes' });
    const badSize = io.slice();
    badSize[17] = 3; // the size byte, after tag(4) + exit header(12) + direction(1)
    expect(decodeMessage(badSize)).toMatchObject({ ok: false, reason: 'invalid-field', field: 'io size' });
    const reserved = io.slice();
    reserved[2] = 1;
    expect(decodeMessage(reserved)).toMatchObject({ ok: false, reason: 'invalid-field', field: 'reserved', offset: 2 });
  });

  it('lays out an io exit as documented (little-endian, fixed offsets)', () => {
    const bytes = encodeMessage({
      kind: 'io', vcpu: 1, time: 0x1_0000_0002, ifFlag: true, readyForInterruptInjection: true,
      direction: 'out', port: 0x3f8, size: 1, count: 2, data: Uint8Array.of(0x41, 0x42),
    });
    expect([...bytes]).toEqual([
      0x01, 0x00, 0x00, 0x00, // tag io, reserved
      0x01, 0x00, 0x03, 0x00, // vcpu 1, flags IF|ready, reserved
      0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // time
      0x01, 0x01, 0xf8, 0x03, // out, size 1, port 0x3f8
      0x02, 0x00, 0x00, 0x00, // count
      0x02, 0x00, 0x00, 0x00, 0x41, 0x42, // data
    ]);
  });

  it('carries a deadline of NEVER as all-ones', () => {
    const run = { kind: 'run', vcpu: 0, completion: new Uint8Array(0), requestInterruptWindow: false, immediateExit: false, deadline: NEVER, deadlineOwner: '' } as const;
    expect(encodeMessage(run).subarray(8, 16)).toEqual(new Uint8Array(8).fill(0xff));
    expect(roundTrip(run)).toEqual(run);
  });

  it('writes a name as its UTF-8 after a u32 length, whether short ASCII (written by hand) or not', () => {
    const utf8 = new TextEncoder();
    const texts = ['', 'pit', 'x'.repeat(32), 'x'.repeat(33), 'piç', 'é'.repeat(20), `${'a'.repeat(31)}é`, 'ab\u{1F600}'];
    for (const device of texts) {
      const bytes = encodeMessage({ kind: 'get-device-state', device });
      const text = utf8.encode(device);
      const length = new Uint8Array(4);
      new DataView(length.buffer).setUint32(0, text.length, true);
      expect(bytes.subarray(bytes.length - text.length - 4)).toEqual(new Uint8Array([...length, ...text]));
      expect(roundTrip({ kind: 'get-device-state', device })).toEqual({ kind: 'get-device-state', device });
    }
    // A lone surrogate after an ASCII start is refused, as one anywhere else is.
    expect(() => encodeMessage({ kind: 'get-device-state', device: 'pic\uDC00' })).toThrow(/Unicode/);
  });

  it('refuses to encode what no peer could decode', () => {
    const exit = { vcpu: 0, time: 0, ifFlag: false, readyForInterruptInjection: false };
    expect(() => encodeMessage({ ...exit, kind: 'io', direction: 'out', port: 0x10000, size: 1, count: 1, data: new Uint8Array(1) }))
      .toThrow(EncodeError);
    expect(() => encodeMessage({ ...exit, kind: 'io', direction: 'out', port: 0x60, size: 2, count: 1, data: new Uint8Array(1) }))
      .toThrow(/io data length/);
    expect(() => encodeMessage({ ...exit, kind: 'hlt', time: 1.5 })).toThrow(/time/);
    expect(() => encodeMessage({ kind: 'get-device-state', device: '\uD800' })).toThrow(/Unicode/);
    expect(() => encodeMessage({ kind: 'get-device-state', device: undefined as unknown as string })).toThrow(/device is not a string/);
    // NEVER is a deadline, not a time, an address or a length.
    expect(() => encodeMessage({ ...exit, kind: 'hlt', time: NEVER })).toThrow(/time/);
    expect(() => encodeMessage({ ...exit, kind: 'mmio', address: NEVER, length: 4, isWrite: false, data: new Uint8Array(0) }))
      .toThrow(/mmio address/);
    expect(() => encodeMessage({ kind: 'register-coalesced-range', space: 'port', address: 0x3f8, length: NEVER, enable: true }))
      .toThrow(/range length/);
    expect(() => encodeMessage({ kind: 'register-coalesced-range', space: 'pci' as 'port', address: 0, length: 8, enable: true }))
      .toThrow(/range space/);
  });
});

describe('guest memory requests (read-memory, write-memory) and their memory reply', () => {
  it('round-trips each, from no bytes to the most one request moves', () => {
    for (const m of [
      { kind: 'read-memory', address: 0xf_fff0, length: 16 },
      { kind: 'read-memory', address: Number.MAX_SAFE_INTEGER, length: 0 },
      { kind: 'read-memory', address: 0, length: MAX_MEMORY_BYTES },
      { kind: 'write-memory', address: 0x7c00, bytes: Uint8Array.of(0xeb, 0xfe, 0x55, 0xaa) },
      { kind: 'write-memory', address: 0, bytes: new Uint8Array(0) },
      { kind: 'memory', bytes: Uint8Array.of(1, 2, 3) },
      { kind: 'memory', bytes: new Uint8Array(0) },
    ] as const satisfies readonly Message[]) {
      expect(roundTrip(m)).toEqual(m);
    }
    // 16 MiB, compared as bytes (toEqual walks a typed array element by element).
    const big = new Uint8Array(MAX_MEMORY_BYTES);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const write = roundTrip({ kind: 'write-memory', address: 0x10_0000, bytes: big });
    expect(write.kind === 'write-memory' && write.address === 0x10_0000 && sameBytes(write.bytes, big)).toBe(true);
    const reply = roundTrip({ kind: 'memory', bytes: big });
    expect(reply.kind === 'memory' && sameBytes(reply.bytes, big)).toBe(true);
  });

  it('lays them out as documented: a u64 address, then a u32 length or u32-prefixed bytes', () => {
    expect([...encodeMessage({ kind: 'read-memory', address: 0x1_0000_7c00, length: 0x200 })]).toEqual([
      MessageTag['read-memory'], 0x00, 0x00, 0x00,
      0x00, 0x7c, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // address
      0x00, 0x02, 0x00, 0x00, // length
    ]);
    expect([...encodeMessage({ kind: 'write-memory', address: 0x500, bytes: Uint8Array.of(0xaa, 0xbb) })]).toEqual([
      MessageTag['write-memory'], 0x00, 0x00, 0x00,
      0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // address
      0x02, 0x00, 0x00, 0x00, 0xaa, 0xbb, // bytes
    ]);
    expect([...encodeMessage({ kind: 'memory', bytes: Uint8Array.of(0x42) })]).toEqual([MessageTag.memory, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x42]);
  });

  it('refuses to encode, and to decode, more than one request moves or an address that is no u64 integer', () => {
    expect(() => encodeMessage({ kind: 'read-memory', address: 0, length: MAX_MEMORY_BYTES + 1 })).toThrow(/memory length/);
    expect(() => encodeMessage({ kind: 'read-memory', address: -1, length: 1 })).toThrow(/memory address/);
    expect(() => encodeMessage({ kind: 'read-memory', address: 0.5, length: 1 })).toThrow(/memory address/);
    expect(() => encodeMessage({ kind: 'write-memory', address: 0, bytes: new Uint8Array(MAX_MEMORY_BYTES + 1) })).toThrow(/memory bytes/);
    expect(() => encodeMessage({ kind: 'memory', bytes: new Uint8Array(MAX_MEMORY_BYTES + 1) })).toThrow(/memory bytes/);
    const read = encodeMessage({ kind: 'read-memory', address: 0, length: MAX_MEMORY_BYTES });
    new DataView(read.buffer).setUint32(12, MAX_MEMORY_BYTES + 1, true);
    expect(decodeMessage(read)).toMatchObject({ ok: false, reason: 'invalid-field', field: 'memory length', offset: 12 });
    // A length past the limit is refused as such, before the bytes it claims are looked for.
    const write = encodeMessage({ kind: 'write-memory', address: 0, bytes: new Uint8Array(0) });
    new DataView(write.buffer).setUint32(12, MAX_MEMORY_BYTES + 1, true);
    expect(decodeMessage(write)).toMatchObject({ ok: false, reason: 'invalid-field', field: 'memory bytes', offset: 12 });
    const reply = Uint8Array.of(MessageTag.memory, 0, 0, 0, 0xff, 0xff, 0xff, 0xff);
    expect(decodeMessage(reply)).toMatchObject({ ok: false, reason: 'invalid-field', field: 'memory bytes', offset: 4 });
    const short = encodeMessage({ kind: 'memory', bytes: Uint8Array.of(1, 2) });
    expect(decodeMessage(short.subarray(0, short.length - 1))).toMatchObject({ ok: false, reason: 'truncated', field: 'memory bytes' });
    const huge = encodeMessage({ kind: 'read-memory', address: 0, length: 1 });
    huge[11] = 0x20; // the address's high word past 2^53
    expect(decodeMessage(huge)).toMatchObject({ ok: false, reason: 'invalid-field', field: 'memory address', offset: 4 });
  });
});

describe('message codec, given bytes from a peer it does not trust', () => {
  it('reads only bytes that are there: a span past the end (or backwards, or fractional) is truncated, never read as zeros', () => {
    const resume = Uint8Array.of(MessageTag.resume, 0x00); // the tag, without its reserved half-word
    expect(decodeMessage(resume, 0, 4)).toEqual({ ok: false, reason: 'truncated', field: 'frame', offset: 0 });
    const ok = encodeMessage({ kind: 'ok' });
    for (const [start, end] of [[0, ok.length + 1], [-1, ok.length], [2, 1], [0.5, ok.length], [0, Number.NaN]]) {
      expect(decodeMessage(ok, start, end)).toMatchObject({ ok: false, reason: 'truncated', field: 'frame' });
    }
    expect(decodeMessage(ok, 0, ok.length)).toEqual({ ok: true, message: { kind: 'ok' } });
    expect(decodeMessage(null as unknown as Uint8Array)).toMatchObject({ ok: false, reason: 'truncated' });
  });

  it('decodes a span exactly as the bytes of that span alone, wherever the span is asked for', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: -4, max: 70 }), fc.integer({ min: -4, max: 70 }), (bytes, start, end) => {
      const decoded = decodeMessage(bytes, start, end);
      if (start >= 0 && start <= end && end <= bytes.length) expect(decoded).toEqual(decodeMessage(bytes.slice(start, end)));
      else expect(decoded).toMatchObject({ ok: false, reason: 'truncated', field: 'frame' });
    }), { numRuns: 5_000 });
  });

  it('answers what it cannot decode with EBADMSG, naming why — a reply the codec itself carries', () => {
    const decoded = decodeMessage(Uint8Array.of(0xff, 0xff, 0, 0));
    if (decoded.ok) throw new Error('decoded an unknown tag');
    const reply = badMessageReply(decoded);
    expect(reply).toEqual({ kind: 'error', code: ErrorCode.BadMessage, message: 'undecodable message: unknown-tag at byte 0 (tag)' });
    expect(decodeMessage(encodeMessage(reply))).toEqual({ ok: true, message: reply });
  });
});
