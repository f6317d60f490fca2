/**
 * The PC's interrupt controllers in one domain (KVM's in-kernel irqchip):
 * the 8259 pair and I/O APIC (`LegacyInterrupts`) joined to the local APICs
 * (`ApicBus`). I/O APIC messages reach the APICs whose destination matches;
 * level-triggered EOIs are broadcast back to the I/O APIC; the 8259's INTR
 * drives the bootstrap processor's LINT0, and a CPU whose APIC has ExtINT
 * pending takes its vector from the 8259's acknowledge cycle.
 *
 * Under KVM's split irqchip the two halves live in different domains and
 * are used on their own.
 *
 * Output n of the context given here is CPU n's interrupt line.
 */
import type { DeviceContext } from '@splitvisor/abi';
import type { PicPair } from './i8259/pic-pair.ts';
import type { InterruptMessage } from './interrupt-message.ts';
import type { Ioapic } from './ioapic/ioapic.ts';
import type { ApicBusConfig } from './lapic/apic-bus.ts';
import { ApicBus } from './lapic/apic-bus.ts';
import type { LocalApic } from './lapic/local-apic.ts';
import type { LegacyInterruptsConfig } from './legacy-interrupts.ts';
import { LegacyInterrupts } from './legacy-interrupts.ts';

export type PcInterruptsConfig = Omit<ApicBusConfig, 'onEoi' | 'extInt'> & Pick<LegacyInterruptsConfig, 'onAck' | 'onUnmask'>;

export class PcInterrupts {
  readonly pic: PicPair;
  readonly ioapic: Ioapic;
  readonly lapics: readonly LocalApic[];
  private readonly legacy: LegacyInterrupts;
  private readonly bus: ApicBus;

  constructor(context: DeviceContext, config: PcInterruptsConfig = {}) {
    const { onAck, onUnmask, ...apics } = config;
    // The 8259 pair and I/O APIC come first (their INTR settles low as they are made, before any APIC hears it).
    const joined: { bus?: ApicBus } = {};
    this.legacy = new LegacyInterrupts(context, {
      apicBus: (message) => { joined.bus?.deliver(message); },
      intr: (level) => { joined.bus?.lapics[0]?.setLint(0, level); },
      ...(onAck === undefined ? {} : { onAck }),
      ...(onUnmask === undefined ? {} : { onUnmask }),
    });
    const bus = new ApicBus(context, { ...apics, onEoi: (vector, broadcast) => { this.legacy.eoi(vector, broadcast); }, extInt: () => this.legacy.acknowledge() });
    joined.bus = bus;
    this.bus = bus;
    this.pic = this.legacy.pic;
    this.ioapic = this.legacy.ioapic;
    this.lapics = this.bus.lapics;
  }

  /** ISA irq 0–15 changing level: to the 8259 and the I/O APIC. */
  setIsaIrq(isaIrq: number, level: boolean): void {
    this.legacy.setIsaIrq(isaIrq, level);
  }

  /** A GSI (I/O APIC input) changing level; those that carry ISA irqs reach the 8259 too (GSI 2 is ISA irq 0). */
  setGsi(gsi: number, level: boolean): void {
    this.legacy.setGsi(gsi, level);
  }

  /** An interrupt message from outside (an MSI). */
  deliver(message: InterruptMessage): void {
    this.bus.deliver(message);
  }

  /** CPU `cpu` takes its interrupt: from the 8259 when its APIC has ExtINT pending, else from the APIC. */
  acknowledge(cpu: number): number {
    return this.bus.acknowledge(cpu);
  }
}
