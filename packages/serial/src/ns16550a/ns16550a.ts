/**
 * The NS16550A UART (PC16550D datasheet, National Semiconductor, 1995) as the
 * PC wires it: eight byte-wide registers, 16-byte RX and TX FIFOs, the
 * divisor latch, the four prioritised interrupt sources on one INTR output,
 * modem control and status with delta bits, and the diagnostic loopback.
 *
 * Region `registers` (8 ports; COM1 is 3F8h on the PC). Irq output 0: INTR
 * as the PC's serial adapter drives the bus — only while MCR.OUT2 is set
 * (the adapter's irq driver is enabled by the OUT2 pin) and the UART is not
 * in loopback (which forces the OUT pins inactive, §8.7). The board routes
 * it (COM1 → irq 4).
 *
 * Time: a character occupies the transmitter (and the receiver) for its
 * frame time at the programmed baud rate — 115 200 / divisor baud, start +
 * data + parity + stop bits from LCR — on virtual time: THRE, TEMT, the THRE
 * interrupt and the character timeout follow real timing. Or, with timing
 * `instant`, a character leaves the moment it reaches the transmitter, as
 * QEMU's 16550 does (its output never waits for the line). Every access first
 * catches the transmitter and receiver up with `now()`, so answers do not
 * depend on how promptly a domain fires the device's timer.
 *
 * Where the datasheet is vague, QEMU's observable behaviour is followed and
 * marked "as QEMU".
 */
import type { AccessSize, Device, DeviceContext, FastPathHints, IoRegion, Nanoseconds, Timer } from '@splitvisor/abi';
import { expectState } from '@splitvisor/abi';
import { characterTime, triggerLevel } from './framing.ts';
import { interruptId } from './interrupts.ts';
import {
  CHARACTER_ERRORS, FCR_HELD, FIFO_DEPTH, Fcr, IER_WRITABLE, Ier, Iir, Lcr, LSR_LINE_ERRORS, Lsr, MCR_WRITABLE, MSR_LINES,
  Mcr, Msr, Reg,
} from './registers.ts';

/** How long a character takes to leave the transmitter or arrive at the receiver. */
export type CharacterTiming = 'line-rate' | 'instant';

/** The modem inputs, as asserted (true = the modem drives the line active: MSR bit 1). */
export interface ModemLines {
  readonly cts: boolean;
  readonly dsr: boolean;
  readonly ri: boolean;
  readonly dcd: boolean;
}

/** The UART's output pins, as asserted. */
export interface Ns16550aPins {
  /** The chip's INTR output (an enabled source is pending), before the PC's OUT2 gate. */
  readonly intr: boolean;
  readonly dtr: boolean;
  readonly rts: boolean;
  readonly out1: boolean;
  readonly out2: boolean;
  /** LCR.SET_BREAK: SOUT held at spacing. */
  readonly break: boolean;
}

export interface Ns16550aConfig {
  /** `line-rate` (default) or `instant` (QEMU's 16550: no character time on either path). */
  readonly timing?: CharacterTiming;
  /**
   * MCR after reset. The datasheet's master reset clears it (0, the default);
   * QEMU's `pc` machine resets its COM ports with OUT2 set (8).
   */
  readonly resetMcr?: number;
  /**
   * The modem inputs at power-on. Default: CTS, DSR and DCD asserted, RI not — a
   * host terminal on the line, which is also what QEMU's file and stdio
   * backends present (MSR B0h).
   */
  readonly modemInputs?: Partial<ModemLines>;
  /** How many host bytes may wait to cross the line (default 4096); `receive` takes no more. */
  readonly receiveQueueLimit?: number;
}

