// A scripted guest driver modelled on what Linux's 8250 driver does at the ports (drivers/tty/serial/8250,
// as seen in the shared QEMU traces and its documented behaviour): autoconfig, the polled console, and the
// interrupt handler's RX and TX paths. Written for these tests; it drives the UART the way the driver does,
// on the test context's virtual clock.
import type { TestContext } from '@splitvisor/device-testkit';
import { regionIo } from '@splitvisor/device-testkit';
import type { Ns16550a } from '../src/index.ts';
import { Fcr, Ier, Iir, Lcr, Lsr, Mcr, Reg } from '../src/index.ts';

export type PortType = 'none' | '8250' | '16450' | '16550' | '16550A' | 'unknown';

export interface AutoconfigOptions {
  /** UPF_SKIP_TEST, which x86's legacy COM ports carry: no loopback test. */
  readonly skipLoopbackTest?: boolean;
}

export interface Console {
  /** Characters written, including the CR the console inserts before each LF. */
  readonly written: string;
  readonly lsrPolls: number;
}

export class Linux8250 {
  readonly io: ReturnType<typeof regionIo>;
  /** What the driver believes IER holds (the kernel keeps a shadow of it). */
  ier = 0;
  readonly received: number[] = [];
  /** Per interrupt handled: the IIR the handler read, the LSR it saw, and the time. */
  readonly interrupts: { iir: number; lsr: number; at: number }[] = [];
  private txQueue: number[] = [];

  readonly uart: Ns16550a;
  readonly context: TestContext;

  constructor(uart: Ns16550a, context: TestContext) {
    this.uart = uart;
    this.context = context;
    this.io = regionIo(uart, 'registers');
  }

  udelay(us: number): void {
    this.context.advance(us * 1000);
  }

  /**
   * serial8250 autoconfig: the IER existence check, the loopback test (unless skipped), then FIFO detection
   * through FCR and IIR bits 7–6; an 8250/16450 is told apart by the scratch register.
   */
  autoconfig(options: AutoconfigOptions = {}): PortType {
    const { io } = this;
    const savedIer = io.in(Reg.IER);
    io.out(Reg.IER, 0);
    const scratch1 = io.in(Reg.IER) & 0x0f;
    io.out(Reg.IER, 0x0f);
    const scratch2 = io.in(Reg.IER) & 0x0f;
    io.out(Reg.IER, savedIer);
    if (scratch1 !== 0 || scratch2 !== 0x0f) return 'none';

    const savedMcr = io.in(Reg.MCR);
    const savedLcr = io.in(Reg.LCR);
    if (options.skipLoopbackTest !== true) {
      io.out(Reg.MCR, Mcr.LOOP | Mcr.RTS | Mcr.OUT2);
      const status = io.in(Reg.MSR) & 0xf0;
      io.out(Reg.MCR, savedMcr);
      if (status !== 0x90) return 'none'; // DCD (from OUT2) and CTS (from RTS)
    }

    io.out(Reg.LCR, 0xbf); // configuration mode B: EFR on later parts; a 16550A's FCR ignores it
    io.out(Reg.FCR, 0);
    io.out(Reg.LCR, 0);
    io.out(Reg.FCR, Fcr.FIFO_ENABLE);
    let type: PortType;
    switch (io.in(Reg.IIR) >> 6) {
      case 0: type = this.scratchTest() ? '16450' : '8250'; break;
      case 1: type = 'unknown'; break;
      case 2: type = '16550'; break;
      default: type = '16550A'; break;
    }
    io.out(Reg.LCR, savedLcr);
    io.out(Reg.MCR, savedMcr);
    this.clearFifos();
    io.in(Reg.RBR);
    io.out(Reg.IER, 0);
    return type;
  }

  /** The 8250-vs-16450 test: does the scratch register hold what was written? */
  scratchTest(): boolean {
    const { io } = this;
    io.out(Reg.SCR, 0xa5);
    const a = io.in(Reg.SCR);
    io.out(Reg.SCR, 0x5a);
    const b = io.in(Reg.SCR);
    return a === 0xa5 && b === 0x5a;
  }

  clearFifos(): void {
    this.io.out(Reg.FCR, Fcr.FIFO_ENABLE);
    this.io.out(Reg.FCR, Fcr.FIFO_ENABLE | Fcr.RX_RESET | Fcr.TX_RESET);
    this.io.out(Reg.FCR, 0);
  }

  /**
   * size_fifo: with loopback at 115 200 baud, send 256 characters, wait 20 ms, and count what the receiver
   * kept — the RX FIFO's depth.
   */
  sizeFifo(): number {
    const { io } = this;
    const old = { lcr: io.in(Reg.LCR), mcr: io.in(Reg.MCR) };
    io.out(Reg.FCR, Fcr.FIFO_ENABLE | Fcr.RX_RESET | Fcr.TX_RESET);
    io.out(Reg.MCR, Mcr.LOOP);
    io.out(Reg.LCR, Lcr.DLAB);
    io.out(Reg.DLL, 1);
    io.out(Reg.DLM, 0);
    io.out(Reg.LCR, 0x03);
    for (let n = 0; n < 256; n++) io.out(Reg.THR, n);
    this.udelay(20_000);
    let count = 0;
    while ((io.in(Reg.LSR) & Lsr.DR) !== 0 && count < 256) {
      io.in(Reg.RBR);
      count++;
    }
    io.out(Reg.FCR, 0);
    io.out(Reg.MCR, old.mcr);
    io.out(Reg.LCR, old.lcr);
    return count;
  }

