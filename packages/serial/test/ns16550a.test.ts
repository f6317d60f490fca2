// The 16550A through its ports, register by register, on a virtual clock.
import type { DeviceContext } from '@splitvisor/abi';
import type { TestContext } from '@splitvisor/device-testkit';
import { createTestContext, regionIo } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import type { Ns16550aConfig } from '../src/index.ts';
import { Fcr, Ier, Iir, Lcr, Lsr, Mcr, Msr, Ns16550a, Reg, baudRate, characterTime, frameHalfBits } from '../src/index.ts';

/** 8N1 at 115 200 baud: 10 bits of 16 RCLK cycles at 1.8432 MHz. */
const C115200 = characterTime(0x03, 1);

function board(config: Ns16550aConfig = {}, context: TestContext = createTestContext()) {
  const uart = new Ns16550a(context, config);
  const sent: { byte: number; at: number }[] = [];
  uart.onTransmit((byte) => { sent.push({ byte, at: context.now() }); });
  const io = regionIo(uart, 'registers');
  /** 8N1 at `divisor`, DLAB set and cleared the way drivers do. */
  const setDivisor = (divisor: number, lcr = 0x03) => {
    io.out(Reg.LCR, Lcr.DLAB | lcr);
    io.out(Reg.DLL, divisor & 0xff);
    io.out(Reg.DLM, divisor >> 8);
    io.out(Reg.LCR, lcr);
  };
  return { context, uart, io, sent, setDivisor };
}

describe('reset', () => {
  it('powers on as the datasheet says, with QEMU\'s divisor (9600 baud) and a host terminal on the modem lines', () => {
    const { io, context } = board();
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((r) => io.in(r))).toEqual([0, 0, Iir.NO_INTERRUPT, 0, 0, Lsr.THRE | Lsr.TEMT, 0xb0, 0]);
    io.out(Reg.LCR, Lcr.DLAB);
    expect([io.in(Reg.DLL), io.in(Reg.DLM)]).toEqual([12, 0]);
    expect(context.irqLevel(0)).toBe(false);
  });

  it('can reset MCR with OUT2 set, as QEMU\'s pc machine does', () => {
    expect(board({ resetMcr: Mcr.OUT2 }).io.in(Reg.MCR)).toBe(Mcr.OUT2);
  });

  it('takes the modem inputs from the config', () => {
    expect(board({ modemInputs: { dcd: false, ri: true } }).io.in(Reg.MSR)).toBe(Msr.CTS | Msr.DSR | Msr.RI);
  });
});

describe('registers', () => {
  it('decodes DLL and DLM while DLAB is set, leaving THR and IER alone', () => {
    const { io, sent, context } = board();
    io.out(Reg.IER, Ier.ERBFI);
    io.out(Reg.LCR, Lcr.DLAB | 0x03);
    io.out(Reg.DLL, 0x34);
    io.out(Reg.DLM, 0x12);
    expect([io.in(Reg.DLL), io.in(Reg.DLM), io.in(Reg.LCR)]).toEqual([0x34, 0x12, 0x83]);
    io.out(Reg.LCR, 0x03);
    expect(io.in(Reg.IER)).toBe(Ier.ERBFI);
    context.advance(1_000_000_000);
    expect(sent).toEqual([]);
  });

  it('keeps IER bits 7–4 and MCR bits 7–5 at 0, and counts writes of them', () => {
    const { io, uart } = board();
    io.out(Reg.IER, 0xff);
    io.out(Reg.MCR, 0xe3);
    expect([io.in(Reg.IER), io.in(Reg.MCR)]).toEqual([0x0f, 0x03]);
    expect(uart.anomalies()).toMatchObject({ reservedBitsWritten: 2 });
  });

  it('holds any byte in the scratch register', () => {
    const { io } = board();
    for (const v of [0x00, 0xa5, 0x5a, 0xff]) {
      io.out(Reg.SCR, v);
      expect(io.in(Reg.SCR)).toBe(v);
    }
  });

  it('ignores writes to LSR and MSR (read-only) and counts them', () => {
    const { io, uart } = board();
    io.out(Reg.LSR, 0x1f);
    io.out(Reg.MSR, 0x0f);
    expect([io.in(Reg.LSR), io.in(Reg.MSR)]).toEqual([0x60, 0xb0]);
    expect(uart.anomalies()).toMatchObject({ writesToStatusRegisters: 2 });
  });

  it('answers other widths, offsets and regions as an open bus, counted', () => {
    const { uart } = board();
    expect(uart.read('registers', 0, 2)).toBe(0xff);
    expect(uart.read('registers', 8, 1)).toBe(0xff);
    uart.write('other', 0, 1, 1);
    expect(uart.anomalies()).toMatchObject({ unacceptedAccesses: 3 });
  });
});

