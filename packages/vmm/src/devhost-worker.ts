// The device host's worker entry (live mode): the devices the placement puts in userspace, in a thread of
// their own, answering the kernel side over the worker channel until it closes — then their write caches are
// flushed and their image files closed.
import { ramMemory } from '@splitvisor/abi';
import { connectParent } from '@splitvisor/channel';
import { TimerQueue } from '@splitvisor/clock';
import { DeviceHost } from '@splitvisor/devhost';
import type { DeviceName, Placement } from '@splitvisor/placement';
import { registryOf } from './device-factories.ts';
import type { BoardOptions, Release } from './devices.ts';
import { assembleDeviceHost } from './host-assembly.ts';

const { end, data } = connectParent();
// The devices this VMM can make, by name: the worker takes their factories from its own registry.
const { placement, board, ram, devices } = data as { placement: Placement; board: BoardOptions; ram: SharedArrayBuffer; devices: readonly DeviceName[] };
const host = new DeviceHost(end, { timers: new TimerQueue(), memory: ramMemory(new Uint8Array(ram)) }); // the same guest RAM as the VM's thread

const releases: Release[] = [];
assembleDeviceHost(host, placement, {}, board, releases, registryOf(devices));
try {
  end.serve();
} finally {
  for (const release of releases) release();
}
