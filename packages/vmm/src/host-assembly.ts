/**
 * The device host's half of a VM: its devices and, when the placement puts
 * them in userspace, the 8259 pair and I/O APIC (all the irqchip, or the
 * legacy half of a split one). The same function runs in-thread (modelled
 * mode) and in the device host's worker (live mode), so both hold the same
 * devices wired the same way.
 */
import type { AddressRange, CachedReadDescriptor, Device, ProgramDescriptor, RegionSpan } from '@splitvisor/abi';
import type { DeviceHost } from '@splitvisor/devhost';
import type { DeviceName, Placement } from '@splitvisor/placement';
import { fastPathFor } from '@splitvisor/placement';
import type { DeviceRegistry } from './device-factories.ts';
import type { ChipsetWindows } from './chipset-windows.ts';
import type { BoardOptions, Created, Release, Sinks } from './devices.ts';
import { createDevices } from './devices.ts';
import { moveGroup } from './device-move.ts';
import type { DevhostBuild } from './domain-build.ts';
import type { IrqchipTopology, IrqObservers } from './irqchip-topology.ts';
import { wireHostIrqchip } from './irqchip-topology.ts';

/** In-thread observers of what happens inside the device host (modelled mode only), and the windows of its process. */
export interface HostObservers extends IrqObservers {
  /** The guest's console: each byte COM1 transmits. */
  readonly console?: (byte: number) => void;
  /** The PCI host's decode changes, followed for every domain of the host's process (the VM's, in this thread). */
  readonly chipsetWindows?: ChipsetWindows;
  /** The devices' named output lines (port 92h's and the 8042's `a20` and `reset`), when the host is in this thread. */
  readonly lines?: (device: string, line: string, level: boolean) => void;
}

/** `length` bytes at `offset` of `device`'s `region`, where the board put it; undefined when it is not on the board. */
function onBoard(device: Device, bases: ReadonlyMap<string, number>, region: string, offset: number, length: number): AddressRange | undefined {
  const base = bases.get(region);
  const space = device.regions.find((r) => r.name === region)?.space;
  return base === undefined || space === undefined ? undefined : { space, address: base + offset, length };
}

/** What of `range` lies outside every one of `holes` (ranges of its space), as ranges in address order. */
function without(range: AddressRange, holes: readonly AddressRange[]): AddressRange[] {
  let parts = [range];
  for (const hole of holes) {
    if (hole.space !== range.space) continue;
    parts = parts.flatMap((part) => {
      const end = part.address + part.length;
      const holeEnd = hole.address + hole.length;
      if (hole.address >= end || holeEnd <= part.address) return [part];
      return [
        ...(hole.address > part.address ? [{ space: part.space, address: part.address, length: hole.address - part.address }] : []),
        ...(holeEnd < end ? [{ space: part.space, address: holeEnd, length: end - holeEnd }] : []),
      ];
    });
  }
  return parts;
}

/**
 * Assembles the host's half of the VM's irqchip `topology` from its build's
 * parts, and its devices from the build's registry; what it opened is
 * pushed onto `releases` (flush and close when the VM stops).
 */
export function assembleDeviceHost(host: DeviceHost, placement: Placement, topology: IrqchipTopology, build: Pick<DevhostBuild, 'devices' | 'irqchip'>, observers: HostObservers = {}, board: BoardOptions = {}, releases: Release[] = []): void {
  wireHostIrqchip(topology, host, {
    observers,
    lapicLostTicks: placement.lostTicks.lapic,
    ...(board.cpus === undefined ? {} : { cpus: board.cpus }),
    ...(board.tscHz === undefined ? {} : { tscHz: board.tscHz }),
  }, build.irqchip);
  const sinks: Sinks = {
    ...(observers.console === undefined ? {} : { console: observers.console }),
    ...(observers.chipsetWindows === undefined ? {} : { chipsetWindows: observers.chipsetWindows }),
  };
  // Routed before the devices are made: a device drives its lines' levels as it is made (the 8042's A20).
  if (observers.lines !== undefined) host.routeLines(observers.lines);
  const created = createDevices(placement, 'user', host, build.devices, board, releases, sinks);
  offerFastPaths(host, placement, created);
}

/**
 * `name` — with the devices that share its domain — made in the device host
 * as `placement` places and configures it: a device moving into the host,
 * in this thread or through `place-device` in the host's worker or process.
 * Their fast paths are offered.
 */
export function placeInHost(host: DeviceHost, placement: Placement, name: DeviceName, registry: DeviceRegistry, board: BoardOptions, releases: Release[], sinks: Sinks = {}): void {
  const devices = Object.fromEntries(moveGroup(name).filter((device) => placement.devices[device] === 'user').map((device) => [device, 'user'])) as Placement['devices'];
  const created = createDevices({ ...placement, devices }, 'user', host, registry, board, releases, sinks);
  if (created.length === 0) throw new Error(`this device host's build cannot make ${name}`);
  offerFastPaths(host, placement, created);
}

