// The shared suites for the PIC pair: state round trip and ≥ 10^5 random operations — port accesses,
// input lines changing level, and the CPU's interrupt acknowledge — with the resolver's invariants.
import type { AccessSize, Device, DeviceContext, IoRegion } from '@splitvisor/abi';
import type { Op } from '@splitvisor/device-testkit';
import { registerFuzzSuite, registerOps, stateRoundTripSuite } from '@splitvisor/device-testkit';
import fc from 'fast-check';
import { describe } from 'vitest';
import type { IoapicState, PicPairState } from '../src/index.ts';
import { Ioapic, IoapicMmio, PicPair, Redirection } from '../src/index.ts';

/** The pair plus two test-only regions: `lines` (write n: drive ISA irq n to the value's bit 0) and `inta` (read: acknowledge). */
class PicHarness implements Device<PicPairState> {
  readonly model = 'i8259-pair' as const;
  readonly pic: PicPair;
  readonly regions: readonly IoRegion[];

  constructor(context: DeviceContext) {
    this.pic = new PicPair(context);
    this.regions = [...this.pic.regions, { name: 'lines', space: 'port', length: 16, sizes: [1] }, { name: 'inta', space: 'port', length: 1, sizes: [1] }];
  }

  read(region: string, offset: number, size: AccessSize): number {
    if (region === 'inta') return this.pic.acknowledge();
    if (region === 'lines') return 0;
    return this.pic.read(region, offset, size);
  }

  write(region: string, offset: number, size: AccessSize, value: number): void {
    if (region === 'lines') this.pic.setIrq(offset, (value & 1) === 1);
    else if (region !== 'inta') this.pic.write(region, offset, size, value);
  }

  getState(): PicPairState {
    return this.pic.getState();
  }

  setState(state: PicPairState): void {
    this.pic.setState(state);
  }

  anomalies(): Readonly<Record<string, number>> {
    return this.pic.anomalies();
  }
}

const out = (region: string, offset: number, value: number): Op => ({ kind: 'write', region, offset, size: 1, value });
const chip = fc.constantFrom('master', 'slave');
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.integer({ min: 0, max: 15 }), fc.boolean()).map(([irq, level]) => out('lines', irq, level ? 1 : 0)) },
  { weight: 3, arbitrary: fc.constant<Op>({ kind: 'read', region: 'inta', offset: 0, size: 1 }) },
  { weight: 2, arbitrary: fc.tuple(chip, fc.constantFrom(0x20, 0x60, 0x61, 0x62, 0x63, 0xa0, 0xe0, 0xc3, 0x0a, 0x0b, 0x0c, 0x68, 0x48)).map(([c, v]) => out(c, 0, v)) },
  { weight: 1, arbitrary: fc.tuple(chip, fc.constantFrom(0x11, 0x13, 0x19)).map(([c, v]) => out(c, 0, v)) },
  { weight: 3, arbitrary: fc.tuple(chip, fc.nat({ max: 255 })).map(([c, v]) => out(c, 1, v)) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 1 }), fc.nat({ max: 255 })).map(([o, v]) => out('elcr', o, v)) },
  { weight: 2, arbitrary: registerOps(new PicPair(createNull()).regions, fc.nat({ max: 255 })) },
);

function createNull(): DeviceContext {
  return {
    now: () => 0, timer: () => ({ arm: () => undefined, cancel: () => undefined, deadline: undefined }), setIrq: () => undefined,
    memory: { size: 0, read: () => false, write: () => false }, log: { debug: () => undefined, warn: () => undefined },
  };
}

describe('8259A pair', () => {
  const subject = { create: (context: DeviceContext) => new PicHarness(context), op, irqOutputs: [0] };
  stateRoundTripSuite(subject, 300);
  registerFuzzSuite(subject, (harness, context) => {
    const { master, slave } = harness.pic.getState();
    for (const p of [master, slave]) {
      for (const [name, value] of [['IRR', p.irr], ['ISR', p.isr], ['IMR', p.imr], ['ELCR', p.elcr]] as const) {
        if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new Error(`${name} ${value}`);
      }
    }
    if ((master.elcr & 0x07) !== 0 || (slave.elcr & 0x21) !== 0) throw new Error('ELCR bits that cannot be set are set');
    // INTR follows the resolver, and is never raised by a masked request alone.
    if (context.irqLevel(0) !== harness.pic.interruptPending) throw new Error('INTR out of step');
    if ((master.irr & ~master.imr) === 0 && context.irqLevel(0)) throw new Error('INTR with every request masked');
  });
});

