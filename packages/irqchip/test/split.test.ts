// KVM's split irqchip: the local APICs in one domain, the 8259 pair and the I/O APIC in another, joined only by
// MSIs one way and I/O APIC EOIs the other. Whatever the guest does, it must see what it sees with one irqchip.
import { withIrqOutputs } from '@splitvisor/abi';
import { createTestContext } from '@splitvisor/device-testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InterruptMessage } from '../src/index.ts';
import { ApicBus, DeliveryMode, LapicReg, LegacyInterrupts, Lvt, fromMsi, toMsi } from '../src/index.ts';

function splitMachine() {
  const context = createTestContext();
  const crossings = { msi: 0, eoi: 0 };
  const halves: { apics?: ApicBus; legacy?: LegacyInterrupts } = {};
  let picIntr = false;
  // Only a level-triggered EOI crosses (KVM_EXIT_IOAPIC_EOI); an edge-triggered one stays in the kernel's half.
  const apics = new ApicBus(context, {
    onEoi: (vector, broadcast) => { if (broadcast) { crossings.eoi++; halves.legacy?.eoi(vector, true); } },
  });
  const legacy = new LegacyInterrupts(withIrqOutputs(context, () => undefined), {
    intr: (level) => { picIntr = level; },
    apicBus: (message) => {
      crossings.msi++;
      const delivered = fromMsi(toMsi(message));
      if (delivered !== undefined) halves.apics?.deliver(delivered);
    },
  });
  halves.apics = apics;
  halves.legacy = legacy;
  const lapic = apics.lapics[0];
  if (lapic === undefined) throw new Error('one CPU');
  lapic.write('registers', LapicReg.SVR, 4, 0x1ff);
  lapic.write('registers', LapicReg.LVT_LINT0, 4, Lvt.MASKED);
  return { apics, legacy, lapic, crossings, picIntr: () => picIntr };
}

describe('split irqchip', () => {
  it('carries a level-triggered I/O APIC interrupt as an MSI and its EOI back, clearing remote IRR', () => {
    const { apics, legacy, lapic, crossings } = splitMachine();
    expect(apics.lapics).toHaveLength(1);
    legacy.ioapic.write('registers', 0, 4, 0x10 + 2 * 9); // pin 9 (SCI): vector 41h, level, active high, CPU 0
    legacy.ioapic.write('registers', 0x10, 4, 0x41 | 0x8000);
    legacy.setGsi(9, true);
    expect(crossings.msi).toBe(1);
    expect(lapic.deliverableVector()).toBe(0x41);
    expect(apics.acknowledge(0)).toBe(0x41);
    legacy.setGsi(9, false);
    lapic.write('registers', LapicReg.EOI, 4, 0);
    expect(crossings.eoi).toBe(1);
    legacy.ioapic.write('registers', 0, 4, 0x10 + 2 * 9);
    expect(legacy.ioapic.read('registers', 0x10, 4) & 0x4000).toBe(0); // remote IRR clear
  });

  it('keeps an edge-triggered EOI in the kernel half', () => {
    const { apics, legacy, lapic, crossings } = splitMachine();
    legacy.ioapic.write('registers', 0, 4, 0x10 + 2 * 2);
    legacy.ioapic.write('registers', 0x10, 4, 0x30);
    legacy.setGsi(2, true);
    expect(apics.acknowledge(0)).toBe(0x30);
    lapic.write('registers', LapicReg.EOI, 4, 0);
    expect(crossings).toEqual({ msi: 1, eoi: 0 });
  });

  it('drives INTR with the 8259 in the legacy half and acknowledges from the 8259', () => {
    const { legacy, picIntr } = splitMachine();
    for (const [offset, value] of [[0, 0x11], [1, 0x20], [1, 0x04], [1, 0x01], [1, 0xfe]] as const) legacy.pic.write('master', offset, 1, value);
    legacy.setGsi(2, true); // ISA irq 0
    expect(picIntr()).toBe(true);
    expect(legacy.acknowledge()).toBe(0x20);
  });

  it('round-trips every interrupt message an I/O APIC can send through the MSI format', () => {
    const message = fc.record({
      vector: fc.integer({ min: 0, max: 255 }),
      deliveryMode: fc.constantFrom(DeliveryMode.fixed, DeliveryMode.lowestPriority, DeliveryMode.smi, DeliveryMode.nmi, DeliveryMode.init, DeliveryMode.extInt),
      logical: fc.boolean(),
      destination: fc.integer({ min: 0, max: 255 }),
      level: fc.boolean(),
      levelTriggered: fc.boolean(),
      shorthand: fc.constant('none' as const),
    });
    fc.assert(fc.property(message, (m: InterruptMessage) => { expect(fromMsi(toMsi(m))).toEqual(m); }), { numRuns: 10_000 });
    expect(fromMsi({ address: 0xfec0_0000, data: 0x30 })).toBeUndefined();
  });
});
