/**
 * A device host with no devices: what the boundary alone costs. It answers
 * every read as an empty ISA bus or unassigned MMIO does (all ones) and
 * counts what it was sent, so the far side can check that nothing was lost.
 */
import type { Message } from '@splitvisor/abi';
import { ErrorCode, NEVER } from '@splitvisor/abi';
import type { ChannelHandler } from '@splitvisor/channel';

export const TALLY_DEVICE = 'tally';

function resume(completion: Uint8Array): Message {
  return { kind: 'run', vcpu: 0, completion, requestInterruptWindow: false, immediateExit: false, deadline: NEVER };
}

export function emptyDeviceHost(): ChannelHandler {
  let io = 0;
  let mmio = 0;
  let reads = 0;
  let bytesWritten = 0;
  const EMPTY = new Uint8Array(0);
  return {
    onCall(message) {
      switch (message.kind) {
        case 'io':
          io++;
          if (message.direction === 'out') {
            bytesWritten += message.data.length;
            return resume(EMPTY);
          }
          reads++;
          return resume(new Uint8Array(message.size * message.count).fill(0xff));
        case 'mmio':
          mmio++;
          if (message.isWrite) {
            bytesWritten += message.data.length;
            return resume(EMPTY);
          }
          reads++;
          return resume(new Uint8Array(message.length).fill(0xff));
        case 'get-device-state':
          if (message.device === TALLY_DEVICE) {
            return { kind: 'device-state', device: TALLY_DEVICE, state: { model: 'tally', version: 1, io, mmio, reads, bytesWritten } };
          }
          return { kind: 'error', code: ErrorCode.NoDevice, message: `no device ${message.device} in this device host` };
        default:
          return { kind: 'error', code: ErrorCode.Unsupported, message: `${message.kind} is not served here` };
      }
    },
    onPost() {
      // Nothing is posted to a host without devices.
    },
  };
}
