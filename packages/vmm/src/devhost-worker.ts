// The device host's worker entry (live mode): the devices the placement puts in userspace, in a thread of
// their own, answering the kernel side over the worker channel until it closes — then their write caches are
// flushed and their image files closed.
import { ramMemory } from '@splitvisor/abi';
import { connectParent } from '@splitvisor/channel';
import { TimerQueue } from '@splitvisor/clock';
import { DeviceHost } from '@splitvisor/devhost';
import type { Placement } from '@splitvisor/placement';
import type { BoardOptions, Release } from './devices.ts';
import { assembleDeviceHost } from './host-assembly.ts';

const { end, data } = connectParent();
const { placement, board, ram } = data as { placement: Placement; board: BoardOptions; ram: SharedArrayBuffer };
const host = new DeviceHost(end, { timers: new TimerQueue(), memory: ramMemory(new Uint8Array(ram)) }); // the same guest RAM as the VM's thread

const releases: Release[] = [];
assembleDeviceHost(host, placement, {}, board, releases);
try {
  end.serve();
} finally {
  for (const release of releases) release();
}
