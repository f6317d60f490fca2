/**
 * The local APICs of a machine and the bus that joins them: interrupt
 * messages — from an I/O APIC, an MSI or another APIC's IPI — reach every
 * local APIC whose destination matches (lowest priority: the matching APIC
 * with the lowest arbitration priority, then the lowest APIC ID), and each
 * APIC's EOI goes out to whatever holds the I/O APIC.
 *
 * On its own it is the kernel's half of KVM's split irqchip
 * (KVM_CAP_SPLIT_IRQCHIP): the 8259 pair and the I/O APIC live elsewhere,
 * messages arrive by `deliver` (KVM_SIGNAL_MSI) and level-triggered EOIs
 * leave by `onEoi` (KVM_EXIT_IOAPIC_EOI). `PcInterrupts` joins it to the
 * 8259 pair and I/O APIC of one domain.
 *
 * Output n of the context given here is CPU n's interrupt line.
 */
import type { DeviceContext, TickPacing } from '@splitvisor/abi';
import { withIrqOutputs } from '@splitvisor/abi';
import type { InterruptMessage } from '../interrupt-message.ts';
import { DeliveryMode } from '../ioapic/registers.ts';
import { LocalApic } from './local-apic.ts';

export interface ApicBusConfig {
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
  /** A local APIC's EOI of `vector`; `broadcast` when the vector was level-triggered (its TMR bit set) and not suppressed. */
  readonly onEoi?: (vector: number, broadcast: boolean) => void;
  /** The 8259's interrupt acknowledge cycle, for a CPU taking an ExtINT (none: no 8259 on this bus). */
  readonly extInt?: () => number;
}

export class ApicBus {
  readonly lapics: readonly LocalApic[];
  private readonly extInt: (() => number) | undefined;

  constructor(context: DeviceContext, config: ApicBusConfig = {}) {
    this.extInt = config.extInt;
    const lapics: LocalApic[] = [];
    for (let cpu = 0; cpu < (config.cpus ?? 1); cpu++) {
      const lapicContext = withIrqOutputs(config.lapicContext?.(cpu) ?? context, (_output, level) => { context.setIrq(cpu, level); });
      lapics.push(new LocalApic(lapicContext, {
        apicId: cpu,
        ...(config.busHz === undefined ? {} : { busHz: config.busHz }),
        ...(config.tscHz === undefined ? {} : { tscHz: config.tscHz }),
        ...(config.lapicLostTicks === undefined ? {} : { lostTickPolicy: config.lapicLostTicks }),
        sendIpi: (message) => { this.route(message, cpu); },
        onEoi: (vector, broadcast) => { config.onEoi?.(vector, broadcast); },
      }));
    }
    this.lapics = lapics;
  }

  /** An interrupt message from off the bus: an I/O APIC's, or an MSI (KVM_SIGNAL_MSI). */
  deliver(message: InterruptMessage): void {
    this.route(message, -1);
  }

  /** CPU `cpu` takes its interrupt: from the 8259 when its APIC has only ExtINT pending, else from the APIC. */
  acknowledge(cpu: number): number {
    const lapic = this.lapics[cpu];
    if (lapic === undefined) throw new RangeError(`no CPU ${cpu}`);
    if (this.extInt !== undefined && lapic.deliverableVector() < 0 && lapic.extIntPending) {
      const vector = this.extInt();
      lapic.extIntTaken();
      return vector;
    }
    return lapic.acknowledge();
  }

  /** `message` to the APICs it names; `source` is the sending CPU (-1: from off the bus). */
  private route(message: InterruptMessage, source: number): void {
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
}