describe('FIFO control', () => {
  it('reports the FIFOs in IIR bits 7–6 while FCR0 is set', () => {
    const { io } = board();
    io.out(Reg.FCR, Fcr.FIFO_ENABLE);
    expect(io.in(Reg.IIR)).toBe(0xc1);
    io.out(Reg.FCR, 0);
    expect(io.in(Reg.IIR)).toBe(0x01);
  });

  it('programs nothing else without FCR0, and counts the attempt', () => {
    const { io, uart } = board();
    io.out(Reg.FCR, 0xc6);
    expect(io.in(Reg.IIR)).toBe(0x01);
    expect(uart.anomalies()).toMatchObject({ fcrWithoutFifoEnable: 1 });
  });

  it('empties the RX FIFO on RX reset and when the mode changes, keeping the line status', () => {
    const { io, uart, context } = board();
    io.out(Reg.FCR, Fcr.FIFO_ENABLE);
    uart.receive([1, 2, 3]);
    context.advance(3 * characterTime(0, 12));
    expect(io.in(Reg.LSR) & Lsr.DR).toBe(Lsr.DR);
    io.out(Reg.FCR, Fcr.FIFO_ENABLE | Fcr.RX_RESET);
    expect(io.in(Reg.LSR) & Lsr.DR).toBe(0);
    uart.receive([4]);
    context.advance(characterTime(0, 12));
    io.out(Reg.FCR, 0); // leaving FIFO mode clears it too
    expect(io.in(Reg.LSR) & Lsr.DR).toBe(0);
  });

  it('empties the TX FIFO on TX reset but lets the character in the shift register finish', () => {
    const { io, sent, context, setDivisor } = board();
    setDivisor(1);
    io.out(Reg.FCR, Fcr.FIFO_ENABLE);
    for (const c of 'abcd') io.out(Reg.THR, c.charCodeAt(0));
    io.out(Reg.FCR, Fcr.FIFO_ENABLE | Fcr.TX_RESET);
    expect(io.in(Reg.LSR)).toBe(Lsr.THRE);
    context.advance(10 * C115200);
    expect(sent.map((s) => String.fromCharCode(s.byte)).join('')).toBe('a');
    expect(io.in(Reg.LSR)).toBe(Lsr.THRE | Lsr.TEMT);
  });
});

