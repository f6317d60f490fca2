/**
 * The whole irqchip in one domain — the 8259 pair, the I/O APIC and every
 * CPU's local APIC as one `PcInterrupts` — on either side of the channel:
 * in the kernel (KVM_CREATE_IRQCHIP) or the monitor (plex86), every
 * domain's lines reaching it; or in the device host (no in-kernel irqchip),
 * its CPU lines injected through the kernel at irq windows.
 */
import type { DeviceDomain } from '@splitvisor/abi';
import type { DeviceHost } from '@splitvisor/devhost';
import { IOAPIC_PINS, PcInterrupts } from '@splitvisor/irqchip';
import type { KernelDomain } from '@splitvisor/kernel';
import { placeOnBoard } from './devices.ts';
import type { HostIrqchipOptions, VmIrqchip, VmIrqchipOptions } from './irqchip-topology.ts';
import { apicPage, boardLines, cpuLines, lapicContexts, notifiers } from './irqchip-topology.ts';
import { LegacyLine } from './legacy-replacement.ts';

/** The chips in the kernel or the monitor (`domain`); the kernel's and the monitor's lines both reach them. */
export function wholeIrqchip(domain: DeviceDomain, kernel: KernelDomain, monitor: DeviceDomain, options: VmIrqchipOptions): VmIrqchip {
  const { tscHz, cpus, lapicLostTicks, observers } = options;
  const lines = new Array<boolean>(cpus).fill(false);
  const notify = notifiers([kernel, monitor]);
  const chips = new PcInterrupts(cpuLines(domain, lines, observers), { tscHz, cpus, lapicLostTicks, ...lapicContexts(domain), ...notify.config });
  placeOnBoard(domain, 'pic', chips.pic);
  placeOnBoard(domain, 'ioapic', chips.ioapic);
  const apics = apicPage(domain, chips.lapics);
  const gsis = boardLines(chips, observers);
  notify.bind(gsis);
  // The device host's irq lines reach the select: the I/O APIC's GSIs, and the board lines the select takes.
  kernel.routeIrqs(gsis, { gsis: IOAPIC_PINS, boardLines: Object.values(LegacyLine) });
  monitor.routeIrqs(gsis);
  return { interrupts: lines.map((_, cpu) => ({ pending: () => lines[cpu] === true, acknowledge: () => chips.acknowledge(cpu) })), apics };
}

/** Every chip in the device host: the host's lines go to them, their CPU lines are injected through the kernel. */
export function hostWholeIrqchip(host: DeviceHost, options: HostIrqchipOptions): void {
  const { observers } = options;
  const lines = new Array<boolean>(options.cpus ?? 1).fill(false);
  let acknowledging = false;
  const notify = notifiers([host]);
  const chips = new PcInterrupts(cpuLines(host, lines, observers, () => acknowledging), {
    cpus: lines.length, ...notify.config, ...lapicContexts(host), ...(options.tscHz === undefined ? {} : { tscHz: options.tscHz }),
    ...(options.lapicLostTicks === undefined ? {} : { lapicLostTicks: options.lapicLostTicks }),
  });
  placeOnBoard(host, 'pic', chips.pic);
  placeOnBoard(host, 'ioapic', chips.ioapic);
  const apics = apicPage(host, chips.lapics);
  host.hostInterrupts({
    pending: (vcpu) => lines[vcpu] === true,
    acknowledge: (vcpu) => {
      acknowledging = true;
      try {
        return chips.acknowledge(vcpu);
      } finally {
        acknowledging = false;
      }
    },
    serving: (vcpu) => { apics.select(vcpu); },
  });
  const select = boardLines(chips, observers);
  notify.bind(select);
  host.routeIrqs(select);
}
