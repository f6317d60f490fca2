// Linux's 8250 driver against the 16550A: autoconfig, the polled serial console, interrupt-driven TX and RX.
import { createTestContext } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import type { Ns16550aConfig } from '../src/index.ts';
import { Fcr, Ier, Iir, Lsr, Mcr, Ns16550a, Reg, characterTime } from '../src/index.ts';
import { Linux8250 } from './linux-8250.ts';

function machine(config: Ns16550aConfig = {}) {
  const context = createTestContext();
  const uart = new Ns16550a(context, config);
  const sent: { byte: number; at: number }[] = [];
  uart.onTransmit((byte) => { sent.push({ byte, at: context.now() }); });
  return { context, uart, sent, driver: new Linux8250(uart, context), text: () => String.fromCharCode(...sent.map((s) => s.byte)) };
}

const C115200 = characterTime(0x03, 1);

describe('autoconfig', () => {
  for (const resetMcr of [0, Mcr.OUT2]) {
    it(`finds a 16550A through the IER check, the loopback test and IIR bits 7–6 (MCR ${resetMcr} at reset)`, () => {
      const { driver, context, uart } = machine({ resetMcr });
      expect(driver.autoconfig()).toBe('16550A');
      // What it leaves behind: MCR restored, FIFOs off, IER 0, nothing pending, nothing on the line.
      expect(driver.io.in(Reg.MCR)).toBe(resetMcr);
      expect(driver.io.in(Reg.IIR)).toBe(Iir.NO_INTERRUPT);
      expect(driver.io.in(Reg.LSR)).toBe(Lsr.THRE | Lsr.TEMT);
      expect(context.irqLevel(0)).toBe(false);
      expect(uart.anomalies()).toMatchObject({ thrOverruns: 0, rxOverruns: 0 });
    });
  }

  it('finds it with UPF_SKIP_TEST too, as x86\'s legacy COM ports are probed', () => {
    expect(machine().driver.autoconfig({ skipLoopbackTest: true })).toBe('16550A');
  });

  it('passes the scratch-register test that tells a 16450 from an 8250', () => {
    expect(machine().driver.scratchTest()).toBe(true);
  });

  it('measures a 16-byte FIFO through loopback (size_fifo)', () => {
    const { driver, sent } = machine();
    expect(driver.sizeFifo()).toBe(16);
    expect(sent).toEqual([]); // loopback: nothing on the line
  });

  it('sees THRE re-asserted each time ETBEI is set, so the port is not flagged UART_BUG_THRE', () => {
    const { driver } = machine();
    const { io } = driver;
    driver.autoconfig();
    io.out(Reg.IER, Ier.ETBEI);
    const iir1 = io.in(Reg.IIR);
    io.out(Reg.IER, 0);
    io.out(Reg.IER, Ier.ETBEI);
    const iir = io.in(Reg.IIR);
    io.out(Reg.IER, 0);
    expect([iir1, iir]).toEqual([Iir.THR_EMPTY, Iir.THR_EMPTY]);
  });

  it('gets the probe interrupt only with OUT2 set (autoconfig_irq sets OUT1|OUT2, then IER 0Fh)', () => {
    const { driver, context } = machine();
    driver.io.out(Reg.IER, 0x0f);
    expect(context.irqLevel(0)).toBe(false);
    driver.io.out(Reg.IER, 0);
    driver.io.out(Reg.MCR, Mcr.OUT1 | Mcr.OUT2);
    driver.io.out(Reg.IER, 0x0f);
    expect(context.irqLevel(0)).toBe(true);
  });
});

describe('serial console (polled)', () => {
  const banner = 'Linux version 6.1.0-56-amd64\nCommand line: console=ttyS0\n';

  it('writes each character after THRE, at the line rate: 115 200 baud, one character per 86.8 µs', () => {
    const { driver, context, text, sent } = machine();
    driver.autoconfig();
    driver.open(115_200);
    const t0 = context.now();
    const { written, lsrPolls } = driver.consoleWrite(banner);
    expect(text()).toBe(written);
    expect(written).toBe(banner.replaceAll('\n', '\r\n'));
    // The transmitter never idles between characters: the line carries them back to back.
    sent.forEach((s, n) => { expect(s.at - t0).toBeGreaterThanOrEqual((n + 1) * C115200); expect(s.at - t0).toBeLessThanOrEqual((n + 1) * C115200 + (n + 1) * 1000); });
    expect(lsrPolls).toBeGreaterThan(written.length * 80); // the CPU waits on THRE, a microsecond per poll
  });

  it('at 9600 baud (the kernel\'s default for console=ttyS0) takes 1.04 ms per character', () => {
    const { driver, context, text } = machine();
    driver.open(9600);
    const t0 = context.now();
    driver.consoleWrite('hello\n');
    expect(text()).toBe('hello\r\n');
    expect(context.now() - t0).toBeGreaterThanOrEqual(7 * characterTime(0x03, 12));
    expect(context.now() - t0).toBeLessThan(7 * characterTime(0x03, 12) + 10_000);
  });

  it('with `instant` timing polls LSR once per character, as the QEMU trace shows', () => {
    const { driver, text, context } = machine({ timing: 'instant' });
    driver.open(9600);
    const t0 = context.now();
    const { written, lsrPolls } = driver.consoleWrite(banner);
    expect(text()).toBe(written);
    expect(lsrPolls).toBe(written.length + 1);
    expect(context.now()).toBe(t0);
  });
});

