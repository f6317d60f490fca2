/**
 * printk lines on COM1 through Linux's 8250 driver
 * (drivers/tty/serial/8250/8250_port.c), in one of its two transmit paths.
 *
 * Setup, as a booted system leaves ttyS0 (getty has it open):
 * `serial8250_do_startup` for a 16550A on an ISA irq — FIFOs cleared
 * (`serial8250_clear_fifos`: FCR 01h, 07h, 00h); LSR, RX, IIR and MSR read to
 * clear stale interrupts; LSR checked for FFh (no UART); the UART_BUG_THRE
 * probe (IER THRI, IIR, IER 0, twice); request_irq (irq 4 unmasked at the
 * 8259); LCR 8N1; MCR OUT2 (the ISA adapter's interrupt gate); the
 * UART_BUG_TXEN probe (IER THRI, LSR, IIR, IER 0); the four clearing reads
 * again; IER RLSI|RDI. Then `serial8250_do_set_termios` for 115200 8N1: IER
 * rewritten, LCR with DLAB, divisor 1 (DLL, DLM), LCR 03h, FCR 01h then 81h
 * (FIFOs on, RX trigger 8 — uart_config's 16550A value), MCR; and
 * `uart_port_dtr_rts` raising DTR and RTS (MCR 0Bh).
 *
 * `mode`:
 * * `polling` — the console path, `serial8250_console_write`: with the port
 *   lock held (interrupts off) save IER and clear it, then for each byte
 *   (`uart_console_write`, which sends CR before LF) `wait_for_xmitr` polls
 *   LSR until THRE, 1 µs apart, and writes THR; at the end it polls for THRE
 *   and TEMT both and restores IER. (Since 6.1 Linux can fill the FIFO
 *   instead when the port is open; the per-byte path is the one every
 *   kernel has.)
 * * `thre-irq` — the tty path: the line goes into the port's circular
 *   buffer (with ONLCR's CR before LF) and `serial8250_start_tx` sets IER
 *   THRI; each irq 4 runs `serial8250_default_handle_irq`: IIR (no interrupt
 *   pending: done), LSR, MSR (`serial8250_modem_status`), and with THRE
 *   `serial8250_tx_chars` writes up to 16 bytes (tx_loadsz) and, when the
 *   buffer empties, `__stop_tx` clears THRI; `serial8250_interrupt` then
 *   calls it again, and its IIR read says nothing is pending. Around it,
 *   handle_level_irq's 8259 mask/EOI/unmask for irq 4.
 *
 * Lines come `linesPerSecond` apart by the TSC (the clock printk stamps them
 * with); between them the guest sits in `hlt`, woken by the HZ=1000 PIT tick.
 */
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import type { GuestRoutine } from './linux-8259.ts';
import { jiffiesClock, legacyPic, legacyVector } from './linux-8259.ts';
import type { WorkloadDefinition } from './workload.ts';
import { numberParameter, stringParameter } from './workload.ts';

const COM1 = 0x3f8;
/** 16550A registers (PC16550D datasheet, table II), as offsets from the base. */
const UART_RX = 0;
const UART_TX = 0;
const UART_DLL = 0;
const UART_DLM = 1;
const UART_IER = 1;
const UART_IIR = 2;
const UART_FCR = 2;
const UART_LCR = 3;
const UART_MCR = 4;
const UART_LSR = 5;
const UART_MSR = 6;
const IER_RDI = 0x01;
const IER_THRI = 0x02;
const IER_RLSI = 0x04;
const IIR_NO_INT = 0x01;
const FCR_ENABLE_FIFO = 0x01;
const FCR_CLEAR_RCVR = 0x02;
const FCR_CLEAR_XMIT = 0x04;
const FCR_R_TRIG_10 = 0x80;
const LCR_WLEN8 = 0x03;
const LCR_DLAB = 0x80;
const MCR_DTR = 0x01;
const MCR_RTS = 0x02;
const MCR_OUT2 = 0x08;
const LSR_DR = 0x01;
const LSR_BI = 0x10;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
/** The 16550A's transmit FIFO: what tx_chars writes per THRE interrupt. */
const TX_LOADSZ = 16;
/** uart_config's 16550A FCR (FIFOs enabled, receive trigger at 8). */
const FCR_16550A = FCR_ENABLE_FIFO | FCR_R_TRIG_10;
/** The tty layer's transmit buffer (UART_XMIT_SIZE, a page). */
const XMIT_SIZE = 4096;
/** wait_for_xmitr's 10 000 polls of udelay(1) before it gives up. */
const XMITR_TIMEOUT_POLLS = 10_000;
const UDELAY_1US_CYCLES = 2_000;

export const SERIAL_IRQ = 4;
export const SERIAL_VECTOR: number = legacyVector(SERIAL_IRQ);
export const SERIAL_CONSOLE_MODES: readonly string[] = ['thre-irq', 'polling'];

export interface SerialConsoleOptions {
  readonly mode?: 'thre-irq' | 'polling';
  /** Lines printed per second (default 100). */
  readonly linesPerSecond?: number;
}