export type Ns16550aState = {
  readonly model: 'ns16550a';
  readonly version: 1;
  /** DLM:DLL. */
  readonly divisor: number;
  readonly ier: number;
  readonly lcr: number;
  readonly mcr: number;
  readonly scr: number;
  /** The held FCR bits: FIFO enable, DMA mode, RX trigger. */
  readonly fcr: number;
  /** LSR OE, PE, FE, BI as they will read: set by an overrun or by an erroneous character reaching the top of the RX FIFO. */
  readonly lineErrors: number;
  /** Received characters, oldest first: byte | (PE, FE, BI) << 8. At most one (RBR) in 16450 mode. */
  readonly rxFifo: readonly number[];
  /** The oldest character's errors have been read from LSR, so they no longer keep LSR bit 7 set. */
  readonly rxTopErrorsRead: boolean;
  /** The last character read from RBR: what RBR reads in 16450 mode with nothing new received. */
  readonly rbr: number;
  /** When a character last entered the RX FIFO or the CPU last read one: the character timeout counts from here. */
  readonly rxActivityAt: Nanoseconds;
  /** The character timeout occurred and no character has been read since. */
  readonly rxTimedOut: boolean;
  /** THR (16450 mode) or the TX FIFO, oldest first. */
  readonly txFifo: readonly number[];
  /** The character in the transmitter shift register, or -1 when it is idle. */
  readonly tsr: number;
  /** When the character in the TSR has left (its last stop bit), or -1. */
  readonly tsrDoneAt: Nanoseconds;
  readonly thrEmptyPending: boolean;
  /** MSR bits 7–4 as the modem inputs drive them (loopback takes them from MCR instead). */
  readonly modemInputs: number;
  readonly msrDeltas: number;
  /** Host characters waiting to cross the line to the receiver, first first: byte | (PE, FE, BI) << 8. */
  readonly wire: readonly number[];
  /** When the first of them has fully arrived, or -1 while the line is idle. */
  readonly wireDoneAt: Nanoseconds;
};

const MODEL = 'ns16550a' as const;
const VERSION = 1;
const IDLE = -1;
/** The datasheet's character timeout: four character times (§8.4). */
const TIMEOUT_CHARACTERS = 4;
/** QEMU's (and a PC BIOS's) divisor after reset: 12, 9600 baud. The datasheet leaves the latch undefined. */
const RESET_DIVISOR = 12;

const REGION = 'registers';
const REGIONS: readonly IoRegion[] = [{ name: REGION, space: 'port', length: 8, sizes: [1] }];

function modemBits(lines: ModemLines): number {
  return (lines.cts ? Msr.CTS : 0) | (lines.dsr ? Msr.DSR : 0) | (lines.ri ? Msr.RI : 0) | (lines.dcd ? Msr.DCD : 0);
}

function linesOf(bits: number): ModemLines {
  return { cts: (bits & Msr.CTS) !== 0, dsr: (bits & Msr.DSR) !== 0, ri: (bits & Msr.RI) !== 0, dcd: (bits & Msr.DCD) !== 0 };
}

/** Loopback: the MCR outputs drive the modem inputs — RTS→CTS, DTR→DSR, OUT1→RI, OUT2→DCD (§8.7). */
function loopbackLines(mcr: number): number {
  return ((mcr & Mcr.RTS) !== 0 ? Msr.CTS : 0) | ((mcr & Mcr.DTR) !== 0 ? Msr.DSR : 0)
    | ((mcr & Mcr.OUT1) !== 0 ? Msr.RI : 0) | ((mcr & Mcr.OUT2) !== 0 ? Msr.DCD : 0);
}

/** The delta bits a change of the MSR lines sets: any change of CTS, DSR, DCD; RI only on its trailing edge (§8.9). */
function deltasOf(before: number, after: number): number {
  const changed = (before ^ after) & (Msr.CTS | Msr.DSR | Msr.DCD);
  const teri = (before & Msr.RI) !== 0 && (after & Msr.RI) === 0 ? Msr.TERI : 0;
  return (changed >> 4) | teri;
}

