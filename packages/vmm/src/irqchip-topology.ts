/**
 * The interrupt controllers of a placement, derived from it and the board in
 * this one place: where the 8259 pair, the I/O APIC and the local APICs go,
 * how every domain's lines reach them, and what each CPU sees of them.
 * KVM's rules, as its ioctls define them (Documentation/virt/kvm/api.rst):
 *
 * - **in-kernel** (KVM_CREATE_IRQCHIP): all three in the kernel; the device
 *   host's lines arrive by KVM_IRQ_LINE.
 * - **monitor** (plex86, seed 000): all three in the monitor, every domain's
 *   lines reaching them directly or by KVM_IRQ_LINE.
 * - **userspace** (no KVM_CREATE_IRQCHIP): all three in the device host,
 *   which injects with KVM_INTERRUPT at irq windows and takes `hlt`
 *   (KVM_EXIT_HLT); the kernel only holds each vCPU's queued vector.
 * - **split** (KVM_CAP_SPLIT_IRQCHIP): the local APICs in the kernel, the
 *   8259 pair and I/O APIC in the device host, joined by KVM_SIGNAL_MSI and
 *   KVM_EXIT_IOAPIC_EOI; the 8259's INTR reaches the bootstrap processor as
 *   an ExtINT vector the kernel holds until LVT0 accepts it.
 *
 * Devices in the kernel or the monitor can drive only an irqchip there: with
 * the 8259 and I/O APIC in userspace, nothing else may be placed inside.
 */
import type { DeviceContext, DeviceDomain, TickPacing } from '@splitvisor/abi';
import { withIrqOutputs } from '@splitvisor/abi';
import type { DeviceHost } from '@splitvisor/devhost';
import type { PcInterruptsConfig } from '@splitvisor/irqchip';
import { DeliveryMode, LapicReg, LocalApicWindow, Lvt, PcInterrupts, fromMsi, toMsi } from '@splitvisor/irqchip';
import type { KernelDomain } from '@splitvisor/kernel';
import type { InterruptSource } from '@splitvisor/monitor';
import type { DeviceName, Placement } from '@splitvisor/placement';
import { irqchipMode } from '@splitvisor/placement';
import { IRQCHIP_PARTS } from './board.ts';
import { placeOnBoard } from './devices.ts';
import type { LegacySelect } from './legacy-replacement.ts';
import { legacyReplacement } from './legacy-replacement.ts';
import { VmError } from './vm-error.ts';

export type IrqchipTopology = 'in-kernel' | 'monitor' | 'userspace' | 'split';

/** The placement's irqchip topology, or a VmError naming why it cannot be wired. */
export function irqchipTopology(placement: Placement, unmodelled: readonly DeviceName[]): IrqchipTopology {
  const mode = irqchipMode(placement);
  if (mode === 'mixed') {
    throw new VmError(`${placement.name}: the 8259, I/O APIC and local APIC must share a domain, or be split with the local APIC in the kernel and the others in userspace`);
  }
  if (mode === 'userspace' || mode === 'split') {
    const stray = (Object.entries(placement.devices) as [DeviceName, string][])
      .find(([name, at]) => (at === 'kernel' || at === 'monitor') && !IRQCHIP_PARTS.includes(name) && !unmodelled.includes(name));
    if (stray !== undefined) throw new VmError(`${placement.name}: ${stray[0]} in the ${stray[1]} cannot raise its irq line into an 8259 and I/O APIC in userspace`);
  }
  return mode;
}

/** What the VM's thread observes of its irqchip: the lines at its inputs, and the bootstrap processor's INTR. */
export interface IrqObservers {
  /** A level change at an irqchip input (a GSI, after the legacy replacement select). */
  readonly irq?: (gsi: number, level: boolean) => void;
  /** CPU `cpu`'s interrupt line; `acknowledged` when it fell because the vector was taken for injection. */
  readonly cpuLine?: (cpu: number, level: boolean, acknowledged: boolean) => void;
}

