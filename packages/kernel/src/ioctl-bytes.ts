/**
 * One message's bytes as a transport delivered them, into the kernel:
 * decoded here (the codec never throws), undecodable bytes answered EBADMSG
 * and counted, anything else served as `KernelDomain.ioctl` serves it. A
 * module of its own so a kernel that is handed decoded messages (as every
 * transport does today) carries no decoder.
 */
import type { Message } from '@splitvisor/abi';
import { badMessageReply, decodeMessage } from '@splitvisor/abi';
import type { KernelDomain } from './kernel-domain.ts';

export function ioctlBytes(kernel: KernelDomain, bytes: Uint8Array): Message {
  const decoded = decodeMessage(bytes);
  if (!decoded.ok) {
    kernel.refused.undecodable++;
    return badMessageReply(decoded);
  }
  return kernel.ioctl(decoded.message);
}