describe('transmitter timing', () => {
  it('frames characters from LCR: start, 5–8 data bits, parity, 1, 1.5 or 2 stop bits', () => {
    expect(frameHalfBits(0x03) / 2).toBe(10); // 8N1
    expect(frameHalfBits(0x1a) / 2).toBe(10); // 7E1
    expect(frameHalfBits(0x07) / 2).toBe(11); // 8N2
    expect(frameHalfBits(0x0f) / 2).toBe(12); // 8 data, parity, 2 stop: the datasheet's longest frame
    expect(frameHalfBits(0x04) / 2).toBe(7.5); // 5 data bits with 1.5 stop bits
    expect(characterTime(0x03, 1)).toBe(86_806); // 10 bits at 115 200 baud, rounded up to the ns
    expect(characterTime(0x03, 12)).toBe(1_041_667); // 9600 baud
    expect(characterTime(0x03, 0)).toBe(5_688_888_889); // a 0 divisor divides by 2^16: 1.7578 baud
    expect([baudRate(1), baudRate(3), baudRate(12), baudRate(0x180)]).toEqual([115_200, 38_400, 9600, 300]);
  });

  it('16450 mode: THR empties into the shift register at once; THRE and TEMT follow the line rate', () => {
    const { io, sent, setDivisor, context } = board();
    setDivisor(1);
    const t0 = context.now();
    io.out(Reg.THR, 0x41);
    expect(io.in(Reg.LSR)).toBe(Lsr.THRE); // A in the TSR, THR free
    io.out(Reg.THR, 0x42);
    expect(io.in(Reg.LSR)).toBe(0); // B waits in THR
    context.advanceTo(t0 + C115200 - 1);
    expect(io.in(Reg.LSR)).toBe(0);
    context.advanceTo(t0 + C115200);
    expect(io.in(Reg.LSR)).toBe(Lsr.THRE);
    context.advanceTo(t0 + 2 * C115200);
    expect(io.in(Reg.LSR)).toBe(Lsr.THRE | Lsr.TEMT);
    expect(sent).toEqual([{ byte: 0x41, at: t0 + C115200 }, { byte: 0x42, at: t0 + 2 * C115200 }]);
  });

  it('FIFO mode: sixteen characters queue and leave back to back', () => {
    const { io, sent, setDivisor, context } = board();
    setDivisor(2);
    io.out(Reg.FCR, Fcr.FIFO_ENABLE);
    const t0 = context.now();
    for (let n = 0; n < 17; n++) io.out(Reg.THR, n); // one in the TSR, sixteen in the FIFO
    expect(io.in(Reg.LSR)).toBe(0);
    context.advance(1_000_000_000);
    const c = characterTime(0x03, 2);
    expect(sent.map((s) => s.byte)).toEqual([...Array(17).keys()]);
    expect(sent.map((s) => s.at)).toEqual(sent.map((_, n) => t0 + (n + 1) * c));
  });

  it('a THR write into a full FIFO drops the oldest waiting character, as QEMU, and is counted', () => {
    const { io, sent, uart, context } = board();
    io.out(Reg.FCR, Fcr.FIFO_ENABLE);
    for (let n = 0; n < 18; n++) io.out(Reg.THR, n);
    context.advance(1_000_000_000);
    expect(sent.map((s) => s.byte)).toEqual([0, ...Array.from({ length: 16 }, (_, n) => n + 2)]);
    expect(uart.anomalies()).toMatchObject({ thrOverruns: 1 });
  });

  it('sends only the word length\'s bits, and nothing while LCR holds a break', () => {
    const { io, sent, context } = board();
    io.out(Reg.LCR, 0x02); // 7 data bits
    io.out(Reg.THR, 0xff);
    context.advance(1_000_000_000);
    io.out(Reg.LCR, 0x03 | Lcr.SET_BREAK);
    io.out(Reg.THR, 0x55);
    context.advance(1_000_000_000);
    expect(sent.map((s) => s.byte)).toEqual([0x7f]);
  });

  it('at reset LCR selects 5-bit words: only the low five bits leave (QEMU sends all eight)', () => {
    const { io, sent, context } = board();
    io.out(Reg.THR, 0x41);
    context.advance(1_000_000_000);
    expect(sent.map((s) => s.byte)).toEqual([0x01]);
  });

  it('answers from virtual time even if the domain never fires its timer', () => {
    const inner = createTestContext();
    // A domain whose timers never fire: reads must still catch up with now().
    const lazy: DeviceContext = { ...inner, now: () => inner.now(), setIrq: (o, l) => { inner.setIrq(o, l); }, timer: () => ({ arm: () => undefined, cancel: () => undefined, deadline: undefined }) };
    const uart = new Ns16550a(lazy);
    const io = regionIo(uart, 'registers');
    const sent: number[] = [];
    uart.onTransmit((b) => sent.push(b));
    io.out(Reg.THR, 1);
    io.out(Reg.THR, 2);
    expect(io.in(Reg.LSR)).toBe(0);
    inner.advance(2 * characterTime(0, 12));
    expect(io.in(Reg.LSR)).toBe(Lsr.THRE | Lsr.TEMT);
    expect(sent).toEqual([1, 2]);
  });

  it('with `instant` timing a character leaves as it is written, as QEMU\'s does', () => {
    const { io, sent, context } = board({ timing: 'instant' });
    io.out(Reg.LCR, 0x03);
    io.out(Reg.THR, 0x41);
    expect(io.in(Reg.LSR)).toBe(Lsr.THRE | Lsr.TEMT);
    expect(sent).toEqual([{ byte: 0x41, at: context.now() }]);
  });
});