  /** serial8250_do_set_termios + startup, much abridged: divisor, 8N1, FIFO with a trigger level, DTR|RTS|OUT2. */
  open(baud: number, fcr: number = Fcr.FIFO_ENABLE | 0x80): void {
    const { io } = this;
    const divisor = Math.round(115_200 / baud);
    this.clearFifos();
    io.in(Reg.LSR);
    io.in(Reg.RBR);
    io.in(Reg.IIR);
    io.in(Reg.MSR);
    io.out(Reg.LCR, Lcr.DLAB | 0x03);
    io.out(Reg.DLL, divisor & 0xff);
    io.out(Reg.DLM, divisor >> 8);
    io.out(Reg.LCR, 0x03);
    if ((fcr & Fcr.FIFO_ENABLE) !== 0) io.out(Reg.FCR, Fcr.FIFO_ENABLE);
    io.out(Reg.FCR, fcr);
    io.out(Reg.MCR, Mcr.DTR | Mcr.RTS | Mcr.OUT2);
    this.ier = Ier.ERBFI | Ier.ELSI;
    io.out(Reg.IER, this.ier);
  }

  /** Polls LSR until `bits` are all set, a microsecond between polls (wait_for_xmitr); false after `timeoutUs`. */
  waitFor(bits: number, timeoutUs = 10_000): { ok: boolean; polls: number } {
    let polls = 0;
    for (let us = 0; us <= timeoutUs; us++) {
      polls++;
      if ((this.io.in(Reg.LSR) & bits) === bits) return { ok: true, polls };
      this.udelay(1);
    }
    return { ok: false, polls };
  }

  /** serial8250_console_write: IER off, each character after THRE (CR before LF), then wait for both empty, IER back. */
  consoleWrite(text: string): Console {
    const { io } = this;
    const savedIer = io.in(Reg.IER);
    io.out(Reg.IER, 0);
    let written = '';
    let lsrPolls = 0;
    for (const ch of text) {
      for (const c of ch === '\n' ? '\r\n' : ch) {
        lsrPolls += this.waitFor(Lsr.THRE).polls;
        io.out(Reg.THR, c.charCodeAt(0));
        written += c;
      }
    }
    lsrPolls += this.waitFor(Lsr.THRE | Lsr.TEMT).polls;
    io.out(Reg.IER, savedIer);
    return { written, lsrPolls };
  }

  /** uart_write + start_tx: queue the bytes and enable the THRE interrupt; the handler sends them. */
  write(bytes: Iterable<number>): void {
    this.txQueue.push(...bytes);
    if ((this.ier & Ier.ETBEI) === 0) {
      this.ier |= Ier.ETBEI;
      this.io.out(Reg.IER, this.ier);
    }
  }

  get pendingTx(): number {
    return this.txQueue.length;
  }

  /** serial8250_handle_irq: IIR, then LSR; receive while DR; transmit up to 16 (tx_loadsz) on THRE; stop_tx when done. */
  handleIrq(): void {
    const { io } = this;
    const iir = io.in(Reg.IIR);
    if ((iir & Iir.NO_INTERRUPT) !== 0) return;
    let lsr = io.in(Reg.LSR);
    this.interrupts.push({ iir, lsr, at: this.context.now() });
    if ((lsr & (Lsr.DR | Lsr.BI)) !== 0) {
      let budget = 256;
      do {
        this.received.push(io.in(Reg.RBR));
        lsr = io.in(Reg.LSR);
      } while ((lsr & (Lsr.DR | Lsr.BI)) !== 0 && --budget > 0);
    }
    io.in(Reg.MSR);
    if ((lsr & Lsr.THRE) !== 0 && (this.ier & Ier.ETBEI) !== 0) this.txChars();
  }

  private txChars(): void {
    if (this.txQueue.length === 0) {
      this.ier &= ~Ier.ETBEI;
      this.io.out(Reg.IER, this.ier);
      return;
    }
    for (let count = 16; count > 0 && this.txQueue.length > 0; count--) this.io.out(Reg.THR, this.txQueue.shift() ?? 0);
  }

  /**
   * Runs the guest until `done()` (or `limitNs` passes): the CPU idles until the UART's next event, and
   * services irq 0 whenever it is high.
   */
  runUntil(done: () => boolean, limitNs = 1_000_000_000): void {
    const end = this.context.now() + limitNs;
    let handled = 0;
    while (!done()) {
      if (this.context.irqLevel(0)) {
        // A line the handler cannot lower is a storm, as a kernel would report it.
        if (++handled > 100_000) throw new Error('irq 0 storm: the handler does not clear the interrupt');
        this.handleIrq();
        continue;
      }
      const next = this.context.nextDeadline();
      if (next === undefined || next > end) {
        this.context.advanceTo(end);
        return;
      }
      this.context.advanceTo(Math.max(next, this.context.now()));
    }
  }
}
