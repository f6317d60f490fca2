// Every ioctl the device host sends is checked before it acts: an irq line the irqchip has, a vCPU the VM has, a
// vector, an MSI in the local APICs' window, a well-formed fast path for one of the host's devices at its own address,
// a program's scratch of its length, a device state of its device's model, version and form, a run of guest memory
// inside guest RAM. A request that fails is
// answered with a typed error (EINVAL, ENOENT, ENOTTY, EBADMSG) and a sentence, counted by its kind in `refused`, and
// changes nothing — neither what the kernel holds nor any device's state.
import type { CounterDescriptor, Device, DeviceState, ErrorCode as ErrorCodeType, Message, ProgramDescriptor } from '@splitvisor/abi';
import { ErrorCode, MAX_MEMORY_BYTES, MessageTag, ProgramBuilder, encodeMessage, ioctlMemory, r4, ramMemory } from '@splitvisor/abi';
import { I8254 } from '@splitvisor/pit';
import { describe, expect, it } from 'vitest';
import type { KernelDomain as KernelDomainType } from '../src/index.ts';
import { KernelDomain, ioctlBytes } from '../src/index.ts';

type Refusal = keyof KernelDomainType['refused'];

const PM_TIMER = 0x608;
const counter: CounterDescriptor = { kind: 'counter', space: 'port', address: PM_TIMER, size: 4, widthBits: 24, frequencyHz: 3_579_545, base: 0n, epoch: 0, running: true };
const statusProgram: ProgramDescriptor = {
  kind: 'program', space: 'port', address: 0x64, length: 1, program: new ProgramBuilder(2).ldb(r4, 0).ret(r4).build(), scratch: Uint8Array.of(0x1c, 0),
};

/** A board line in front of the irqchip (the legacy replacement select's PIT input). */
const BOARD_LINE = 0x1_0000;

/** The in-kernel irqchip's kernel: the PIT placed here, its lines into 24 GSIs and one board line; the host holds the i8042 and the PM timer. */
function inKernelIrqchip() {
  const domain = new KernelDomain(() => 0);
  const lines: [number, boolean][] = [];
  domain.routeIrqs((gsi, level) => { lines.push([gsi, level]); }, { gsis: 24, boardLines: [BOARD_LINE] });
  domain.attach('pit', new I8254(domain.context('pit', () => 0)), [{ region: 'counters', base: 0x40 }]);
  domain.hostDevices([
    { device: 'keyboard', space: 'port', address: 0x60, length: 1 }, { device: 'keyboard', space: 'port', address: 0x64, length: 1 },
    { device: 'pm-timer', space: 'port', address: 0x600, length: 4 }, { device: 'pm-timer', space: 'port', address: PM_TIMER, length: 4 },
  ]);
  lines.length = 0; // the PIT's power-on level
  return { domain, lines };
}

/** The split irqchip's kernel: two vCPUs' local APICs here (MSIs into them), the 8259 in userspace (KVM_INTERRUPT). */
function splitIrqchip() {
  const domain = new KernelDomain(() => 0);
  const msis: [number, number][] = [];
  domain.setVcpus(2);
  domain.setMsiSink((address, data) => { msis.push([address, data]); });
  return { domain, msis };
}

/** What a refusal must leave as it was: what the kernel holds, and every device's state. */
function observed(domain: KernelDomain) {
  return { holdings: domain.holdings(), states: domain.deviceNames().map((name) => domain.getDeviceState(name)), holdsNothing: domain.holdsNothing };
}

function expectRefused(domain: KernelDomain, request: unknown, kind: Refusal, code: ErrorCodeType, message?: RegExp): void {
  const before = observed(domain);
  const counts = { ...domain.refused };
  const reply = domain.ioctl(request as Message);
  expect(reply).toMatchObject({ kind: 'error', code });
  expect(reply.kind === 'error' ? reply.message : '').toMatch(message ?? /\S/);
  expect(domain.refused).toEqual({ ...counts, [kind]: counts[kind] + 1 });
  expect(observed(domain)).toEqual(before);
}

