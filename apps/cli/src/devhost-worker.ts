// Worker entry: the device host without devices, serving the kernel side until it closes.
import { connectParent } from '@splitvisor/channel';
import { emptyDeviceHost } from './empty-devhost.ts';

const { end } = connectParent();
end.setHandler(emptyDeviceHost());
end.serve();
