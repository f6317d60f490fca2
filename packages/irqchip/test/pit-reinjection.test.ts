// KVM's in-kernel PIT with reinjection, end to end: the 8254 (delay policy) on ISA irq 0, the PC wiring,
// and a guest that is late to acknowledge. Every tick reaches it, one per EOI, none lost.
import { tickTime, withIrqOutputs } from '@splitvisor/abi';
import { createTestContext } from '@splitvisor/device-testkit';
import { I8254, PIT_HZ } from '@splitvisor/pit';
import { describe, expect, it } from 'vitest';
import { LapicReg, Lvt, PcInterrupts } from '../src/index.ts';

function machine(lostTickPolicy: 'delay' | 'discard') {
  const context = createTestContext();
  const wired: { pit?: I8254 } = {};
  const chips = new PcInterrupts(context, {
    cpus: 1,
    onAck: (gsi) => { if (gsi === 2) wired.pit?.irqAcknowledged(0); },
    onUnmask: (gsi) => { if (gsi === 2) wired.pit?.irqUnmasked(0); },
  });
  const pitContext = withIrqOutputs(context, (_o, level) => { chips.setIsaIrq(0, level); });
  const pit = new I8254(pitContext, { lostTickPolicy });
  wired.pit = pit;
  const lapic = chips.lapics[0];
  if (lapic === undefined) throw new Error('one CPU');
  lapic.write('registers', LapicReg.SVR, 4, 0x1ff);
  lapic.write('registers', LapicReg.LVT_LINT0, 4, Lvt.MASKED);
  chips.ioapic.write('registers', 0, 4, 0x14); // IOAPIC input 2 → vector 30h, edge, CPU 0
  chips.ioapic.write('registers', 0x10, 4, 0x30);
  // Periodic at 1000 Hz: counter 0, mode 2, LATCH 1193.
  pit.write('counters', 3, 1, 0x34);
  pit.write('counters', 0, 1, 1193 & 0xff);
  pit.write('counters', 0, 1, 1193 >> 8);
  /** The guest takes whatever is pending and EOIs it; returns how many interrupts it took. */
  const service = () => {
    let taken = 0;
    while (lapic.deliverableVector() >= 0) {
      expect(chips.acknowledge(0)).toBe(0x30);
      lapic.write('registers', LapicReg.EOI, 4, 0);
      taken++;
    }
    return taken;
  };
  return { context, service };
}

describe('PIT tick reinjection through the ack notifier', () => {
  // The 8254 loads a count on the CLK pulse after its write (datasheet: "loaded on the next CLK pulse"), so the
  // tenth period ends at CLK 1 + 10 × 1193.
  it('delay: a guest that misses 10 ms of ticks still receives all ten, one per EOI', () => {
    const { context, service } = machine('delay');
    context.advanceTo(tickTime(1 + 10 * 1193, PIT_HZ));
    expect(service()).toBe(10);
  });

  it('discard: the same guest receives one', () => {
    const { context, service } = machine('discard');
    context.advanceTo(tickTime(1 + 10 * 1193, PIT_HZ));
    expect(service()).toBe(1);
  });
});
