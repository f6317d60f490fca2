/**
 * Interrupt identification: which pending, enabled source the IIR reports.
 * PC16550D §8.5, Table IV "Interrupt Control Functions": one output (INTR)
 * and four prioritised sources — receiver line status, received data
 * available / character timeout, transmitter holding register empty, modem
 * status. A pure function of the sources, so the device, its IIR read and
 * its irq line can never disagree.
 */
import { Ier, Iir, LSR_LINE_ERRORS } from './registers.ts';

export interface InterruptSources {
  readonly ier: number;
  /** LSR bits OE, PE, FE, BI awaiting an LSR read. */
  readonly lineErrors: number;
  /** FIFO mode: the character timeout has occurred and no character has been read since. */
  readonly characterTimeout: boolean;
  /** FIFO mode: the RX FIFO holds at least the trigger level; 16450 mode: RBR holds a character (DR). */
  readonly rxDataAvailable: boolean;
  /** The THRE interrupt is pending: THR (TX FIFO) became empty, or ETBEI was set while it was, and neither an IIR read that reported it nor a THR write has cleared it. */
  readonly thrEmpty: boolean;
  /** MSR delta bits not yet read. */
  readonly msrDeltas: number;
}

/**
 * IIR bits 3–0: the highest-priority enabled source, or NO_INTERRUPT. Both
 * level-2 sources pending at once report the character timeout first (the
 * datasheet ranks them equal; QEMU reports the timeout, and either way the
 * driver drains the FIFO).
 */
export function interruptId(s: InterruptSources): number {
  if ((s.ier & Ier.ELSI) !== 0 && (s.lineErrors & LSR_LINE_ERRORS) !== 0) return Iir.LINE_STATUS;
  if ((s.ier & Ier.ERBFI) !== 0) {
    if (s.characterTimeout) return Iir.CHAR_TIMEOUT;
    if (s.rxDataAvailable) return Iir.RX_DATA;
  }
  if ((s.ier & Ier.ETBEI) !== 0 && s.thrEmpty) return Iir.THR_EMPTY;
  if ((s.ier & Ier.EDSSI) !== 0 && s.msrDeltas !== 0) return Iir.MODEM_STATUS;
  return Iir.NO_INTERRUPT;
}
