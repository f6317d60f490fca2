/**
 * The device host's half of a VM: its devices and, when the placement puts
 * them in userspace, the 8259 pair and I/O APIC (all the irqchip, or the
 * legacy half of a split one). The same function runs in-thread (modelled
 * mode) and in the device host's worker (live mode), so both hold the same
 * devices wired the same way.
 */
import { withIrqOutputs } from '@splitvisor/abi';
import type { DeviceHost } from '@splitvisor/devhost';
import { LocalApicWindow, PcInterrupts, toMsi } from '@splitvisor/irqchip';
import type { Placement } from '@splitvisor/placement';
import { irqchipMode } from '@splitvisor/placement';
import { IRQCHIP_REGIONS } from './board.ts';
import { legacyReplacement } from './legacy-replacement.ts';
import type { BoardOptions, Release } from './devices.ts';
import { createDevices } from './devices.ts';

/** In-thread observers of what happens inside the device host (modelled mode only). */
export interface HostObservers {
  /** A level change at an irqchip input hosted here. */
  readonly irq?: (gsi: number, level: boolean) => void;
  /** The guest's console: each byte COM1 transmits. */
  readonly console?: (byte: number) => void;
  /** The CPU's interrupt line from an irqchip hosted here; `acknowledged` when it fell because the host took the vector to inject. */
  readonly cpuLine?: (level: boolean, acknowledged: boolean) => void;
}

/** Assembles the host's half; what it opened is pushed onto `releases` (flush and close when the VM stops). */
export function assembleDeviceHost(host: DeviceHost, placement: Placement, observers: HostObservers = {}, board: BoardOptions = {}, releases: Release[] = []): void {
  const mode = irqchipMode(placement);
  if (mode === 'userspace' || mode === 'split') {
    // Each CPU's interrupt line (the split irqchip's legacy half has one: the 8259's INTR, the bootstrap processor's).
    const cpus = mode === 'split' ? 1 : board.cpus ?? 1;
    const lines = new Array<boolean>(cpus).fill(false);
    let acknowledging = false;
    const context = withIrqOutputs(host.context('irqchip', () => 0), (cpu, level) => {
      lines[cpu] = level;
      if (cpu === 0) observers.cpuLine?.(level, acknowledging);
    });
    const chips = mode === 'split'
      ? new PcInterrupts(context, { split: { half: 'legacy', apicBus: (message) => { const msi = toMsi(message); host.signalMsi(msi.address, msi.data); } } })
      : new PcInterrupts(context, { cpus, ...(board.tscHz === undefined ? {} : { tscHz: board.tscHz }) });
    for (const { region, base } of IRQCHIP_REGIONS.pic) host.bus.map('pic', chips.pic, region, base);
    for (const { region, base } of IRQCHIP_REGIONS.ioapic) host.bus.map('ioapic', chips.ioapic, region, base);
    // Every CPU's local APIC at the one APIC page: the one of the vCPU whose exit is being served.
    const window = chips.lapics.length === 0 ? undefined : new LocalApicWindow(chips.lapics);
    if (window !== undefined) for (const { region, base } of IRQCHIP_REGIONS.lapic) host.bus.map('lapic', window, region, base);
    host.host({ name: 'pic', getState: () => chips.pic.getState(), setState: (state) => { chips.pic.setState(state as never); } });
    host.host({ name: 'ioapic', getState: () => chips.ioapic.getState(), setState: (state) => { chips.ioapic.setState(state as never); } });
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
      ...(window === undefined ? {} : { serving: (vcpu: number) => { window.select(vcpu); } }),
      ioapicEoi: (vector) => { chips.ioapicEoi(vector); },
    });
    host.routeIrqs(legacyReplacement((gsi, level) => {
      observers.irq?.(gsi, level);
      chips.setGsi(gsi, level);
    }));
  }
  const created = createDevices(placement, 'user', host, board, releases, observers.console === undefined ? {} : { console: observers.console });
  if (placement.io.coalescedWrites) {
    // QEMU registers coalesced I/O for what its devices allow (the RTC's index port): the kernel queues those
    // writes and they reach the device with the next heavyweight exit.
    for (const { device, bases } of created) {
      for (const span of device.hints?.coalescedWrites ?? []) {
        const base = bases.get(span.region);
        const space = device.regions.find((r) => r.name === span.region)?.space;
        if (base !== undefined && space !== undefined) host.coalesce(space, base + span.offset, span.length);
      }
    }
  }
  if (placement.io.kernelCounters) {
    // Seed 001: the kernel serves these devices' free-running counters from virtual time; reads of them stop
    // at the lightweight path. 32-bit reads, as Linux's acpi_pm and hpet clocksources make them.
    for (const { name, device, bases } of created) {
      if (device.counterViews === undefined) continue;
      const views = device.counterViews.bind(device);
      host.offerCounters(name, views, (view) => {
        const base = bases.get(view.region);
        const space = device.regions.find((r) => r.name === view.region)?.space;
        if (base === undefined || space === undefined) return undefined;
        const { widthBits, frequencyHz, base: count, epoch, running } = view;
        return { kind: 'counter', space, address: base + view.offset, size: 4, widthBits, frequencyHz, base: count, epoch, running };
      });
    }
  }
}
