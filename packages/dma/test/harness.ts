// Drives the 8237 pair the way a PC driver does: through its ports, with the PC's page-port map.
import type { AccessSize, Device, IoRegion } from '@splitvisor/abi';
import type { I8237Pair, I8237PairState } from '../src/index.ts';
import { ControlRegister, PAGE_CHANNEL } from '../src/index.ts';

export interface ChannelProgram {
  /** Byte address on channels 0–3, word address on 4–7. */
  readonly address: number;
  /** Transfers minus one. */
  readonly count: number;
  readonly mode: number;
  readonly page?: number;
}

/** The region and register offset of register `register` (0–15) of the controller owning channel n. */
export function registerAt(n: number, register: number): { region: string; offset: number } {
  return n < 4 ? { region: 'controller-8', offset: register } : { region: 'controller-16', offset: register * 2 };
}

export function out(pair: Device, n: number, register: number, value: number): void {
  const at = registerAt(n, register);
  pair.write(at.region, at.offset, 1, value);
}

export function inp(pair: Device, n: number, register: number): number {
  const at = registerAt(n, register);
  return pair.read(at.region, at.offset, 1);
}

export function pageOffset(n: number): number {
  const offset = PAGE_CHANNEL.indexOf(n);
  if (offset < 0) throw new Error(`no page port for channel ${n}`);
  return offset;
}

/** Linux's sequence (kernel/dma.h): mask, clear flip-flop, mode, address low/high, page, count low/high, unmask. */
export function program(pair: Device, n: number, p: ChannelProgram, unmask = true): void {
  const ch = n & 3;
  out(pair, n, ControlRegister.SINGLE_MASK, 0x04 | ch);
  out(pair, n, ControlRegister.CLEAR_FLIP_FLOP, 0);
  out(pair, n, ControlRegister.MODE, (p.mode & ~3) | ch);
  out(pair, n, ch * 2, p.address & 0xff);
  out(pair, n, ch * 2, (p.address >> 8) & 0xff);
  pair.write('page', pageOffset(n), 1, p.page ?? 0);
  out(pair, n, ControlRegister.CLEAR_FLIP_FLOP, 0);
  out(pair, n, ch * 2 + 1, p.count & 0xff);
  out(pair, n, ch * 2 + 1, (p.count >> 8) & 0xff);
  if (unmask) out(pair, n, ControlRegister.SINGLE_MASK, ch);
}

/** What every PC BIOS does at POST (SeaBIOS dma_setup): master clear both, channel 4 cascade, unmasked. */
export function biosSetup(pair: Device): void {
  pair.write('controller-8', ControlRegister.TEMPORARY_MASTER_CLEAR, 1, 0);
  pair.write('controller-16', ControlRegister.TEMPORARY_MASTER_CLEAR * 2, 1, 0);
  pair.write('controller-16', ControlRegister.MODE * 2, 1, 0xc0);
  pair.write('controller-16', ControlRegister.SINGLE_MASK * 2, 1, 0x00);
}

/** Reads a channel's current address or count through the flip-flop (low byte first). */
export function readWord(pair: Device, n: number, count: boolean): number {
  const ch = n & 3;
  out(pair, n, ControlRegister.CLEAR_FLIP_FLOP, 0);
  const low = inp(pair, n, ch * 2 + (count ? 1 : 0));
  const high = inp(pair, n, ch * 2 + (count ? 1 : 0));
  return low | (high << 8);
}

/**
 * The pair with simple devices on some channels, and a `dreq` region through which a test (or the fuzzer) drives
 * their DREQ lines: each device, when serviced, offers or takes 4 KiB at a time until terminal count (channels 1, 5: to memory, the
 * byte being the channel number; channels 2, 6: from memory) and drops DREQ at terminal count. The devices hold no
 * state of their own, so the pair's state is the bench's.
 */
export class DmaBench implements Device<I8237PairState> {
  readonly model: 'i8237-pair';
  readonly regions: readonly IoRegion[];
  readonly received: number[][] = [[], [], [], [], [], [], [], []];
  readonly pair: I8237Pair;

  constructor(pair: I8237Pair, channels: readonly number[] = [1, 2, 5, 6]) {
    this.pair = pair;
    this.model = pair.model;
    this.regions = [...pair.regions, { name: 'dreq', space: 'port', length: 8, sizes: [1] }];
    for (const n of channels) {
      const channel = pair.channel(n);
      const toMemory = n === 1 || n === 5;
      channel.attach(() => {
        for (;;) {
          const buffer = new Uint8Array(4096).fill(toMemory ? n : 0);
          const moved = toMemory ? channel.writeMemory(buffer) : channel.readMemory(buffer);
          const log = this.received[n];
          if (!toMemory && log !== undefined && log.length < 0x1_0000) log.push(...buffer.subarray(0, moved.bytes));
          if (moved.terminalCount) {
            channel.setRequest(false);
            return;
          }
          if (moved.bytes === 0) return;
        }
      });
    }
  }

  read(region: string, offset: number, size: AccessSize): number {
    if (region === 'dreq') return 0xff;
    return this.pair.read(region, offset, size);
  }

  write(region: string, offset: number, size: AccessSize, value: number): void {
    if (region === 'dreq') this.pair.channel(offset & 7).setRequest((value & 1) !== 0);
    else this.pair.write(region, offset, size, value);
  }

  getState(): I8237PairState {
    return this.pair.getState();
  }

  setState(state: I8237PairState): void {
    this.pair.setState(state);
  }

  anomalies(): Readonly<Record<string, number>> {
    return this.pair.anomalies();
  }
}
