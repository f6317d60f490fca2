// The device host's worker entry (live mode): the devices the placement puts in userspace, in a thread of
// their own, answering the kernel side over the worker channel until it closes.
import { connectParent } from '@splitvisor/channel';
import { DeviceHost } from '@splitvisor/devhost';
import type { Placement } from '@splitvisor/placement';
import { assembleDeviceHost } from './host-assembly.ts';

const { end, data } = connectParent();
const host = new DeviceHost(end);
assembleDeviceHost(host, data as Placement);
end.serve();
