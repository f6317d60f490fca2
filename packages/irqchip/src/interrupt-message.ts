/**
 * An interrupt message on the APIC bus (or, on later parts, the system bus
 * write to FEE0_0000h): what an I/O APIC or a local APIC's ICR sends, and
 * what the local APICs accept. Intel SDM vol. 3A §11.6 (ICR fields) and the
 * 82093AA redirection entry share these fields.
 */
export type DestinationShorthand = 'none' | 'self' | 'all-including-self' | 'all-excluding-self';

export type InterruptMessage = {
  readonly vector: number;
  /** DeliveryMode: fixed, lowest priority, SMI, NMI, INIT, start-up, ExtINT. */
  readonly deliveryMode: number;
  readonly logical: boolean;
  /** An APIC ID (physical) or a logical destination (8 bits in xAPIC mode). */
  readonly destination: number;
  readonly level: boolean;
  /** Level-triggered (the receiving LAPIC sets TMR, and its EOI is broadcast back). */
  readonly levelTriggered: boolean;
  readonly shorthand: DestinationShorthand;
};