export interface SerialConsole {
  readonly guest: ScriptedGuest;
  /** Bytes written to THR (CRs included). */
  readonly bytes: () => number;
  readonly lines: () => number;
  /** irq 4 handler runs. */
  readonly interrupts: () => number;
  /** Of those, the ones whose IIR said nothing was pending (the startup probes' leftovers). */
  readonly spurious: () => number;
  /** LSR reads of wait_for_xmitr. */
  readonly lsrPolls: () => number;
  /** wait_for_xmitr giving up after 10 000 polls. */
  readonly timeouts: () => number;
  /** Everything written to THR, in order, as Latin-1 text. */
  readonly written: () => string;
}

/** The printk line `n` stamped at `ns` since boot, as printk formats its timestamp. */
export function consoleLine(n: number, ns: number): string {
  const micros = Math.floor(ns / 1000);
  const seconds = Math.floor(micros / 1_000_000);
  return `[${String(seconds).padStart(5, ' ')}.${String(micros % 1_000_000).padStart(6, '0')}] splitvisor: console line ${n}\n`;
}

/** LF as the terminal must see it: CR first (uart_console_write; the tty's ONLCR). */
function onlcr(line: string): number[] {
  const out: number[] = [];
  for (const char of line) {
    if (char === '\n') out.push(0x0d);
    out.push(char.charCodeAt(0) & 0xff);
  }
  return out;
}

function* inb(offset: number): GuestRoutine<number> {
  return yield { op: 'in', port: COM1 + offset };
}

function* outb(offset: number, value: number): GuestProgram {
  yield { op: 'out', port: COM1 + offset, value };
}

