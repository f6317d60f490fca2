// A channel on a virtual board, reached the way a driver reaches it: inb/outb on the Command Block,
// 16- and 32-bit string transfers on the data port, the Control Block, the bus master, irq 14.
import type { TestContext } from '@splitvisor/device-testkit';
import { createTestContext } from '@splitvisor/device-testkit';
import type { AtaChannelConfig, AtaDriveState, BlockBackend } from '../src/index.ts';
import { AtaChannel, MemoryBlockBackend, Status } from '../src/index.ts';

export const CMD = { DATA: 0, ERROR: 1, FEATURES: 1, NSECT: 2, LBAL: 3, LBAM: 4, LBAH: 5, DEVICE: 6, STATUS: 7, COMMAND: 7 } as const;

/** A disk whose sector n is filled with a recognisable pattern (n's bytes and the offset). */
export function patternedDisk(sectors: number): MemoryBlockBackend {
  const backend = new MemoryBlockBackend(sectors);
  for (let lba = 0; lba < sectors; lba++) {
    for (let i = 0; i < 512; i++) backend.image[lba * 512 + i] = (lba * 7 + i + (lba >> 8)) & 0xff;
  }
  return backend;
}

export function sectorOf(backend: MemoryBlockBackend, lba: number, count = 1): Uint8Array {
  return backend.image.slice(lba * 512, (lba + count) * 512);
}

/** A backend that records flushes and can be told to fail. */
export class RecordingBackend implements BlockBackend {
  readonly inner: MemoryBlockBackend;
  /** The image as of the last flush: what survives a host crash. */
  stable: Uint8Array;
  writes = 0;
  flushes = 0;
  failReads = false;
  failWrites = false;
  failFlush = false;

  constructor(sectors: number) {
    this.inner = new MemoryBlockBackend(sectors);
    this.stable = this.inner.image.slice();
  }

  get sectors(): number {
    return this.inner.sectors;
  }

  read(lba: number, count: number, into: Uint8Array): boolean {
    return !this.failReads && this.inner.read(lba, count, into);
  }

  write(lba: number, data: Uint8Array): boolean {
    if (this.failWrites) return false;
    this.writes++;
    return this.inner.write(lba, data);
  }

  flush(): boolean {
    if (this.failFlush) return false;
    this.flushes++;
    this.stable = this.inner.image.slice();
    return true;
  }
}

export interface Board {
  readonly context: TestContext;
  readonly ata: AtaChannel;
  outb(offset: number, value: number): void;
  inb(offset: number): number;
  inw(): number;
  inl(): number;
  outw(value: number): void;
  outl(value: number): void;
  /** 3F6h. */
  altStatus(): number;
  deviceControl(value: number): void;
  /** `rep insw` of `words` words into bytes. */
  insw(words: number): Uint8Array;
  /** `rep insl` of `dwords` dwords into bytes. */
  insl(dwords: number): Uint8Array;
  outsw(data: Uint8Array): void;
  outsl(data: Uint8Array): void;
  bmRead(offset: number, size?: 1 | 2 | 4): number;
  bmWrite(offset: number, value: number, size?: 1 | 2 | 4): void;
  irq(): boolean;
  /** Rising edges of irq output 0 so far. */
  irqRises(): number;
  /** Writes the task file the way libata's ata_sff_tf_load does (device last but before the command). */
  taskFile(tf: { features?: number; nsect?: number; lbal?: number; lbam?: number; lbah?: number; device: number }): void;
}

export function board(config: AtaChannelConfig = { master: { backend: patternedDisk(4096) } }, memoryBytes: number = 1 << 20): Board {
  const context = createTestContext({ memoryBytes });
  const ata = new AtaChannel(context, config);
  const inw = () => ata.read('command', 0, 2);
  const inl = () => ata.read('command', 0, 4);
  return {
    context,
    ata,
    outb: (offset, value) => { ata.write('command', offset, 1, value); },
    inb: (offset) => ata.read('command', offset, 1),
    inw,
    inl,
    outw: (value) => { ata.write('command', 0, 2, value); },
    outl: (value) => { ata.write('command', 0, 4, value); },
    altStatus: () => ata.read('control', 0, 1),
    deviceControl: (value) => { ata.write('control', 0, 1, value); },
    insw(words) {
      const out = new Uint8Array(words * 2);
      for (let i = 0; i < words; i++) {
        const w = inw();
        out[2 * i] = w & 0xff;
        out[2 * i + 1] = w >> 8;
      }
      return out;
    },
    insl(dwords) {
      const out = new Uint8Array(dwords * 4);
      const view = new DataView(out.buffer);
      for (let i = 0; i < dwords; i++) view.setUint32(4 * i, inl(), true);
      return out;
    },
    outsw(data) {
      for (let i = 0; i < data.length; i += 2) ata.write('command', 0, 2, (data[i] ?? 0) | ((data[i + 1] ?? 0) << 8));
    },
    outsl(data) {
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      for (let i = 0; i < data.length; i += 4) ata.write('command', 0, 4, view.getUint32(i, true));
    },
    bmRead: (offset, size = 1) => ata.read('bus-master', offset, size),
    bmWrite: (offset, value, size = 1) => { ata.write('bus-master', offset, size, value); },
    irq: () => context.irqLevel(0),
    irqRises: () => context.irqEdges.filter((e) => e.output === 0 && e.level).length,
    taskFile(tf) {
      ata.write('command', CMD.FEATURES, 1, tf.features ?? 0);
      ata.write('command', CMD.NSECT, 1, tf.nsect ?? 0);
      ata.write('command', CMD.LBAL, 1, tf.lbal ?? 0);
      ata.write('command', CMD.LBAM, 1, tf.lbam ?? 0);
      ata.write('command', CMD.LBAH, 1, tf.lbah ?? 0);
      ata.write('command', CMD.DEVICE, 1, tf.device);
    },
  };
}

/** Polls Status until BSY is clear (every command here completes at once; a poll limit keeps a broken model from hanging a test). */
export function waitNotBusy(b: Board, limit = 10): number {
  for (let i = 0; i < limit; i++) {
    const status = b.altStatus();
    if ((status & Status.BSY) === 0) return status;
  }
  throw new Error('BSY never cleared');
}

/** IDENTIFY word `n` of a 512-byte block. */
export const word = (block: Uint8Array, n: number): number => (block[2 * n] ?? 0) | ((block[2 * n + 1] ?? 0) << 8);

/** An IDENTIFY string (words from `first`, `count` words), trimmed. */
export function identifyString(block: Uint8Array, first: number, count: number): string {
  let text = '';
  for (let w = first; w < first + count; w++) text += String.fromCharCode(block[2 * w + 1] ?? 0, block[2 * w] ?? 0);
  return text.trimEnd();
}

/** Device `unit`'s state, which must be a disk's (or an absent device's). */
export function diskState(ata: AtaChannel, unit: 0 | 1 = 0): AtaDriveState {
  const state = ata.getState().drives[unit];
  if (state.kind !== 'ata') throw new Error(`device ${unit} is a ${state.kind}, not a disk`);
  return state;
}