export class Ns16550a implements Device<Ns16550aState> {
  readonly model: 'ns16550a' = MODEL;
  readonly regions: readonly IoRegion[] = REGIONS;
  /**
   * LSR may be answered from a value while the line is quiet (`cachedRead`):
   * writes to the UART's registers (THR, FCR, LCR, MCR) are what change it
   * then.
   */
  readonly hints: FastPathHints = {
    cachedReads: [{ region: REGION, offset: Reg.LSR, length: 1, invalidatedBy: [{ region: REGION, offset: 0, length: 8 }] }],
  };
  private readonly context: DeviceContext;
  private readonly timing: CharacterTiming;
  private readonly receiveQueueLimit: number;
  private readonly timer: Timer;
  private divisor = RESET_DIVISOR;
  private ier = 0;
  private lcr = 0;
  private mcr: number;
  private scr = 0;
  private fcr = 0;
  private lineErrors = 0;
  private rxFifo: number[] = [];
  private rxTopErrorsRead = false;
  private rbr = 0;
  private rxActivityAt: Nanoseconds = 0;
  private rxTimedOut = false;
  private txFifo: number[] = [];
  private tsr = IDLE;
  private tsrDoneAt: Nanoseconds = IDLE;
  private thrEmptyPending = false;
  private modemInputs: number;
  private msrDeltas = 0;
  private wire: number[] = [];
  private wireDoneAt: Nanoseconds = IDLE;
  /** Live handles, not state: the host's sink, the characters for it, the level last driven. */
  private sink: ((byte: number) => void) | undefined;
  private outbox: number[] = [];
  private lineLevel = false;
  private readonly odd = {
    writesToStatusRegisters: 0, reservedBitsWritten: 0, fcrWithoutFifoEnable: 0, thrOverruns: 0, rxOverruns: 0,
    unacceptedAccesses: 0,
  };

  constructor(context: DeviceContext, config: Ns16550aConfig = {}) {
    this.context = context;
    this.timing = config.timing ?? 'line-rate';
    this.receiveQueueLimit = config.receiveQueueLimit ?? 4096;
    this.mcr = (config.resetMcr ?? 0) & MCR_WRITABLE;
    this.modemInputs = modemBits({ cts: true, dsr: true, ri: false, dcd: true, ...config.modemInputs });
    this.timer = context.timer((now) => { this.settle(now); });
    this.driveLine(true);
  }

  // --- guest side -------------------------------------------------------------------------------

  /**
   * LSR, while a read of it would change nothing and time would not: no
   * character on its way in or out (their completion times move THRE, TEMT
   * and DR), none waiting in the receive FIFO (a read marks its errors
   * reported), and no line error for the read to clear.
   */
  cachedRead(region: string, offset: number): number | undefined {
    if (region !== REGION || offset !== Reg.LSR) return undefined;
    const quiet = this.tsrDoneAt === IDLE && this.wireDoneAt === IDLE && this.txFifo.length === 0 && this.tsr === IDLE && this.rxFifo.length === 0 && this.lineErrors === 0;
    return quiet ? this.lsr() : undefined;
  }

  read(region: string, offset: number, size: AccessSize): number {
    if (!this.accepts(region, offset, size)) return 0xff;
    const now = this.context.now();
    this.advance(now);
    const dlab = (this.lcr & Lcr.DLAB) !== 0;
    let value: number;
    switch (offset) {
      case Reg.RBR: value = dlab ? this.divisor & 0xff : this.readRbr(now); break;
      case Reg.IER: value = dlab ? this.divisor >> 8 : this.ier; break;
      case Reg.IIR: value = this.readIir(now); break;
      case Reg.LCR: value = this.lcr; break;
      case Reg.MCR: value = this.mcr; break;
      case Reg.LSR: value = this.readLsr(); break;
      case Reg.MSR: value = this.readMsr(); break;
      default: value = this.scr; break;
    }
    this.settle(now);
    return value;
  }

