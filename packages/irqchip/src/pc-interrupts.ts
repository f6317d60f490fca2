/**
 * The PC's interrupt wiring when the 8259 pair, the I/O APIC and the local
 * APICs share a domain (KVM's in-kernel irqchip): ISA irq n goes to the
 * 8259's input n and to I/O APIC input n, except irq 0, which goes to input 2
 * (the ACPI MADT's interrupt source override, as every PC since the MP
 * specification); GSIs 16–23 go to the I/O APIC only. I/O APIC messages and
 * IPIs reach the local APICs whose destination matches (lowest priority: the
 * matching APIC with the lowest arbitration priority, then the lowest APIC
 * ID). Level-triggered EOIs are broadcast back to the I/O APIC. The 8259's
 * INTR drives the bootstrap processor's LINT0, and a CPU whose APIC has
 * ExtINT pending takes its vector from the 8259's acknowledge cycle.
 *
 * Under KVM's split irqchip (KVM_CAP_SPLIT_IRQCHIP) the chips live in two
 * domains, and each half is a PcInterrupts with `split` set: the `apics`
 * half (the kernel's) has the local APICs, takes I/O APIC messages by
 * `deliver` (KVM_SIGNAL_MSI) and sends level-triggered EOIs out by
 * `ioapicEoi` (KVM_EXIT_IOAPIC_EOI); the `legacy` half (userspace's) has the
 * 8259 pair and the I/O APIC, sends messages out by `apicBus`, takes EOIs by
 * `eoi`, and drives output 0 with the 8259's INTR, which its domain injects
 * into the bootstrap processor with KVM_INTERRUPT.
 *
 * Output n of the context given here is CPU n's interrupt line. `onAck(gsi)`
 * is the ack notifier for either path — the 8259's EOI (or AEOI) of an ISA
 * irq, named by the I/O APIC input it also reaches, or the local APIC's EOI
 * of the vector an I/O APIC input is programmed with (as KVM notifies for
 * the PIT's pin 2 whether edge or level). `onUnmask(gsi)` likewise.
 */
import type { DeviceContext, TickPacing } from '@splitvisor/abi';
import { withIrqOutputs } from '@splitvisor/abi';
import { PicPair } from './i8259/pic-pair.ts';
import type { InterruptMessage } from './interrupt-message.ts';
import { Ioapic } from './ioapic/ioapic.ts';
import { DeliveryMode, IOAPIC_PINS, Redirection } from './ioapic/registers.ts';
import { LocalApic } from './lapic/local-apic.ts';

export interface PcInterruptsConfig {
  /** Number of CPUs (default 1); CPU n has APIC ID n. */
  readonly cpus?: number;
  readonly busHz?: number;
  readonly tscHz?: number;
  /**
   * The context CPU n's local APIC takes its time, timer and log from (its
   * interrupt output is always CPU n's line here): a domain names each
   * CPU's timer apart so. Default: the one given.
   */
  readonly lapicContext?: (cpu: number) => DeviceContext;
  /** The local APIC timers' lost-tick policy in periodic mode (default `discard`). */
  readonly lapicLostTicks?: TickPacing;
  /** An interrupt from I/O APIC input `gsi` (or the 8259 input of the ISA irq on it) was taken and EOIed. */
  readonly onAck?: (gsi: number) => void;
  /** Called with the I/O APIC input unmasked there, or whose ISA irq was unmasked at the 8259 (KVM's irq mask notifier). */
  readonly onUnmask?: (gsi: number) => void;
  /** One half of a split irqchip (see above); unset: every chip here. */
  readonly split?: SplitHalf;
}

export type SplitHalf =
  | { readonly half: 'apics'; readonly ioapicEoi: (vector: number) => void }
  | { readonly half: 'legacy'; readonly apicBus: (message: InterruptMessage) => void };

/** The I/O APIC input an ISA irq arrives on (irq 0 → input 2). */
export function ioapicPinOf(isaIrq: number): number {
  return isaIrq === 0 ? 2 : isaIrq;
}

/** The ISA irq on an I/O APIC input, or -1: input 0 carries the 8259's INTR, inputs 16–23 are PCI. */
export function isaIrqOfPin(pin: number): number {
  if (pin === 2) return 0;
  return pin > 0 && pin < 16 ? pin : -1;
}

export class PcInterrupts {
  readonly pic: PicPair;
  readonly ioapic: Ioapic;
  readonly lapics: readonly LocalApic[];
  private readonly onAck: ((gsi: number) => void) | undefined;
  private readonly split: SplitHalf | undefined;

