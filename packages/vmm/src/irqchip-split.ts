/**
 * KVM's split irqchip (KVM_CAP_SPLIT_IRQCHIP), one half on each side of the
 * channel: the local APICs in the kernel, taking the I/O APIC's messages as
 * MSIs (KVM_SIGNAL_MSI) and sending level-triggered EOIs out
 * (KVM_EXIT_IOAPIC_EOI); the 8259 pair and I/O APIC in the device host,
 * whose INTR reaches the bootstrap processor as an ExtINT vector the kernel
 * holds until LVT0 accepts it (KVM_INTERRUPT). Each half carries only its
 * own chips.
 */
import type { DeviceHost } from '@splitvisor/devhost';
import { ApicBus, DeliveryMode, LapicReg, LegacyInterrupts, Lvt, fromMsi, toMsi } from '@splitvisor/irqchip';
import type { KernelDomain } from '@splitvisor/kernel';
import { placeOnBoard } from './devices.ts';
import type { HostIrqchipOptions, VmIrqchip, VmIrqchipOptions } from './irqchip-topology.ts';
import { apicPage, boardLines, cpuLines, lapicContexts, notifiers } from './irqchip-topology.ts';

/** The kernel's half: the local APICs, and what each CPU sees of them and of the 8259's queued ExtINT. */
export function splitApics(kernel: KernelDomain, options: VmIrqchipOptions): VmIrqchip {
  const { tscHz, cpus, lapicLostTicks, observers } = options;
  const lines = new Array<boolean>(cpus).fill(false);
  // Only a level-triggered EOI leaves the kernel; an edge-triggered one has nothing in userspace to clear.
  const bus = new ApicBus(cpuLines(kernel, lines, observers), {
    tscHz, cpus, lapicLostTicks, ...lapicContexts(kernel), onEoi: (vector, broadcast) => { if (broadcast) kernel.ioapicEoi(vector); },
  });
  const apics = apicPage(kernel, bus.lapics);
  const bsp = bus.lapics[0];
  kernel.setMsiSink((address, data) => {
    const message = fromMsi({ address, data });
    if (message !== undefined) bus.deliver(message); // outside the FEEx_xxxxh window no APIC decodes it
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
      ? { pending: () => lines[cpu] === true, acknowledge: () => bus.acknowledge(cpu) }
      : { pending: () => external() || lines[0] === true, acknowledge: () => (external() ? kernel.takeQueuedInterrupt() : bus.acknowledge(0)) })),
    externalNext: external,
    apics,
  };
}

/** The device host's half: the 8259 pair and I/O APIC; their messages go to the kernel as MSIs, the 8259's INTR is the host's one CPU line. */
export function splitLegacy(host: DeviceHost, options: HostIrqchipOptions): void {
  const { observers } = options;
  const lines = [false];
  let acknowledging = false;
  const context = cpuLines(host, lines, observers, () => acknowledging);
  const notify = notifiers([host]);
  const chips = new LegacyInterrupts(context, {
    ...notify.config,
    apicBus: (message) => { const msi = toMsi(message); host.signalMsi(msi.address, msi.data); },
    intr: (level) => { context.setIrq(0, level); },
  });
  placeOnBoard(host, 'pic', chips.pic);
  placeOnBoard(host, 'ioapic', chips.ioapic);
  host.hostInterrupts({
    pending: () => lines[0] === true,
    acknowledge: () => {
      acknowledging = true;
      try {
        return chips.acknowledge();
      } finally {
        acknowledging = false;
      }
    },
    ioapicEoi: (vector) => { chips.eoi(vector, true); },
  });
  const select = boardLines(chips, observers);
  notify.bind(select);
  host.routeIrqs(select);
}
