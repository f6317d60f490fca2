/**
 * Guest memory reached through ioctls, for a device host that shares no RAM
 * with the guest (a separate process): each read is a `read-memory` and each
 * write a `write-memory` to the kernel, as a Xen backend copies to and from
 * its guest with GNTTABOP_copy (xen/include/public/grant_table.h) instead of
 * mapping its pages. The devices see the same `GuestMemory` as over shared
 * RAM, bounds and all.
 */
import type { GuestMemory } from './device-context.ts';
import { MAX_MEMORY_BYTES } from './ioctl.ts';
import type { Message } from './message.ts';

/** Whether `length` bytes at `address` lie wholly inside `size` bytes of RAM (as `ramMemory` judges). */
function inside(address: number, length: number, size: number): boolean {
  return Number.isSafeInteger(address) && address >= 0 && address <= size && length <= size - address;
}

/** The reply to a request that is neither its answer nor an error: the other side does not speak this protocol. */
function unexpected(request: string, reply: Message, detail = ''): Error {
  return new Error(`${request} answered with ${reply.kind}${detail}`);
}

/**
 * `size` bytes of guest RAM (from guest physical address 0) through `call`,
 * which sends an ioctl and returns its reply. An access outside them
 * answers false without a call; one the kernel refuses answers false (and
 * `into`, or guest memory, is as it was). One access is one call — up to
 * MAX_MEMORY_BYTES; a longer one is several, checked against `size` before
 * the first (a read lands in `into` only once every part has come; a write
 * the kernel refuses part-way, which a kernel whose RAM is `size` bytes
 * does not, leaves the parts before it written). A reply
 * of another kind than the request's own, or of the wrong length, is a peer
 * that does not speak this protocol: that throws.
 */
export function ioctlMemory(call: (message: Message) => Message, size: number): GuestMemory {
  const readPart = (address: number, into: Uint8Array): boolean => {
    const reply = call({ kind: 'read-memory', address, length: into.length });
    if (reply.kind === 'error') return false;
    if (reply.kind !== 'memory') throw unexpected('read-memory', reply);
    if (reply.bytes.length !== into.length) throw unexpected('read-memory', reply, ` of ${reply.bytes.length} bytes, not ${into.length}`);
    into.set(reply.bytes);
    return true;
  };
  const writePart = (address: number, data: Uint8Array): boolean => {
    const reply = call({ kind: 'write-memory', address, bytes: data });
    if (reply.kind === 'error') return false;
    if (reply.kind !== 'ok') throw unexpected('write-memory', reply);
    return true;
  };
  return {
    size,
    read(address, into) {
      if (!inside(address, into.length, size)) return false;
      if (into.length <= MAX_MEMORY_BYTES) return readPart(address, into);
      const whole = new Uint8Array(into.length);
      for (let at = 0; at < whole.length; at += MAX_MEMORY_BYTES) {
        if (!readPart(address + at, whole.subarray(at, at + MAX_MEMORY_BYTES))) return false;
      }
      into.set(whole);
      return true;
    },
    write(address, data) {
      if (!inside(address, data.length, size)) return false;
      if (data.length <= MAX_MEMORY_BYTES) return writePart(address, data);
      for (let at = 0; at < data.length; at += MAX_MEMORY_BYTES) {
        if (!writePart(address + at, data.subarray(at, at + MAX_MEMORY_BYTES))) return false;
      }
      return true;
    },
  };
}