describe('interrupts', () => {
  it('raises THRE when ETBEI is set with THR empty; an IIR read that reports it clears it', () => {
    const { io, context } = board({ resetMcr: Mcr.OUT2 });
    io.out(Reg.IER, Ier.ETBEI);
    expect(context.irqLevel(0)).toBe(true);
    expect(io.in(Reg.IIR)).toBe(Iir.THR_EMPTY);
    expect(io.in(Reg.IIR)).toBe(Iir.NO_INTERRUPT);
    expect(context.irqLevel(0)).toBe(false);
    io.out(Reg.IER, Ier.ETBEI); // no edge, no interrupt
    expect(io.in(Reg.IIR)).toBe(Iir.NO_INTERRUPT);
    io.out(Reg.IER, 0);
    io.out(Reg.IER, Ier.ETBEI); // a new rising edge
    expect(io.in(Reg.IIR)).toBe(Iir.THR_EMPTY);
  });

  it('a THR write clears THRE; THR emptying raises it again', () => {
    const { io, context } = board({ resetMcr: Mcr.OUT2 });
    io.out(Reg.THR, 1); // in the TSR
    io.out(Reg.THR, 2); // waits in THR
    io.out(Reg.IER, Ier.ETBEI); // THR full: no interrupt
    expect(io.in(Reg.IIR)).toBe(Iir.NO_INTERRUPT);
    context.advance(characterTime(0, 12)); // 2 moves to the TSR: THR empty
    expect(context.irqLevel(0)).toBe(true);
    io.out(Reg.THR, 3);
    expect(context.irqLevel(0)).toBe(false);
  });

  it('prioritises line status, then received data, then THRE, then modem status', () => {
    const { io, uart, context } = board({ resetMcr: Mcr.OUT2 });
    uart.setModemInputs({ cts: false }); // DCTS
    io.out(Reg.IER, Ier.EDSSI);
    expect(io.in(Reg.IIR)).toBe(Iir.MODEM_STATUS);
    io.out(Reg.IER, Ier.EDSSI | Ier.ETBEI);
    expect(io.in(Reg.IIR)).toBe(Iir.THR_EMPTY); // reported, so cleared
    io.out(Reg.IER, Ier.EDSSI);
    io.out(Reg.IER, 0x0f);
    uart.receive([1, 2]);
    context.advance(2 * characterTime(0, 12)); // the second overruns RBR (16450 mode)
    expect(io.in(Reg.IIR)).toBe(Iir.LINE_STATUS);
    expect(io.in(Reg.LSR)).toBe(Lsr.DR | Lsr.OE | Lsr.THRE | Lsr.TEMT);
    expect(io.in(Reg.IIR)).toBe(Iir.RX_DATA);
    expect(io.in(Reg.IIR)).toBe(Iir.RX_DATA); // THRE stays pending behind it: not the one reported
    expect(io.in(Reg.RBR)).toBe(2);
    expect(io.in(Reg.IIR)).toBe(Iir.THR_EMPTY);
    expect(io.in(Reg.IIR)).toBe(Iir.MODEM_STATUS);
    expect(io.in(Reg.MSR)).toBe(Msr.DSR | Msr.DCD | Msr.DCTS);
    expect(io.in(Reg.IIR)).toBe(Iir.NO_INTERRUPT);
    expect(context.irqLevel(0)).toBe(false);
  });

  it('drives irq 0 only while OUT2 is set, as the PC\'s serial adapter gates it, and never in loopback', () => {
    const { io, uart, context } = board();
    io.out(Reg.IER, Ier.ETBEI);
    expect(uart.pins().intr).toBe(true);
    expect(context.irqLevel(0)).toBe(false); // OUT2 clear at reset
    io.out(Reg.MCR, Mcr.OUT2);
    expect(context.irqLevel(0)).toBe(true);
    io.out(Reg.MCR, Mcr.OUT2 | Mcr.LOOP); // loopback forces the OUT pins inactive
    expect(context.irqLevel(0)).toBe(false);
    expect(uart.pins()).toMatchObject({ intr: true, out2: false });
    io.out(Reg.MCR, Mcr.OUT2);
    expect(context.irqLevel(0)).toBe(true);
    expect(io.in(Reg.IIR)).toBe(Iir.THR_EMPTY);
    expect(context.irqLevel(0)).toBe(false);
  });
});