export interface VmIrqchip {
  /** What each CPU sees of the irqchip, by vCPU index. */
  readonly interrupts: readonly InterruptSource[];
  /**
   * Split irqchip: whether the bootstrap processor's next interrupt is the
   * 8259's, which userspace queued with KVM_INTERRUPT (ExtINT through LVT0),
   * rather than its local APIC's own.
   */
  readonly externalNext?: () => boolean;
  /** Every CPU's local APIC at the one APIC page, when they are in this thread's domains. */
  readonly apics: LocalApicWindow | undefined;
}

/** CPU n's local APIC is named `lapic#n` in its domain: its timer's lateness and a timer exit are told apart by vCPU. */
export const LAPIC_OF_CPU = /^lapic#(\d+)$/;
const lapicContexts = (domain: DeviceDomain) => ({ lapicContext: (cpu: number) => domain.context(`lapic#${cpu}`, () => 0) });

/** Each CPU's interrupt line out of an irqchip placed in `domain`, observed. */
function cpuLines(domain: DeviceDomain, lines: boolean[], observers: IrqObservers, acknowledging: () => boolean = () => false): DeviceContext {
  return withIrqOutputs(domain.context('irqchip', () => 0), (cpu, level) => {
    lines[cpu] = level;
    observers.cpuLine?.(cpu, level, acknowledging());
  });
}

/** The board's lines into `chips`, through the legacy replacement select (one per irqchip: every domain's devices feed it). */
function boardLines(chips: PcInterrupts, observers: IrqObservers): LegacySelect {
  return legacyReplacement((gsi, level) => {
    observers.irq?.(gsi, level);
    chips.setGsi(gsi, level);
  });
}

/**
 * The irqchip's ack and mask notifiers, back to the devices of `domains`
 * that raised the board lines feeding the GSI (KVM's irq ack notifier: a
 * PIT pacing re-injection hears of each tick taken). Bound once the select
 * exists, which comes after the chips it feeds.
 */
function notifiers(domains: readonly DeviceDomain[]): { readonly config: Pick<PcInterruptsConfig, 'onAck' | 'onUnmask'>; bind(select: LegacySelect): void } {
  let select: LegacySelect | undefined;
  const each = (gsi: number, tell: (domain: DeviceDomain, line: number) => void) => {
    for (const line of select?.linesInto(gsi) ?? []) for (const domain of domains) tell(domain, line);
  };
  return {
    config: {
      onAck: (gsi) => { each(gsi, (domain, line) => { domain.acknowledged(line); }); },
      onUnmask: (gsi) => { each(gsi, (domain, line) => { domain.unmasked(line); }); },
    },
    bind: (chosen) => { select = chosen; },
  };
}

/** The kernel's and the monitor's side of the topology: the parts placed there, and what each CPU sees. */
export function wireVmIrqchip(topology: IrqchipTopology, kernel: KernelDomain, monitor: DeviceDomain, options: { readonly tscHz: number; readonly cpus: number; readonly lapicLostTicks: TickPacing; readonly observers: IrqObservers }): VmIrqchip {
  const { tscHz, cpus, lapicLostTicks, observers } = options;
  const lines = new Array<boolean>(cpus).fill(false);
  const window = (domain: DeviceDomain, chips: PcInterrupts) => {
    const apics = new LocalApicWindow(chips.lapics);
    placeOnBoard(domain, 'lapic', apics);
    return apics;
  };
  switch (topology) {
    case 'userspace':
      return {
        interrupts: lines.map((_, cpu) => ({ pending: () => kernel.hasQueuedInterrupt(cpu), acknowledge: () => kernel.takeQueuedInterrupt(cpu) })),
        apics: undefined,
      };
    case 'split': {
      const chips = new PcInterrupts(cpuLines(kernel, lines, observers), {
        tscHz, cpus, lapicLostTicks, ...lapicContexts(kernel), split: { half: 'apics', ioapicEoi: (vector) => { kernel.ioapicEoi(vector); } },
      });
      const apics = window(kernel, chips);
      const bsp = chips.lapics[0];
      kernel.setMsiSink((address, data) => {
        const message = fromMsi({ address, data });
        if (message !== undefined) chips.deliver(message); // outside the FEEx_xxxxh window no APIC decodes it
      });
      // kvm_apic_accept_pic_intr: LVT0 unmasked in ExtINT mode; kvm_cpu_get_interrupt then takes the 8259's
      // vector before the APIC's own.
      const acceptsPic = () => {
        const lint0 = bsp?.read('registers', LapicReg.LVT_LINT0, 4) ?? Lvt.MASKED;
        return (lint0 & Lvt.MASKED) === 0 && ((lint0 >> Lvt.DELIVERY_MODE_SHIFT) & Lvt.DELIVERY_MODE_MASK) === DeliveryMode.extInt;
      };
      const external = () => kernel.hasQueuedInterrupt() && acceptsPic();
      return {
        interrupts: lines.map((_, cpu) => (cpu > 0
          ? { pending: () => lines[cpu] === true, acknowledge: () => chips.acknowledge(cpu) }
          : { pending: () => external() || lines[0] === true, acknowledge: () => (external() ? kernel.takeQueuedInterrupt() : chips.acknowledge(0)) })),
        externalNext: external,
        apics,
      };
    }
    case 'in-kernel':
    case 'monitor': {
      const domain = topology === 'monitor' ? monitor : kernel;
      const notify = notifiers([kernel, monitor]);
      const chips = new PcInterrupts(cpuLines(domain, lines, observers), { tscHz, cpus, lapicLostTicks, ...lapicContexts(domain), ...notify.config });
      placeOnBoard(domain, 'pic', chips.pic);
      placeOnBoard(domain, 'ioapic', chips.ioapic);
      const apics = window(domain, chips);
      const gsis = boardLines(chips, observers);
      notify.bind(gsis);
      kernel.routeIrqs(gsis);
      monitor.routeIrqs(gsis);
      return { interrupts: lines.map((_, cpu) => ({ pending: () => lines[cpu] === true, acknowledge: () => chips.acknowledge(cpu) })), apics };
    }
  }
}