/**
 * What the device host offers the kernel for `created` devices, as the
 * placement's I/O policies allow: coalesced and posted ranges, published
 * reads, programs, counters — at power-on for all of them, and for one
 * that moves in.
 */
export function offerFastPaths(host: DeviceHost, placement: Placement, created: readonly Created[]): void {
  const { io } = placement;
  if (io.coalescedWrites !== false) {
    // QEMU registers coalesced I/O for what its devices allow (the RTC's index port): the kernel queues those
    // writes and they reach the device with the next heavyweight exit.
    for (const { name, device, bases } of created) {
      if (!fastPathFor(io.coalescedWrites, name)) continue;
      for (const span of device.hints?.coalescedWrites ?? []) {
        const range = onBoard(device, bases, span.region, span.offset, span.length);
        if (range !== undefined) host.coalesce(range.space, range.address, range.length, name);
      }
    }
  }
  if (io.postedWrites !== false) {
    // Writes to these devices go one way: the guest does not wait for the host to apply them (KVM's ioeventfd;
    // crosvm's one-way proxied writes). Every port and MMIO region of the device, where the board put it, less
    // what is coalesced (a write is queued or posted, never both).
    for (const { name, device, bases } of created) {
      if (!fastPathFor(io.postedWrites, name)) continue;
      const coalesced = io.coalescedWrites !== false && fastPathFor(io.coalescedWrites, name)
        ? (device.hints?.coalescedWrites ?? []).flatMap((span) => onBoard(device, bases, span.region, span.offset, span.length) ?? [])
        : [];
      for (const region of device.regions) {
        if (region.space === 'msr') continue;
        const range = onBoard(device, bases, region.name, 0, region.length);
        for (const part of range === undefined ? [] : without(range, coalesced)) host.postWrites(part.space, part.address, part.length, name);
      }
    }
  }
  if (io.cachedReads !== false) {
    // Seed 003's coupled in-port cache: the kernel answers reads of these devices' status registers from the
    // values this host publishes after every exit, while no host timer or pending write could have changed them.
    for (const { name, device, bases } of created) {
      const spans = device.hints?.cachedReads ?? [];
      if (!fastPathFor(io.cachedReads, name) || device.cachedRead === undefined || spans.length === 0) continue;
      const at = (span: RegionSpan) => onBoard(device, bases, span.region, span.offset, span.length);
      const described = spans.flatMap((span): (Omit<CachedReadDescriptor, 'kind' | 'value'> & { span: RegionSpan })[] => {
        const range = at(span);
        const size = range?.length;
        if (range === undefined || (size !== 1 && size !== 2 && size !== 4)) return [];
        return [{ span, space: range.space, address: range.address, size, invalidatedBy: span.invalidatedBy.flatMap((by) => at(by) ?? []) }];
      });
      host.offerCachedReads(
        name,
        described.map(({ span: _span, ...rest }): Omit<CachedReadDescriptor, 'value'> => ({ kind: 'cached-read', ...rest })),
        (read) => {
          const span = described[read]?.span;
          return span === undefined ? null : device.cachedRead?.(span.region, span.offset) ?? null;
        },
      );
    }
  }
  if (io.programs !== false) {
    // Seed 002's bytecode: each device's verified programs are loaded into the kernel at the board's addresses,
    // with the device's scratch; what they change goes back to the device ahead of the next exit.
    for (const { name, device, bases } of created) {
      const { programs } = device;
      if (!fastPathFor(io.programs, name) || programs === undefined || device.programScratch === undefined || device.adoptProgramScratch === undefined) continue;
      const placed = programs.flatMap((p): Omit<ProgramDescriptor, 'scratch'>[] => {
        const range = onBoard(device, bases, p.region, p.offset, p.length);
        return range === undefined ? [] : [{ kind: 'program', ...range, program: p.program }];
      });
      host.offerPrograms(name, placed, () => device.programScratch?.() ?? new Uint8Array(0), (scratch) => { device.adoptProgramScratch?.(scratch); });
    }
  }
  if (io.kernelCounters !== false) {
    // Seed 002: the kernel serves these devices' free-running counters from virtual time; reads of them stop
    // at the lightweight path. 32-bit reads, as Linux's acpi_pm and hpet clocksources make them.
    for (const { name, device, bases } of created) {
      if (!fastPathFor(io.kernelCounters, name) || device.counterViews === undefined) continue;
      const views = device.counterViews.bind(device);
      host.offerCounters(name, views, (view) => {
        const range = onBoard(device, bases, view.region, view.offset, 4);
        if (range === undefined) return undefined;
        const { widthBits, frequencyHz, base: count, epoch, running } = view;
        return { kind: 'counter', space: range.space, address: range.address, size: 4, widthBits, frequencyHz, base: count, epoch, running };
      });
    }
  }
}
