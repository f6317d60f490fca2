import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GuestMemory, Message } from '../src/index.ts';
import { ErrorCode, MAX_MEMORY_BYTES, decodeMessage, encodeMessage, ioctlMemory, ramMemory, sameBytes } from '../src/index.ts';

/** A message as the other side of a channel gets it: encoded and decoded again. */
function overTheWire(message: Message): Message {
  const decoded = decodeMessage(encodeMessage(message));
  if (!decoded.ok) throw new Error(`decode failed: ${JSON.stringify(decoded)}`);
  return decoded.message;
}

/** A kernel's side of the two ioctls, over `memory`: each call's request and reply cross as bytes, and are counted. */
function fakeKernel(memory: GuestMemory) {
  const calls: Message[] = [];
  const call = (sent: Message): Message => {
    const request = overTheWire(sent);
    calls.push(request);
    const refused: Message = { kind: 'error', code: ErrorCode.Invalid, message: `${request.kind} outside guest RAM` };
    switch (request.kind) {
      case 'read-memory': {
        const bytes = new Uint8Array(request.length);
        return overTheWire(memory.read(request.address, bytes) ? { kind: 'memory', bytes } : refused);
      }
      case 'write-memory':
        return overTheWire(memory.write(request.address, request.bytes) ? { kind: 'ok' } : refused);
      default:
        return { kind: 'error', code: ErrorCode.Unsupported, message: `${request.kind} is not a kernel ioctl` };
    }
  };
  return { call, calls };
}

describe('guest memory through ioctls', () => {
  it('reads and writes guest RAM one call each, as shared RAM would', () => {
    const ram = new Uint8Array(0x1000);
    const { call, calls } = fakeKernel(ramMemory(ram));
    const memory = ioctlMemory(call, ram.length);
    expect(memory.size).toBe(0x1000);
    expect(memory.write(0x7fe, Uint8Array.of(0x55, 0xaa))).toBe(true);
    expect([ram[0x7fe], ram[0x7ff]]).toEqual([0x55, 0xaa]);
    ram.set([1, 2, 3], 0xffd);
    const into = new Uint8Array(3);
    expect(memory.read(0xffd, into)).toBe(true);
    expect([...into]).toEqual([1, 2, 3]);
    expect(calls).toEqual([
      { kind: 'write-memory', address: 0x7fe, bytes: Uint8Array.of(0x55, 0xaa) },
      { kind: 'read-memory', address: 0xffd, length: 3 },
    ]);
  });

  it('answers false for an access outside its RAM without a call, leaving `into` as it was', () => {
    const { call, calls } = fakeKernel(ramMemory(new Uint8Array(0x1000)));
    const memory = ioctlMemory(call, 0x1000);
    const into = new Uint8Array(4).fill(0xee);
    for (const address of [0xffd, 0x1000, 0x1001, -1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(memory.read(address, into)).toBe(false);
      expect(memory.write(address, into)).toBe(false);
    }
    expect([...into]).toEqual([0xee, 0xee, 0xee, 0xee]);
    expect(calls).toEqual([]);
    // The end of RAM, and nothing at it, are inside.
    expect(memory.read(0x1000, new Uint8Array(0))).toBe(true);
    expect(memory.read(0xffc, into)).toBe(true);
  });

  it('answers false when the kernel refuses, leaving `into` and guest memory as they were', () => {
    const ram = new Uint8Array(0x800); // the kernel holds less than the device host was told
    const { call, calls } = fakeKernel(ramMemory(ram));
    const memory = ioctlMemory(call, 0x1000);
    const into = new Uint8Array(4).fill(0xee);
    expect(memory.read(0x900, into)).toBe(false);
    expect(memory.write(0x7fe, Uint8Array.of(1, 2, 3, 4))).toBe(false);
    expect([...into]).toEqual([0xee, 0xee, 0xee, 0xee]);
    expect(ram.every((b) => b === 0)).toBe(true);
    expect(calls.map((c) => c.kind)).toEqual(['read-memory', 'write-memory']);
  });

  it('agrees with shared RAM on every access, in or out of bounds', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ write: fc.boolean(), address: fc.integer({ min: -2, max: 0x110 }), data: fc.uint8Array({ maxLength: 40 }) }), { maxLength: 30 }),
      (accesses) => {
        const shared = new Uint8Array(0x100);
        const remote = new Uint8Array(0x100);
        const direct = ramMemory(shared);
        const viaIoctl = ioctlMemory(fakeKernel(ramMemory(remote)).call, remote.length);
        for (const { write, address, data } of accesses) {
          if (write) {
            expect(viaIoctl.write(address, data)).toBe(direct.write(address, data));
          } else {
            const a = data.slice();
            const b = data.slice();
            expect(viaIoctl.read(address, a)).toBe(direct.read(address, b));
            expect(a).toEqual(b);
          }
        }
        expect(remote).toEqual(shared);
      },
    ), { numRuns: 500 });
  });

  it('moves an access longer than one request moves in parts of MAX_MEMORY_BYTES', () => {
    const length = 2 * MAX_MEMORY_BYTES + 5;
    const ram = new Uint8Array(length + 16);
    const { call, calls } = fakeKernel(ramMemory(ram));
    const memory = ioctlMemory(call, ram.length);
    const data = new Uint8Array(length);
    for (let i = 0; i < length; i++) data[i] = i % 251;
    // Compared as bytes: toEqual walks a typed array element by element.
    expect(memory.write(8, data)).toBe(true);
    expect(sameBytes(ram.subarray(8, 8 + length), data)).toBe(true);
    const into = new Uint8Array(length);
    expect(memory.read(8, into)).toBe(true);
    expect(sameBytes(into, data)).toBe(true);
    expect(calls.map((c) => [c.kind, c.kind === 'read-memory' ? c.length : c.kind === 'write-memory' ? c.bytes.length : 0, 'address' in c ? c.address : -1])).toEqual([
      ['write-memory', MAX_MEMORY_BYTES, 8], ['write-memory', MAX_MEMORY_BYTES, 8 + MAX_MEMORY_BYTES], ['write-memory', 5, 8 + 2 * MAX_MEMORY_BYTES],
      ['read-memory', MAX_MEMORY_BYTES, 8], ['read-memory', MAX_MEMORY_BYTES, 8 + MAX_MEMORY_BYTES], ['read-memory', 5, 8 + 2 * MAX_MEMORY_BYTES],
    ]);
  });

  it('throws on a reply that is not the request\'s own: a peer that does not speak this protocol', () => {
    const memory = ioctlMemory(() => ({ kind: 'ok' }), 0x100);
    expect(() => memory.read(0, new Uint8Array(4))).toThrow(/read-memory answered with ok/);
    expect(() => ioctlMemory(() => ({ kind: 'memory', bytes: new Uint8Array(3) }), 0x100).read(0, new Uint8Array(4))).toThrow(/of 3 bytes, not 4/);
    expect(() => ioctlMemory(() => ({ kind: 'memory', bytes: new Uint8Array(0) }), 0x100).write(0, new Uint8Array(4))).toThrow(/write-memory answered with memory/);
  });
});
