// The device host's worker entry (live mode): the devices the placement puts in userspace, in a thread of
// their own, answering the kernel side over the worker channel until it closes — then their write caches are
// flushed and their image files closed.
import { ErrorCode, ramMemory } from '@splitvisor/abi';
import { connectParent } from '@splitvisor/channel';
import type { DeviceName, Placement } from '@splitvisor/placement';
import { DEVHOST_BUILD } from './devhost-build.ts';
import type { BoardOptions, Release } from './devices.ts';
import { registryOf } from './devices.ts';
import { assembleDeviceHost } from './host-assembly.ts';
import type { IrqchipTopology } from './irqchip-topology.ts';

const { end, data } = connectParent();
// The devices the VM's build has, by name: the worker takes their factories from its own build.
const { placement, topology, board, ram, devices } = data as { placement: Placement; topology: IrqchipTopology; board: BoardOptions; ram: SharedArrayBuffer; devices: readonly DeviceName[] };
const host = DEVHOST_BUILD.create(end, ramMemory(new Uint8Array(ram))); // the same guest RAM as the VM's thread

const releases: Release[] = [];
try {
  assembleDeviceHost(host, placement, topology, { irqchip: DEVHOST_BUILD.irqchip, devices: registryOf(devices, DEVHOST_BUILD.devices) }, {}, board, releases);
} catch (error) {
  // What the in-thread host's assembly would throw — an image that is not there or of a size its drive cannot take —
  // is the answer to the kernel's first call, one line for the user as in modelled mode; a worker that died of it
  // would be a dead peer. What was opened is closed; the worker leaves when the VM closes the channel.
  for (const release of releases.splice(0)) release();
  const message = error instanceof Error ? error.message : String(error);
  end.setHandler({ onCall: () => ({ kind: 'error', code: ErrorCode.Invalid, message }), onPost: () => undefined });
}
try {
  end.serve();
} finally {
  for (const release of releases) release();
}
