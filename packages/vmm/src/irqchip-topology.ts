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
 *
 * The chips themselves are wired by the parts a domain's build carries
 * (`irqchip-whole.ts`, `irqchip-split.ts`): a build for one placement
 * carries only the parts its domains hold.
 */
import type { DeviceContext, DeviceDomain, TickPacing } from '@splitvisor/abi';
import { withIrqOutputs } from '@splitvisor/abi';
import type { DeviceHost } from '@splitvisor/devhost';
import type { LegacyInterruptsConfig, LocalApic, LocalApicState } from '@splitvisor/irqchip';
import { LocalApicWindow } from '@splitvisor/irqchip';
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
export const lapicContexts = (domain: DeviceDomain) => ({ lapicContext: (cpu: number) => domain.context(`lapic#${cpu}`, () => 0) });

/**
 * Every CPU's local APIC at the one APIC page of `domain`: the running
 * vCPU's (or, in the device host, the one whose exit is served). Each one's
 * state is reachable by its own name too (`lapic#n`), whichever is selected:
 * a snapshot takes them all.
 */
export function apicPage(domain: DeviceDomain, lapics: readonly LocalApic[]): LocalApicWindow {
  const apics = new LocalApicWindow(lapics);
  placeOnBoard(domain, 'lapic', apics);
  lapics.forEach((lapic, cpu) => {
    domain.register({ name: `lapic#${cpu}`, getState: () => lapic.getState(), setState: (state) => { lapic.setState(state as LocalApicState); } });
  });
  return apics;
}

/** Each CPU's interrupt line out of an irqchip placed in `domain`, observed. */
export function cpuLines(domain: DeviceDomain, lines: boolean[], observers: IrqObservers, acknowledging: () => boolean = () => false): DeviceContext {
  return withIrqOutputs(domain.context('irqchip', () => 0), (cpu, level) => {
    lines[cpu] = level;
    observers.cpuLine?.(cpu, level, acknowledging());
  });
}

/** The board's lines into `chips`, through the legacy replacement select (one per irqchip: every domain's devices feed it). */
export function boardLines(chips: { setGsi(gsi: number, level: boolean): void }, observers: IrqObservers): LegacySelect {
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
export function notifiers(domains: readonly DeviceDomain[]): { readonly config: Pick<LegacyInterruptsConfig, 'onAck' | 'onUnmask'>; bind(select: LegacySelect): void } {
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

/** What the kernel's and the monitor's side of the irqchip is given. */
export interface VmIrqchipOptions {
  readonly tscHz: number;
  readonly cpus: number;
  readonly lapicLostTicks: TickPacing;
  readonly observers: IrqObservers;
}

/** What the device host's side of the irqchip is given. */
export interface HostIrqchipOptions {
  readonly tscHz?: number;
  readonly cpus?: number;
  readonly lapicLostTicks?: TickPacing;
  readonly observers: IrqObservers;
}

/** The 8259 pair, I/O APIC and local APICs wired in `domain` (in-kernel or monitor), every domain's lines reaching them. */
export type WireWholeIrqchip = (domain: DeviceDomain, kernel: KernelDomain, monitor: DeviceDomain, options: VmIrqchipOptions) => VmIrqchip;
/** The local APICs of a split irqchip, in the kernel. */
export type WireSplitApics = (kernel: KernelDomain, options: VmIrqchipOptions) => VmIrqchip;
/** Every chip in the device host (a userspace irqchip), or its legacy half (the 8259 pair and I/O APIC of a split one). */
export type WireHostIrqchip = (host: DeviceHost, options: HostIrqchipOptions) => void;

/** The irqchip parts a kernel's or monitor's build can hold. */
export interface VmIrqchipParts {
  /** All three chips (the in-kernel irqchip; plex86's in the monitor). */
  readonly whole?: WireWholeIrqchip;
  /** The local APICs of a split irqchip (the kernel only). */
  readonly apics?: WireSplitApics;
}

/** The irqchip parts a device host's build can hold. */
export interface HostIrqchipParts {
  /** All three chips (no KVM_CREATE_IRQCHIP). */
  readonly whole?: WireHostIrqchip;
  /** The 8259 pair and I/O APIC of a split irqchip. */
  readonly legacy?: WireHostIrqchip;
}

/** A part the topology needs that the build of its domain does not carry: a build for another placement. */
function missing(part: string, where: string): never {
  throw new VmError(`this build has no ${part} in the ${where} (it was built for another placement)`);
}

/** Refuses, before anything is made, a build without the parts `topology` needs. */
export function checkIrqchipParts(topology: IrqchipTopology, build: { readonly kernel: { readonly irqchip: VmIrqchipParts }; readonly monitor: { readonly irqchip: VmIrqchipParts }; readonly devhost: { readonly irqchip: HostIrqchipParts } }): void {
  switch (topology) {
    case 'in-kernel': if (build.kernel.irqchip.whole === undefined) missing('irqchip', 'kernel'); break;
    case 'monitor': if (build.monitor.irqchip.whole === undefined) missing('irqchip', 'monitor'); break;
    case 'userspace': if (build.devhost.irqchip.whole === undefined) missing('irqchip', 'device host'); break;
    case 'split':
      if (build.kernel.irqchip.apics === undefined) missing('local APICs', 'kernel');
      if (build.devhost.irqchip.legacy === undefined) missing('8259 pair and I/O APIC', 'device host');
      break;
  }
}

/** The kernel's and the monitor's side of the topology: the parts placed there, from their builds, and what each CPU sees. */
export function wireVmIrqchip(topology: IrqchipTopology, kernel: KernelDomain, monitor: DeviceDomain, options: VmIrqchipOptions, build: { readonly kernel: { readonly irqchip: VmIrqchipParts }; readonly monitor: { readonly irqchip: VmIrqchipParts } }): VmIrqchip {
  kernel.setVcpus(options.cpus); // the vCPUs a KVM_INTERRUPT may name
  switch (topology) {
    case 'userspace':
      return {
        interrupts: Array.from({ length: options.cpus }, (_, cpu) => ({ pending: () => kernel.hasQueuedInterrupt(cpu), acknowledge: () => kernel.takeQueuedInterrupt(cpu) })),
        apics: undefined,
      };
    case 'split': return (build.kernel.irqchip.apics ?? missing('local APICs', 'kernel'))(kernel, options);
    case 'in-kernel': return (build.kernel.irqchip.whole ?? missing('irqchip', 'kernel'))(kernel, kernel, monitor, options);
    case 'monitor': return (build.monitor.irqchip.whole ?? missing('irqchip', 'monitor'))(monitor, kernel, monitor, options);
  }
}

/**
 * The device host's side: with a userspace or split irqchip, the 8259 pair
 * and I/O APIC hosted there (and, all in userspace, every local APIC), from
 * the host's build. The same function runs in-thread and in the device
 * host's worker.
 */
export function wireHostIrqchip(topology: IrqchipTopology, host: DeviceHost, options: HostIrqchipOptions, parts: HostIrqchipParts): void {
  if (topology === 'userspace') (parts.whole ?? missing('irqchip', 'device host'))(host, options);
  else if (topology === 'split') (parts.legacy ?? missing('8259 pair and I/O APIC', 'device host'))(host, options);
}
