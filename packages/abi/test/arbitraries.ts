// fast-check generators for every message that crosses the boundary.
import fc from 'fast-check';
import type {
  AccessSize, CoalescedWrite, DeviceState, ErrorCode as ErrorCodeType, ExitHeader, FastPathDescriptor, GuestAccessSize,
  Message, PlainValue,
} from '../src/index.ts';
import { ErrorCode, MAX_MEMORY_BYTES, NEVER } from '../src/index.ts';

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const safe = fc.maxSafeNat();
const accessSize = fc.constantFrom<AccessSize>(1, 2, 4);
const guestSize = fc.constantFrom<GuestAccessSize>(1, 2, 4, 8);
const space = fc.constantFrom('port' as const, 'mmio' as const, 'msr' as const);
const text = fc.string({ unit: 'grapheme', maxLength: 40 });
const bytes = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });

const header: fc.Arbitrary<ExitHeader> = fc.record({
  vcpu: u16, time: safe, ifFlag: fc.boolean(), readyForInterruptInjection: fc.boolean(),
});

const plainLeaf: fc.Arbitrary<PlainValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: false }).filter((x) => !Object.is(x, -0)),
  text,
  fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n }),
  fc.uint8Array({ maxLength: 64 }),
);

const plainValue: fc.Arbitrary<PlainValue> = fc.letrec<{ value: PlainValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    plainLeaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__'), tie('value'), { maxKeys: 4 }),
  ),
})).value;

export const deviceState: fc.Arbitrary<DeviceState> = fc
  .record({
    model: fc.constantFrom('i8254', 'i8259', 'mc146818', 'vga'),
    version: fc.integer({ min: 1, max: 9 }),
    fields: fc.dictionary(
      fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !['model', 'version', '__proto__'].includes(k)),
      plainValue,
      { maxKeys: 5 },
    ),
  })
  .map(({ model, version, fields }) => ({ model, version, ...fields }));

const coalescedWrite: fc.Arbitrary<CoalescedWrite> = fc.record({
  space,
  address: safe,
  data: fc.uint8Array({ minLength: 1, maxLength: 8 }),
});

const counter: fc.Arbitrary<FastPathDescriptor> = fc
  .record({
    space, address: safe, size: guestSize, widthBits: fc.integer({ min: 1, max: 64 }),
    frequencyHz: fc.double({ min: 1, max: 1e10, noNaN: true }), epoch: safe, running: fc.boolean(),
    seed: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  })
  .map(({ seed, ...rest }) => ({ kind: 'counter' as const, ...rest, base: seed & ((1n << BigInt(rest.widthBits)) - 1n) }));

const cachedRead: fc.Arbitrary<FastPathDescriptor> = fc
  .record({
    space, address: safe, size: fc.constantFrom<1 | 2 | 4>(1, 2, 4), held: fc.boolean(), seed: fc.nat(),
    invalidatedBy: fc.array(fc.record({ space, address: safe, length: fc.nat() }), { maxLength: 16 }),
  })
  .map(({ held, seed, ...rest }) => ({ kind: 'cached-read' as const, ...rest, value: held ? seed % 2 ** (8 * rest.size) : null }));

const program: fc.Arbitrary<FastPathDescriptor> = fc
  .record({
    space, address: safe, length: u32, scratch: fc.uint8Array({ maxLength: 256 }),
    instructions: fc.array(fc.tuple(u32, u32, u32, u32), { maxLength: 64 }),
  })
  .map(({ scratch, instructions, ...rest }) => ({ kind: 'program' as const, ...rest, program: { instructions, scratchBytes: scratch.length }, scratch }));

const errorCode = fc.constantFrom<ErrorCodeType>(...Object.values(ErrorCode));

