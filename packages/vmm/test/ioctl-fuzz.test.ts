// Hostile input at the ioctl boundary (issue 18): the kernel treats every message from the device host as untrusted.
// A kernel domain is assembled as the VM assembles it — its devices and irqchip placed by the placement, the device
// host in this thread registering every fast path it offers — and then sent 100,000 seeded-random messages that are
// each wrong: random bytes, corrupted encodings, kinds it does not serve, irq lines its irqchip has not, vCPUs and
// vectors and MSIs out of range, device states of another model, version or form, ranges that overlap, fast paths
// that are malformed or not their device's, programs' scratch of the wrong length, reads and writes of guest memory
// outside guest RAM or malformed. Each must be refused with a typed error, counted by its kind, and change nothing:
// the kernel's whole observable state — every device's state, what it holds for the host, its counters but the
// refusals — is the same after each message as before the first, and guest RAM is the same after the last.
import type { AddressRange, AddressSpace, DeviceState, ErrorCode as ErrorCodeType, Message } from '@splitvisor/abi';
import { ErrorCode, MAX_MEMORY_BYTES, MessageTag, Op, encodeMessage, ramMemory, sameBytes } from '@splitvisor/abi';
import type { KernelDomain } from '@splitvisor/kernel';
import { ioctlBytes } from '@splitvisor/kernel';
import type { DeviceName, Placement, Where } from '@splitvisor/placement';
import { describe, expect, it } from 'vitest';
import { DeviceHostLink } from '../src/device-host-link.ts';
import type { Release } from '../src/devices.ts';
import { createDevices } from '../src/devices.ts';
import { irqchipTopology, wireVmIrqchip } from '../src/irqchip-topology.ts';
import { DEVHOST_BUILD, IRQCHIP_PARTS, KERNEL_BUILD, MONITOR_BUILD } from '../src/index.ts';
import { placement } from './profiles.ts';

type Refusal = keyof KernelDomain['refused'];

/** The device host's devices registered everything they offer: coalesced and posted ranges, counters, cached reads, programs. */
function everyFastPath(profile: string): Placement {
  return { ...placement(profile), io: { coalescedWrites: true, cachedReads: true, kernelCounters: true, programs: true, postedWrites: true } };
}

const TSC_HZ = 2_000_000_000;
const CPUS = 2;

/** The kernel of a VM of `where`, assembled as `Vm` assembles it, after power-on (the host's registrations are in). */
function assemble(where: Placement) {
  const topology = irqchipTopology(where, []);
  const now = () => 1_000_000;
  const ram = new SharedArrayBuffer(1 << 20);
  const memory = ramMemory(new Uint8Array(ram));
  const board = { tscHz: TSC_HZ, cpus: CPUS, memoryBytes: ram.byteLength };
  const releases: Release[] = [];
  const linked: { link?: DeviceHostLink } = {};
  const kernel = KERNEL_BUILD.create(now, { memory, hostDeadline: () => linked.link?.deadline ?? 0, hostPending: () => false });
  const monitor = MONITOR_BUILD.create(now, memory);
  const link = new DeviceHostLink('modelled', kernel, { placement: where, topology, board, ram, memory, observers: {}, releases, build: DEVHOST_BUILD });
  linked.link = link;
  const irqs: string[] = [];
  wireVmIrqchip(topology, kernel, monitor, {
    tscHz: TSC_HZ, cpus: CPUS, lapicLostTicks: where.lostTicks.lapic, observers: { irq: (gsi, level) => irqs.push(`gsi ${gsi}=${level}`) },
  }, { kernel: KERNEL_BUILD, monitor: MONITOR_BUILD });
  createDevices(where, 'kernel', kernel, KERNEL_BUILD.devices, board, releases);
  link.powerOn();
  const hostNames = (Object.entries(where.devices) as [DeviceName, Where][])
    .filter(([name, at]) => at === 'user' && (IRQCHIP_PARTS.includes(name) || DEVHOST_BUILD.devices[name] !== undefined))
    .map(([name]): string => name);
  return { kernel, topology, irqs, hostNames, ram: new Uint8Array(ram), close: async () => { await link.close(); for (const release of releases) release(); } };
}

type Fixture = ReturnType<typeof assemble>;

/** Every state the kernel answers for by name: its devices', and the domain's own where it keeps one (which device raised each line). */
function stateNames(kernel: KernelDomain): string[] {
  return [...kernel.deviceNames(), ...(kernel.getDeviceState('domain').kind === 'device-state' ? ['domain'] : [])];
}