  write(region: string, offset: number, size: AccessSize, value: number): void {
    if (!this.accepts(region, offset, size)) return;
    const now = this.context.now();
    this.advance(now);
    const byte = value & 0xff;
    const dlab = (this.lcr & Lcr.DLAB) !== 0;
    switch (offset) {
      case Reg.THR:
        if (dlab) this.divisor = (this.divisor & 0xff00) | byte;
        else this.writeThr(byte, now);
        break;
      case Reg.IER:
        if (dlab) this.divisor = (this.divisor & 0x00ff) | (byte << 8);
        else this.writeIer(byte);
        break;
      case Reg.FCR: this.writeFcr(byte); break;
      case Reg.LCR: this.lcr = byte; break;
      case Reg.MCR: this.writeMcr(byte, now); break;
      case Reg.LSR:
      case Reg.MSR:
        // Read-only on the 16550A (writing them is a factory test mode); ignored, as QEMU.
        this.odd.writesToStatusRegisters++;
        break;
      default: this.scr = byte; break;
    }
    this.settle(now);
  }

  private accepts(region: string, offset: number, size: AccessSize): boolean {
    if (region === 'registers' && Number.isInteger(offset) && offset >= 0 && offset < 8 && size === 1) return true;
    this.odd.unacceptedAccesses++;
    this.context.log.warn(`16550A: ${size}-byte access to ${region}+${offset} not decoded`);
    return false;
  }

  private fifoMode(): boolean {
    return (this.fcr & Fcr.FIFO_ENABLE) !== 0;
  }

  private loopback(): boolean {
    return (this.mcr & Mcr.LOOP) !== 0;
  }

  /** The bits of a character the line carries at the current word length (RBR reads unused bits as 0). */
  private wordMask(): number {
    return (1 << (5 + (this.lcr & Lcr.WLS_MASK))) - 1;
  }

  private characterTime(): Nanoseconds {
    return characterTime(this.lcr, this.divisor);
  }

  private readRbr(now: Nanoseconds): number {
    const entry = this.rxFifo.shift();
    if (entry === undefined) {
      // Nothing received: 16450 mode reads the RBR latch again; FIFO mode reads 0, as QEMU.
      return this.fifoMode() ? 0 : this.rbr;
    }
    this.rbr = entry & 0xff;
    // A CPU read clears an occurred timeout and restarts the timer (§8.4 "FIFO interrupt mode operation").
    this.rxActivityAt = now;
    this.rxTimedOut = false;
    this.rxTopErrorsRead = false;
    this.revealTopErrors();
    this.startWire(now);
    return this.rbr;
  }

  private readIir(now: Nanoseconds): number {
    const id = this.interruptId(now);
    // Reading IIR clears the THRE interrupt when it is the one reported (§8.5, Table IV).
    if (id === Iir.THR_EMPTY) this.thrEmptyPending = false;
    return id | (this.fifoMode() ? Iir.FIFOS_ENABLED : 0);
  }

  private readLsr(): number {
    const value = this.lsr();
    this.lineErrors = 0;
    if (this.rxFifo.length > 0) this.rxTopErrorsRead = true;
    return value;
  }

  private readMsr(): number {
    const value = this.msrLines() | this.msrDeltas;
    this.msrDeltas = 0;
    return value;
  }

  private writeThr(byte: number, now: Nanoseconds): void {
    // Writing THR clears the THRE interrupt (§8.5, Table IV).
    this.thrEmptyPending = false;
    const capacity = this.fifoMode() ? FIFO_DEPTH : 1;
    if (this.txFifo.length >= capacity) {
      // THR written while full: the datasheet does not say; as QEMU, the newest character wins
      // (16450 mode overwrites THR, FIFO mode drops the oldest waiting character).
      this.odd.thrOverruns++;
      this.txFifo.shift();
    }
    this.txFifo.push(byte);
    this.startTransmit(now);
  }