describe('modem status', () => {
  it('sets a delta bit per changed input, TERI only as RI turns off, and clears them on read', () => {
    const { io, uart } = board();
    uart.setModemInputs({ ri: true });
    expect(io.in(Reg.MSR)).toBe(0xf0); // RI rising: no TERI
    uart.setModemInputs({ ri: false, dcd: false, cts: false });
    expect(io.in(Reg.MSR)).toBe(Msr.DSR | Msr.TERI | Msr.DDCD | Msr.DCTS);
    expect(io.in(Reg.MSR)).toBe(Msr.DSR);
    uart.setModemInputs({ dsr: true }); // no change
    expect(io.in(Reg.MSR)).toBe(Msr.DSR);
  });

  it('reports the MCR outputs to the host as pins', () => {
    const { io, uart } = board();
    io.out(Reg.MCR, Mcr.DTR | Mcr.RTS);
    expect(uart.pins()).toMatchObject({ dtr: true, rts: true, out1: false, out2: false });
  });
});

describe('loopback (MCR bit 4)', () => {
  it('connects TSR to the receiver and the MCR outputs to the MSR inputs; nothing reaches the host', () => {
    const { io, sent, uart, context } = board();
    io.out(Reg.LCR, 0x03);
    io.out(Reg.MCR, Mcr.LOOP);
    expect(io.in(Reg.MSR)).toBe(Msr.DCTS | Msr.DDSR | Msr.DDCD); // CTS, DSR, DCD dropped: inputs now from MCR
    io.out(Reg.MCR, Mcr.LOOP | Mcr.DTR | Mcr.RTS | Mcr.OUT1 | Mcr.OUT2);
    expect(io.in(Reg.MSR)).toBe(0xf0 | Msr.DCTS | Msr.DDSR | Msr.DDCD);
    io.out(Reg.MCR, Mcr.LOOP | Mcr.RTS | Mcr.OUT2);
    expect(io.in(Reg.MSR)).toBe(Msr.CTS | Msr.DCD | Msr.DDSR | Msr.TERI); // Linux's loopback test masks this with F0h: 90h
    io.out(Reg.THR, 0x5a);
    expect(io.in(Reg.LSR) & Lsr.DR).toBe(0);
    context.advance(characterTime(0x03, 12));
    expect(io.in(Reg.LSR)).toBe(Lsr.DR | Lsr.THRE | Lsr.TEMT);
    expect(io.in(Reg.RBR)).toBe(0x5a);
    expect(sent).toEqual([]);
    expect(uart.pins()).toMatchObject({ dtr: false, rts: false, out1: false, out2: false });
  });

  it('keeps the host\'s characters off the disconnected input until loopback ends', () => {
    const { io, uart, context } = board();
    io.out(Reg.LCR, 0x03);
    io.out(Reg.MCR, Mcr.LOOP);
    uart.receive([0x31]);
    context.advance(10 * characterTime(0x03, 12));
    expect(io.in(Reg.LSR) & Lsr.DR).toBe(0);
    io.out(Reg.MCR, 0);
    context.advance(characterTime(0x03, 12));
    expect(io.in(Reg.RBR)).toBe(0x31);
  });
});