/** The kernel's whole observable state but its refusals, as plain data. */
function observe(kernel: KernelDomain): unknown {
  return {
    states: stateNames(kernel).map((name) => {
      const reply = kernel.getDeviceState(name);
      return reply.kind === 'device-state' ? { name, state: reply.state } : { name, missing: true };
    }),
    holdings: kernel.holdings(),
    counterReads: { ...kernel.counterReads }, cachedReads: { ...kernel.cachedReads }, programRuns: { ...kernel.programRuns },
    nextDeadline: kernel.nextDeadline(), holdsNothing: kernel.holdsNothing, log: kernel.log.length,
  };
}

/** Whether two plain values are the same (bytes by content, NaN as itself): `toEqual` without its diff, for the hot loop. */
function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) return a instanceof Uint8Array && b instanceof Uint8Array && sameBytes(a, b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) if (!Object.hasOwn(b, key) || !same((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  return true;
}

/** A seeded generator (a Weyl sequence through murmur3's finalizer): the same seed, the same messages. */
function generator(seed: number) {
  let weyl = seed >>> 0;
  const u32 = (): number => {
    weyl = (weyl + 0x9e37_79b9) >>> 0;
    let z = weyl;
    z = Math.imul(z ^ (z >>> 16), 0x85eb_ca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2_ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  const below = (n: number): number => Math.floor((u32() / 0x1_0000_0000) * n);
  const pick = <T>(items: readonly T[]): T => {
    const item = items[below(items.length)];
    if (item === undefined) throw new Error('pick from nothing');
    return item;
  };
  return { u32, below, pick, chance: (p: number) => u32() / 0x1_0000_0000 < p, bytes: (n: number) => Uint8Array.from({ length: n }, () => u32() & 0xff) };
}

type Rng = ReturnType<typeof generator>;

/** One hostile message: sent as typed (`ioctl`) or as its bytes (`ioctlBytes`); what it must be refused as, when that is certain. */
interface Case {
  readonly family: string;
  readonly message: unknown;
  /** Send the typed value even when it encodes (its fault is one the codec would carry differently, or not at all). */
  readonly typedOnly?: boolean;
  /** Bytes to send as they are. */
  readonly bytes?: Uint8Array;
  readonly counter?: Refusal;
  readonly code?: ErrorCodeType;
}

const SPACE_BYTES: Readonly<Record<AddressSpace, number>> = { port: 0x1_0000, mmio: 2 ** 52, msr: 2 ** 32 };
const REQUEST_TAGS = Object.values(MessageTag);
const KNOWN_TAGS: ReadonlySet<number> = new Set(REQUEST_TAGS);
/** Tags behind which random bytes are all but never a request the kernel serves (`resume` takes none, `pause` any time it has passed). */
const TAGS_WITHOUT_A_VALID_BODY = REQUEST_TAGS.filter((tag) => tag !== MessageTag.resume && tag !== MessageTag.pause);
const ERROR_CODES: ReadonlySet<number> = new Set(Object.values(ErrorCode));
/** Bytes of one write past the most one request moves: made once, sent by many messages (the kernel refuses it unread). */
const TOO_MANY_BYTES = new Uint8Array(MAX_MEMORY_BYTES + 1);
/** Board lines in front of the irqchip (the legacy replacement select's inputs, 10000h–10004h). */
const BOARD_LINES = [0x1_0000, 0x1_0004];

/** Every path into a plain value that holds something (where a change of kind is a change the kernel must see). */
function paths(value: unknown, at: (string | number)[] = [], into: (string | number)[][] = []): (string | number)[][] {
  if (value === null || value === undefined) return into;
  if (at.length > 0) into.push(at);
  if (value instanceof Uint8Array) return into;
  if (Array.isArray(value)) value.forEach((item: unknown, i) => { paths(item, [...at, i], into); });
  else if (typeof value === 'object') for (const [key, item] of Object.entries(value)) paths(item, [...at, key], into);
  return into;
}

const REMOVE = Symbol('remove');

/** `value` with what sits at `path` replaced by `replace(old)` (or removed, when it returns `REMOVE`). */
function edited(value: unknown, path: readonly (string | number)[], replace: (old: unknown) => unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return replace(value);
  if (Array.isArray(value)) return value.map((item: unknown, i) => (i === head ? edited(item, rest, replace) : item));
  const record = value as Record<string, unknown>;
  const next = rest.length === 0 ? replace(record[head]) : edited(record[head], rest, replace);
  const { [head]: _old, ...others } = record;
  return next === REMOVE ? others : { ...others, [head]: next };
}

/** Something of another kind than `old`, never nothing (which may stand for an absent deadline or part). */
function otherKind(rng: Rng, old: unknown): unknown {
  const kinds: unknown[] = [rng.u32(), 'garbage', true, 5n, Uint8Array.of(1, 2), [rng.u32()], { x: 1 }];
  for (;;) {
    const candidate = rng.pick(kinds);
    const kind = (v: unknown) => (v instanceof Uint8Array ? 'bytes' : Array.isArray(v) ? 'array' : typeof v);
    if (kind(candidate) !== kind(old)) return candidate;
  }
}

/** A state for `device` that is wrong: another model, another version, or another form (missing, extra or re-typed fields, NaN). */
function wrongState(rng: Rng, held: DeviceState, models: readonly string[]): { state: unknown; typedOnly: boolean } {
  const targets = paths(held).filter((p) => p[0] !== 'model' && p[0] !== 'version');
  const fields = targets.filter((p) => typeof p[p.length - 1] === 'string');
  switch (rng.below(7)) {
    case 0: return { state: { ...held, model: rng.pick([...models.filter((m) => m !== held.model), 'i8254x', '']) }, typedOnly: false };
    case 1: return { state: { ...held, version: held.version + 1 + rng.below(1000) }, typedOnly: false };
    case 2: return { state: edited(held, rng.pick(fields), () => REMOVE), typedOnly: false };
    case 3: return { state: edited(held, rng.pick([[], ...fields.filter((p) => { const v = valueAt(held, p); return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array); })]), (old) => ({ ...(old as object), [`extra${rng.below(100)}`]: rng.u32() })), typedOnly: false };
    case 4: return { state: edited(held, rng.pick(targets), (old) => otherKind(rng, old)), typedOnly: false };
    case 5: {
      const numbers = targets.filter((p) => typeof valueAt(held, p) === 'number');
      if (numbers.length === 0) return { state: { ...held, version: -held.version - 1 }, typedOnly: false }; // a state of no numbers (an empty list)
      return { state: edited(held, rng.pick(numbers), () => Number.NaN), typedOnly: true };
    }
    default: return { state: rng.chance(0.5) ? [held] : { model: held.model, version: held.version, ...Object.fromEntries([[`f${rng.below(9)}`, rng.u32()]]) }, typedOnly: false };
  }
}

function valueAt(value: unknown, path: readonly (string | number)[]): unknown {
  let at: unknown = value;
  for (const step of path) at = (at as Record<string | number, unknown>)[step];
  return at;
}

/** The fixture's facts the generator draws on: what is registered, what is mapped, whose windows are whose. */
function facts(fixture: Fixture) {
  const { kernel } = fixture;
  const holdings = kernel.holdings();
  const states = new Map(stateNames(kernel).map((name) => {
    const reply = kernel.getDeviceState(name);
    if (reply.kind !== 'device-state') throw new Error(`no state for ${name}`);
    return [name, reply.state] as const;
  }));
  const mapped = kernel.bus.mappings().map((m): AddressRange => ({ space: m.region.space, address: m.base, length: m.region.length }));
  const ranges = [...holdings.coalescedRanges.map((r) => ({ ...r, list: 'coalesced' as const })), ...holdings.postedRanges.map((r) => ({ ...r, list: 'posted' as const }))];
  const descriptors = [
    ...holdings.counters.map(({ device, descriptor }) => ({ device, descriptor: descriptor as unknown as Record<string, unknown> })),
    ...holdings.cachedReads.map(({ device, descriptor }) => ({ device, descriptor: descriptor as unknown as Record<string, unknown> })),
    ...holdings.programs.map(({ device, range, program }) => ({
      device, descriptor: { kind: 'program', ...range, program, scratch: holdings.scratch.find((s) => s.device === device)?.bytes ?? new Uint8Array(0) },
    })),
  ];
  return { holdings, states, mapped, ranges, descriptors, hostNames: fixture.hostNames };
}

type Facts = ReturnType<typeof facts>;

/** A range overlapping `r` that is not `r` itself (a registration of its own range again is no conflict). */
function overlapping(rng: Rng, r: AddressRange): AddressRange {
  const address = Math.max(0, r.address + rng.below(r.length) - rng.below(3));
  const length = 1 + rng.below(r.length + 3);
  const reaches = address + length > r.address;
  const range = { space: r.space, address, length: reaches ? length : r.address - address + 1 };
  return range.address === r.address && range.length === r.length ? { ...range, length: range.length + 1 } : range;
}

/** The message families, each a generator of messages that are wrong in its way. */
function families(fixture: Fixture, f: Facts): Record<string, (rng: Rng) => Case> {
  const inKernel = fixture.topology === 'in-kernel';
  const split = fixture.topology === 'split';
  const hostNames = f.hostNames;
  const kernelNames = [...f.states.keys()];
  const models = [...new Set([...f.states.values()].map((s) => s.model))];
  const valid: Message[] = [
    { kind: 'irq-line', gsi: 4, level: true },
    { kind: 'interrupt', vcpu: 1, vector: 0x30 },
    { kind: 'msi', address: 0xfee0_1000, data: 0x4031 },
    { kind: 'get-device-state', device: kernelNames[0] ?? 'pit' },
    ...[...f.states].map(([device, state]): Message => ({ kind: 'set-device-state', device, state })),
    ...f.ranges.map((r): Message => ({ kind: r.list === 'coalesced' ? 'register-coalesced-range' : 'register-posted-range', space: r.space, address: r.address, length: r.length, enable: true })),
    ...f.descriptors.map(({ device, descriptor }) => ({ kind: 'register-fast-path', device, descriptor }) as unknown as Message),
    ...f.holdings.scratch.map(({ device, bytes }): Message => ({ kind: 'program-scratch', device, scratch: bytes })),
    { kind: 'read-memory', address: 0x7c00, length: 0x200 },
    { kind: 'write-memory', address: 0x7c00, bytes: Uint8Array.of(0xeb, 0xfe, 0x55, 0xaa) },
  ];
  const validBytes = valid.map((m) => encodeMessage(m));
  const rangeKind = (rng: Rng) => rng.pick([['register-coalesced-range', 'coalescedRanges'], ['register-posted-range', 'postedRanges']] as const);

  return {
    'random bytes': (rng) => ({ family: 'random bytes', message: undefined, bytes: rng.bytes(rng.below(64)) }),

    'random body behind a known tag': (rng) => {
      const body = rng.bytes(rng.below(48));
      const bytes = Uint8Array.of(rng.pick(TAGS_WITHOUT_A_VALID_BODY), 0, 0, 0, ...body);
      return { family: 'random body behind a known tag', message: undefined, bytes };
    },

    'corrupted encoding': (rng) => {
      const original = rng.pick(validBytes);
      let bytes: Uint8Array;
      switch (rng.below(4)) {
        case 0: bytes = original.slice(0, rng.below(original.length)); break; // truncated
        case 1: bytes = Uint8Array.of(...original, ...rng.bytes(1 + rng.below(8))); break; // trailing bytes
        case 2: bytes = original.slice(); bytes[2 + rng.below(2)] = 1 + rng.below(255); break; // the tag's reserved half-word
        default: {
          bytes = original.slice();
          let tag = rng.below(0x1_0000);
          while (KNOWN_TAGS.has(tag)) tag = rng.below(0x1_0000);
          bytes[0] = tag & 0xff;
          bytes[1] = tag >> 8;
        }
      }
      return { family: 'corrupted encoding', message: undefined, bytes, counter: 'undecodable', code: ErrorCode.BadMessage };
    },

    'not a kernel ioctl': (rng) => {
      const header = { vcpu: 0, time: rng.below(1e9), ifFlag: true, readyForInterruptInjection: false };
      const others: Message[] = [
        { kind: 'hlt', ...header }, { kind: 'shutdown', ...header }, { kind: 'io', ...header, direction: 'out', port: 0x80, size: 1, count: 1, data: Uint8Array.of(1) },
        { kind: 'ok' }, { kind: 'error', code: ErrorCode.Invalid, message: 'no' }, { kind: 'memory', bytes: new Uint8Array(0) }, { kind: 'coalesced-io', writes: [] },
        { kind: 'run', vcpu: 0, completion: new Uint8Array(0), requestInterruptWindow: false, immediateExit: false, deadline: 5, deadlineOwner: '' },
      ];
      if (rng.chance(0.4)) return { family: 'not a kernel ioctl', message: rng.pick(others), counter: 'unsupported', code: ErrorCode.Unsupported };
      if (rng.chance(0.3)) return { family: 'not a kernel ioctl', message: rng.pick([null, 7, 'irq-line', [], Uint8Array.of(0x21)]), typedOnly: true, counter: 'undecodable', code: ErrorCode.BadMessage };
      const kind = rng.pick(['frobnicate', 'IRQ-LINE', 'irq_line', '', `k${rng.u32()}`, 'register-fast-paths']);
      return { family: 'not a kernel ioctl', message: { kind, gsi: rng.below(24), level: true }, typedOnly: true, counter: 'unsupported', code: ErrorCode.Unsupported };
    },

    'irq line': (rng) => {
      if (!inKernel) return { family: 'irq line', message: { kind: 'irq-line', gsi: rng.below(24), level: rng.chance(0.5) }, counter: 'irqLines', code: ErrorCode.Unsupported };
      if (rng.chance(0.2)) return { family: 'irq line', message: { kind: 'irq-line', gsi: rng.below(24), level: rng.pick([0, 1, 'high', null]) }, typedOnly: true, counter: 'irqLines', code: ErrorCode.Invalid };
      if (rng.chance(0.2)) return { family: 'irq line', message: { kind: 'irq-line', gsi: rng.pick([-1, 2.5, Number.NaN, Number.POSITIVE_INFINITY, '4', null]), level: true }, typedOnly: true, counter: 'irqLines', code: ErrorCode.Invalid };
      const gsi = rng.pick([() => 24 + rng.below(0x1_0000 - 24), () => (BOARD_LINES[1] ?? 0) + 1 + rng.below(0xffff_0000), () => 0xffff_ffff])();
      return { family: 'irq line', message: { kind: 'irq-line', gsi, level: rng.chance(0.5) }, counter: 'irqLines', code: ErrorCode.Invalid };
    },

    'interrupt': (rng) => {
      if (!split) return { family: 'interrupt', message: { kind: 'interrupt', vcpu: rng.below(CPUS), vector: rng.below(256) }, counter: 'interrupts', code: ErrorCode.Unsupported };
      switch (rng.below(3)) {
        case 0: return { family: 'interrupt', message: { kind: 'interrupt', vcpu: CPUS + rng.below(0x1_0000 - CPUS), vector: rng.below(256) }, counter: 'interrupts', code: ErrorCode.Invalid };
        case 1: return { family: 'interrupt', message: { kind: 'interrupt', vcpu: 0, vector: rng.below(256) }, counter: 'interrupts', code: ErrorCode.Invalid }; // one is queued for vCPU 0
        default: return { family: 'interrupt', message: { kind: 'interrupt', vcpu: rng.pick([1, -1, 0.5, '1']), vector: rng.pick([256, -1, 32.5, Number.NaN, 0x1_0000]) }, typedOnly: true, counter: 'interrupts', code: ErrorCode.Invalid };
      }
    },

    'msi': (rng) => {
      if (!split) return { family: 'msi', message: { kind: 'msi', address: 0xfee0_0000 | (rng.below(256) << 12), data: rng.below(256) }, counter: 'msis', code: ErrorCode.Unsupported };
      const window = (0xfee0_0000 | (rng.below(256) << 12) | (rng.below(4) << 2)) >>> 0;
      switch (rng.below(4)) {
        case 0: {
          let address = rng.u32();
          while ((address & 0xfff0_0000) >>> 0 === 0xfee0_0000) address = rng.u32();
          return { family: 'msi', message: { kind: 'msi', address, data: rng.below(0x1_0000) & ~0x3800 }, counter: 'msis', code: ErrorCode.Invalid };
        }
        case 1: return { family: 'msi', message: { kind: 'msi', address: (window | ((1 + rng.below(0xff)) << 4)) >>> 0, data: 0x30 }, counter: 'msis', code: ErrorCode.Invalid };
        case 2: return { family: 'msi', message: { kind: 'msi', address: window, data: (rng.below(0x1_0000) | (rng.chance(0.5) ? (1 + rng.below(0xffff)) << 16 : (1 + rng.below(7)) << 11)) >>> 0 }, counter: 'msis', code: ErrorCode.Invalid };
        default: return { family: 'msi', message: { kind: 'msi', address: rng.pick([2 ** 32, -1, 0xfee0_0000 + 0.5, 'fee00000']), data: 0x30 }, typedOnly: true, counter: 'msis', code: ErrorCode.Invalid };
      }
    },

    'device state': (rng) => {
      if (rng.chance(0.15)) {
        const device = rng.pick(['rtc', 'vga', 'lapic#2', 'PIT', '', `dev${rng.u32()}`, ...hostNames]);
        return rng.chance(0.5)
          ? { family: 'device state', message: { kind: 'get-device-state', device }, counter: 'deviceStates', code: ErrorCode.NoDevice }
          : { family: 'device state', message: { kind: 'set-device-state', device, state: { model: rng.pick(models), version: 1 } }, counter: 'deviceStates', code: ErrorCode.NoDevice };
      }
      const device = rng.pick(kernelNames);
      const held = f.states.get(device);
      if (held === undefined) throw new Error(`no state for ${device}`);
      const { state, typedOnly } = wrongState(rng, held, models);
      return { family: 'device state', message: { kind: 'set-device-state', device, state }, typedOnly, counter: 'deviceStates', code: ErrorCode.Invalid };
    },

    'range': (rng) => {
      const [kind, counter] = rangeKind(rng);
      const space = rng.pick(['port', 'mmio', 'msr'] as const);
      switch (rng.below(5)) {
        case 0: { // over a range already registered, of either kind (but not a range of its own list again, which is no conflict)
          const list = kind === 'register-coalesced-range' ? 'coalesced' : 'posted';
          let range = overlapping(rng, rng.pick(f.ranges));
          while (f.ranges.some((r) => r.list === list && r.space === range.space && r.address === range.address && r.length === range.length)) range = { ...range, length: range.length + 1 };
          return { family: 'range', message: { kind, ...range, enable: true }, counter, code: ErrorCode.Invalid };
        }
        case 1: { // over a device placed in the kernel
          const m = rng.pick(f.mapped);
          const address = m.address + rng.below(m.length);
          return { family: 'range', message: { kind, space: m.space, address, length: 1 + rng.below(Math.min(8, SPACE_BYTES[m.space] - address)), enable: rng.chance(0.5) }, counter, code: ErrorCode.Invalid };
        }
        case 2: { // past the end of its space, or empty
          const size = SPACE_BYTES[space];
          const address = rng.chance(0.5) ? size - rng.below(4) : rng.below(size);
          const length = address >= size - 1 || rng.chance(0.3) ? (rng.chance(0.2) ? 0 : size - address + 1 + rng.below(16)) : 0;
          return { family: 'range', message: { kind, space, address, length, enable: rng.chance(0.5) }, counter, code: ErrorCode.Invalid };
        }
        default: // fields no range has
          return {
            family: 'range', typedOnly: true, counter, code: ErrorCode.Invalid,
            message: rng.pick([
              { kind, space: rng.pick(['pci', 'constructor', 'toString', 1, null]), address: 0x1000, length: 1, enable: true },
              { kind, space, address: rng.pick([-1, 0.5, Number.NaN, '16', null, 2 ** 60]), length: 1, enable: true },
              { kind, space, address: 0x9000, length: rng.pick([-1, 2.5, Number.POSITIVE_INFINITY, '4']), enable: true },
              { kind, space, address: 0x9000, length: 2, enable: rng.pick(['yes', 1, null]) },
            ]),
          };
      }
    },

    'fast path': (rng) => {
      const { device, descriptor } = rng.pick(f.descriptors);
      const fault = rng.below(8);
      const typed = (message: unknown): Case => ({ family: 'fast path', message, typedOnly: true, counter: 'fastPaths', code: ErrorCode.Invalid });
      const sent = (message: unknown): Case => ({ family: 'fast path', message, counter: 'fastPaths', code: ErrorCode.Invalid });
      switch (fault) {
        case 0: return sent({ kind: 'register-fast-path', device: rng.pick(['', 'mouse', 'pit', `d${rng.u32()}`, ...kernelNames].filter((d) => !hostNames.includes(d))), descriptor });
        case 1: return sent({ kind: 'register-fast-path', device: rng.pick(hostNames.filter((n) => n !== device)), descriptor }); // not that device's address
        case 2: { // over a device placed in the kernel
          const m = rng.pick(f.mapped);
          return sent({ kind: 'register-fast-path', device, descriptor: { ...descriptor, space: m.space, address: m.address + rng.below(Math.max(1, m.length - 8)) } });
        }
        case 3: return sent({ kind: 'register-fast-path', device, descriptor: { ...descriptor, address: rng.pick([SPACE_BYTES[descriptor.space as AddressSpace] - 1, (descriptor.address as number) + 0x1_0000 + rng.below(0x1000)]) } });
        case 4: // a program its verifier refuses (the codec carries it as it is)
          return sent({
            kind: 'register-fast-path', device: rng.pick(f.descriptors.filter((d) => d.descriptor.kind === 'program')).device,
            descriptor: {
              ...(f.descriptors.find((d) => d.descriptor.kind === 'program')?.descriptor ?? {}),
              program: {
                instructions: rng.pick([
                  [[Op.li, 4, 1, 0], [Op.jmp, 0, 0, 0], [Op.ret, 4, 0, 0]], // a backward jump
                  [[Op.li, 9, 1, 0], [Op.ret, 9, 0, 0]], // no register r9
                  [[Op.ldd, 4, 4000, 0], [Op.ret, 4, 0, 0]], // a load outside its scratch
                  [[Op.li, 4, 1, 0]], // runs off its end
                  [[99, 0, 0, 0]], // no opcode 99
                  [],
                ]),
                scratchBytes: (f.descriptors.find((d) => d.descriptor.kind === 'program')?.descriptor.scratch as Uint8Array | undefined)?.length ?? 0,
              },
            },
          });
        default: { // a field no fast path has (the codec would not carry it)
          const bad: Record<string, unknown>[] = descriptor.kind === 'counter'
            ? [{ size: rng.pick([0, 3, 16]) }, { widthBits: rng.pick([0, 65, 1.5]) }, { frequencyHz: rng.pick([0, -1, Number.NaN, Number.POSITIVE_INFINITY]) }, { base: rng.pick([-1n, 1n << 64n, 0]) }, { epoch: rng.pick([-1, 0.5]) }, { running: 1 }]
            : descriptor.kind === 'cached-read'
              ? [{ size: rng.pick([0, 3, 8]) }, { value: rng.pick([2 ** 32, -1, 0.5, '1']) }, { invalidatedBy: rng.pick([[{ space: 'port', address: 0x60, length: 0 }], Array.from({ length: 17 }, () => ({ space: 'port', address: 0x60, length: 1 })), 'all']) }]
              : [{ scratch: new Uint8Array(((descriptor.scratch as Uint8Array).length + 1 + rng.below(8)) % 257) }, { program: null }, { scratch: [0] }];
          return typed({ kind: 'register-fast-path', device, descriptor: rng.chance(0.1) ? { ...descriptor, kind: 'jit' } : { ...descriptor, ...rng.pick(bad) } });
        }
      }
    },

    'program scratch': (rng) => {
      const loaded = f.holdings.scratch;
      if (loaded.length > 0 && rng.chance(0.6)) {
        const { device, bytes } = rng.pick(loaded);
        let length = rng.below(257);
        if (length === bytes.length) length += 1;
        return { family: 'program scratch', message: { kind: 'program-scratch', device, scratch: rng.bytes(length) }, counter: 'programScratch', code: ErrorCode.Invalid };
      }
      if (rng.chance(0.2)) return { family: 'program scratch', message: { kind: 'program-scratch', device: loaded[0]?.device ?? 'keyboard', scratch: [1, 2] }, typedOnly: true, counter: 'programScratch', code: ErrorCode.Invalid };
      const device = rng.pick(['', 'pit', 'serial', 'pm-timer', `d${rng.u32()}`].filter((d) => !loaded.some((s) => s.device === d)));
      return { family: 'program scratch', message: { kind: 'program-scratch', device, scratch: rng.bytes(rng.below(8)) }, counter: 'programScratch', code: ErrorCode.Invalid };
    },

    'pause': (rng) => {
      // A stop where the guest has not been (the fixture's guest is early in its run), or no time at all.
      if (rng.chance(0.5)) return { family: 'pause', message: { kind: 'pause', time: 2 ** 50 + rng.below(2 ** 20) }, counter: 'pauses', code: ErrorCode.Invalid };
      return { family: 'pause', message: { kind: 'pause', time: rng.pick([-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '5', null]) }, typedOnly: true, counter: 'pauses', code: ErrorCode.Invalid };
    },

    'guest memory': (rng) => {
      const size = fixture.ram.length;
      const read = rng.chance(0.5);
      const counter: Refusal = read ? 'memoryReads' : 'memoryWrites';
      const run = (address: unknown, length: number) => (read ? { kind: 'read-memory', address, length } : { kind: 'write-memory', address, bytes: rng.bytes(length) });
      switch (rng.below(3)) {
        case 0: { // not wholly inside guest RAM: across its end, past it, far past it
          const length = 1 + rng.below(64);
          const address = rng.pick([() => size - rng.below(length), () => size + rng.below(0x1_0000), () => size + rng.below(2 ** 40), () => Number.MAX_SAFE_INTEGER - rng.below(64)])();
          return { family: 'guest memory', message: run(address, length), counter, code: ErrorCode.Invalid };
        }
        case 1: // more than one request moves (the codec would not carry it)
          return {
            family: 'guest memory', typedOnly: true, counter, code: ErrorCode.Invalid,
            message: read ? { kind: 'read-memory', address: rng.below(size), length: MAX_MEMORY_BYTES + 1 + rng.below(2 ** 32) } : { kind: 'write-memory', address: rng.below(size), bytes: TOO_MANY_BYTES },
          };
        default: { // fields no run of guest memory has
          const address = rng.pick([-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '16', null]);
          const message = rng.chance(0.5)
            ? (read ? { kind: 'read-memory', address, length: 4 } : { kind: 'write-memory', address, bytes: rng.bytes(4) })
            : read
              ? { kind: 'read-memory', address: rng.below(size), length: rng.pick([-1, 2.5, Number.NaN, Number.POSITIVE_INFINITY, '4', null]) }
              : { kind: 'write-memory', address: rng.below(size), bytes: rng.pick([[1, 2], 'ab', null, new Uint16Array(2), { length: 4 }]) };
          return { family: 'guest memory', message, typedOnly: true, counter, code: ErrorCode.Invalid };
        }
      }
    },
  };
}

const totalRefused = (kernel: KernelDomain) => Object.values(kernel.refused).reduce((a, b) => a + b, 0);

/** Sends `count` hostile messages from `seed` into the kernel of `profile`; every one refused, counted, changing nothing. */
async function fuzz(profile: string, seed: number, count: number) {
  const fixture = assemble(everyFastPath(profile));
  const { kernel } = fixture;
  try {
    if (fixture.topology === 'split') expect(kernel.ioctl({ kind: 'interrupt', vcpu: 0, vector: 0x30 })).toEqual({ kind: 'ok' });
    const f = facts(fixture);
    // The host's own registrations were all taken: the check is not refusing a real host.
    expect(totalRefused(kernel)).toBe(0);
    expect(f.ranges.length).toBeGreaterThan(0);
    expect(f.descriptors.map((d) => d.descriptor.kind)).toEqual(expect.arrayContaining(['counter', 'cached-read', 'program']));
    for (let i = 0; i < fixture.ram.length; i++) fixture.ram[i] = (i * 31 + 7) & 0xff;
    const ramBefore = fixture.ram.slice();
    const before = observe(kernel);
    let changes = 0;
    kernel.watch(() => { changes++; });
    const irqsBefore = fixture.irqs.length;
    const generators = Object.entries(families(fixture, f));
    const rng = generator(seed);
    const byFamily: Record<string, number> = {};
    const byCode: Record<number, number> = {};
    for (let n = 0; n < count; n++) {
      const [family, make] = rng.pick(generators);
      const c = make(rng);
      let bytes = c.bytes;
      if (bytes === undefined && c.typedOnly !== true && rng.chance(0.5)) {
        try {
          bytes = encodeMessage(c.message as Message);
        } catch {
          bytes = undefined; // a value the codec cannot carry goes typed
        }
      }
      const counts = { ...kernel.refused };
      const where = `seed ${seed}, message ${n} (${family}${bytes === undefined ? ', typed' : ', as bytes'})`;
      let reply: Message;
      try {
        reply = bytes === undefined ? kernel.ioctl(c.message as Message) : ioctlBytes(kernel, bytes);
      } catch (error) {
        throw new Error(`${where}: threw ${String(error)}`, { cause: error });
      }
      if (reply.kind !== 'error' || !ERROR_CODES.has(reply.code) || reply.message === '') throw new Error(`${where}: answered ${JSON.stringify(reply)}`);
      if (c.code !== undefined && reply.code !== c.code) throw new Error(`${where}: code ${reply.code}, expected ${c.code}: ${reply.message}`);
      const grew = (Object.keys(counts) as Refusal[]).filter((k) => kernel.refused[k] !== counts[k]);
      const [counted] = grew;
      if (counted === undefined || grew.length !== 1 || kernel.refused[counted] !== counts[counted] + 1 || (c.counter !== undefined && counted !== c.counter)) {
        throw new Error(`${where}: counted as ${grew.join(', ') || 'nothing'}, expected one ${c.counter ?? 'refusal'}: ${reply.message}`);
      }
      const after = observe(kernel);
      if (!same(after, before)) expect(after, `${where}: ${reply.message}`).toEqual(before);
      byFamily[family] = (byFamily[family] ?? 0) + 1;
      byCode[reply.code] = (byCode[reply.code] ?? 0) + 1;
    }
    expect(totalRefused(kernel)).toBe(count);
    expect(changes).toBe(0);
    expect(fixture.irqs.length).toBe(irqsBefore);
    expect(sameBytes(fixture.ram, ramBefore)).toBe(true);
    return { byFamily, byCode, refused: { ...kernel.refused } };
  } finally {
    await fixture.close();
  }
}

describe('the kernel, sent hostile ioctls by the device host', () => {
  it('refuses 60,000 of them, under the in-kernel irqchip, each counted and changing nothing', async () => {
    const { byFamily, refused, byCode } = await fuzz('kvm-irqchip', 0x18, 60_000);
    console.log(`in-kernel irqchip, 60,000 messages, refused by code: ${JSON.stringify(byCode)}`);
    for (const n of Object.values(byFamily)) expect(n).toBeGreaterThan(3_000);
    for (const kind of ['irqLines', 'interrupts', 'msis', 'deviceStates', 'coalescedRanges', 'postedRanges', 'fastPaths', 'programScratch', 'memoryReads', 'memoryWrites', 'pauses', 'unsupported', 'undecodable'] as const) {
      expect(refused[kind]).toBeGreaterThan(500);
    }
  }, 120_000);

  it('refuses 40,000 more under the split irqchip (local APICs here: MSIs and KVM_INTERRUPT served), each counted and changing nothing', async () => {
    const { byCode } = await fuzz('kvm-split', 0x1800, 40_000);
    console.log(`split irqchip, 40,000 messages, refused by code: ${JSON.stringify(byCode)}`);
    for (const code of [ErrorCode.Invalid, ErrorCode.NoDevice, ErrorCode.Unsupported, ErrorCode.BadMessage]) expect(byCode[code]).toBeGreaterThan(400);
  }, 120_000);
});
