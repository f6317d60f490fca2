// The suites every device runs: state round trip, and ≥ 10^5 random register operations biased towards what firmware
// does (select a function's register, then read or write it), checked after each: identity registers never change,
// the reset line is never left high, and a board that knows only the decode-change records sees what the device decodes.
import type { Op, TestContext } from '@splitvisor/device-testkit';
import { inertContext, registerFuzzSuite, registerOps, stateRoundTripSuite } from '@splitvisor/device-testkit';
import fc from 'fast-check';
import { describe } from 'vitest';
import type { ChipsetDecode, DecodeChange } from '../src/index.ts';
import { I440fxPciHost, PCI_FUNCTION_NAMES, PciHostLine } from '../src/index.ts';
import { TRACE_OPTIONS } from './pci-driver.ts';

/** CONFIG_ADDRESS values: mostly the functions that are there, sometimes absent ones, odd low bits, the enable bit off. */
const select: fc.Arbitrary<Op> = fc
  .record({
    device: fc.constantFrom(0, 1, 1, 1, 2, 3, 31),
    fn: fc.constantFrom(0, 0, 1, 3, 2, 7),
    register: fc.oneof(fc.constantFrom(0x04, 0x10, 0x18, 0x20, 0x30, 0x3c, 0x40, 0x58, 0x5c, 0x60, 0x72, 0x80, 0x90, 0xd0), fc.integer({ min: 0, max: 0xff })),
    low: fc.constantFrom(0, 0, 0, 0, 1, 2, 3),
    enabled: fc.constantFrom(true, true, true, true, false),
    bus: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 1),
  })
  .map(({ device, fn, register, low, enabled, bus }): Op => ({
    kind: 'write', region: 'config-address', offset: 0, size: 4,
    value: ((enabled ? 0x8000_0000 : 0) | (bus << 16) | (device << 11) | (fn << 8) | (register & 0xfc) | low) >>> 0,
  }));

const dataValue = fc.oneof(
  fc.constantFrom(0xffff_ffff, 0, 0x0103, 0x0002, 0x0601, 0x01, 0x0701, 0x09, 0x3333_3333, 0x1111_1000, 0x4a, 0xfebe_0001, 0xfd00_0000, 0xc001),
  fc.nat({ max: 0xffff_ffff }),
);

const dataAccess = fc.record({ size: fc.constantFrom<1 | 2 | 4>(1, 2, 4, 4), slot: fc.integer({ min: 0, max: 3 }) }).map(({ size, slot }) => ({ size, offset: (slot * size) % 4 }));

const dataWrite: fc.Arbitrary<Op> = fc.tuple(dataAccess, dataValue).map(([{ size, offset }, value]): Op => ({
  kind: 'write', region: 'config-data', offset, size, value: size === 4 ? value >>> 0 : value & ((1 << (8 * size)) - 1),
}));
const dataRead: fc.Arbitrary<Op> = dataAccess.map(({ size, offset }): Op => ({ kind: 'read', region: 'config-data', offset, size }));
const resetControl: fc.Arbitrary<Op> = fc.constantFrom(0x00, 0x02, 0x06, 0x04).map((value): Op => ({ kind: 'write', region: 'config-address', offset: 1, size: 1, value }));

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: select },
  { weight: 6, arbitrary: dataWrite },
  { weight: 6, arbitrary: dataRead },
  { weight: 1, arbitrary: resetControl },
  { weight: 2, arbitrary: registerOps(new I440fxPciHost(inertContext(), TRACE_OPTIONS).regions) },
);

/** What a board learns from the change records alone, starting from the decode it read when it attached. */
interface BoardView { decode: ChipsetDecode }
const views = new WeakMap<I440fxPciHost, BoardView>();

function apply(view: BoardView, change: DecodeChange): void {
  const d = view.decode;
  switch (change.kind) {
    case 'window': {
      const { kind: _kind, ...window } = change;
      view.decode = { ...d, windows: d.windows.map((w) => (w.pciFunction === window.pciFunction && w.window === window.window ? window : w)) };
      return;
    }
    case 'pam': {
      const { kind: _kind, ...segment } = change;
      view.decode = { ...d, pam: d.pam.map((s) => (s.segment === segment.segment ? segment : s)) };
      return;
    }
    case 'smram': {
      const { kind: _kind, ...smram } = change;
      view.decode = { ...d, smram };
      return;
    }
    case 'pirq':
      view.decode = { ...d, pirq: d.pirq.map((irq, pirq) => (pirq === change.pirq ? change.irq : irq)) };
  }
}

/** The parts of a decode the change records promise to keep a board current on. */
function promised(decode: ChipsetDecode): unknown {
  return {
    windows: decode.windows.map((w) => [w.pciFunction, w.window, w.enabled, w.enabled ? w.base : null]),
    pam: decode.pam.map((s) => s.access),
    smram: [decode.smram.open, decode.smram.enabled],
    pirq: decode.pirq,
  };
}

function create(context: TestContext): I440fxPciHost {
  const host = new I440fxPciHost(context, TRACE_OPTIONS);
  const view: BoardView = { decode: host.decode() };
  views.set(host, view);
  host.onDecodeChange((change) => { apply(view, change); });
  return host;
}

const powerOn = new I440fxPciHost(inertContext(), TRACE_OPTIONS);
const IDENTITY = [0x00, 0x01, 0x02, 0x03, 0x08, 0x09, 0x0a, 0x0b, 0x0e, 0x2c, 0x2d, 0x2e, 0x2f, 0x3d];

function invariant(host: I440fxPciHost, context: TestContext): void {
  const state = host.getState();
  for (const name of PCI_FUNCTION_NAMES) {
    const now = host.configSpace(name);
    const then = powerOn.configSpace(name);
    for (const at of IDENTITY) if (now[at] !== then[at]) throw new Error(`${name} identity byte ${at.toString(16)} changed`);
  }
  if (host.read('config-address', 0, 4) !== state.configAddress) throw new Error('CONFIG_ADDRESS does not read back');
  if (state.resetControl !== 0 && state.resetControl !== 2) throw new Error(`RCR holds ${state.resetControl}`);
  if (context.lineLevel(PciHostLine.reset)) throw new Error('the reset line left high');
  const pulses = context.lineEdges.filter((e) => e.line === PciHostLine.reset && e.level).length;
  if (pulses !== state.resetRequests) throw new Error(`${pulses} reset pulses, ${state.resetRequests} requests`);
  const view = views.get(host);
  if (view === undefined) throw new Error('no board view');
  const [seen, actual] = [JSON.stringify(promised(view.decode)), JSON.stringify(promised(host.decode()))];
  if (seen !== actual) throw new Error(`the board's view ${seen} is not the decode ${actual}`);
}

describe('i440fx-pcihost conformance', () => {
  const subject = { create, op, irqOutputs: [] };
  stateRoundTripSuite(subject, 300);
  registerFuzzSuite(subject, invariant);
});
