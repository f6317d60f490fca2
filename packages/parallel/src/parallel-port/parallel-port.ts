/**
 * The IBM PC's parallel printer adapter (IBM Personal Computer Technical
 * Reference, "Printer Adapter": the data latch, the printer status and the
 * printer control ports; IBM Personal System/2 Hardware Interface Technical
 * Reference, "Parallel Port", for the direction bit of its extended mode):
 * the three registers IEEE 1284 calls the Standard Parallel Port (SPP), as
 * LPT1 of QEMU's `pc` machine (378h–37Ah, irq 7), with no printer attached.
 *
 *   offset 0  data     write: the data latch, driven onto the data pins while the port
 *                      outputs. Read: the latch while the port outputs (control bit 5
 *                      clear); while it inputs, the data pins themselves, which nothing
 *                      drives: FFh.
 *   offset 1  status   read only. Bit 7 BUSY (the pin inverted: 1 = not busy), bit 6 nACK,
 *                      bit 5 PE (paper end), bit 4 SLCT, bit 3 nERROR; bits 2–0 unused.
 *   offset 2  control  bit 0 STROBE, bit 1 AUTOFD, bit 2 nINIT (0 initialises the printer),
 *                      bit 3 SELECTIN, bit 4 IRQ enable (the acknowledge pulse interrupts),
 *                      bit 5 direction (1: the data pins are inputs); bits 7–6 unused, read
 *                      as 1.
 *
 * No printer is attached: what the adapter drives reaches nothing, and no
 * printer drives the status pins or the acknowledge pulse. So a strobe sends
 * nothing, the status never changes and the interrupt is never raised,
 * whatever bit 4 says (the board wires output 0 to irq 7 all the same). The
 * levels the datasheet leaves open — the status pins with nothing on the
 * cable, the latches at power-on, the unused bits — are QEMU's (its
 * `isa-parallel`, hw/char/parallel.c, as the shared traces record it):
 * status D9h (not busy, no acknowledge, selected, no error, bit 0 set),
 * control CCh (nINIT and SELECTIN high, bits 7–6 set), the data latch FFh,
 * the data pins read as inputs FFh. SeaBIOS's `lpt_setup` finds the port
 * by clearing the direction bit and reading back the AAh it wrote.
 *
 * Region `registers` (3 ports, byte accesses; a wider guest access is split
 * by the bus). Reads have no side effect. The writes the hardware takes and
 * nothing sees are counted: to the read-only status port, and to the data
 * latch while the pins are inputs.
 */
import type { AccessSize, Device, IoRegion } from '@splitvisor/abi';
import { expectState } from '@splitvisor/abi';

/** The SPP's registers, by offset in the region. */
export const ParallelRegister = {
  DATA: 0,
  STATUS: 1,
  CONTROL: 2,
} as const;

/** The status port's bits (BUSY reads 1 when the printer is not busy; nACK and nERROR are active low). */
export const Status = {
  /** Bit 0: unused on the IBM adapter (later parts' EPP timeout); set in QEMU's. */
  UNUSED_0: 0x01,
  /** Bit 3: nERROR, 1 while there is no error. */
  NOT_ERROR: 0x08,
  /** Bit 4: SLCT, the printer is selected (online). */
  SELECT: 0x10,
  /** Bit 5: PE, paper end. */
  PAPER_END: 0x20,
  /** Bit 6: nACK, 0 during the acknowledge pulse. */
  NOT_ACK: 0x40,
  /** Bit 7: BUSY inverted, 1 while the printer is not busy. */
  NOT_BUSY: 0x80,
} as const;

/** The control register's bits. */
export const Control = {
  /** Bit 0: STROBE, 1 asserts the strobe pin (the printer takes the data byte). */
  STROBE: 0x01,
  /** Bit 1: AUTOFD, auto line feed. */
  AUTO_FEED: 0x02,
  /** Bit 2: nINIT, 0 initialises the printer. */
  NOT_INIT: 0x04,
  /** Bit 3: SELECTIN, selects the printer. */
  SELECT_IN: 0x08,
  /** Bit 4: IRQ enable, the acknowledge pulse raises the adapter's interrupt. */
  IRQ_ENABLE: 0x10,
  /** Bit 5: direction (PS/2 extended mode), 1 makes the data pins inputs. */
  DIRECTION: 0x20,
} as const;

