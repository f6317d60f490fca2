// The PC's 8259A pair driven the way SeaBIOS and Linux drive it, through its ports.
import { createTestContext, regionIo } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import { PicPair } from '../src/index.ts';

/** The init sequence of SeaBIOS and Linux's init_8259A: vectors 08h/70h (BIOS) or 20h/28h (Linux). */
function board(masterBase = 0x08, slaveBase = 0x70) {
  const context = createTestContext();
  const acks: number[] = [];
  const pic = new PicPair(context, { onAck: (irq) => acks.push(irq) });
  const master = regionIo(pic, 'master');
  const slave = regionIo(pic, 'slave');
  master.out(0, 0x11); // ICW1: edge, cascade, ICW4 needed
  slave.out(0, 0x11);
  master.out(1, masterBase); // ICW2
  slave.out(1, slaveBase);
  master.out(1, 0x04); // ICW3: slave on IR2
  slave.out(1, 0x02); // ICW3: slave ID 2
  master.out(1, 0x01); // ICW4: 8086 mode
  slave.out(1, 0x01);
  master.out(1, 0x00); // unmask everything
  slave.out(1, 0x00);
  return { context, pic, master, slave, acks, intr: () => context.irqLevel(0) };
}

const EOI = 0x20;

describe('8259A pair', () => {
  it('powers on with nothing masked, pending or in service', () => {
    const context = createTestContext();
    const pic = new PicPair(context);
    const master = regionIo(pic, 'master');
    expect([master.in(0), master.in(1), context.irqLevel(0)]).toEqual([0, 0, false]);
  });

  it('keeps the mask it is given (OCW1), and the init sequence clears it', () => {
    const { master, slave } = board();
    master.out(1, 0xfb);
    slave.out(1, 0xff);
    expect([master.in(1), slave.in(1)]).toEqual([0xfb, 0xff]);
    master.out(0, 0x11);
    expect(master.in(1)).toBe(0);
  });

  it('delivers an edge on irq 0 as vector 08h, holds it in service until EOI, and tells the ack notifier', () => {
    const { pic, master, acks, intr } = board();
    pic.setIrq(0, true);
    expect(intr()).toBe(true);
    expect(pic.acknowledge()).toBe(0x08);
    expect(intr()).toBe(false);
    master.out(0, 0x0b); // OCW3: read ISR
    expect(master.in(0)).toBe(0x01);
    pic.setIrq(0, false);
    pic.setIrq(0, true); // the next tick arrives while the first is in service
    expect(intr()).toBe(false);
    master.out(0, EOI);
    expect(acks).toEqual([0]);
    expect([intr(), pic.acknowledge()]).toEqual([true, 0x08]);
  });

  it('resolves priority: lower levels first, and a higher level nests over one in service', () => {
    const { pic, master, intr } = board();
    pic.setIrq(4, true);
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x09);
    expect(intr()).toBe(false); // 4 waits for 1
    pic.setIrq(0, true);
    expect(pic.acknowledge()).toBe(0x08); // 0 outranks 1 in service
    master.out(0, EOI); // ends 0
    master.out(0, EOI); // ends 1
    expect(pic.acknowledge()).toBe(0x0c);
  });

  it('cascades the slave through IR2: irq 8 is vector 70h, in service on both chips', () => {
    const { pic, master, slave, acks } = board();
    pic.setIrq(8, true);
    expect(pic.acknowledge()).toBe(0x70);
    master.out(0, 0x0b);
    slave.out(0, 0x0b);
    expect([master.in(0), slave.in(0)]).toEqual([0x04, 0x01]);
    slave.out(0, EOI);
    master.out(0, EOI);
    expect(acks).toEqual([8, 2]);
  });

  it('senses ELCR inputs by level: the request stays while the line is high, and returns after EOI', () => {
    const { context, pic, slave, intr } = board();
    const elcr = regionIo(pic, 'elcr');
    elcr.out(1, 0x04); // irq 10 level-triggered (as SeaBIOS sets PCI interrupt lines)
    pic.setIrq(10, true);
    expect(pic.acknowledge()).toBe(0x72);
    slave.out(0, 0x0a); // read IRR
    expect(slave.in(0)).toBe(0x04); // still requested: the line is still high
    slave.out(0, EOI);
    regionIo(pic, 'master').out(0, EOI);
    expect(intr()).toBe(true);
    pic.setIrq(10, false);
    // The master latched the cascade's edge; with the slave's request gone, INTA finds spurious IRQ15 (as on hardware).
    expect(pic.acknowledge()).toBe(0x77);
    elcr.out(0, 0xff);
    expect(elcr.in(0)).toBe(0xf8); // irqs 0–2 cannot be level-sensed
    expect(pic.anomalies()).toMatchObject({ elcrReservedBits: 1 });
    expect(context.irqEdges.length).toBeGreaterThan(0);
  });

  it('answers a request that vanished before INTA with spurious IRQ7/IRQ15, not in service', () => {
    const { context, pic, master, slave } = board();
    const elcr = regionIo(pic, 'elcr');
    elcr.out(0, 0x08);
    pic.setIrq(3, true);
    pic.setIrq(3, false);
    expect(pic.acknowledge()).toBe(0x0f);
    master.out(0, 0x0b);
    expect(master.in(0)).toBe(0); // IRQ7 not in service
    elcr.out(1, 0x08);
    pic.setIrq(11, true);
    expect(context.irqLevel(0)).toBe(true);
    pic.setIrq(11, false);
    expect(pic.acknowledge()).toBe(0x77); // spurious on the slave; the cascade still goes in service on the master
    slave.out(0, 0x0b);
    expect([slave.in(0), master.in(0)]).toEqual([0, 0x04]);
    expect(pic.anomalies()).toMatchObject({ spuriousMaster: 1, spuriousSlave: 1 });
  });

  it('answers a poll (OCW3 P) with the level and bit 7, acknowledging it', () => {
    const { pic, master } = board();
    master.out(0, 0x0c);
    expect(master.in(0)).toBe(0); // nothing pending
    pic.setIrq(5, true);
    master.out(0, 0x0c);
    expect(master.in(0)).toBe(0x85);
    master.out(0, 0x0b);
    expect(master.in(0)).toBe(0x20);
  });

  it('special mask mode lets lower levels through while a masked level is in service', () => {
    const { pic, master } = board();
    pic.setIrq(3, true);
    expect(pic.acknowledge()).toBe(0x0b);
    pic.setIrq(5, true);
    master.out(1, 0x08); // mask 3
    master.out(0, 0x68); // OCW3: set special mask
    expect(pic.acknowledge()).toBe(0x0d);
    master.out(0, 0x48); // clear special mask
  });

  it('rotates priorities: on non-specific EOI, and by set-priority', () => {
    const { pic, master } = board();
    pic.setIrq(0, true);
    expect(pic.acknowledge()).toBe(0x08);
    master.out(0, 0xa0); // rotate on non-specific EOI: 0 becomes lowest
    pic.setIrq(0, false);
    pic.setIrq(0, true);
    pic.setIrq(6, true);
    expect(pic.acknowledge()).toBe(0x0e); // 6 now outranks 0
    master.out(0, 0xc5); // set priority: 5 lowest, so 6 is highest
    master.out(0, 0xe6); // rotate on specific EOI of 6: 6 lowest
    expect(pic.acknowledge()).toBe(0x08);
  });

  it('automatic EOI: nothing stays in service, and the ack notifier hears of it at acknowledge', () => {
    const context = createTestContext();
    const acks: number[] = [];
    const pic = new PicPair(context, { onAck: (irq) => acks.push(irq) });
    const master = regionIo(pic, 'master');
    for (const v of [0x11, 0x20, 0x04, 0x03, 0x00]) master.out(v === 0x11 ? 0 : 1, v); // ICW4: AEOI
    pic.setIrq(0, true);
    expect(pic.acknowledge()).toBe(0x20);
    master.out(0, 0x0b);
    expect(master.in(0)).toBe(0);
    expect(acks).toEqual([0]);
  });

  it('special fully nested mode: a higher-priority slave request nests over one in service', () => {
    const context = createTestContext();
    const pic = new PicPair(context);
    const master = regionIo(pic, 'master');
    const slave = regionIo(pic, 'slave');
    master.out(0, 0x11);
    master.out(1, 0x08);
    master.out(1, 0x04);
    master.out(1, 0x11); // ICW4: special fully nested, 8086
    slave.out(0, 0x11);
    slave.out(1, 0x70);
    slave.out(1, 0x02);
    slave.out(1, 0x01);
    pic.setIrq(12, true);
    expect(pic.acknowledge()).toBe(0x74);
    pic.setIrq(9, true);
    expect(pic.acknowledge()).toBe(0x71); // without SFNM the cascade in service would block it
  });
});

describe('8259A review regressions', () => {
  it('keeps a level request across repeated initialisation', () => {
    const { pic, slave } = board();
    regionIo(pic, 'elcr').out(1, 0x04);
    pic.setIrq(10, true);
    for (let i = 0; i < 3; i++) {
      slave.out(0, 0x11);
      slave.out(1, 0x70);
      slave.out(1, 0x02);
      slave.out(1, 0x01);
    }
    slave.out(0, 0x0a);
    expect(slave.in(0)).toBe(0x04);
  });

  it('a slave in AEOI mode delivers a second request behind the first (the cascade edge comes again)', () => {
    const context = createTestContext();
    const pic = new PicPair(context);
    const master = regionIo(pic, 'master');
    const slave = regionIo(pic, 'slave');
    for (const v of [0x11, 0x08, 0x04, 0x01]) master.out(v === 0x11 ? 0 : 1, v);
    for (const v of [0x11, 0x70, 0x02, 0x03]) slave.out(v === 0x11 ? 0 : 1, v); // ICW4: AEOI
    pic.setIrq(12, true);
    pic.setIrq(14, true);
    expect(pic.acknowledge()).toBe(0x74);
    master.out(0, 0x20);
    expect(pic.acknowledge()).toBe(0x76);
  });
});