export function serialConsole(options: SerialConsoleOptions = {}): SerialConsole {
  const mode = options.mode ?? 'thre-irq';
  const linesPerSecond = options.linesPerSecond ?? 100;
  let bytes = 0;
  let lines = 0;
  let interrupts = 0;
  let spurious = 0;
  let lsrPolls = 0;
  let timeouts = 0;
  const written: number[] = [];
  /** The port's software state: IER as the driver keeps it (up->ier), MCR's modem lines, the circular buffer. */
  let ier = 0;
  const xmit: number[] = [];
  let xmitHead = 0;
  const pic = legacyPic();
  const clock = jiffiesClock(pic);

  function* transmit(byte: number): GuestProgram {
    yield* outb(UART_TX, byte);
    written.push(byte);
    bytes++;
  }

  function* clearInterrupts(): GuestProgram {
    yield* inb(UART_LSR);
    yield* inb(UART_RX);
    yield* inb(UART_IIR);
    yield* inb(UART_MSR);
  }

  function* startup(): GuestProgram {
    yield* outb(UART_FCR, FCR_ENABLE_FIFO); // serial8250_clear_fifos
    yield* outb(UART_FCR, FCR_ENABLE_FIFO | FCR_CLEAR_RCVR | FCR_CLEAR_XMIT);
    yield* outb(UART_FCR, 0);
    yield* clearInterrupts();
    yield* inb(UART_LSR); // FFh: no UART there (the driver would give up; this guest carries on)
    yield { op: 'cli' }; // the UART_BUG_THRE probe runs with the port's irq off
    for (let i = 0; i < 2; i++) {
      yield* outb(UART_IER, IER_THRI);
      yield { op: 'compute', cycles: UDELAY_1US_CYCLES };
      yield* inb(UART_IIR);
      yield* outb(UART_IER, 0);
    }
    yield { op: 'sti' };
    yield* pic.enable(SERIAL_IRQ); // setup_irq: request_irq
    yield { op: 'cli' };
    yield* outb(UART_LCR, LCR_WLEN8);
    yield* outb(UART_MCR, MCR_OUT2); // serial8250_set_mctrl with TIOCM_OUT2 for an ISA irq
    yield* outb(UART_IER, IER_THRI); // the UART_BUG_TXEN probe
    yield* inb(UART_LSR);
    yield* inb(UART_IIR);
    yield* outb(UART_IER, 0);
    yield { op: 'sti' };
    yield* clearInterrupts();
    ier = IER_RLSI | IER_RDI;
    yield* outb(UART_IER, ier);
  }

  function* setTermios(): GuestProgram {
    yield { op: 'cli' };
    yield* outb(UART_IER, ier);
    yield* outb(UART_LCR, LCR_WLEN8 | LCR_DLAB); // serial8250_set_divisor: 115200 = 1.8432 MHz / 16 / 1
    yield* outb(UART_DLL, 1);
    yield* outb(UART_DLM, 0);
    yield* outb(UART_LCR, LCR_WLEN8);
    yield* outb(UART_FCR, FCR_ENABLE_FIFO); // the 16550A wants FIFOs enabled before the other FCR bits
    yield* outb(UART_FCR, FCR_16550A);
    yield* outb(UART_MCR, MCR_OUT2);
    yield { op: 'sti' };
    yield* outb(UART_MCR, MCR_OUT2 | MCR_DTR | MCR_RTS); // uart_port_dtr_rts
  }

  /** wait_for_xmitr: LSR until all of `bits`, 1 µs apart, 10 000 tries. */
  function* waitForXmitr(bits: number): GuestProgram {
    for (let tries = XMITR_TIMEOUT_POLLS; ; tries--) {
      lsrPolls++;
      if (((yield* inb(UART_LSR)) & bits) === bits) return;
      if (tries <= 1) {
        timeouts++;
        return;
      }
      yield { op: 'compute', cycles: UDELAY_1US_CYCLES };
    }
  }

  function* consoleWrite(line: string): GuestProgram {
    yield { op: 'cli' }; // uart_port_lock_irqsave
    const saved = yield* inb(UART_IER);
    yield* outb(UART_IER, 0); // serial8250_clear_IER
    for (const byte of onlcr(line)) {
      yield* waitForXmitr(LSR_THRE);
      yield* transmit(byte);
    }
    yield* waitForXmitr(LSR_THRE | LSR_TEMT);
    yield* outb(UART_IER, saved);
    yield { op: 'sti' };
  }

  function* ttyWrite(line: string): GuestProgram {
    for (const byte of onlcr(line)) xmit.push(byte); // uart_write
    yield { op: 'cli' };
    if ((ier & IER_THRI) === 0) { // serial8250_start_tx
      ier |= IER_THRI;
      yield* outb(UART_IER, ier);
    }
    yield { op: 'sti' };
  }

  /** serial8250_default_handle_irq; whether the port had an interrupt. */
  function* handleIrq(): GuestRoutine<boolean> {
    const iir = yield* inb(UART_IIR);
    if ((iir & IIR_NO_INT) !== 0) return false;
    const lsr = yield* inb(UART_LSR);
    if ((lsr & (LSR_DR | LSR_BI)) !== 0) yield* inb(UART_RX); // nothing is typed here; a character would be read and dropped
    yield* inb(UART_MSR); // serial8250_modem_status
    if ((lsr & LSR_THRE) !== 0 && (ier & IER_THRI) !== 0) { // serial8250_tx_chars
      for (let count = TX_LOADSZ; count > 0 && xmitHead < xmit.length; count--) {
        yield* transmit(xmit[xmitHead] ?? 0);
        xmitHead++;
      }
      if (xmitHead >= xmit.length) { // __stop_tx
        xmit.length = 0;
        xmitHead = 0;
        ier &= ~IER_THRI;
        yield* outb(UART_IER, ier);
      }
    }
    return true;
  }

  const guest = new ScriptedGuest((function* main(): GuestProgram {
    yield* pic.init();
    yield* clock.start();
    yield { op: 'sti' };
    yield* startup();
    yield* setTermios();
    const start = yield* clock.now();
    for (let n = 1; ; n++) {
      const line = consoleLine(n, yield* clock.now());
      if (mode === 'polling') yield* consoleWrite(line);
      else {
        while (xmit.length - xmitHead + line.length * 2 > XMIT_SIZE) yield { op: 'hlt' }; // the writer blocks on a full buffer
        yield* ttyWrite(line);
      }
      lines++;
      yield* clock.sleepUntil(start + (n * 1e9) / linesPerSecond);
    }
  })()).on(clock.vector, clock.handler).on(SERIAL_VECTOR, pic.handler(SERIAL_IRQ, function* serial8250Interrupt(): GuestProgram {
    interrupts++;
    // serial8250_interrupt: the port's handler until a pass finds nothing (one port on the chain).
    let handled = false;
    for (let pass = 0; pass < 256 && (yield* handleIrq()); pass++) handled = true;
    if (!handled) spurious++;
  }));
  return {
    guest,
    bytes: () => bytes,
    lines: () => lines,
    interrupts: () => interrupts,
    spurious: () => spurious,
    lsrPolls: () => lsrPolls,
    timeouts: () => timeouts,
    written: () => String.fromCharCode(...written.slice(-65_536)),
  };
}

export const SERIAL_CONSOLE: WorkloadDefinition = {
  name: 'serial-console',
  description: "printk lines on COM1 through Linux's 8250 driver at 115200 8N1: THRE-interrupt transmit 16 bytes a time, or the console's polled LSR path",
  follows: 'drivers/tty/serial/8250/8250_port.c serial8250_do_startup, serial8250_do_set_termios, serial8250_start_tx, serial8250_default_handle_irq, serial8250_tx_chars, serial8250_console_write, wait_for_xmitr',
  parameters: [
    { name: 'mode', description: "the transmit path: 'thre-irq' (tty writes) or 'polling' (the console)", default: 'thre-irq', choices: SERIAL_CONSOLE_MODES },
    { name: 'lines-per-second', description: 'printk lines per second', default: 100, min: 1, max: 10_000 },
  ],
  create: (p) => {
    const run = serialConsole({ mode: stringParameter(p, 'mode') === 'polling' ? 'polling' : 'thre-irq', linesPerSecond: numberParameter(p, 'lines-per-second') });
    return {
      guest: run.guest,
      progress: () => ({ bytes: run.bytes(), lines: run.lines(), interrupts: run.interrupts(), lsrPolls: run.lsrPolls(), timeouts: run.timeouts() }),
    };
  },
};