/** The control bits that are latched: bits 5–0. */
export const CONTROL_BITS = 0x3f;
/** Control bits 7–6 are unused and read as 1 (QEMU's, and the value SeaBIOS reads first in the shared traces). */
export const CONTROL_READS_SET = 0xc0;

/** The status pins with no printer attached: QEMU's power-on status (not busy, no acknowledge, selected, no error, bit 0 set). */
export const NO_PRINTER_STATUS = 0xd9;
/** The data pins as inputs with nothing driving them, and the data latch at power-on (QEMU's FFh for both). */
export const FLOATING_DATA = 0xff;
/** The control register at power-on: nINIT and SELECTIN high, bits 7–6 set (CCh: QEMU's, the seabios-post trace's first read). */
export const POWER_ON_CONTROL = 0xcc;

export type ParallelPortState = {
  readonly model: 'parallel-port';
  readonly version: 1;
  /** The data latch: the byte last written to the data port (FFh at power-on). */
  readonly data: number;
  /** Control bits 5–0 as last written (0Ch at power-on); bits 7–6 are not latched. */
  readonly control: number;
};

const MODEL = 'parallel-port';
const VERSION = 1;

const REGIONS: readonly IoRegion[] = [{ name: 'registers', space: 'port', length: 3, sizes: [1] }];

export class ParallelPort implements Device<ParallelPortState> {
  readonly model: 'parallel-port' = MODEL;
  readonly regions: readonly IoRegion[] = REGIONS;
  private data = FLOATING_DATA;
  private control = POWER_ON_CONTROL & CONTROL_BITS;
  private readonly odd = { ignoredWrites: 0, dataWritesWhileInput: 0, unacceptedAccesses: 0 };

  read(region: string, offset: number, size: AccessSize): number {
    if (!this.mine(region, offset, size)) return 0xff;
    switch (offset) {
      case ParallelRegister.DATA:
        return this.inputs() ? FLOATING_DATA : this.data;
      case ParallelRegister.STATUS:
        return NO_PRINTER_STATUS;
      default:
        return this.control | CONTROL_READS_SET;
    }
  }

  write(region: string, offset: number, size: AccessSize, value: number): void {
    if (!this.mine(region, offset, size)) return;
    const byte = value & 0xff;
    switch (offset) {
      case ParallelRegister.DATA:
        // The latch takes the byte either way; while the pins are inputs it is not driven until bit 5 clears.
        if (this.inputs()) this.odd.dataWritesWhileInput++;
        this.data = byte;
        return;
      case ParallelRegister.STATUS:
        this.odd.ignoredWrites++; // read-only: nothing latches it
        return;
      default:
        // A strobe, an initialise or a select reach no printer, and no acknowledge comes back to interrupt.
        this.control = byte & CONTROL_BITS;
    }
  }

  private mine(region: string, offset: number, size: AccessSize): boolean {
    if (region === 'registers' && offset >= 0 && offset <= ParallelRegister.CONTROL && Number.isInteger(offset) && size === 1) return true;
    this.odd.unacceptedAccesses++;
    return false;
  }

  /** Whether the data pins are inputs (control bit 5). */
  private inputs(): boolean {
    return (this.control & Control.DIRECTION) !== 0;
  }

  // --- host side --------------------------------------------------------------------------------

  /** The byte in the data latch: what the pins carry while the port outputs. */
  latch(): number {
    return this.data;
  }

  // --- state ------------------------------------------------------------------------------------

  getState(): ParallelPortState {
    return { model: MODEL, version: VERSION, data: this.data, control: this.control };
  }

  setState(state: ParallelPortState): void {
    expectState(state, MODEL, VERSION);
    this.data = state.data & 0xff;
    this.control = state.control & CONTROL_BITS;
    // No irq output to re-drive: with no printer the adapter never raises it.
  }

  anomalies(): Readonly<Record<string, number>> {
    return { ...this.odd };
  }
}