/**
 * The device host's side: with a userspace or split irqchip, the 8259 pair
 * and I/O APIC hosted there (and, all in userspace, every local APIC), the
 * host's lines going to them, their CPU line injected through the kernel.
 * The same function runs in-thread and in the device host's worker.
 */
export function wireHostIrqchip(topology: IrqchipTopology, host: DeviceHost, options: { readonly tscHz?: number; readonly cpus?: number; readonly lapicLostTicks?: TickPacing; readonly observers: IrqObservers }): void {
  if (topology !== 'userspace' && topology !== 'split') return;
  const { observers } = options;
  // The split irqchip's legacy half has one CPU line: the 8259's INTR, the bootstrap processor's.
  const cpus = topology === 'split' ? 1 : options.cpus ?? 1;
  const lines = new Array<boolean>(cpus).fill(false);
  let acknowledging = false;
  const context = cpuLines(host, lines, observers, () => acknowledging);
  const notify = notifiers([host]);
  const chips = topology === 'split'
    ? new PcInterrupts(context, { ...notify.config, split: { half: 'legacy', apicBus: (message) => { const msi = toMsi(message); host.signalMsi(msi.address, msi.data); } } })
    : new PcInterrupts(context, {
      cpus, ...notify.config, ...lapicContexts(host), ...(options.tscHz === undefined ? {} : { tscHz: options.tscHz }),
      ...(options.lapicLostTicks === undefined ? {} : { lapicLostTicks: options.lapicLostTicks }),
    });
  placeOnBoard(host, 'pic', chips.pic);
  placeOnBoard(host, 'ioapic', chips.ioapic);
  // Every CPU's local APIC at the one APIC page: the one of the vCPU whose exit is being served.
  const apics = chips.lapics.length === 0 ? undefined : new LocalApicWindow(chips.lapics);
  if (apics !== undefined) placeOnBoard(host, 'lapic', apics);
  const acknowledge = (vcpu: number) => {
    acknowledging = true;
    try {
      return chips.acknowledge(vcpu);
    } finally {
      acknowledging = false;
    }
  };
  host.hostInterrupts({
    pending: (vcpu) => lines[vcpu] === true,
    acknowledge,
    ...(apics === undefined ? {} : { serving: (vcpu: number) => { apics.select(vcpu); } }),
    ioapicEoi: (vector) => { chips.ioapicEoi(vector); },
  });
  const select = boardLines(chips, observers);
  notify.bind(select);
  host.routeIrqs(select);
}
