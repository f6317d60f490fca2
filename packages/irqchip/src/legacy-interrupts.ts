/**
 * The PC's legacy interrupt routing: the 8259 pair and the I/O APIC, fed by
 * the same lines. ISA irq n goes to the 8259's input n and to I/O APIC input
 * n, except irq 0, which goes to input 2 (the ACPI MADT's interrupt source
 * override, as every PC since the MP specification); GSIs 16–23 go to the I/O
 * APIC only. The 8259's INTR leaves by `intr` (to the bootstrap processor's
 * LINT0) and also reaches I/O APIC input 0 (for an ExtINT entry); the I/O
 * APIC's messages leave by `apicBus`.
 *
 * On its own it is userspace's half of KVM's split irqchip: messages go out
 * as MSIs (KVM_SIGNAL_MSI), the 8259's INTR is injected with KVM_INTERRUPT,
 * and level-triggered EOIs come back by `eoi` (KVM_EXIT_IOAPIC_EOI).
 * `PcInterrupts` joins it to the local APICs of one domain.
 *
 * `onAck(gsi)` is the ack notifier for either path — the 8259's EOI (or AEOI)
 * of an ISA irq, named by the I/O APIC input it also reaches, or an EOI of
 * the vector an I/O APIC input is programmed with (as KVM notifies for the
 * PIT's pin 2 whether edge or level). `onUnmask(gsi)` likewise.
 */
import type { DeviceContext } from '@splitvisor/abi';
import { withIrqOutputs } from '@splitvisor/abi';
import { PicPair } from './i8259/pic-pair.ts';
import type { InterruptMessage } from './interrupt-message.ts';
import { Ioapic } from './ioapic/ioapic.ts';
import { IOAPIC_PINS, Redirection } from './ioapic/registers.ts';

export interface LegacyInterruptsConfig {
  /** The I/O APIC's interrupt messages, onto the APIC bus. */
  readonly apicBus: (message: InterruptMessage) => void;
  /** The 8259's INTR output. */
  readonly intr: (level: boolean) => void;
  /** An interrupt from I/O APIC input `gsi` (or the 8259 input of the ISA irq on it) was taken and EOIed. */
  readonly onAck?: (gsi: number) => void;
  /** Called with the I/O APIC input unmasked there, or whose ISA irq was unmasked at the 8259 (KVM's irq mask notifier). */
  readonly onUnmask?: (gsi: number) => void;
}

/** The I/O APIC input an ISA irq arrives on (irq 0 → input 2). */
export function ioapicPinOf(isaIrq: number): number {
  return isaIrq === 0 ? 2 : isaIrq;
}

/** The ISA irq on an I/O APIC input, or -1: input 0 carries the 8259's INTR, inputs 16–23 are PCI. */
export function isaIrqOfPin(pin: number): number {
  if (pin === 2) return 0;
  return pin > 0 && pin < 16 ? pin : -1;
}

export class LegacyInterrupts {
  readonly pic: PicPair;
  readonly ioapic: Ioapic;
  private readonly onAck: ((gsi: number) => void) | undefined;

  constructor(context: DeviceContext, config: LegacyInterruptsConfig) {
    this.onAck = config.onAck;
    this.ioapic = new Ioapic(context, {
      deliver: (message) => { config.apicBus(message); },
      onEoi: () => undefined, // pins are notified from the EOI below, edge and level alike
      onUnmask: (pin) => { config.onUnmask?.(pin); },
    });
    const picContext = withIrqOutputs(context, (_output, level) => {
      config.intr(level);
      this.ioapic.setIrq(0, level);
    });
    this.pic = new PicPair(picContext, { onAck: (irq) => this.onAck?.(ioapicPinOf(irq)), onUnmask: (irq) => config.onUnmask?.(ioapicPinOf(irq)) });
  }

  /** ISA irq 0–15 changing level: to the 8259 and the I/O APIC. */
  setIsaIrq(isaIrq: number, level: boolean): void {
    this.pic.setIrq(isaIrq, level);
    this.ioapic.setIrq(ioapicPinOf(isaIrq), level);
  }

  /** A GSI (I/O APIC input) changing level; those that carry ISA irqs reach the 8259 too (GSI 2 is ISA irq 0). */
  setGsi(gsi: number, level: boolean): void {
    const isaIrq = isaIrqOfPin(gsi);
    if (isaIrq >= 0) this.setIsaIrq(isaIrq, level);
    else this.ioapic.setIrq(gsi, level);
  }

  /** The 8259's interrupt acknowledge cycle: the vector its INTR stands for. */
  acknowledge(): number {
    return this.pic.acknowledge();
  }

  /**
   * A local APIC's EOI of `vector`: a broadcast one (level-triggered)
   * clears the I/O APIC's remote IRR; either way the inputs programmed
   * with the vector hear of it (input 0, the 8259's INTR, hears from the
   * 8259 instead).
   */
  eoi(vector: number, broadcast: boolean): void {
    if (broadcast) this.ioapic.eoi(vector);
    const { entries } = this.ioapic.getState();
    for (let pin = 1; pin < IOAPIC_PINS; pin++) {
      const low = entries[pin]?.[0] ?? Redirection.MASKED;
      if ((low & Redirection.VECTOR_MASK) === vector && (low & Redirection.MASKED) === 0) this.onAck?.(pin);
    }
  }
}
