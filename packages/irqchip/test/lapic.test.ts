// Local APICs through their registers and the PC wiring, the way Linux's apic.c and io_apic.c use them.
import { createTestContext } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import type { InterruptMessage } from '../src/index.ts';
import { DeliveryMode, Esr, LapicReg, LocalApic, Lvt, PcInterrupts, Redirection } from '../src/index.ts';

const fixed = (vector: number, levelTriggered = false): InterruptMessage => ({
  vector, deliveryMode: DeliveryMode.fixed, logical: false, destination: 0, level: true, levelTriggered, shorthand: 'none',
});

function lapic() {
  const context = createTestContext();
  const eois: [number, boolean][] = [];
  const apic = new LocalApic(context, { apicId: 0, onEoi: (vector, broadcast) => eois.push([vector, broadcast]) });
  const rd = (reg: number) => apic.read('registers', reg, 4);
  const wr = (reg: number, value: number) => { apic.write('registers', reg, 4, value); };
  wr(LapicReg.SVR, 0x1ff); // software enable, spurious vector FFh (Linux's SPURIOUS_APIC_VECTOR)
  return { context, apic, rd, wr, eois };
}

describe('local APIC', () => {
  it('reads version 00050014h, a flat DFR, SVR FFh and masked LVTs at power-on (LINT0 ExtINT on the BSP, as QEMU)', () => {
    const context = createTestContext();
    const apic = new LocalApic(context, { apicId: 0 });
    const rd = (reg: number) => apic.read('registers', reg, 4);
    expect([rd(LapicReg.VERSION), rd(LapicReg.DFR), rd(LapicReg.SVR), rd(LapicReg.LVT_TIMER), rd(LapicReg.LVT_LINT0), rd(LapicReg.LVT_LINT1)])
      .toEqual([0x0005_0014, 0xffff_ffff, 0xff, Lvt.MASKED, 0x700, Lvt.MASKED]);
    expect(new LocalApic(context, { apicId: 1 }).read('registers', LapicReg.LVT_LINT0, 4)).toBe(Lvt.MASKED);
  });

  it('delivers by priority class against PPR, and puts the taken vector in service until EOI', () => {
    const { context, apic, rd, wr, eois } = lapic();
    apic.accept(fixed(0x31));
    apic.accept(fixed(0x45));
    expect(context.irqLevel(0)).toBe(true);
    expect(apic.acknowledge()).toBe(0x45);
    expect(rd(LapicReg.PPR)).toBe(0x40);
    expect(apic.deliverableVector()).toBe(-1); // 0x31's class is below the class in service
    wr(LapicReg.EOI, 0);
    expect(eois).toEqual([[0x45, false]]);
    wr(LapicReg.TPR, 0x30);
    expect(apic.deliverableVector()).toBe(-1); // masked by TPR: class 3 is not above 3
    wr(LapicReg.TPR, 0x20);
    expect(apic.acknowledge()).toBe(0x31);
    expect(rd(LapicReg.ISR + 0x10)).toBe(1 << (0x31 - 32));
  });

  it('answers the spurious vector when nothing is deliverable at acknowledge', () => {
    const { apic } = lapic();
    expect(apic.acknowledge()).toBe(0xff);
    expect(apic.anomalies()).toMatchObject({ spuriousAcknowledges: 1 });
  });

  it('sets TMR for level-triggered vectors and broadcasts their EOI', () => {
    const { apic, rd, wr, eois } = lapic();
    apic.accept(fixed(0x61, true));
    expect(rd(LapicReg.TMR + 0x30)).toBe(1 << (0x61 - 96));
    apic.acknowledge();
    wr(LapicReg.EOI, 0);
    expect(eois).toEqual([[0x61, true]]);
  });

  it('drops fixed interrupts while software-disabled, and keeps its LVTs masked', () => {
    const { apic, wr, rd } = lapic();
    wr(LapicReg.SVR, 0xff);
    apic.accept(fixed(0x40));
    expect(apic.deliverableVector()).toBe(-1);
    wr(LapicReg.LVT_LINT1, 0x400);
    expect(rd(LapicReg.LVT_LINT1)).toBe(0x400 | Lvt.MASKED);
  });

  it('records illegal vectors in ESR, latched by a write, and signals them through LVT error', () => {
    const { apic, rd, wr } = lapic();
    wr(LapicReg.LVT_ERROR, 0xfe);
    apic.accept(fixed(0x05));
    wr(LapicReg.ICR_LOW, 0x0000_4003); // a fixed IPI with vector 3
    expect(rd(LapicReg.ESR)).toBe(0);
    wr(LapicReg.ESR, 0);
    expect(rd(LapicReg.ESR)).toBe(Esr.RECEIVE_ILLEGAL_VECTOR | Esr.SEND_ILLEGAL_VECTOR);
    expect(apic.acknowledge()).toBe(0xfe);
  });

  it('runs its timer through the composed APIC timer', () => {
    const { context, apic, wr } = lapic();
    wr(LapicReg.TIMER_DIVIDE, 0xb); // ÷1
    wr(LapicReg.LVT_TIMER, 0xec);
    wr(LapicReg.TIMER_INITIAL, 1000);
    context.advanceTo(1000);
    expect(apic.acknowledge()).toBe(0xec);
  });

  it('takes IA32_TSC_DEADLINE as an MSR region, low half then high, in TSC-deadline mode at the guest TSC rate', () => {
    const context = createTestContext();
    const apic = new LocalApic(context, { apicId: 0, tscHz: 2_000_000_000 });
    apic.write('registers', LapicReg.SVR, 4, 0x1ff);
    apic.write('registers', LapicReg.LVT_TIMER, 4, 0x4_0000 | 0xef); // TSC-deadline mode (SDM 3A 11.5.1)
    expect(apic.regions.find((r) => r.name === 'tsc-deadline')).toEqual({ name: 'tsc-deadline', space: 'msr', length: 8, sizes: [4] });
    const deadline = 2n ** 32n + 4000n; // beyond 32 bits: both halves matter
    apic.write('tsc-deadline', 0, 4, Number(deadline & 0xffff_ffffn));
    expect(apic.read('tsc-deadline', 4, 4)).toBe(0); // not armed until the high half arrives
    apic.write('tsc-deadline', 4, 4, Number(deadline >> 32n));
    expect([apic.read('tsc-deadline', 0, 4), apic.read('tsc-deadline', 4, 4)]).toEqual([4000, 1]);
    context.advanceTo(Number(deadline / 2n) - 1); // 2 GHz: two TSC ticks a nanosecond
    expect(apic.deliverableVector()).toBe(-1);
    context.advanceTo(Number(deadline / 2n));
    expect(apic.acknowledge()).toBe(0xef);
    expect([apic.read('tsc-deadline', 0, 4), apic.read('tsc-deadline', 4, 4)]).toEqual([0, 0]); // fired: disarmed
  });
});