export const message: fc.Arbitrary<Message> = fc.oneof(
  fc.tuple(header, fc.boolean(), u16, accessSize, fc.integer({ min: 1, max: 300 })).chain(([h, out, port, size, count]) =>
    (out ? bytes(size * count) : fc.constant(new Uint8Array(0))).map((data) => ({
      kind: 'io' as const, ...h, direction: out ? ('out' as const) : ('in' as const), port, size, count, data,
    }))),
  fc.tuple(header, safe, guestSize, fc.boolean()).chain(([h, address, length, isWrite]) =>
    (isWrite ? bytes(length) : fc.constant(new Uint8Array(0))).map((data) => ({
      kind: 'mmio' as const, ...h, address, length, isWrite, data,
    }))),
  fc.tuple(header, u32, fc.boolean()).chain(([h, index, isWrite]) =>
    (isWrite ? bytes(8) : fc.constant(new Uint8Array(0))).map((data) => ({
      kind: 'msr' as const, ...h, index, isWrite, data,
    }))),
  fc.tuple(header, fc.constantFrom('hlt' as const, 'irq-window-open' as const, 'shutdown' as const, 'intr' as const))
    .map(([h, kind]) => ({ kind, ...h })),
  fc.tuple(header, u8).map(([h, vector]) => ({ kind: 'ioapic-eoi' as const, ...h, vector })),
  fc.tuple(header, u32, text).map(([h, suberror, detail]) => ({ kind: 'internal-error' as const, ...h, suberror, detail })),
  fc.array(coalescedWrite, { maxLength: 20 }).map((writes) => ({ kind: 'coalesced-io' as const, writes })),
  fc.record({
    vcpu: u16, completion: fc.uint8Array({ maxLength: 600 }), requestInterruptWindow: fc.boolean(),
    immediateExit: fc.boolean(), deadline: fc.oneof(safe, fc.constant(NEVER)), deadlineOwner: text,
  }).map((r) => ({ kind: 'run' as const, ...r })),
  fc.record({ gsi: u32, level: fc.boolean() }).map((r) => ({ kind: 'irq-line' as const, ...r })),
  fc.record({ vcpu: u16, vector: u8 }).map((r) => ({ kind: 'interrupt' as const, ...r })),
  fc.record({ address: u32, data: u32 }).map((r) => ({ kind: 'msi' as const, ...r })),
  text.map((device) => ({ kind: 'get-device-state' as const, device })),
  fc.record({ device: text, state: deviceState }).map((r) => ({ kind: 'set-device-state' as const, ...r })),
  fc.record({ device: text, state: deviceState }).map((r) => ({ kind: 'device-state' as const, ...r })),
  fc.record({ space, address: safe, length: safe, enable: fc.boolean() })
    .map((r) => ({ kind: 'register-coalesced-range' as const, ...r })),
  fc.record({ space, address: safe, length: safe, enable: fc.boolean() })
    .map((r) => ({ kind: 'register-posted-range' as const, ...r })),
  fc.record({ device: text, descriptor: fc.oneof(counter, cachedRead, program) }).map((r) => ({ kind: 'register-fast-path' as const, ...r })),
  fc.record({ device: text, scratch: fc.uint8Array({ maxLength: 256 }) }).map((r) => ({ kind: 'program-scratch' as const, ...r })),
  fc.record({ time: safe }).map((r) => ({ kind: 'pause' as const, ...r })),
  fc.record({ device: text, placement: text }).map((r) => ({ kind: 'place-device' as const, ...r })),
  fc.record({ device: text }).map((r) => ({ kind: 'remove-device' as const, ...r })),
  fc.record({ address: safe, length: fc.integer({ min: 0, max: MAX_MEMORY_BYTES }) }).map((r) => ({ kind: 'read-memory' as const, ...r })),
  fc.record({ address: safe, bytes: fc.uint8Array({ maxLength: 256 }) }).map((r) => ({ kind: 'write-memory' as const, ...r })),
  fc.uint8Array({ maxLength: 256 }).map((bytes) => ({ kind: 'memory' as const, bytes })),
  fc.constantFrom({ kind: 'resume' as const }, { kind: 'ok' as const }),
  fc.record({ code: errorCode, message: text }).map((r) => ({ kind: 'error' as const, ...r })),
);
