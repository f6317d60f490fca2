// The I/O APIC through IOREGSEL/IOWIN, the way Linux's io_apic.c programs it.
import { createTestContext } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import type { InterruptMessage } from '../src/index.ts';
import { DeliveryMode, Ioapic, IoapicMmio, Redirection } from '../src/index.ts';

function board() {
  const sent: { pin: number; message: InterruptMessage }[] = [];
  const eois: number[] = [];
  const ioapic = new Ioapic(createTestContext(), { deliver: (message, pin) => sent.push({ pin, message }), onEoi: (pin) => eois.push(pin) });
  const select = (index: number) => { ioapic.write('registers', IoapicMmio.IOREGSEL, 4, index); };
  const read = (index: number) => { select(index); return ioapic.read('registers', IoapicMmio.IOWIN, 4); };
  const write = (index: number, value: number) => { select(index); ioapic.write('registers', IoapicMmio.IOWIN, 4, value); };
  const route = (pin: number, low: number, destination = 0) => { write(0x11 + 2 * pin, destination << 24); write(0x10 + 2 * pin, low); };
  return { ioapic, sent, eois, read, write, route };
}

describe('I/O APIC', () => {
  it('reads version 00170020h, ID 0, arbitration 0, and every entry masked at power-on (as QEMU)', () => {
    const { read } = board();
    expect([read(0x01), read(0x00), read(0x02)]).toEqual([0x0017_0020, 0, 0]);
    expect([read(0x10), read(0x11), read(0x3e), read(0x3f)]).toEqual([0x1_0000, 0, 0x1_0000, 0]);
  });

  it('sends an edge as a fixed, physical message to the programmed destination', () => {
    const { ioapic, sent, route } = board();
    route(2, 0x30, 1); // the timer: ISA irq 0 arrives on pin 2
    ioapic.setIrq(2, true);
    ioapic.setIrq(2, false);
    ioapic.setIrq(2, true);
    expect(sent).toEqual([0, 1].map(() => ({ pin: 2, message: {
      vector: 0x30, deliveryMode: DeliveryMode.fixed, logical: false, destination: 1, level: true, levelTriggered: false, shorthand: 'none',
    } })));
  });

  it('loses an edge that arrives while the pin is masked', () => {
    const { ioapic, sent, route } = board();
    route(4, 0x34 | Redirection.MASKED);
    ioapic.setIrq(4, true);
    route(4, 0x34);
    expect(sent).toEqual([]);
  });

  it('holds a level off with remote IRR until the EOI, then delivers it again if still asserted', () => {
    const { ioapic, sent, eois, read, route } = board();
    route(11, 0x41 | Redirection.TRIGGER_LEVEL | Redirection.POLARITY_LOW | Redirection.DEST_MODE_LOGICAL, 0x01);
    ioapic.setIrq(11, true);
    expect(sent).toHaveLength(1);
    expect(read(0x10 + 22) & Redirection.REMOTE_IRR).toBe(Redirection.REMOTE_IRR);
    ioapic.setIrq(11, true);
    expect(sent).toHaveLength(1); // held off
    ioapic.eoi(0x41); // the LAPIC's broadcast
    expect(eois).toEqual([11]);
    expect(sent).toHaveLength(2); // still asserted: again
    ioapic.setIrq(11, false);
    ioapic.write('registers', IoapicMmio.EOI, 4, 0x41); // version 20h EOI register
    expect([sent.length, read(0x10 + 22) & Redirection.REMOTE_IRR]).toEqual([2, 0]);
    expect(sent[0]?.message).toMatchObject({ logical: true, destination: 1, levelTriggered: true });
  });

  it('delivers a level that was asserted while masked once it is unmasked', () => {
    const { ioapic, sent, route } = board();
    route(9, 0x39 | Redirection.TRIGGER_LEVEL | Redirection.MASKED);
    ioapic.setIrq(9, true);
    expect(sent).toEqual([]);
    route(9, 0x39 | Redirection.TRIGGER_LEVEL);
    expect(sent).toHaveLength(1);
  });

  it('keeps the read-only bits, stores the ID, and ignores writes to version and arbitration', () => {
    const { ioapic, read, write } = board();
    write(0x10, 0xffff_ffff);
    expect(read(0x10)).toBe(0x0001_afff); // delivery status and remote IRR read 0 (edge, nothing sent)
    write(0x00, 0x0f00_0000);
    expect(read(0x00)).toBe(0x0f00_0000);
    write(0x01, 0);
    expect(read(0x01)).toBe(0x0017_0020);
    expect(ioapic.anomalies()).toMatchObject({ readOnlyWrites: 1 });
  });
});

describe('I/O APIC review regressions', () => {
  it('takes an edge only on a rising line: a repeated high level sends nothing', () => {
    const { ioapic, sent, route } = board();
    route(2, 0x30);
    ioapic.setIrq(2, true);
    ioapic.setIrq(2, true);
    ioapic.setIrq(2, true);
    expect(sent).toHaveLength(1);
  });
});