describe('irq lines (KVM_IRQ_LINE)', () => {
  it('drives the irqchip\'s GSIs and the board lines in front of it', () => {
    const { domain, lines } = inKernelIrqchip();
    for (const gsi of [0, 9, 23, BOARD_LINE]) expect(domain.ioctl({ kind: 'irq-line', gsi, level: true })).toEqual({ kind: 'ok' });
    expect(lines).toEqual([[0, true], [9, true], [23, true], [BOARD_LINE, true]]);
  });

  it.each([24, 0xffff, BOARD_LINE + 1, 0xffff_ffff, -1, 2.5, Number.NaN, '3'])('refuses line %s: no input of the irqchip', (gsi) => {
    const { domain, lines } = inKernelIrqchip();
    expectRefused(domain, { kind: 'irq-line', gsi, level: true }, 'irqLines', ErrorCode.Invalid, /no input of the kernel's irqchip \(GSIs 0–23 or board lines 10000h\)/);
    expect(lines).toEqual([]);
  });

  it('refuses a level that is neither high nor low, and any line when no irqchip here takes them', () => {
    const { domain } = inKernelIrqchip();
    expectRefused(domain, { kind: 'irq-line', gsi: 4, level: 1 }, 'irqLines', ErrorCode.Invalid, /neither high nor low/);
    expectRefused(splitIrqchip().domain, { kind: 'irq-line', gsi: 4, level: true }, 'irqLines', ErrorCode.Unsupported, /no irqchip in the kernel/);
  });

  it('takes KVM\'s 24 GSIs when the irqchip names no inputs', () => {
    const domain = new KernelDomain(() => 0);
    domain.routeIrqs(() => undefined);
    expect(domain.ioctl({ kind: 'irq-line', gsi: 23, level: true })).toEqual({ kind: 'ok' });
    expectRefused(domain, { kind: 'irq-line', gsi: 24, level: true }, 'irqLines', ErrorCode.Invalid);
  });
});

describe('interrupts (KVM_INTERRUPT) and MSIs (KVM_SIGNAL_MSI)', () => {
  it('queues any vector 0–255 for a vCPU the VM has: the 8259 sends what ICW2 says (a real-mode BIOS: 08h–0Fh)', () => {
    const { domain } = splitIrqchip();
    expect(domain.ioctl({ kind: 'interrupt', vcpu: 1, vector: 0x08 })).toEqual({ kind: 'ok' });
    expect(domain.ioctl({ kind: 'interrupt', vcpu: 0, vector: 0xff })).toEqual({ kind: 'ok' });
    expect(domain.holdings().queuedInterrupts).toEqual([{ vcpu: 1, vector: 0x08 }, { vcpu: 0, vector: 0xff }]);
  });

  it.each<[string, unknown, unknown]>([
    ['a vCPU past the last', 2, 0x20], ['a negative vCPU', -1, 0x20], ['a fractional vCPU', 0.5, 0x20],
    ['vector 256', 0, 256], ['a negative vector', 0, -1], ['a fractional vector', 0, 32.5], ['no vector', 0, undefined],
  ])('refuses %s', (_what, vcpu, vector) => {
    expectRefused(splitIrqchip().domain, { kind: 'interrupt', vcpu, vector }, 'interrupts', ErrorCode.Invalid);
  });

  it('refuses a second vector for a vCPU until the first is taken, and any with the irqchip in the kernel (ENXIO)', () => {
    const { domain } = splitIrqchip();
    domain.ioctl({ kind: 'interrupt', vcpu: 0, vector: 0x20 });
    expectRefused(domain, { kind: 'interrupt', vcpu: 0, vector: 0x21 }, 'interrupts', ErrorCode.Invalid, /already queued/);
    expectRefused(inKernelIrqchip().domain, { kind: 'interrupt', vcpu: 0, vector: 0x20 }, 'interrupts', ErrorCode.Unsupported, /irqchip in the kernel/);
  });

  it('passes an MSI in the FEEx_xxxxh window on, its vector and delivery mode the local APIC\'s to judge', () => {
    const { domain, msis } = splitIrqchip();
    // Vector 05h is one the APIC reports as illegal in its ESR (SDM 3A §11.5.2); delivery mode 011b is reserved.
    for (const [address, data] of [[0xfee0_1000, 0x4030], [0xfee0_000c, 0x0005], [0xfeef_f000, 0xc300]] as const) {
      expect(domain.ioctl({ kind: 'msi', address, data })).toEqual({ kind: 'ok' });
    }
    expect(msis).toHaveLength(3);
  });

  it.each<[string, unknown, unknown, RegExp]>([
    ['an address outside the window', 0xfed0_0000, 0x30, /outside the local APICs' FEEx_xxxxh window/],
    ['reserved address bits 11:4', 0xfee0_0010, 0x30, /reserved bits 11:4/],
    ['reserved data bits 31:16', 0xfee0_0000, 0x1_0030, /reserved bits/],
    ['reserved data bits 13:11', 0xfee0_0000, 0x0830, /reserved bits/],
    ['an address wider than 32 bits', 0x1_fee0_0000, 0x30, /32-bit/],
    ['data that is no number', 0xfee0_0000, '0x30', /32-bit/],
  ])('refuses an MSI with %s', (_what, address, data, message) => {
    const { domain, msis } = splitIrqchip();
    expectRefused(domain, { kind: 'msi', address, data }, 'msis', ErrorCode.Invalid, message);
    expect(msis).toEqual([]);
  });

  it('refuses an MSI when no local APIC is here to take it', () => {
    expectRefused(inKernelIrqchip().domain, { kind: 'msi', address: 0xfee0_0000, data: 0x30 }, 'msis', ErrorCode.Unsupported);
  });
});

describe('ranges (KVM_REGISTER_COALESCED_MMIO, KVM_IOEVENTFD)', () => {
  it.each<[string, Record<string, unknown>]>([
    ['a fractional address', { space: 'port', address: 112.5, length: 1, enable: true }],
    ['a negative address', { space: 'port', address: -2, length: 4, enable: true }],
    ['a length that is no number', { space: 'port', address: 0x70, length: '1', enable: true }],
    ['a space named by an object key', { space: 'constructor', address: 0, length: 1, enable: true }],
    ['an enable that is no flag', { space: 'port', address: 0x70, length: 1, enable: 'yes' }],
    ['an MMIO range past 2^52', { space: 'mmio', address: 2 ** 52 - 2, length: 4, enable: true }],
  ])('refuses %s', (_what, fields) => {
    expectRefused(inKernelIrqchip().domain, { kind: 'register-coalesced-range', ...fields }, 'coalescedRanges', ErrorCode.Invalid);
    expectRefused(inKernelIrqchip().domain, { kind: 'register-posted-range', ...fields }, 'postedRanges', ErrorCode.Invalid);
  });

  it('refuses a range over another, of either kind, and over a device placed here; takes its own again', () => {
    const { domain } = inKernelIrqchip();
    expect(domain.ioctl({ kind: 'register-coalesced-range', space: 'port', address: 0x70, length: 2, enable: true })).toEqual({ kind: 'ok' });
    expect(domain.ioctl({ kind: 'register-coalesced-range', space: 'port', address: 0x70, length: 2, enable: true })).toEqual({ kind: 'ok' });
    expectRefused(domain, { kind: 'register-coalesced-range', space: 'port', address: 0x71, length: 1, enable: true }, 'coalescedRanges', ErrorCode.Invalid, /overlaps a range already coalesced/);
    expectRefused(domain, { kind: 'register-posted-range', space: 'port', address: 0x70, length: 2, enable: true }, 'postedRanges', ErrorCode.Invalid, /overlaps a range already coalesced/);
    expectRefused(domain, { kind: 'register-posted-range', space: 'port', address: 0x42, length: 1, enable: false }, 'postedRanges', ErrorCode.Invalid, /pit's, placed in the kernel/);
  });
});

describe('fast paths', () => {
  it('takes a well-formed fast path for a device of the host, at its own address', () => {
    const { domain } = inKernelIrqchip();
    expect(domain.ioctl({ kind: 'register-fast-path', device: 'pm-timer', descriptor: counter })).toEqual({ kind: 'ok' });
    expect(domain.ioctl({ kind: 'register-fast-path', device: 'keyboard', descriptor: statusProgram })).toEqual({ kind: 'ok' });
    expect(domain.holdings()).toMatchObject({ counters: [{ device: 'pm-timer' }], programs: [{ device: 'keyboard', range: { address: 0x64, length: 1 } }] });
  });

  const program = (over: Partial<ProgramDescriptor>) => ({ ...statusProgram, ...over });
  it.each<[string, unknown, unknown, RegExp]>([
    ['for no device', '', counter, /names no device/],
    ['for a device the host does not have', 'mouse', counter, /has no device mouse/],
    ['at another device\'s address', 'keyboard', counter, /are not keyboard's/],
    ['running past its device\'s window', 'pm-timer', { ...counter, address: PM_TIMER + 2 }, /are not pm-timer's/],
    ['over the kernel\'s own PIT', 'pm-timer', { ...counter, address: 0x40 }, /pit's, placed in the kernel/],
    ['reading 3 bytes', 'pm-timer', { ...counter, size: 3 }, /3 bytes/],
    ['65 bits wide', 'pm-timer', { ...counter, widthBits: 65 }, /65 bits/],
    ['with a clock of no frequency', 'pm-timer', { ...counter, frequencyHz: Number.NaN }, /Hz/],
    ['with a base wider than the counter', 'pm-timer', { ...counter, base: 1n << 24n }, /does not fit 24 bits/],
    ['with a base that is no 64-bit integer', 'pm-timer', { ...counter, base: 0 }, /base 0/],
    ['with a fractional epoch', 'pm-timer', { ...counter, epoch: 0.5 }, /epoch/],
    ['a cached read of 8 bytes', 'keyboard', { kind: 'cached-read', space: 'port', address: 0x64, size: 8, value: 0, invalidatedBy: [] }, /8 bytes/],
    ['a cached read invalidated by 17 ranges', 'keyboard', { kind: 'cached-read', space: 'port', address: 0x64, size: 1, value: 0, invalidatedBy: Array.from({ length: 17 }, () => ({ space: 'port', address: 0x60, length: 1 })) }, /at most 16/],
    ['a program with no instructions', 'keyboard', program({ program: { instructions: [], scratchBytes: 2 } }), /no instructions/],
    ['a program whose scratch is not bytes', 'keyboard', program({ scratch: [0x1c, 0] as unknown as Uint8Array }), /scratch/],
    ['a program that is no program', 'keyboard', program({ program: 7 as never }), /no program/],
    ['of no kind', 'keyboard', { ...counter, kind: 'jit' }, /no fast path of kind "jit"/],
    ['that is no record', 'keyboard', [counter], /no fast path/],
  ])('refuses one %s', (_what, device, descriptor, message) => {
    expectRefused(inKernelIrqchip().domain, { kind: 'register-fast-path', device, descriptor }, 'fastPaths', ErrorCode.Invalid, message);
  });

  it('takes a device host\'s name at its word until the VM says which devices it has', () => {
    const domain = new KernelDomain(() => 0);
    expect(domain.ioctl({ kind: 'register-fast-path', device: 'anything', descriptor: counter })).toEqual({ kind: 'ok' });
  });

  it('takes a program\'s scratch of its length only, for a device with programs loaded', () => {
    const { domain } = inKernelIrqchip();
    domain.ioctl({ kind: 'register-fast-path', device: 'keyboard', descriptor: statusProgram });
    expectRefused(domain, { kind: 'program-scratch', device: 'pm-timer', scratch: new Uint8Array(2) }, 'programScratch', ErrorCode.Invalid, /no programs loaded/);
    expectRefused(domain, { kind: 'program-scratch', device: 'keyboard', scratch: new Uint8Array(3) }, 'programScratch', ErrorCode.Invalid, /share 2 bytes/);
    expectRefused(domain, { kind: 'program-scratch', device: 'keyboard', scratch: [1, 2] }, 'programScratch', ErrorCode.Invalid);
    expectRefused(domain, { kind: 'program-scratch', device: 7, scratch: new Uint8Array(2) }, 'programScratch', ErrorCode.Invalid);
    expect(domain.ioctl({ kind: 'program-scratch', device: 'keyboard', scratch: Uint8Array.of(0x1d, 0) })).toEqual({ kind: 'ok' });
    expect(domain.holdings().scratch).toEqual([{ device: 'keyboard', bytes: Uint8Array.of(0x1d, 0), dirty: false }]);
  });
});

describe('device states', () => {
  const pitState = () => inKernelIrqchip().domain.getDeviceState('pit');

  it('restores a state of its device\'s model, version and form, with a deadline or a part absent', () => {
    const { domain } = inKernelIrqchip();
    const reply = pitState();
    if (reply.kind !== 'device-state') throw new Error('no pit');
    const state = { ...reply.state, out0Clock: 12_345 };
    expect(domain.ioctl({ kind: 'set-device-state', device: 'pit', state })).toEqual({ kind: 'ok' });
    expect(domain.getDeviceState('pit')).toMatchObject({ state: { out0Clock: 12_345 } });
  });

  const mutations: [string, (state: Record<string, unknown>) => unknown, RegExp][] = [
    ['of another model', (s) => ({ ...s, model: 'i8259-pair' }), /state of i8259-pair given to i8254/],
    ['of another version', (s) => ({ ...s, version: 99 }), /version 99 is not the supported version/],
    ['with a field missing', ({ nmisc: _nmisc, ...s }) => s, /i8254\.nmisc is missing/],
    ['with a field the device has not', (s) => ({ ...s, turbo: true }), /i8254\.turbo is no field/],
    ['with a string where a number is', (s) => ({ ...s, nmisc: '0' }), /i8254\.nmisc is a string where the device has a number/],
    ['with NaN', (s) => ({ ...s, nmisc: Number.NaN }), /NaN/],
    ['with nothing where a flag is', (s) => ({ ...s, out0: null }), /i8254\.out0 is nothing where the device has a boolean/],
    ['with a counter of another form', (s) => ({ ...s, counters: [5, 6, 7] }), /i8254\.counters\[0\] is a number where the device has a record/],
    ['with a nested field of another kind', (s) => ({ ...s, counters: (s.counters as Record<string, unknown>[]).map((c) => ({ ...c, bcd: 0 })) }), /i8254\.counters\[0\]\.bcd is a number where the device has a boolean/],
    ['with a fourth counter of another form', (s) => ({ ...s, counters: [...(s.counters as unknown[]), { mode: 2 }] }), /i8254\.counters\[3\]\.modeBits is missing/],
    ['that is no record', () => [1, 2], /no state record/],
  ];
  it.each(mutations)('refuses one %s, the device left as it was', (_what, mutate, message) => {
    const { domain } = inKernelIrqchip();
    const reply = domain.getDeviceState('pit');
    if (reply.kind !== 'device-state') throw new Error('no pit');
    expectRefused(domain, { kind: 'set-device-state', device: 'pit', state: mutate({ ...reply.state }) }, 'deviceStates', ErrorCode.Invalid, message);
  });

  it('puts back what a device adopted before it threw on a state of the right form', () => {
    const { domain } = inKernelIrqchip();
    let held: DeviceState = { model: 'latch', version: 1, value: 1, limit: 10 };
    const latch: Device = {
      model: 'latch', regions: [], read: () => 0, write: () => undefined, anomalies: () => ({}), getState: () => held,
      setState: (state) => {
        held = { ...held, value: state.value ?? 0 }; // adopted first …
        if ((state.value as number) > (state.limit as number)) throw new RangeError(`value ${state.value as number} over its limit`); // … then found wanting
        held = state;
      },
    };
    domain.attach('latch', latch, []);
    expectRefused(domain, { kind: 'set-device-state', device: 'latch', state: { model: 'latch', version: 1, value: 11, limit: 10 } }, 'deviceStates', ErrorCode.Invalid, /over its limit/);
    expect(held).toEqual({ model: 'latch', version: 1, value: 1, limit: 10 });
  });

  it('answers ENOENT for a device it does not hold, or a name that is none', () => {
    const { domain } = inKernelIrqchip();
    expectRefused(domain, { kind: 'get-device-state', device: 'rtc' }, 'deviceStates', ErrorCode.NoDevice, /no device rtc in the kernel/);
    expectRefused(domain, { kind: 'get-device-state', device: 7 }, 'deviceStates', ErrorCode.NoDevice);
    expectRefused(domain, { kind: 'set-device-state', device: 'rtc', state: { model: 'mc146818', version: 1 } }, 'deviceStates', ErrorCode.NoDevice);
    expectRefused(domain, { kind: 'set-device-state', device: null, state: { model: 'i8254', version: 1 } }, 'deviceStates', ErrorCode.NoDevice);
  });
});

describe('guest memory (read-memory, write-memory: Xen\'s grant copy)', () => {
  const RAM_BYTES = 0x1_0000;

  /** A kernel over 64 KiB of guest RAM, as the VM gives it the RAM its devices DMA to. */
  function withRam() {
    const ram = new Uint8Array(RAM_BYTES);
    const domain = new KernelDomain(() => 0, { memory: ramMemory(ram) });
    return { domain, ram };
  }

  /** Refused as `expectRefused` says, and guest RAM as it was. */
  function expectRefusedRam(request: unknown, kind: Refusal, message?: RegExp): void {
    const { domain, ram } = withRam();
    ram.fill(0x5a);
    expectRefused(domain, request, kind, ErrorCode.Invalid, message);
    expect(ram.every((b) => b === 0x5a)).toBe(true);
  }

  it('reads and writes guest RAM, to its last byte, as typed requests and as bytes', () => {
    const { domain, ram } = withRam();
    expect(domain.ioctl({ kind: 'write-memory', address: 0x7c00, bytes: Uint8Array.of(0xeb, 0xfe) })).toEqual({ kind: 'ok' });
    expect([ram[0x7c00], ram[0x7c01]]).toEqual([0xeb, 0xfe]);
    expect(domain.ioctl({ kind: 'read-memory', address: 0x7bff, length: 4 })).toEqual({ kind: 'memory', bytes: Uint8Array.of(0, 0xeb, 0xfe, 0) });
    expect(ioctlBytes(domain, encodeMessage({ kind: 'write-memory', address: RAM_BYTES - 2, bytes: Uint8Array.of(0x55, 0xaa) }))).toEqual({ kind: 'ok' });
    expect(ioctlBytes(domain, encodeMessage({ kind: 'read-memory', address: RAM_BYTES - 2, length: 2 }))).toEqual({ kind: 'memory', bytes: Uint8Array.of(0x55, 0xaa) });
    expect(domain.ioctl({ kind: 'read-memory', address: RAM_BYTES, length: 0 })).toEqual({ kind: 'memory', bytes: new Uint8Array(0) });
    expect(domain.ioctl({ kind: 'write-memory', address: RAM_BYTES, bytes: new Uint8Array(0) })).toEqual({ kind: 'ok' });
    expect(Object.values(domain.refused).every((n) => n === 0)).toBe(true);
  });

  it('keeps nothing of a request, and gives nothing of guest RAM away: the bytes are copies', () => {
    const { domain, ram } = withRam();
    const bytes = Uint8Array.of(1, 2, 3);
    domain.ioctl({ kind: 'write-memory', address: 0x100, bytes });
    bytes[0] = 0xff;
    expect(ram[0x100]).toBe(1);
    const reply = domain.ioctl({ kind: 'read-memory', address: 0x100, length: 3 });
    if (reply.kind !== 'memory') throw new Error(`answered ${reply.kind}`);
    reply.bytes[1] = 0xff;
    expect(ram[0x101]).toBe(2);
  });

  it('moves up to MAX_MEMORY_BYTES in one request', () => {
    const ram = new Uint8Array(MAX_MEMORY_BYTES + 1);
    const domain = new KernelDomain(() => 0, { memory: ramMemory(ram) });
    expect(domain.ioctl({ kind: 'write-memory', address: 1, bytes: new Uint8Array(MAX_MEMORY_BYTES).fill(7) })).toEqual({ kind: 'ok' });
    const reply = domain.ioctl({ kind: 'read-memory', address: 1, length: MAX_MEMORY_BYTES });
    expect(reply.kind === 'memory' && reply.bytes.length === MAX_MEMORY_BYTES && reply.bytes.every((b) => b === 7)).toBe(true);
    expect(ram[0]).toBe(0);
  });

  it('is guest memory to a device host that shares no RAM with the guest (ioctlMemory)', () => {
    const { domain, ram } = withRam();
    const memory = ioctlMemory((message) => domain.ioctl(message), RAM_BYTES);
    expect(memory.write(0x500, Uint8Array.of(9, 8, 7))).toBe(true);
    expect([...ram.subarray(0x500, 0x503)]).toEqual([9, 8, 7]);
    const into = new Uint8Array(3);
    expect(memory.read(0x500, into)).toBe(true);
    expect([...into]).toEqual([9, 8, 7]);
    expect(ioctlMemory((message) => domain.ioctl(message), 2 * RAM_BYTES).read(RAM_BYTES, into)).toBe(false); // told more RAM than the kernel has
    expect(domain.refused.memoryReads).toBe(1);
  });

  it.each<[string, number, number]>([
    ['running past the end', RAM_BYTES - 2, 4],
    ['starting at the end', RAM_BYTES, 1],
    ['starting past the end', RAM_BYTES + 1, 0],
    ['far past the end', Number.MAX_SAFE_INTEGER, 16],
  ])('refuses a run %s of guest RAM, naming it', (_what, address, length) => {
    expectRefusedRam({ kind: 'read-memory', address, length }, 'memoryReads', /read-memory: \d+ bytes at [0-9a-f]+h to [0-9a-f]+h are not inside guest RAM \(0h to 10000h\)/);
    expectRefusedRam({ kind: 'write-memory', address, bytes: new Uint8Array(length) }, 'memoryWrites', /write-memory: \d+ bytes at [0-9a-f]+h to [0-9a-f]+h are not inside guest RAM \(0h to 10000h\)/);
  });

  it('refuses any run of guest memory when it was given none', () => {
    expectRefused(new KernelDomain(() => 0), { kind: 'read-memory', address: 0, length: 1 }, 'memoryReads', ErrorCode.Invalid, /not inside guest RAM \(0h to 0h\)/);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a negative address', { address: -1, length: 1 }, /address -1 is not a non-negative integer/],
    ['a fractional address', { address: 0.5, length: 1 }, /address 0\.5/],
    ['an address past 2^53', { address: 2 ** 53, length: 1 }, /address/],
    ['an address that is no number', { address: '16', length: 1 }, /address "16"/],
    ['no address', { length: 1 }, /address nothing/],
    ['a negative length', { address: 0, length: -1 }, /-1 bytes at 0h \(one request moves 0 to 16777216\)/],
    ['a fractional length', { address: 0, length: 1.5 }, /1\.5 bytes/],
    ['a length of NaN', { address: 0, length: Number.NaN }, /NaN bytes/],
    ['a length that is no number', { address: 0, length: '4' }, /"4" bytes/],
    ['more than one request moves', { address: 0, length: MAX_MEMORY_BYTES + 1 }, /16777217 bytes/],
  ])('refuses a read of guest memory with %s', (_what, fields, message) => {
    expectRefusedRam({ kind: 'read-memory', ...fields }, 'memoryReads', message);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a negative address', { address: -1, bytes: Uint8Array.of(1) }, /address -1/],
    ['a fractional address', { address: 0.5, bytes: Uint8Array.of(1) }, /address 0\.5/],
    ['bytes that are an array', { address: 0, bytes: [1, 2] }, /an array where bytes go/],
    ['bytes that are a string', { address: 0, bytes: 'ab' }, /"ab" where bytes go/],
    ['bytes of 16-bit words', { address: 0, bytes: new Uint16Array(2) }, /a record where bytes go/],
    ['no bytes', { address: 0 }, /nothing where bytes go/],
    ['more than one request moves', { address: 0, bytes: new Uint8Array(MAX_MEMORY_BYTES + 1) }, /16777217 bytes at 0h \(one request moves/],
  ])('refuses a write of guest memory with %s, writing nothing', (_what, fields, message) => {
    expectRefusedRam({ kind: 'write-memory', ...fields }, 'memoryWrites', message);
  });
});

describe('pause and resume', () => {
  it('stops the in-kernel devices at the guest\'s time: their now is the stop, no timer of theirs runs, until resume', () => {
    let guest = 1_000_000;
    const domain = new KernelDomain(() => guest);
    const fired: number[] = [];
    const context = domain.context('timer', () => 0);
    context.timer(() => { fired.push(context.now()); }).arm(1_500_000);
    expect(domain.ioctl({ kind: 'pause', time: 1_000_000 })).toEqual({ kind: 'ok' });
    guest = 3_000_000; // whatever the caller's clock says meanwhile
    expect(context.now()).toBe(1_000_000);
    domain.runDue(3_000_000);
    expect(fired).toEqual([]); // due, and not run while paused
    expect(domain.ioctl({ kind: 'resume' })).toEqual({ kind: 'ok' });
    expect(context.now()).toBe(3_000_000);
    domain.runDue(3_000_000);
    expect(fired).toEqual([3_000_000]);
  });

  it('refuses a stop where the guest has not been, or no time at all', () => {
    const domain = new KernelDomain(() => 5_000);
    expectRefused(domain, { kind: 'pause', time: 5_001 }, 'pauses', ErrorCode.Invalid, /the guest is at 5000 ns, not yet at 5001/);
    for (const time of [-1, 0.5, Number.NaN, '7', null]) expectRefused(domain, { kind: 'pause', time }, 'pauses', ErrorCode.Invalid, /is no time/);
  });
});

describe('what is no kernel ioctl', () => {
  it.each<[string, unknown]>([
    ['an exit', { kind: 'hlt', vcpu: 0, time: 0, ifFlag: true, readyForInterruptInjection: true }],
    ['a reply', { kind: 'ok' }],
    ['a memory reply', { kind: 'memory', bytes: new Uint8Array(4) }],
    ['a device-state reply', { kind: 'device-state', device: 'pit', state: { model: 'i8254', version: 1 } }],
    ['a kind the protocol has not', { kind: 'frobnicate', gsi: 3 }],
    ['no kind', { gsi: 3, level: true }],
  ])('refuses %s with ENOTTY', (_what, request) => {
    expectRefused(inKernelIrqchip().domain, request, 'unsupported', ErrorCode.Unsupported, /is not a kernel ioctl/);
  });

  it.each([null, undefined, 42, 'irq-line', [1, 2], new Uint8Array(4)])('refuses %s, which is no request, with EBADMSG', (request) => {
    expectRefused(inKernelIrqchip().domain, request, 'undecodable', ErrorCode.BadMessage);
  });
});

describe('requests as bytes', () => {
  const line = encodeMessage({ kind: 'irq-line', gsi: 9, level: true });

  it('serves the bytes of a request as the request', () => {
    const { domain, lines } = inKernelIrqchip();
    expect(ioctlBytes(domain, line)).toEqual({ kind: 'ok' });
    expect(ioctlBytes(domain, encodeMessage({ kind: 'irq-line', gsi: 99, level: true }))).toMatchObject({ kind: 'error', code: ErrorCode.Invalid });
    expect(lines).toEqual([[9, true]]);
  });

  const unknownTag = Uint8Array.of(0x7f, 0x00, 0, 0);
  it.each<[string, Uint8Array, RegExp]>([
    ['truncated', line.subarray(0, line.length - 1), /truncated/],
    ['with a byte after the end', Uint8Array.of(...line, 0), /trailing-bytes/],
    ['with an unknown tag', unknownTag, /unknown-tag/],
    ['with a reserved byte set', Uint8Array.of(MessageTag['irq-line'], 0, 1, 0, ...line.subarray(4)), /invalid-field at byte 2 \(reserved\)/],
    ['with a level that is neither 0 nor 1', Uint8Array.of(...line.subarray(0, 8), 2, ...line.subarray(9)), /invalid-field at byte 8 \(level\)/],
    ['empty', new Uint8Array(0), /truncated/],
  ])('answers bytes %s with EBADMSG, naming what is wrong', (_what, bytes, message) => {
    const { domain, lines } = inKernelIrqchip();
    const before = observed(domain);
    expect(ioctlBytes(domain, bytes)).toMatchObject({ kind: 'error', code: ErrorCode.BadMessage, message: expect.stringMatching(message) as unknown });
    expect(domain.refused.undecodable).toBe(1);
    expect(observed(domain)).toEqual(before);
    expect(lines).toEqual([]);
  });
});

describe('what the kernel holds', () => {
  it('names every device whose state it holds, and shows what the host registered as plain data', () => {
    const { domain } = inKernelIrqchip();
    domain.register({ name: 'lapic#0', getState: () => ({ model: 'x', version: 1 }), setState: () => undefined });
    expect(domain.deviceNames()).toEqual(['pit', 'lapic#0']);
    domain.ioctl({ kind: 'register-posted-range', space: 'port', address: 0x60, length: 1, enable: true });
    const holdings = domain.holdings();
    expect(holdings.postedRanges).toEqual([{ space: 'port', address: 0x60, length: 1 }]);
    const [held] = holdings.postedRanges as unknown as { address: number }[];
    if (held !== undefined) held.address = 0x61; // a copy: changing it changes nothing held
    expect(domain.holdings().postedRanges).toEqual([{ space: 'port', address: 0x60, length: 1 }]);
  });
});
