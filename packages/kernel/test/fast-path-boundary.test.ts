// What crosses into the kernel from the device host is checked there: the coupled in-port cache (seed 003) is
// served only while it holds, and every registration — coalesced or posted range, counter, cached read — that names a
// range outside its space, another device's address or a device placed in the kernel is refused with a typed
// error, counted, and changes nothing.
import type { Access, CachedReadDescriptor, CounterDescriptor, Instruction, ProgramDescriptor, Request } from '@splitvisor/abi';
import { ErrorCode, NEVER, Op, ProgramBuilder, r4 } from '@splitvisor/abi';
import { I8254 } from '@splitvisor/pit';
import { describe, expect, it } from 'vitest';
import { KernelDomain } from '../src/index.ts';

const STATUS = 0x64;
const status = (value: number | null, over: Partial<CachedReadDescriptor> = {}): CachedReadDescriptor => ({
  kind: 'cached-read', space: 'port', address: STATUS, size: 1, value, invalidatedBy: [{ space: 'port', address: 0x60, length: 1 }, { space: 'port', address: STATUS, length: 1 }], ...over,
});
const counter: CounterDescriptor = { kind: 'counter', space: 'port', address: 0x608, size: 4, widthBits: 24, frequencyHz: 3_579_545, base: 0n, epoch: 0, running: true };

/** A program for the i8042's two ports: a read of 64h answered from scratch byte 0, which it then sets to 0x1d; anything else goes on. */
const statusProgram = (over: Partial<ProgramDescriptor> = {}): ProgramDescriptor => ({
  kind: 'program', space: 'port', address: 0x60, length: 5,
  program: new ProgramBuilder(1).ldb(r4, 0).ret(r4).build(), scratch: Uint8Array.of(0x1c), ...over,
});
const raw = (instructions: Instruction[]) => ({ instructions, scratchBytes: 1 });

const read = (address: number): Access => ({ space: 'port', address, width: 1, count: 1, isWrite: false, data: new Uint8Array(0) });
const write = (address: number, value: number): Access => ({ space: 'port', address, width: 1, count: 1, isWrite: true, data: Uint8Array.of(value) });

function kernel() {
  const clock: { now: number; hostDeadline: number; pending: boolean } = { now: 0, hostDeadline: NEVER, pending: false };
  const domain = new KernelDomain(() => clock.now, { hostDeadline: () => clock.hostDeadline, hostPending: () => clock.pending });
  const into = new Uint8Array(1);
  const served = (address: number) => {
    const answer = domain.access(read(address), into);
    return answer === undefined ? undefined : into[0];
  };
  return { domain, clock, served };
}

describe('the coupled in-port cache', () => {
  it('answers a published status register until the host\'s next timer, then sends the read on', () => {
    const { domain, clock, served } = kernel();
    expect(domain.ioctl({ kind: 'register-fast-path', device: 'keyboard', descriptor: status(0x1c) })).toEqual({ kind: 'ok' });
    clock.hostDeadline = 1_000;
    expect(served(STATUS)).toBe(0x1c);
    clock.now = 999;
    expect(served(STATUS)).toBe(0x1c);
    clock.now = 1_000; // a timer of the host is due: it may have changed the status
    expect(served(STATUS)).toBeUndefined();
    expect(domain.cachedReads).toEqual({ served: 2, passed: 1 });
  });

  it('sends the read on while a write that could change it waits in the coalesced ring, and serves it again once drained', () => {
    const { domain, served } = kernel();
    domain.ioctl({ kind: 'register-fast-path', device: 'keyboard', descriptor: status(0x1c) });
    domain.ioctl({ kind: 'register-coalesced-range', space: 'port', address: 0x60, length: 1, enable: true });
    expect(domain.access(write(0x60, 0xf4), new Uint8Array(0))).toBeNull(); // queued
    expect(served(STATUS)).toBeUndefined(); // the read's exit drains the ring: the device answers after the write
    domain.takeCoalesced();
    expect(served(STATUS)).toBe(0x1c);
  });

  it('sends the read on when the value is withdrawn, or forgotten for a device given a new state', () => {
    const { domain, served } = kernel();
    domain.ioctl({ kind: 'register-fast-path', device: 'keyboard', descriptor: status(null) });
    expect(served(STATUS)).toBeUndefined();
    domain.ioctl({ kind: 'register-fast-path', device: 'keyboard', descriptor: status(0x1d) });
    expect(served(STATUS)).toBe(0x1d);
    domain.forgetCachedReads('keyboard');
    expect(served(STATUS)).toBeUndefined();
    expect(domain.holdsNothing).toBe(true);
  });
});

