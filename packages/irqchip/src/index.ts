export type { PicPairConfig, PicPairState } from './i8259/pic-pair.ts';
export { ELCR_WRITABLE, PicPair } from './i8259/pic-pair.ts';
export type { I8259State } from './i8259/pic.ts';
export { CASCADE_IRQ, Icw1, Icw4, Ocw2, Ocw3 } from './i8259/registers.ts';
export type { IoapicConfig, IoapicState } from './ioapic/ioapic.ts';
export { Ioapic } from './ioapic/ioapic.ts';
export type { DestinationShorthand, InterruptMessage } from './interrupt-message.ts';
export { DeliveryMode, IOAPIC_PINS, IoapicIndex, IoapicMmio, Redirection } from './ioapic/registers.ts';
