// The peer every transport's conformance suite talks to. Its answers let the
// suite check ordering, sizes, reentrancy, back-pressure and death.
import type { Message } from '@splitvisor/abi';
import { ErrorCode } from '@splitvisor/abi';
import type { ChannelEnd, ChannelHandler } from '../src/index.ts';

export interface PeerHooks {
  /** Leave abruptly, as a crashing device host would. */
  die(code: number): never;
  /** Stop answering without leaving (only a real thread can). */
  hang(): never;
  /** Stop answering for a while (only a real thread can). */
  sleep(ms: number): void;
}

/** An order-sensitive digest of a message, so the suite can tell reordering from loss. */
export function digest(message: Message): number {
  return message.kind === 'irq-line' ? (message.gsi * 2 + (message.level ? 1 : 0)) >>> 0 : 0;
}

export function fold(checksum: number, message: Message): number {
  return (Math.imul(checksum, 31) + digest(message)) >>> 0;
}

function u32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value, true);
  return bytes;
}

function completion(data: Uint8Array): Message {
  return { kind: 'run', vcpu: 0, completion: data, requestInterruptWindow: false, immediateExit: false, deadline: Number.POSITIVE_INFINITY, deadlineOwner: '' };
}

export function peerBehaviour(end: ChannelEnd, hooks: PeerHooks): ChannelHandler {
  let posts = 0;
  let checksum = 0;
  return {
    onPost(message) {
      posts++;
      checksum = fold(checksum, message);
      // A post whose handling calls back: with a call of the other side in flight, calls cross.
      if (message.kind === 'resume') end.call({ kind: 'get-device-state', device: 'caller' });
      // A post answered one way, as the device host answers a posted write.
      if (message.kind === 'pause') end.post({ kind: 'irq-line', gsi: posts, level: true });
    },
    onCall(message) {
      if (message.kind === 'io') return completion(message.direction === 'out' ? message.data : u32(posts));
      if (message.kind === 'set-device-state') return { kind: 'device-state', device: message.device, state: message.state };
      if (message.kind !== 'get-device-state') return { kind: 'error', code: ErrorCode.Invalid, message: `unexpected ${message.kind}` };
      const [command = '', argument = '0'] = message.device.split(':');
      switch (command) {
        case 'posts':
          return { kind: 'device-state', device: 'posts', state: { model: 'posts', version: 1, posts, checksum } };
        case 'reenter':
          return end.call({ kind: 'get-device-state', device: 'caller' });
        case 'flood': {
          const count = Number(argument);
          for (let i = 0; i < count; i++) end.post({ kind: 'irq-line', gsi: i, level: (i & 1) === 1 });
          return { kind: 'ok' };
        }
        case 'die':
          return hooks.die(Number(argument));
        case 'throw':
          throw new Error('peer handler failed on purpose');
        case 'hang':
          return hooks.hang();
        case 'sleep':
          hooks.sleep(Number(argument));
          return { kind: 'ok' };
        case 'bad-reply':
          // size 3 is no access width: no peer could decode this.
          return { kind: 'io', vcpu: 0, time: 0, ifFlag: false, readyForInterruptInjection: false, direction: 'out', port: 0, size: 3 as 1, count: 1, data: new Uint8Array(3) };
        default:
          return { kind: 'error', code: ErrorCode.NoDevice, message: `no device ${message.device}` };
      }
    },
  };
}
