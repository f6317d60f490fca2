/**
 * The child's end of the `process` transport: the frame protocol over the
 * socket its parent handed it as a file descriptor, read and written with
 * blocking system calls — no event loop in the path of a call, as on the
 * ring. The socket is blocking on this side (libuv leaves a child's
 * inherited descriptors above 2 as they were made).
 *
 * A child cannot tell its parent's close from its parent's death: either
 * way the socket reaches end-of-file, and every wait ends `closed`. A wait
 * for the parent has no timeout — the parent's death is what ends it. When
 * this end fails, the reason goes to stderr as one line starting with
 * `NOTE_PREFIX`, which the parent's relay makes the death note it reports.
 */
import { closeSync, readSync, writeSync } from 'node:fs';
import { deserialize } from 'node:v8';
import { ChannelError } from './channel.ts';
import { FramedEnd } from './frame-end.ts';

/** How a child's death note starts on its stderr. */
export const NOTE_PREFIX = 'splitvisor-channel-note: ';

/** Bytes asked of the socket per read. */
const READ_BYTES = 64 * 1024;

export class SocketEnd extends FramedEnd {
  private readonly fd: number;
  private state: 'open' | 'closed' | 'dead' = 'open';
  private reason = '';
  /** The parent's side reached end-of-file: everything it sent has been read. */
  private peerGone = false;
  private out = new Uint8Array(4096);
  private outLength = 0;
  private sent = 0;

  constructor(fd: number, name: string, peer: string) {
    super(name, peer);
    this.fd = fd;
  }

  protected isOpen(): boolean {
    return this.state === 'open';
  }

  close(): void {
    if (this.state !== 'open') return;
    this.state = 'closed';
    closeSync(this.fd);
  }

  protected die(reason: string): void {
    if (this.state !== 'open') return;
    this.state = 'dead';
    this.reason = reason;
    writeSync(2, `${NOTE_PREFIX}${reason.replace(/\n/g, ' ')}\n`);
  }

  protected checkSelf(): void {
    if (this.state === 'open') return;
    throw new ChannelError('closed', this.peer, this.state === 'closed' ? 'this end is closed' : `this end failed: ${this.reason}`);
  }

  protected checkPeer(): void {
    if (this.peerGone) throw new ChannelError('closed', this.peer, 'peer closed the channel');
  }

  protected sentPosition(): number {
    return this.sent;
  }

  /** Frames are gathered here and go out in one system call each (`publish`). */
  protected write(src: Uint8Array, length: number): void {
    if (this.outLength + length > this.out.length) {
      let capacity = this.out.length * 2;
      while (capacity < this.outLength + length) capacity *= 2;
      const grown = new Uint8Array(capacity);
      grown.set(this.out.subarray(0, this.outLength));
      this.out = grown;
    }
    this.out.set(src.subarray(0, length), this.outLength);
    this.outLength += length;
  }

  protected publish(): void {
    let done = 0;
    try {
      while (done < this.outLength) done += writeSync(this.fd, this.out, done, this.outLength - done);
    } catch (error) {
      this.peerGone = true;
      throw new ChannelError('peer-lost', this.peer, `the socket to the parent failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.sent += done;
      this.outLength = 0;
    }
  }

  /** A blocking socket has nothing to give without blocking: what arrived is read by `receive`. */
  protected pump(): number {
    return 0;
  }

  protected receive(): void {
    this.checkPeer();
    const inbox = this.inbox;
    inbox.reserve(READ_BYTES);
    let n: number;
    try {
      n = readSync(this.fd, inbox.bytes, inbox.end, READ_BYTES, null);
    } catch {
      n = 0; // a reset socket: the parent is gone
    }
    if (n === 0) {
      this.peerGone = true;
      this.checkPeer();
    }
    inbox.end += n;
  }
}

/** The environment variable naming the socket's descriptor in a child started by `spawnProcessChannel`. */
export const CHANNEL_FD_VARIABLE = 'SPLITVISOR_CHANNEL_FD';

/** What the relay sends first on the socket: u32 length, then the structured-clone serialisation of this. */
export interface SocketBoot {
  readonly name: string;
  readonly peer: string;
  readonly data: unknown;
}

function readExactly(fd: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let done = 0; done < length;) {
    const n = readSync(fd, bytes, done, length - done, null);
    if (n === 0) throw new Error('the parent closed the channel before it said who this process is');
    done += n;
  }
  return bytes;
}

/** In a child started by `spawnProcessChannel`: its end of the channel and the boot record, or undefined elsewhere. */
export function connectSocketParent(): { end: SocketEnd; data: unknown } | undefined {
  const variable = process.env[CHANNEL_FD_VARIABLE];
  if (variable === undefined) return undefined;
  const fd = Number(variable);
  const length = new DataView(readExactly(fd, 4).buffer).getUint32(0, true);
  const boot = deserialize(readExactly(fd, length)) as SocketBoot;
  return { end: new SocketEnd(fd, boot.name, boot.peer), data: boot.data };
}