describe('receiver', () => {
  it('delivers host characters one character time apart, masked to the word length', () => {
    const { io, uart, context } = board();
    io.out(Reg.LCR, 0x02); // 7 bits
    const c = characterTime(0x02, 12);
    const t0 = context.now();
    uart.receive([0xc1, 0x42]);
    context.advanceTo(t0 + c - 1);
    expect(io.in(Reg.LSR) & Lsr.DR).toBe(0);
    context.advanceTo(t0 + c);
    expect(io.in(Reg.RBR)).toBe(0x41);
    expect(io.in(Reg.LSR) & Lsr.DR).toBe(0);
    context.advanceTo(t0 + 2 * c);
    expect(io.in(Reg.RBR)).toBe(0x42);
    expect(io.in(Reg.RBR)).toBe(0x42); // 16450 mode: RBR keeps the last character
  });

  it('overruns a full FIFO: OE, the FIFO kept, the new character lost', () => {
    const { io, uart, context } = board();
    io.out(Reg.FCR, Fcr.FIFO_ENABLE);
    uart.receive(Array.from({ length: 20 }, (_, n) => n));
    context.advance(20 * characterTime(0, 12));
    expect(io.in(Reg.LSR)).toBe(Lsr.DR | Lsr.OE | Lsr.THRE | Lsr.TEMT);
    expect(io.in(Reg.LSR)).toBe(Lsr.DR | Lsr.THRE | Lsr.TEMT); // OE cleared by the read
    const got: number[] = [];
    while ((io.in(Reg.LSR) & Lsr.DR) !== 0) got.push(io.in(Reg.RBR));
    expect(got).toEqual([...Array(16).keys()]);
    expect(uart.anomalies()).toMatchObject({ rxOverruns: 4 });
  });

  it('bounds the host queue', () => {
    const { uart } = board({ receiveQueueLimit: 100 });
    expect(uart.receive(new Uint8Array(150))).toBe(100);
    expect(uart.pendingReceive()).toBe(100);
    expect(uart.receiveBreak()).toBe(false);
  });

  it('receives a break as a 0 character with BI, raising the line status interrupt', () => {
    const { io, uart, context } = board({ resetMcr: Mcr.OUT2 });
    io.out(Reg.IER, Ier.ELSI | Ier.ERBFI);
    uart.receiveBreak();
    context.advance(characterTime(0, 12));
    expect(context.irqLevel(0)).toBe(true);
    expect(io.in(Reg.IIR)).toBe(Iir.LINE_STATUS);
    expect(io.in(Reg.LSR)).toBe(Lsr.DR | Lsr.BI | Lsr.THRE | Lsr.TEMT);
    expect(io.in(Reg.IIR)).toBe(Iir.RX_DATA);
    expect(io.in(Reg.RBR)).toBe(0);
  });

  it('FIFO mode: a character\'s error shows in LSR when it reaches the top; bit 7 while any error is unread', () => {
    const { io, uart, context } = board();
    io.out(Reg.LCR, 0x03);
    io.out(Reg.FCR, Fcr.FIFO_ENABLE);
    uart.receive([0x61]);
    uart.receiveWithError(0x62, 'parity');
    uart.receive([0x63]);
    context.advance(3 * characterTime(0x03, 12));
    expect(io.in(Reg.LSR)).toBe(Lsr.RX_FIFO_ERROR | Lsr.DR | Lsr.THRE | Lsr.TEMT);
    expect(io.in(Reg.RBR)).toBe(0x61);
    expect(io.in(Reg.LSR)).toBe(Lsr.RX_FIFO_ERROR | Lsr.PE | Lsr.DR | Lsr.THRE | Lsr.TEMT);
    expect(io.in(Reg.LSR)).toBe(Lsr.DR | Lsr.THRE | Lsr.TEMT); // reported: PE and bit 7 clear
    expect(io.in(Reg.RBR)).toBe(0x62);
    uart.receiveWithError(0x64, 'framing');
    context.advance(characterTime(0x03, 12));
    expect(io.in(Reg.RBR)).toBe(0x63);
    expect(io.in(Reg.LSR)).toBe(Lsr.RX_FIFO_ERROR | Lsr.FE | Lsr.DR | Lsr.THRE | Lsr.TEMT);
  });

  it('with `instant` timing, host characters wait for room instead of overrunning', () => {
    const { io, uart } = board({ timing: 'instant' });
    io.out(Reg.LCR, 0x03);
    io.out(Reg.FCR, Fcr.FIFO_ENABLE);
    uart.receive(Array.from({ length: 40 }, (_, n) => n));
    expect(uart.pendingReceive()).toBe(24);
    const got: number[] = [];
    while ((io.in(Reg.LSR) & Lsr.DR) !== 0) got.push(io.in(Reg.RBR));
    expect(got).toEqual([...Array(40).keys()]);
    expect(io.in(Reg.LSR) & Lsr.OE).toBe(0);
  });
});
