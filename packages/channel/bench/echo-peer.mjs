// Bench worker: answers every `in` exit with one byte, as a userspace device
// would; loaded from dist, as a built VM's device host is.
import { connectParent } from '../dist/index.js';

const { end } = connectParent();
const completion = Uint8Array.of(0xff);
end.setHandler({
  onCall: (message) => (message.kind === 'io'
    ? { kind: 'run', vcpu: 0, completion, requestInterruptWindow: false, immediateExit: false, deadline: Number.POSITIVE_INFINITY, deadlineOwner: '' }
    : { kind: 'ok' }),
  onPost: () => undefined,
});
end.serve();