  private writeIer(byte: number): void {
    if ((byte & ~IER_WRITABLE) !== 0) this.odd.reservedBitsWritten++;
    const before = this.ier;
    this.ier = byte & IER_WRITABLE;
    if ((this.ier & Ier.ETBEI) === 0) {
      this.thrEmptyPending = false;
    } else if ((before & Ier.ETBEI) === 0) {
      // Setting ETBEI while THR is empty raises the THRE interrupt: what drivers use to start transmission
      // (Linux's start_tx; its UART_BUG_THRE probe toggles ETBEI and expects IIR to report THRE each time).
      // On the rising edge only, as QEMU.
      this.thrEmptyPending = this.txFifo.length === 0;
    }
  }

  private writeFcr(byte: number): void {
    const enable = (byte & Fcr.FIFO_ENABLE) !== 0;
    if (!enable && byte !== 0) this.odd.fcrWithoutFifoEnable++; // "FCR0 must be 1 when other FCR bits are written"
    if (enable !== this.fifoMode()) {
      // Changing the mode empties both FIFOs (§8.4).
      this.resetRx();
      this.resetTx();
    }
    if (!enable) {
      this.fcr = 0;
      return;
    }
    if ((byte & Fcr.RX_RESET) !== 0) this.resetRx();
    if ((byte & Fcr.TX_RESET) !== 0) this.resetTx();
    this.fcr = byte & FCR_HELD;
  }

  private resetRx(): void {
    this.rxFifo = [];
    this.rxTimedOut = false;
    this.rxTopErrorsRead = false;
  }

  private resetTx(): void {
    this.txFifo = [];
    // THR is empty now. The datasheet: "the first transmitter interrupt after enabling the FIFO mode will be
    // immediate if that interrupt is enabled"; as QEMU, any TX FIFO reset raises it.
    if ((this.ier & Ier.ETBEI) !== 0) this.thrEmptyPending = true;
  }

  private writeMcr(byte: number, now: Nanoseconds): void {
    if ((byte & ~MCR_WRITABLE) !== 0) this.odd.reservedBitsWritten++;
    const wasLoopback = this.loopback();
    const before = this.msrLines();
    this.mcr = byte & MCR_WRITABLE;
    // In loopback the MCR outputs are the modem inputs, so entering, leaving or changing them sets delta bits
    // ("the modem control interrupts are operational ... sourced by the lower four bits of the MCR", §8.7).
    this.msrDeltas |= deltasOf(before, this.msrLines());
    if (this.loopback() && !wasLoopback) {
      // SIN is disconnected: a host character in flight starts again once loopback ends.
      this.wireDoneAt = IDLE;
    } else if (!this.loopback() && wasLoopback) {
      this.startWire(now);
    }
  }

  private msrLines(): number {
    return this.loopback() ? loopbackLines(this.mcr) : this.modemInputs;
  }

  private lsr(): number {
    let value = this.lineErrors;
    if (this.rxFifo.length > 0) value |= Lsr.DR;
    if (this.txFifo.length === 0) {
      value |= Lsr.THRE;
      if (this.tsr === IDLE) value |= Lsr.TEMT;
    }
    if (this.fifoMode() && this.rxFifoHasUnreadError()) value |= Lsr.RX_FIFO_ERROR;
    return value;
  }

  /** LSR bit 7: an error in the RX FIFO, not counting the oldest character's once LSR has reported it (§8.8). */
  private rxFifoHasUnreadError(): boolean {
    return this.rxFifo.some((entry, i) => ((entry >> 8) & CHARACTER_ERRORS) !== 0 && !(i === 0 && this.rxTopErrorsRead));
  }

  /** The oldest character's PE, FE and BI show in LSR once it is at the top of the FIFO (§8.8). */
  private revealTopErrors(): void {
    const top = this.rxFifo[0];
    if (top !== undefined) this.lineErrors |= (top >> 8) & CHARACTER_ERRORS;
  }

  // --- time -------------------------------------------------------------------------------------

  /** When the character timeout occurs for the characters now in the RX FIFO (FIFO mode), or undefined. */
  private timeoutDeadline(): Nanoseconds | undefined {
    if (!this.fifoMode() || this.rxFifo.length === 0 || this.rxTimedOut) return undefined;
    return this.rxActivityAt + TIMEOUT_CHARACTERS * this.characterTime();
  }

