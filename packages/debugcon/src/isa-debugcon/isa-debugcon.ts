/**
 * QEMU's ISA debug console, `isa-debugcon` (hw/char/debugcon.c; Bochs'
 * "port E9 hack"): one byte-wide port. Every byte the guest writes goes to
 * the console — here a text log the host reads (`text()`) — and a read
 * answers the "readback" value, E9h by default, which is how firmware finds
 * out the console is there: SeaBIOS reads its debug port (402h on QEMU's
 * `pc` machine, `-device isa-debugcon,iobase=0x402`) and logs to it only
 * when the read gives E9h (the shared seabios-post trace: one read, E9h,
 * then 4066 bytes of log).
 *
 * Region `port` (1 port, byte accesses: QEMU's debugcon_ops take 1 byte
 * only; a wider guest access reaches it as its first byte, the rest falls
 * past the port). The board places it (402h).
 *
 * The log is part of the state, so it survives a snapshot and goes along
 * when the device moves between domains: the last LOG_KEPT_BYTES bytes are
 * kept, and the count of every byte ever written. It needs nothing of a
 * DeviceContext — no time, no irq, no memory — so it is made without one.
 */
import type { AccessSize, Device, IoRegion } from '@splitvisor/abi';
import { expectState } from '@splitvisor/abi';

/** What a read of the port answers: QEMU's `readback` property default (DEFINE_PROP_UINT32("readback", …, 0xe9)). */
export const DEBUGCON_READBACK = 0xe9;

/** Bytes of the log kept in the state (the last ones written): what `text()` shows. */
export const LOG_KEPT_BYTES: number = 64 * 1024;

export type IsaDebugconState = {
  readonly model: 'isa-debugcon';
  readonly version: 1;
  /** The last bytes written, oldest first (at most LOG_KEPT_BYTES). */
  readonly log: Uint8Array;
  /** Every byte ever written, kept or not. */
  readonly written: number;
};

const MODEL = 'isa-debugcon';
const VERSION = 1;

const REGIONS: readonly IoRegion[] = [{ name: 'port', space: 'port', length: 1, sizes: [1] }];

/** The text of a debugcon's state: its kept bytes as Latin-1 (what QEMU's chardev would have written to a file). */
export function debugconText(state: IsaDebugconState): string {
  let text = '';
  // In slices: String.fromCharCode takes its arguments on the stack.
  for (let at = 0; at < state.log.length; at += 8192) text += String.fromCharCode(...state.log.subarray(at, at + 8192));
  return text;
}

export class IsaDebugcon implements Device<IsaDebugconState> {
  readonly model: 'isa-debugcon' = MODEL;
  readonly regions: readonly IoRegion[] = REGIONS;
  /** The kept bytes, a ring: `start` is the oldest, `kept` how many there are. */
  private readonly ring = new Uint8Array(LOG_KEPT_BYTES);
  private start = 0;
  private kept = 0;
  private written = 0;
  private readonly odd = { unacceptedAccesses: 0 };

  read(region: string, offset: number, size: AccessSize): number {
    if (!this.mine(region, offset, size)) return 0xff;
    return DEBUGCON_READBACK;
  }

  write(region: string, offset: number, size: AccessSize, value: number): void {
    if (!this.mine(region, offset, size)) return;
    this.append(value & 0xff);
  }

  private mine(region: string, offset: number, size: AccessSize): boolean {
    if (region === 'port' && offset === 0 && size === 1) return true;
    this.odd.unacceptedAccesses++;
    return false;
  }

  private append(byte: number): void {
    this.written++;
    if (this.kept < LOG_KEPT_BYTES) {
      this.ring[(this.start + this.kept) % LOG_KEPT_BYTES] = byte;
      this.kept++;
      return;
    }
    // Full: the newest byte takes the oldest one's place.
    this.ring[this.start] = byte;
    this.start = (this.start + 1) % LOG_KEPT_BYTES;
  }

  private log(): Uint8Array {
    const log = new Uint8Array(this.kept);
    const first = Math.min(this.kept, LOG_KEPT_BYTES - this.start);
    log.set(this.ring.subarray(this.start, this.start + first));
    log.set(this.ring.subarray(0, this.kept - first), first);
    return log;
  }

  // --- host side --------------------------------------------------------------------------------

  /** The log as text (Latin-1): the last LOG_KEPT_BYTES bytes the guest wrote. */
  text(): string {
    return debugconText(this.getState());
  }

  /** How many bytes the guest has written in all (the log keeps the last LOG_KEPT_BYTES). */
  bytesWritten(): number {
    return this.written;
  }

  // --- state ------------------------------------------------------------------------------------

  getState(): IsaDebugconState {
    return { model: MODEL, version: VERSION, log: this.log(), written: this.written };
  }

  setState(state: IsaDebugconState): void {
    expectState(state, MODEL, VERSION);
    const log = state.log.subarray(Math.max(0, state.log.length - LOG_KEPT_BYTES));
    this.ring.set(log);
    this.start = 0;
    this.kept = log.length;
    this.written = Math.max(state.written, log.length);
  }

  anomalies(): Readonly<Record<string, number>> {
    return { ...this.odd };
  }
}