/** The I/O APIC plus `lines` (write n: drive pin n) and `eoi` (write: the LAPICs' EOI broadcast); `sent` (read) counts messages. */
class IoapicHarness implements Device<IoapicState> {
  readonly model = 'ioapic' as const;
  readonly ioapic: Ioapic;
  readonly regions: readonly IoRegion[];
  sent = 0;
  readonly inFlight = new Set<number>();

  constructor(context: DeviceContext) {
    this.ioapic = new Ioapic(context, { deliver: () => { this.sent++; } });
    this.regions = [...this.ioapic.regions, { name: 'lines', space: 'port', length: 24, sizes: [1] }, { name: 'eoi', space: 'port', length: 1, sizes: [1] }];
  }

  read(region: string, offset: number, size: AccessSize): number {
    if (region === 'lines' || region === 'eoi') return 0;
    return this.ioapic.read(region, offset, size);
  }

  write(region: string, offset: number, size: AccessSize, value: number): void {
    if (region === 'lines') this.ioapic.setIrq(offset, (value & 1) === 1);
    else if (region === 'eoi') this.ioapic.eoi(value & 0xff);
    else this.ioapic.write(region, offset, size, value);
  }

  getState(): IoapicState {
    return this.ioapic.getState();
  }

  setState(state: IoapicState): void {
    this.ioapic.setState(state);
  }

  anomalies(): Readonly<Record<string, number>> {
    return this.ioapic.anomalies();
  }
}

const mmio = (offset: number, value: number): Op => ({ kind: 'write', region: 'registers', offset, size: 4, value });
const ioapicOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.integer({ min: 0, max: 23 }), fc.boolean()).map(([pin, level]) => out('lines', pin, level ? 1 : 0)) },
  { weight: 2, arbitrary: fc.integer({ min: 0x20, max: 0x27 }).map((v) => out('eoi', 0, v)) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 0x40 }).map((index) => mmio(IoapicMmio.IOREGSEL, index)) },
  { weight: 3, arbitrary: fc.tuple(fc.integer({ min: 0x20, max: 0x27 }), fc.boolean(), fc.boolean(), fc.boolean())
    .map(([vector, level, masked, logical]) => mmio(IoapicMmio.IOWIN, vector | (level ? Redirection.TRIGGER_LEVEL : 0) | (masked ? Redirection.MASKED : 0) | (logical ? Redirection.DEST_MODE_LOGICAL : 0))) },
  { weight: 1, arbitrary: fc.nat({ max: 0xffff_ffff }).map((v) => mmio(IoapicMmio.IOWIN, v)) },
  { weight: 2, arbitrary: fc.constant<Op>({ kind: 'read', region: 'registers', offset: IoapicMmio.IOWIN, size: 4 }) },
  { weight: 1, arbitrary: registerOps(new Ioapic(createNull(), { deliver: () => undefined }).regions) },
);

describe('I/O APIC', () => {
  const subject = { create: (context: DeviceContext) => new IoapicHarness(context), op: ioapicOp, irqOutputs: [] };
  stateRoundTripSuite(subject, 300);
  registerFuzzSuite(subject, (harness) => {
    const state = harness.ioapic.getState();
    state.entries.forEach(([low], pin) => {
      // Remote IRR only on level-triggered entries; a pending edge never waits on an unmasked pin.
      if ((low & Redirection.REMOTE_IRR) !== 0 && (low & Redirection.TRIGGER_LEVEL) === 0) throw new Error(`remote IRR on edge pin ${pin}`);
      const pendingEdge = (state.irr & (1 << pin)) !== 0 && (low & Redirection.TRIGGER_LEVEL) === 0;
      if (pendingEdge && (low & Redirection.MASKED) === 0) throw new Error(`edge on pin ${pin} left undelivered`);
      if ((low & Redirection.DELIVERY_STATUS) !== 0) throw new Error('delivery status set: delivery is immediate');
    });
  });
});