  /** Whether the character timeout is pending at `now`: a pure function of the state and the time. */
  private characterTimeout(now: Nanoseconds): boolean {
    if (!this.fifoMode() || this.rxFifo.length === 0) return false;
    if (this.rxTimedOut) return true;
    const deadline = this.timeoutDeadline();
    return deadline !== undefined && now >= deadline;
  }

  private interruptId(now: Nanoseconds): number {
    const count = this.rxFifo.length;
    return interruptId({
      ier: this.ier,
      lineErrors: this.lineErrors & LSR_LINE_ERRORS,
      characterTimeout: this.characterTimeout(now),
      rxDataAvailable: this.fifoMode() ? count >= triggerLevel(this.fcr) : count > 0,
      thrEmpty: this.thrEmptyPending,
      msrDeltas: this.msrDeltas,
    });
  }

  /**
   * Brings the transmitter and the receiver up to `now`: every character that has finished leaving the
   * TSR or arriving from the line by then is handled at the instant it finished, in time order.
   */
  private advance(now: Nanoseconds): void {
    for (;;) {
      const tx = this.tsrDoneAt;
      const rx = this.wireDoneAt;
      if (tx !== IDLE && tx <= now && (rx === IDLE || tx <= rx)) this.finishTransmit(tx);
      else if (rx !== IDLE && rx <= now) this.finishArrival(rx);
      else return;
    }
  }

  /** Moves the next character from THR / the TX FIFO into the idle TSR. */
  private startTransmit(at: Nanoseconds): void {
    if (this.tsr !== IDLE) return;
    const next = this.txFifo.shift();
    if (next === undefined) return;
    this.tsr = next;
    this.tsrDoneAt = at + (this.timing === 'instant' ? 0 : this.characterTime());
    // THR (the TX FIFO) has just become empty: the THRE interrupt (§8.5).
    if (this.txFifo.length === 0 && (this.ier & Ier.ETBEI) !== 0) this.thrEmptyPending = true;
  }

  private finishTransmit(at: Nanoseconds): void {
    const character = this.tsr & this.wordMask();
    this.tsr = IDLE;
    this.tsrDoneAt = IDLE;
    if (this.loopback()) this.receiveCharacter(character, at); // TSR output looped into the receiver (§8.7)
    else if ((this.lcr & Lcr.SET_BREAK) === 0) this.outbox.push(character); // a break holds SOUT at spacing
    this.startTransmit(at);
  }

  /** Starts the next host character across the line, if the receiver listens (and, with `instant` timing, has room). */
  private startWire(at: Nanoseconds): void {
    if (this.wireDoneAt !== IDLE || this.wire.length === 0 || this.loopback()) return;
    if (this.timing === 'instant') {
      // No line time: the host's characters wait until the receiver has room, as QEMU's backends do.
      const room = this.fifoMode() ? this.rxFifo.length < FIFO_DEPTH : this.rxFifo.length === 0;
      if (!room) return;
      this.wireDoneAt = at;
    } else {
      this.wireDoneAt = at + this.characterTime();
    }
  }

  private finishArrival(at: Nanoseconds): void {
    const entry = this.wire.shift() ?? 0;
    this.wireDoneAt = IDLE;
    this.receiveCharacter((entry & this.wordMask()) | (entry & ~0xff), at);
    this.startWire(at);
  }

  /** A character has been assembled by the receiver shift register at `at`. */
  private receiveCharacter(entry: number, at: Nanoseconds): void {
    // A timeout that occurred before this character is kept: only a CPU read clears it (§8.4).
    if (this.characterTimeout(at)) this.rxTimedOut = true;
    this.rxActivityAt = at;
    if (this.fifoMode()) {
      if (this.rxFifo.length >= FIFO_DEPTH) {
        // Overrun: the character in the shift register is lost, the FIFO is kept (§8.8 OE).
        this.overrun();
        return;
      }
      this.rxFifo.push(entry);
      if (this.rxFifo.length === 1) {
        this.rxTopErrorsRead = false;
        this.revealTopErrors();
      }
      return;
    }
    // 16450 mode: the new character overwrites an unread RBR (§8.8 OE).
    if (this.rxFifo.length > 0) this.overrun();
    this.rxFifo = [entry];
    this.rxTopErrorsRead = false;
    this.revealTopErrors();
  }