describe('interrupt-driven TX', () => {
  it('refills 16 characters per THRE interrupt and stops TX when the queue is empty', () => {
    const { driver, context, sent, uart } = machine();
    driver.autoconfig();
    driver.open(115_200);
    const message = Array.from({ length: 100 }, (_, n) => 0x20 + (n % 95));
    const t0 = context.now();
    driver.write(message);
    driver.runUntil(() => driver.pendingTx === 0 && (driver.ier & Ier.ETBEI) === 0 && !uart.transmitterBusy());
    expect(sent.map((s) => s.byte)).toEqual(message);
    // ⌈100/16⌉ = 7 refills, then one more THRE interrupt to find the queue empty.
    expect(driver.interrupts.map((i) => i.iir)).toEqual(Array<number>(8).fill(Iir.FIFOS_ENABLED | Iir.THR_EMPTY));
    // Each refill comes as the FIFO empties, while the TSR still shifts: no gap on the line.
    expect(sent.map((s) => s.at - t0)).toEqual(message.map((_, n) => (n + 1) * C115200));
    expect(context.irqLevel(0)).toBe(false);
  });
});

describe('interrupt-driven RX', () => {
  const cases = [
    // trigger, FCR bits 7–6, when the interrupts come (in character times after the first start bit) and what they say
    { level: 1, bits: 0x00, expected: Array.from({ length: 20 }, (_, n) => [n + 1, Iir.RX_DATA]) },
    { level: 4, bits: 0x40, expected: [4, 8, 12, 16, 20].map((n) => [n, Iir.RX_DATA]) },
    { level: 8, bits: 0x80, expected: [[8, Iir.RX_DATA], [16, Iir.RX_DATA], [24, Iir.CHAR_TIMEOUT]] },
    { level: 14, bits: 0xc0, expected: [[14, Iir.RX_DATA], [24, Iir.CHAR_TIMEOUT]] },
  ];
  for (const { level, bits, expected } of cases) {
    it(`trigger level ${level}: data-available at the level, character timeout for the rest`, () => {
      const { driver, context, uart } = machine();
      driver.open(115_200, Fcr.FIFO_ENABLE | bits);
      const input = Array.from({ length: 20 }, (_, n) => 0x61 + n);
      const t0 = context.now();
      expect(uart.receive(input)).toBe(20);
      driver.runUntil(() => driver.received.length === 20 && !context.irqLevel(0), 100_000_000);
      expect(driver.received).toEqual(input);
      expect(driver.interrupts.map((i) => [(i.at - t0) / C115200, i.iir & Iir.ID_MASK | (i.iir & Iir.NO_INTERRUPT)]))
        .toEqual(expected);
      expect(uart.anomalies()).toMatchObject({ rxOverruns: 0 });
    });
  }

  it('16450 mode: an interrupt per character; a driver that does not read in time overruns', () => {
    const { driver, context, uart } = machine();
    driver.open(115_200, 0);
    uart.receive([1, 2, 3]);
    driver.runUntil(() => driver.received.length === 3, 10_000_000);
    expect(driver.interrupts.map((i) => i.iir)).toEqual([Iir.RX_DATA, Iir.RX_DATA, Iir.RX_DATA]);
    uart.receive([4, 5]);
    context.advance(2 * C115200);
    expect(driver.io.in(Reg.IIR)).toBe(Iir.LINE_STATUS);
    expect(driver.io.in(Reg.LSR) & (Lsr.OE | Lsr.DR)).toBe(Lsr.OE | Lsr.DR);
    expect(driver.io.in(Reg.RBR)).toBe(5);
  });
});