  constructor(context: DeviceContext, config: PcInterruptsConfig = {}) {
    this.onAck = config.onAck;
    this.split = config.split;
    const cpus = config.split?.half === 'legacy' ? 0 : config.cpus ?? 1;
    const lapics: LocalApic[] = [];
    this.lapics = lapics;
    this.ioapic = new Ioapic(context, {
      deliver: (message) => { this.route(message, -1); },
      onEoi: () => undefined, // pins are notified from the LAPIC's EOI below, edge and level alike
      onUnmask: (pin) => { config.onUnmask?.(pin); },
    });
    // The 8259's INTR: to the bootstrap processor's LINT0, and to I/O APIC input 0 (for an ExtINT entry).
    const picContext = withIrqOutputs(context, (_output, level) => {
      if (this.split?.half === 'legacy') context.setIrq(0, level);
      else lapics[0]?.setLint(0, level);
      this.ioapic.setIrq(0, level);
    });
    this.pic = new PicPair(picContext, { onAck: (irq) => this.onAck?.(ioapicPinOf(irq)), onUnmask: (irq) => config.onUnmask?.(ioapicPinOf(irq)) });
    for (let cpu = 0; cpu < cpus; cpu++) {
      const lapicContext = withIrqOutputs(config.lapicContext?.(cpu) ?? context, (_output, level) => { context.setIrq(cpu, level); });
      lapics.push(new LocalApic(lapicContext, {
        apicId: cpu,
        ...(config.busHz === undefined ? {} : { busHz: config.busHz }),
        ...(config.tscHz === undefined ? {} : { tscHz: config.tscHz }),
        ...(config.lapicLostTicks === undefined ? {} : { lostTickPolicy: config.lapicLostTicks }),
        sendIpi: (message) => { this.route(message, cpu); },
        onEoi: (vector, broadcast) => { this.eoi(vector, broadcast); },
      }));
    }
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

  /** An interrupt message from outside (KVM_SIGNAL_MSI into the `apics` half of a split irqchip). */
  deliver(message: InterruptMessage): void {
    this.route(message, -1);
  }

  /** CPU `cpu` takes its interrupt: from the 8259 when its APIC has ExtINT pending, else from the APIC (the `legacy` half: from the 8259). */
  acknowledge(cpu: number): number {
    if (this.split?.half === 'legacy') return this.pic.acknowledge();
    const lapic = this.lapics[cpu];
    if (lapic === undefined) throw new RangeError(`no CPU ${cpu}`);
    if (lapic.deliverableVector() < 0 && lapic.extIntPending) {
      const vector = this.pic.acknowledge();
      lapic.extIntTaken();
      return vector;
    }
    return lapic.acknowledge();
  }

  private route(message: InterruptMessage, source: number): void {
    if (this.split?.half === 'legacy') {
      this.split.apicBus(message);
      return;
    }
    const targets = this.lapics.filter((lapic, index) => {
      switch (message.shorthand) {
        case 'self': return index === source;
        case 'all-including-self': return true;
        case 'all-excluding-self': return index !== source;
        default: return lapic.matchesDestination(message.logical, message.destination);
      }
    });
    if (message.deliveryMode === DeliveryMode.lowestPriority && targets.length > 1) {
      const chosen = targets.reduce((best, lapic) => (lapic.arbitrationPriority() < best.arbitrationPriority() ? lapic : best));
      chosen.accept(message);
      return;
    }
    for (const lapic of targets) lapic.accept(message);
  }

  /** A level-triggered EOI from the local APICs elsewhere (KVM_EXIT_IOAPIC_EOI into the `legacy` half). */
  ioapicEoi(vector: number): void {
    this.eoi(vector, true);
  }

  private eoi(vector: number, broadcast: boolean): void {
    if (this.split?.half === 'apics') {
      if (broadcast) this.split.ioapicEoi(vector);
      return;
    }
    if (broadcast) this.ioapic.eoi(vector);
    const { entries } = this.ioapic.getState();
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const low = entries[pin]?.[0] ?? Redirection.MASKED;
      if ((low & Redirection.VECTOR_MASK) !== vector || (low & Redirection.MASKED) !== 0) continue;
      if (pin > 0) this.onAck?.(pin); // input 0 is the 8259's INTR: its acks come from the 8259
    }
  }
}