  private overrun(): void {
    this.lineErrors |= Lsr.OE;
    this.odd.rxOverruns++;
  }

  /**
   * After an access, a timer or a host call: finish what completed meanwhile (with `instant` timing, the
   * character just written), drive irq 0, re-arm the timer, hand transmitted characters to the host.
   */
  private settle(now: Nanoseconds): void {
    this.advance(now);
    this.driveLine(false, now);
    this.arm(now);
    if (this.outbox.length > 0) {
      const sent = this.outbox;
      this.outbox = [];
      for (const byte of sent) this.sink?.(byte);
    }
  }

  private intr(now: Nanoseconds): boolean {
    return this.interruptId(now) !== Iir.NO_INTERRUPT;
  }

  private driveLine(force: boolean, now: Nanoseconds = this.context.now()): void {
    const level = this.intr(now) && (this.mcr & Mcr.OUT2) !== 0 && !this.loopback();
    if (!force && level === this.lineLevel) return;
    this.lineLevel = level;
    this.context.setIrq(0, level);
  }

  /** The timer runs at the next moment something can change without the guest: a character done, the timeout. */
  private arm(now: Nanoseconds): void {
    let next: Nanoseconds | undefined;
    for (const deadline of [this.tsrDoneAt, this.wireDoneAt]) {
      if (deadline !== IDLE && (next === undefined || deadline < next)) next = deadline;
    }
    // The timeout only matters to the line while ERBFI enables it; a later IER write re-evaluates it.
    // A deadline already passed means the timeout is pending now: nothing left to wait for.
    const timeout = (this.ier & Ier.ERBFI) !== 0 ? this.timeoutDeadline() : undefined;
    if (timeout !== undefined && timeout > now && (next === undefined || timeout < next)) next = timeout;
    if (next === undefined) this.timer.cancel();
    else this.timer.arm(next);
  }

  // --- host side --------------------------------------------------------------------------------

  /** Where transmitted characters go (the console), one call per character as its stop bit ends; undefined drops them. */
  onTransmit(sink: ((byte: number) => void) | undefined): void {
    this.sink = sink;
  }

  /**
   * Queues characters from the host to cross the line to the receiver, one per character time (at once with
   * `instant` timing, as room allows). A receiver FIFO (or RBR) still full when a character completes is an
   * overrun (LSR.OE) and that character is lost. Returns how many were accepted: the queue is bounded.
   */
  receive(bytes: Iterable<number>): number {
    const now = this.context.now();
    this.advance(now);
    let accepted = 0;
    for (const byte of bytes) {
      if (this.wire.length >= this.receiveQueueLimit) break;
      this.wire.push(byte & 0xff);
      accepted++;
    }
    this.startWire(now);
    this.settle(now);
    return accepted;
  }

  /** Queues a break: the line held at spacing for a character time arrives as a 0 character with LSR.BI (as QEMU, without FE). */
  receiveBreak(): boolean {
    return this.queueErroneous(0, Lsr.BI);
  }

  /** Queues a character that arrives with a parity or framing error (a line with mismatched settings, noise). */
  receiveWithError(byte: number, error: 'parity' | 'framing'): boolean {
    return this.queueErroneous(byte & 0xff, error === 'parity' ? Lsr.PE : Lsr.FE);
  }

  private queueErroneous(byte: number, errors: number): boolean {
    const now = this.context.now();
    this.advance(now);
    if (this.wire.length >= this.receiveQueueLimit) return false;
    this.wire.push(byte | (errors << 8));
    this.startWire(now);
    this.settle(now);
    return true;
  }

