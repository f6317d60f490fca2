// The shared suites for the PIC pair: state round trip and ≥ 10^5 random operations — port accesses,
// input lines changing level, and the CPU's interrupt acknowledge — with the resolver's invariants.
import type { AccessSize, Device, DeviceContext, IoRegion } from '@splitvisor/abi';
import type { Op } from '@splitvisor/device-testkit';
import { inertContext, registerFuzzSuite, registerOps, stateRoundTripSuite } from '@splitvisor/device-testkit';
import fc from 'fast-check';
import { describe } from 'vitest';
import type { IoapicState, LocalApicState, PicPairState } from '../src/index.ts';
import { Ioapic, IoapicMmio, LapicReg, LocalApic, PicPair, Redirection } from '../src/index.ts';

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
  { weight: 2, arbitrary: registerOps(new PicPair(inertContext()).regions, fc.nat({ max: 255 })) },
);

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
  { weight: 1, arbitrary: registerOps(new Ioapic(inertContext(), { deliver: () => undefined }).regions) },
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

/** A local APIC plus `bus` (write: accept a fixed vector; bit 8 = level-triggered), `cpu` (read: acknowledge) and `lint` (write n: LINTn level). */
class LapicHarness implements Device<LocalApicState> {
  readonly model = 'local-apic' as const;
  readonly lapic: LocalApic;
  readonly regions: readonly IoRegion[];

  constructor(context: DeviceContext) {
    this.lapic = new LocalApic(context, { apicId: 0 });
    this.regions = [
      ...this.lapic.regions,
      { name: 'bus', space: 'port', length: 1, sizes: [2] },
      { name: 'cpu', space: 'port', length: 1, sizes: [1] },
      { name: 'lint', space: 'port', length: 2, sizes: [1] },
    ];
  }

  read(region: string, offset: number, size: AccessSize): number {
    if (region === 'cpu') return this.lapic.acknowledge();
    if (region === 'bus' || region === 'lint') return 0;
    return this.lapic.read(region, offset, size);
  }

  write(region: string, offset: number, size: AccessSize, value: number): void {
    if (region === 'bus') {
      this.lapic.accept({ vector: value & 0xff, deliveryMode: 0, logical: false, destination: 0, level: true, levelTriggered: (value & 0x100) !== 0, shorthand: 'none' });
    } else if (region === 'lint') {
      this.lapic.setLint(offset === 0 ? 0 : 1, (value & 1) === 1);
    } else {
      this.lapic.write(region, offset, size, value);
    }
  }

  getState(): LocalApicState {
    return this.lapic.getState();
  }

  setState(state: LocalApicState): void {
    this.lapic.setState(state);
  }

  anomalies(): Readonly<Record<string, number>> {
    return this.lapic.anomalies();
  }
}

const lapicWrite = (reg: number, value: number): Op => ({ kind: 'write', region: 'registers', offset: reg, size: 4, value });
const lapicOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.integer({ min: 0, max: 255 }), fc.boolean()).map(([v, level]): Op => ({ kind: 'write', region: 'bus', offset: 0, size: 2, value: v | (level ? 0x100 : 0) })) },
  { weight: 3, arbitrary: fc.constant<Op>({ kind: 'read', region: 'cpu', offset: 0, size: 1 }) },
  { weight: 3, arbitrary: fc.constant(lapicWrite(LapicReg.EOI, 0)) },
  { weight: 2, arbitrary: fc.nat({ max: 0xff }).map((v) => lapicWrite(LapicReg.TPR, v)) },
  { weight: 1, arbitrary: fc.constantFrom(0x0ff, 0x1ff, 0x1ef).map((v) => lapicWrite(LapicReg.SVR, v)) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(LapicReg.LVT_LINT0, LapicReg.LVT_LINT1, LapicReg.LVT_ERROR, LapicReg.LVT_TIMER, LapicReg.ICR_LOW, LapicReg.ICR_HIGH, LapicReg.LDR, LapicReg.DFR, LapicReg.TIMER_INITIAL, LapicReg.TIMER_DIVIDE, LapicReg.ESR, LapicReg.ID), fc.nat({ max: 0xffff_ffff }))
    .map(([reg, v]) => lapicWrite(reg, v)) },
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 0, max: 1 }), fc.boolean()).map(([pin, level]): Op => ({ kind: 'write', region: 'lint', offset: pin, size: 1, value: level ? 1 : 0 })) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0x3f }).map((slot): Op => ({ kind: 'read', region: 'registers', offset: slot * 16, size: 4 })) },
  { weight: 2, arbitrary: fc.oneof(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 500_000 })).map((ns): Op => ({ kind: 'advance', ns })) },
);

describe('local APIC', () => {
  const subject = { create: (context: DeviceContext) => new LapicHarness(context), op: lapicOp, irqOutputs: [0] };
  stateRoundTripSuite(subject, 300);
  registerFuzzSuite(subject, (harness, context) => {
    const lapic = harness.lapic;
    const state = lapic.getState();
    for (const set of [state.irr, state.isr, state.tmr]) {
      if (set.length !== 8 || set.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffff_ffff)) throw new Error(`256-bit register ${JSON.stringify(set)}`);
      if ((set[0] ?? 0) & 0xffff) throw new Error('vectors 0–15 are never accepted');
    }
    // The CPU line is exactly "a vector above PPR, or ExtINT".
    if (context.irqLevel(0) !== (lapic.deliverableVector() >= 0 || lapic.extIntPending)) throw new Error('interrupt line out of step');
    if (lapic.deliverableVector() >= 0 && (lapic.deliverableVector() & 0xf0) <= (state.tpr & 0xf0)) throw new Error('delivered below TPR');
  });
});
