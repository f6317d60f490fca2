// The device host's entry in live mode — a worker thread, or a child process of its own: the devices the
// placement puts in userspace, answering the kernel side over the channel until it closes — then their write
// caches are flushed and their image files closed. In a worker, guest RAM is the VM's own bytes; in a process,
// which shares no memory with the VM, every DMA goes through the kernel's read-memory and write-memory ioctls.
import type { GuestMemory } from '@splitvisor/abi';
import { ErrorCode, ioctlMemory, ramMemory } from '@splitvisor/abi';
import { connectParent } from '@splitvisor/channel';
import type { DeviceName, Placement } from '@splitvisor/placement';
import { ChipsetWindows } from './chipset-windows.ts';
import { DEVHOST_BUILD } from './devhost-build.ts';
import type { BoardOptions, Release } from './devices.ts';
import { registryOf, releaseDevice } from './devices.ts';
import type { DeviceHostFaults } from './fault-injection.ts';
import { failingEnd } from './fault-injection.ts';
import { assembleDeviceHost, placeInHost } from './host-assembly.ts';
import type { IrqchipTopology } from './irqchip-topology.ts';

interface DevhostData {
  readonly placement: Placement;
  readonly topology: IrqchipTopology;
  readonly board: BoardOptions;
  /** Worker: the VM's guest RAM. */
  readonly ram?: SharedArrayBuffer;
  /** Process: the size of guest RAM, reached through the kernel. */
  readonly memoryBytes?: number;
  /** The devices the VM's build has, by name: the host takes their factories from its own build. */
  readonly devices: readonly DeviceName[];
  readonly faults?: DeviceHostFaults;
}

const connection = connectParent();
const { placement, topology, board, ram, memoryBytes, devices, faults } = connection.data as DevhostData;
const end = faults === undefined ? connection.end : failingEnd(connection.end, faults);
const memory: GuestMemory = ram !== undefined ? ramMemory(new Uint8Array(ram)) : ioctlMemory((message) => end.call(message), memoryBytes ?? 0);
const releases: Release[] = [];
const registry = registryOf(devices, DEVHOST_BUILD.devices);
// The PCI host's decode changes, followed for this process's devices (the PM timer at PMBA, when both are here).
const chipsetWindows = new ChipsetWindows(placement);
// A device moving in (`place-device`): made here as the VM's placement after the move configures it; one moving
// out (`remove-device`): its medium's file flushed and closed, for its new domain to open.
const host = DEVHOST_BUILD.create(end, memory, {
  place: (into, device, moved) => { placeInHost(into, JSON.parse(moved) as Placement, device as DeviceName, registry, board, releases, { chipsetWindows }); },
  removed: (device) => { releaseDevice(releases, device as DeviceName); },
});

try {
  assembleDeviceHost(host, placement, topology, { irqchip: DEVHOST_BUILD.irqchip, devices: registry }, { chipsetWindows }, board, releases);
} catch (error) {
  // What the in-thread host's assembly would throw — an image that is not there or of a size its drive cannot take —
  // is the answer to the kernel's first call, one line for the user as in modelled mode; a host that died of it
  // would be a dead peer. What was opened is closed; the host leaves when the VM closes the channel.
  for (const release of releases.splice(0)) release();
  const message = error instanceof Error ? error.message : String(error);
  end.setHandler({ onCall: () => ({ kind: 'error', code: ErrorCode.Invalid, message }), onPost: () => undefined });
}
try {
  end.serve();
} finally {
  for (const release of releases) release();
}