describe('PC interrupt wiring', () => {
  function pc(cpus = 2) {
    const context = createTestContext();
    const acks: number[] = [];
    const chips = new PcInterrupts(context, { cpus, onAck: (gsi) => acks.push(gsi) });
    for (const lapic of chips.lapics) lapic.write('registers', LapicReg.SVR, 4, 0x1ff);
    const ioapicEntry = (pin: number, low: number, destination = 0) => {
      chips.ioapic.write('registers', 0, 4, 0x11 + 2 * pin);
      chips.ioapic.write('registers', 0x10, 4, destination << 24);
      chips.ioapic.write('registers', 0, 4, 0x10 + 2 * pin);
      chips.ioapic.write('registers', 0x10, 4, low);
    };
    return { context, chips, acks, ioapicEntry };
  }

  it('takes the 8259 through LINT0 as ExtINT: the CPU\'s vector comes from the 8259', () => {
    const { context, chips, acks } = pc(1);
    for (const [port, v] of [[0, 0x11], [1, 0x30], [1, 0x04], [1, 0x01], [1, 0xfe]] as const) chips.pic.write('master', port, 1, v);
    chips.setIsaIrq(0, true);
    expect(context.irqLevel(0)).toBe(true);
    expect(chips.acknowledge(0)).toBe(0x30);
    chips.pic.write('master', 0, 1, 0x20);
    expect(acks).toEqual([2]); // ISA irq 0, named by its I/O APIC input
  });

  it('routes ISA irq 0 to I/O APIC input 2 and notifies the PIT\'s ack on the LAPIC EOI', () => {
    const { context, chips, acks, ioapicEntry } = pc(1);
    chips.lapics[0]?.write('registers', LapicReg.LVT_LINT0, 4, Lvt.MASKED); // Linux masks ExtINT once the IOAPIC is up
    ioapicEntry(2, 0x30);
    chips.setIsaIrq(0, true);
    expect(context.irqLevel(0)).toBe(true);
    expect(chips.acknowledge(0)).toBe(0x30);
    chips.lapics[0]?.write('registers', LapicReg.EOI, 4, 0);
    expect(acks).toEqual([2]);
  });

  it('delivers by physical ID, logical flat mask and broadcast, and lowest priority to the least busy', () => {
    const { chips, ioapicEntry } = pc(2);
    const [cpu0, cpu1] = chips.lapics;
    if (cpu0 === undefined || cpu1 === undefined) throw new Error('two CPUs');
    ioapicEntry(4, 0x34, 1);
    chips.setIsaIrq(4, true);
    expect([cpu0.deliverableVector(), cpu1.deliverableVector()]).toEqual([-1, 0x34]);
    cpu0.write('registers', LapicReg.LDR, 4, 0x0100_0000);
    cpu1.write('registers', LapicReg.LDR, 4, 0x0200_0000);
    ioapicEntry(5, 0x35 | Redirection.DEST_MODE_LOGICAL, 0x03);
    chips.setIsaIrq(5, true);
    expect([cpu0.deliverableVector(), cpu1.deliverableVector()]).toEqual([0x35, 0x35]);
    cpu0.write('registers', LapicReg.TPR, 4, 0x20);
    ioapicEntry(6, 0x56 | (DeliveryMode.lowestPriority << 8) | Redirection.DEST_MODE_LOGICAL, 0x03);
    chips.setIsaIrq(6, true);
    expect(cpu1.read('registers', LapicReg.IRR + 0x20, 4) & (1 << (0x56 - 64))).not.toBe(0);
  });

  it('level-triggered: remote IRR until the LAPIC\'s EOI broadcast, then again while asserted', () => {
    const { chips, ioapicEntry } = pc(1);
    const [cpu0] = chips.lapics;
    if (cpu0 === undefined) throw new Error('one CPU');
    ioapicEntry(19, 0x71 | Redirection.TRIGGER_LEVEL);
    chips.setGsi(19, true);
    expect(chips.acknowledge(0)).toBe(0x71);
    cpu0.write('registers', LapicReg.EOI, 4, 0);
    expect(cpu0.deliverableVector()).toBe(0x71); // still asserted: delivered again
    chips.setGsi(19, false);
    chips.acknowledge(0);
    cpu0.write('registers', LapicReg.EOI, 4, 0);
    expect(cpu0.deliverableVector()).toBe(-1);
  });

  it('sends IPIs: fixed to another CPU, self, all-excluding-self, and INIT/SIPI', () => {
    const { chips } = pc(2);
    const [cpu0, cpu1] = chips.lapics;
    if (cpu0 === undefined || cpu1 === undefined) throw new Error('two CPUs');
    cpu0.write('registers', LapicReg.ICR_HIGH, 4, 0x0100_0000);
    cpu0.write('registers', LapicReg.ICR_LOW, 4, 0x0000_40fd);
    expect(cpu1.deliverableVector()).toBe(0xfd);
    cpu0.write('registers', LapicReg.ICR_LOW, 4, 0x0004_40f3); // self
    expect(cpu0.deliverableVector()).toBe(0xf3);
    cpu0.write('registers', LapicReg.ICR_LOW, 4, 0x000c_4500); // INIT to all excluding self
    cpu0.write('registers', LapicReg.ICR_LOW, 4, 0x000c_4608); // SIPI, vector 08h (start at 8000h)
    expect([cpu1.takeInit(), cpu1.takeStartup(), cpu0.takeInit()]).toEqual([true, 0x08, false]);
  });

  it('maps GSI 2 to ISA irq 0 (and the 8259), and GSI 0 to the I/O APIC alone', () => {
    const { chips, ioapicEntry } = pc(1);
    chips.lapics[0]?.write('registers', LapicReg.LVT_LINT0, 4, Lvt.MASKED);
    for (const [port, v] of [[0, 0x11], [1, 0x20], [1, 0x04], [1, 0x01], [1, 0x00]] as const) chips.pic.write('master', port, 1, v);
    ioapicEntry(2, 0x42);
    chips.setGsi(2, true);
    chips.pic.write('master', 0, 1, 0x0a);
    expect([chips.lapics[0]?.deliverableVector(), chips.pic.read('master', 0, 1)]).toEqual([0x42, 0x01]);
  });

  it('delivers ExtINT through I/O APIC input 0: the CPU takes the 8259\'s vector', () => {
    const { chips, ioapicEntry } = pc(1);
    chips.lapics[0]?.write('registers', LapicReg.LVT_LINT0, 4, Lvt.MASKED);
    for (const [port, v] of [[0, 0x11], [1, 0x20], [1, 0x04], [1, 0x01], [1, 0xfe]] as const) chips.pic.write('master', port, 1, v);
    ioapicEntry(0, DeliveryMode.extInt << 8);
    chips.setIsaIrq(0, true); // through the 8259 (unmasked there) to its INTR, on I/O APIC input 0
    expect(chips.acknowledge(0)).toBe(0x20);
  });
});