describe('posted writes', () => {
  it('posts writes to a posted range (and only writes), and serves nothing the host published while one is out', () => {
    const { domain, clock, served } = kernel();
    domain.ioctl({ kind: 'register-fast-path', device: 'keyboard', descriptor: status(0x1c) });
    expect(domain.ioctl({ kind: 'register-posted-range', space: 'port', address: 0x60, length: 1, enable: true })).toEqual({ kind: 'ok' });
    expect(domain.posts(write(0x60, 0xf4))).toBe(true);
    expect(domain.posts(read(0x60))).toBe(false);
    expect(domain.posts(write(0x61, 0))).toBe(false);
    clock.pending = true; // the host has not answered a posted write yet: the status may be the one it changes
    expect(served(STATUS)).toBeUndefined();
    clock.pending = false;
    expect(served(STATUS)).toBe(0x1c);
    domain.ioctl({ kind: 'register-posted-range', space: 'port', address: 0x60, length: 1, enable: false });
    expect(domain.posts(write(0x60, 0xf4))).toBe(false);
  });
});

describe('verified programs', () => {
  it('runs a loaded program for its range, keeps what it did for the device host, and stops at the host\'s next timer', () => {
    const { domain, clock, served } = kernel();
    const setter = new ProgramBuilder(1).ldb(r4, 0).li(5, 0x1d).stb(0, 5).ret(r4).build();
    expect(domain.ioctl({ kind: 'register-fast-path', device: 'keyboard', descriptor: statusProgram({ program: setter }) })).toEqual({ kind: 'ok' });
    expect(served(0x64)).toBe(0x1c);
    expect(served(0x64)).toBe(0x1d); // the scratch it stored into
    expect(domain.takeProgramScratch()).toEqual([{ device: 'keyboard', scratch: Uint8Array.of(0x1d) }]);
    expect(domain.takeProgramScratch()).toEqual([]);
    clock.hostDeadline = 0;
    expect(served(0x64)).toBeUndefined();
    expect(domain.programRuns).toEqual({ answered: 2, exited: 0, passed: 1 });
    domain.forgetPrograms('keyboard');
    expect(domain.holdsNothing).toBe(true);
  });
});

