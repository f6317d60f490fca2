import type { CoalescedIo, Exit } from './exit.ts';
import type { Reply, Request } from './ioctl.ts';

/** Everything that crosses the boundary. */
export type Message = Exit | CoalescedIo | Request | Reply;
export type MessageKind = Message['kind'];

/**
 * Wire tags, one per message kind. Exits in 0x01.., requests in 0x20..,
 * replies in 0x40.. — a new kind takes the next free number in its block.
 */
export const MessageTag = {
  io: 0x01,
  mmio: 0x02,
  hlt: 0x03,
  'irq-window-open': 0x04,
  shutdown: 0x05,
  intr: 0x06,
  'ioapic-eoi': 0x07,
  'internal-error': 0x08,
  msr: 0x09,
  'coalesced-io': 0x10,
  run: 0x20,
  'irq-line': 0x21,
  interrupt: 0x22,
  'get-device-state': 0x23,
  'set-device-state': 0x24,
  'register-coalesced-range': 0x25,
  'register-fast-path': 0x26,
  pause: 0x27,
  resume: 0x28,
  msi: 0x29,
  'program-scratch': 0x2a,
  'register-posted-range': 0x2b,
  'read-memory': 0x2c,
  'write-memory': 0x2d,
  'place-device': 0x2e,
  'remove-device': 0x2f,
  ok: 0x40,
  error: 0x41,
  'device-state': 0x42,
  memory: 0x43,
} as const;

// Every kind has a tag (a missing one fails to compile).
const _everyKindTagged: Readonly<Record<MessageKind, number>> = MessageTag;

const EXIT_KINDS: ReadonlySet<string> = new Set([
  'io', 'mmio', 'msr', 'hlt', 'irq-window-open', 'shutdown', 'intr', 'ioapic-eoi', 'internal-error',
]);

export function isExit(message: Message): message is Exit {
  return EXIT_KINDS.has(message.kind);
}
