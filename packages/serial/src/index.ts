export type { CharacterTiming, ModemLines, Ns16550aConfig, Ns16550aPins, Ns16550aState } from './ns16550a/ns16550a.ts';
export { Ns16550a } from './ns16550a/ns16550a.ts';
export type { InterruptSources } from './ns16550a/interrupts.ts';
export { interruptId } from './ns16550a/interrupts.ts';
export { baudRate, characterTime, effectiveDivisor, frameHalfBits, triggerLevel } from './ns16550a/framing.ts';
export {
  CHARACTER_ERRORS, CLOCKS_PER_BIT, FCR_HELD, FIFO_DEPTH, Fcr, IER_WRITABLE, Ier, Iir, LSR_LINE_ERRORS, Lcr, Lsr, MCR_WRITABLE,
  MSR_DELTAS, MSR_LINES, Mcr, Msr, RCLK_HZ, RX_TRIGGER_LEVELS, Reg,
} from './ns16550a/registers.ts';