describe('registrations at the boundary', () => {
  const refusals: [string, Request, keyof KernelDomain['refused']][] = [
    ['a coalesced range past the last port', { kind: 'register-coalesced-range', space: 'port', address: 0xffff, length: 2, enable: true }, 'coalescedRanges'],
    ['an empty coalesced range', { kind: 'register-coalesced-range', space: 'port', address: 0x70, length: 0, enable: true }, 'coalescedRanges'],
    ['a coalesced range over one already coalesced', { kind: 'register-coalesced-range', space: 'port', address: 0x3d5, length: 2, enable: true }, 'coalescedRanges'],
    ['a coalesced range over the kernel\'s own PIT', { kind: 'register-coalesced-range', space: 'port', address: 0x43, length: 1, enable: true }, 'coalescedRanges'],
    ['a posted range past the last port', { kind: 'register-posted-range', space: 'port', address: 0xfffe, length: 4, enable: true }, 'postedRanges'],
    ['an empty posted range', { kind: 'register-posted-range', space: 'port', address: 0x70, length: 0, enable: true }, 'postedRanges'],
    ['a posted range over a coalesced one', { kind: 'register-posted-range', space: 'port', address: 0x3d0, length: 8, enable: true }, 'postedRanges'],
    ['a posted range over the kernel\'s own PIT', { kind: 'register-posted-range', space: 'port', address: 0x40, length: 4, enable: true }, 'postedRanges'],
    ['a posted range in no address space', { kind: 'register-posted-range', space: 'pci' as 'port', address: 0, length: 4, enable: true }, 'postedRanges'],
    ['a counter at the kernel\'s own PIT', { kind: 'register-fast-path', device: 'pm-timer', descriptor: { ...counter, address: 0x40 } }, 'fastPaths'],
    ['a counter for no device', { kind: 'register-fast-path', device: '', descriptor: counter }, 'fastPaths'],
    ['a counter past the last port', { kind: 'register-fast-path', device: 'pm-timer', descriptor: { ...counter, address: 0xfffe } }, 'fastPaths'],
    ['a cached read at another device\'s counter', { kind: 'register-fast-path', device: 'keyboard', descriptor: status(0x1c, { address: 0x608 }) }, 'fastPaths'],
    ['a cached value wider than its read', { kind: 'register-fast-path', device: 'keyboard', descriptor: status(0x100) }, 'fastPaths'],
    ['a cached read invalidated by no range', { kind: 'register-fast-path', device: 'keyboard', descriptor: status(0x1c, { invalidatedBy: [{ space: 'port', address: 0x60, length: 0 }] }) }, 'fastPaths'],
    ['a program the verifier refuses: a backward jump', { kind: 'register-fast-path', device: 'keyboard', descriptor: statusProgram({ program: raw([[Op.li, 4, 1, 0], [Op.jmp, 0, 0, 0], [Op.ret, 4, 0, 0]]) }) }, 'fastPaths'],
    ['an oversized program', { kind: 'register-fast-path', device: 'keyboard', descriptor: statusProgram({ program: raw(Array.from({ length: 65 }, (): Instruction => [Op.exit, 0, 0, 0])) }) }, 'fastPaths'],
    ['a program given the wrong size of scratch', { kind: 'register-fast-path', device: 'keyboard', descriptor: statusProgram({ scratch: new Uint8Array(2) }) }, 'fastPaths'],
    ['a program over the kernel\'s own PIT', { kind: 'register-fast-path', device: 'keyboard', descriptor: statusProgram({ address: 0x40, length: 4 }) }, 'fastPaths'],
    ['a cached read in MMIO past 2^52', { kind: 'register-fast-path', device: 'vga', descriptor: status(0x1c, { space: 'mmio', address: 2 ** 52 }) }, 'fastPaths'],
  ];

  it.each(refusals)('refuses %s with EINVAL, counted, nothing changed', (_what, request, kind) => {
    const { domain, served } = kernel();
    domain.attach('pit', new I8254(domain.context('pit', () => 0)), [{ region: 'counters', base: 0x40 }]);
    domain.ioctl({ kind: 'register-coalesced-range', space: 'port', address: 0x3d4, length: 2, enable: true });
    domain.ioctl({ kind: 'register-fast-path', device: 'pm-timer', descriptor: counter });
    const before = { ...domain.refused };
    const reply = domain.ioctl(request);
    expect(reply).toMatchObject({ kind: 'error', code: ErrorCode.Invalid });
    expect(reply.kind === 'error' ? reply.message : '').toMatch(/\S/);
    expect(domain.refused[kind]).toBe(before[kind] + 1);
    expect(served(STATUS)).toBeUndefined(); // no cache entry, no program appeared
    expect(domain.access(write(0x70, 0), new Uint8Array(0))).toBeUndefined(); // no range appeared
    expect(domain.access(write(0x3d4, 0), new Uint8Array(0))).toBeNull(); // the range registered first is still there
    expect(domain.posts(write(0x70, 0)) || domain.posts(write(0x3d0, 0)) || domain.posts(write(0xfffe, 0))).toBe(false); // no posted range appeared
  });
});
