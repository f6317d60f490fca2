/**
 * National Semiconductor PC16550D / NS16550A UART — register layout.
 * Datasheet: PC16550D "Universal Asynchronous Receiver/Transmitter with
 * FIFOs" (National Semiconductor, June 1995), Table II "Summary of
 * Registers", §8.1–8.10; the PC wiring from the IBM PC/AT technical
 * reference, "Serial/Parallel Adapter".
 *
 * Offsets within the `registers` region (the PC puts COM1 at 3F8h):
 *   0: RBR (read) / THR (write); DLL when LCR.DLAB
 *   1: IER; DLM when LCR.DLAB
 *   2: IIR (read) / FCR (write)
 *   3: LCR   4: MCR   5: LSR   6: MSR   7: SCR
 */

export const Reg = {
  RBR: 0,
  THR: 0,
  DLL: 0,
  IER: 1,
  DLM: 1,
  IIR: 2,
  FCR: 2,
  LCR: 3,
  MCR: 4,
  LSR: 5,
  MSR: 6,
  SCR: 7,
} as const;

/** The UART's reference clock on the PC: a 1.8432 MHz crystal, ÷16 per bit: 115 200 baud at divisor 1. */
export const RCLK_HZ = 1_843_200;
/** RCLK cycles per bit time per unit of divisor (the baud generator's 16× clock). */
export const CLOCKS_PER_BIT = 16;
/** Depth of each FIFO (§8.4). */
export const FIFO_DEPTH = 16;

/** IER: 0 0 0 0 | EDSSI ELSI ETBEI ERBFI. Bits 7–4 are always 0 (§8.3). */
export const Ier = {
  /** Received data available (and, in FIFO mode, character timeout). */
  ERBFI: 0x01,
  /** Transmitter holding register empty. */
  ETBEI: 0x02,
  /** Receiver line status. */
  ELSI: 0x04,
  /** Modem status. */
  EDSSI: 0x08,
} as const;
export const IER_WRITABLE = 0x0f;

/**
 * IIR: FIFOs enabled (2 bits) | 0 0 | interrupt ID (3 bits) | 0 = interrupt pending (§8.5, Table IV).
 * The IDs in priority order: line status 6h, received data 4h and character timeout Ch, THR empty 2h, modem status 0h.
 */
export const Iir = {
  NO_INTERRUPT: 0x01,
  ID_MASK: 0x0e,
  LINE_STATUS: 0x06,
  RX_DATA: 0x04,
  CHAR_TIMEOUT: 0x0c,
  THR_EMPTY: 0x02,
  MODEM_STATUS: 0x00,
  /** Bits 7–6: both set while FCR0 is 1 (what tells a 16550A from a 16550 or 16450). */
  FIFOS_ENABLED: 0xc0,
} as const;

/** FCR: RX trigger (2 bits) | reserved (2) | DMA mode | TX FIFO reset | RX FIFO reset | FIFO enable (§8.4). Write only. */
export const Fcr = {
  FIFO_ENABLE: 0x01,
  /** Self-clearing: empties the RX FIFO (not the receiver shift register). */
  RX_RESET: 0x02,
  /** Self-clearing: empties the TX FIFO (not the transmitter shift register). */
  TX_RESET: 0x04,
  /** RXRDY/TXRDY pin mode: stored, has no effect on the registers. */
  DMA_MODE: 0x08,
  TRIGGER_SHIFT: 6,
  TRIGGER_MASK: 0xc0,
} as const;
/** FCR bits that are held (the resets are self-clearing, bits 5–4 reserved). */
export const FCR_HELD: number = Fcr.FIFO_ENABLE | Fcr.DMA_MODE | Fcr.TRIGGER_MASK;
/** RX FIFO trigger levels selected by FCR bits 7–6 (§8.4). */
export const RX_TRIGGER_LEVELS: readonly [1, 4, 8, 14] = [1, 4, 8, 14];

/** LCR: DLAB | set break | stick parity | EPS | PEN | STB | WLS1 WLS0 (§8.6). */
export const Lcr = {
  /** Word length 5 + WLS (bits 1–0). */
  WLS_MASK: 0x03,
  /** One stop bit; set: 1.5 with 5-bit words, else 2. */
  STB: 0x04,
  PEN: 0x08,
  EPS: 0x10,
  STICK_PARITY: 0x20,
  SET_BREAK: 0x40,
  DLAB: 0x80,
} as const;

/** MCR: 0 0 0 | LOOP | OUT2 | OUT1 | RTS | DTR (§8.7). Bits 7–5 are always 0. */
export const Mcr = {
  DTR: 0x01,
  RTS: 0x02,
  OUT1: 0x04,
  /** On the PC, OUT2 enables the adapter's interrupt driver: no OUT2, no COM irq. */
  OUT2: 0x08,
  LOOP: 0x10,
} as const;
export const MCR_WRITABLE = 0x1f;

/** LSR (§8.8). Bits 4–1 are cleared by reading LSR. */
export const Lsr = {
  DR: 0x01,
  OE: 0x02,
  PE: 0x04,
  FE: 0x08,
  BI: 0x10,
  THRE: 0x20,
  TEMT: 0x40,
  /** FIFO mode: at least one parity error, framing error or break in the RX FIFO. */
  RX_FIFO_ERROR: 0x80,
} as const;
/** The LSR bits that raise a receiver line status interrupt. */
export const LSR_LINE_ERRORS: number = Lsr.OE | Lsr.PE | Lsr.FE | Lsr.BI;
/** The error bits a received character carries through the FIFO. */
export const CHARACTER_ERRORS: number = Lsr.PE | Lsr.FE | Lsr.BI;

/** MSR: DCD RI DSR CTS (complements of the input pins) | DDCD TERI DDSR DCTS (§8.9). */
export const Msr = {
  DCTS: 0x01,
  DDSR: 0x02,
  /** Trailing edge of ring indicator: RI went from on to off. */
  TERI: 0x04,
  DDCD: 0x08,
  CTS: 0x10,
  DSR: 0x20,
  RI: 0x40,
  DCD: 0x80,
} as const;
export const MSR_DELTAS = 0x0f;
export const MSR_LINES = 0xf0;