  /** Characters the host has queued that have not reached the receiver yet. */
  pendingReceive(): number {
    return this.wire.length;
  }

  /** Drives the modem inputs; each change sets its MSR delta bit (RI only when it turns off) and may raise the modem status interrupt. */
  setModemInputs(lines: Partial<ModemLines>): void {
    const now = this.context.now();
    this.advance(now);
    const before = this.msrLines();
    this.modemInputs = modemBits({ ...linesOf(this.modemInputs), ...lines });
    this.msrDeltas |= deltasOf(before, this.msrLines());
    this.settle(now);
  }

  /** The output pins now. In loopback DTR, RTS, OUT1 and OUT2 are forced inactive (§8.7). */
  pins(): Ns16550aPins {
    const now = this.context.now();
    this.advance(now);
    const out = this.loopback() ? 0 : this.mcr;
    const pins = {
      intr: this.intr(now), dtr: (out & Mcr.DTR) !== 0, rts: (out & Mcr.RTS) !== 0, out1: (out & Mcr.OUT1) !== 0,
      out2: (out & Mcr.OUT2) !== 0, break: (this.lcr & Lcr.SET_BREAK) !== 0,
    };
    this.settle(now);
    return pins;
  }

  /** Whether the transmitter holds a character (THR, TX FIFO or TSR): LSR.TEMT clear. */
  transmitterBusy(): boolean {
    this.advance(this.context.now());
    const busy = this.txFifo.length > 0 || this.tsr !== IDLE;
    this.settle(this.context.now());
    return busy;
  }

  // --- state ------------------------------------------------------------------------------------

  getState(): Ns16550aState {
    return {
      model: MODEL, version: VERSION, divisor: this.divisor, ier: this.ier, lcr: this.lcr, mcr: this.mcr, scr: this.scr,
      fcr: this.fcr, lineErrors: this.lineErrors, rxFifo: [...this.rxFifo], rxTopErrorsRead: this.rxTopErrorsRead,
      rbr: this.rbr, rxActivityAt: this.rxActivityAt, rxTimedOut: this.rxTimedOut, txFifo: [...this.txFifo],
      tsr: this.tsr, tsrDoneAt: this.tsrDoneAt, thrEmptyPending: this.thrEmptyPending, modemInputs: this.modemInputs,
      msrDeltas: this.msrDeltas, wire: [...this.wire], wireDoneAt: this.wireDoneAt,
    };
  }

  setState(state: Ns16550aState): void {
    expectState(state, MODEL, VERSION);
    this.divisor = state.divisor & 0xffff;
    this.ier = state.ier & IER_WRITABLE;
    this.lcr = state.lcr & 0xff;
    this.mcr = state.mcr & MCR_WRITABLE;
    this.scr = state.scr & 0xff;
    this.fcr = state.fcr & FCR_HELD;
    this.lineErrors = state.lineErrors & LSR_LINE_ERRORS;
    this.rxFifo = state.rxFifo.slice(0, FIFO_DEPTH);
    this.rxTopErrorsRead = state.rxTopErrorsRead;
    this.rbr = state.rbr & 0xff;
    this.rxActivityAt = state.rxActivityAt;
    this.rxTimedOut = state.rxTimedOut;
    this.txFifo = state.txFifo.slice(0, FIFO_DEPTH);
    this.tsr = state.tsr;
    this.tsrDoneAt = state.tsrDoneAt;
    this.thrEmptyPending = state.thrEmptyPending;
    this.modemInputs = state.modemInputs & MSR_LINES;
    this.msrDeltas = state.msrDeltas & 0x0f;
    this.wire = [...state.wire];
    this.wireDoneAt = state.wireDoneAt;
    this.outbox = [];
    // Re-derive the live handles from the state: the line's level, the timer.
    const now = this.context.now();
    this.advance(now);
    this.driveLine(true, now);
    this.settle(now);
  }

  anomalies(): Readonly<Record<string, number>> {
    return { ...this.odd };
  }
}
