/**
 * QEMU's firmware configuration device, fw_cfg, in its I/O-port form (QEMU
 * docs/specs/fw_cfg.rst): how firmware on QEMU learns the machine — its RAM,
 * CPUs, boot order, tables — without probing hardware.
 *
 * Region `selector-data` (2 ports; 510h on x86): the 16-bit selector at
 * offset 0 and the 8-bit data register at offset 1. The spec: "the two
 * ports overlap, and can not be mapped separately" — as QEMU's combined
 * region, a byte read at either offset is a data read, a 16-bit write at
 * offset 0 selects an item (the offset back to 0), a byte write is a data
 * write, ignored since QEMU 2.4 (counted). Each data read returns the next
 * byte of the selected item and advances the offset; past the item's end,
 * or for a key with no item, reads return 0 and the offset stays.
 *
 * Region `dma-address` (8 ports; 514h on x86): the DMA interface's address
 * register, big-endian. A 32-bit write at offset 0 sets the high half; one
 * at offset 4 sets the low half and runs the operation the FWCfgDmaAccess
 * at that address describes (control, length, address; big-endian): SELECT
 * (bit 3, key in bits 31–16), then READ (bit 1: the item's next bytes into
 * RAM, zeros past its end), else WRITE (bit 4: refused, every item here is
 * read-only), else SKIP (bit 2: the offset moves on). The register is 0 again
 * after every operation, and the control word is written back: 0 when done,
 * the error bit when something failed (a descriptor or buffer outside guest
 * RAM, a write). Operations are synchronous, as QEMU's. Reads of the
 * register return the DMA signature "QEMU CFG". Other widths and offsets
 * are not valid writes (QEMU's fw_cfg_dma_mem_valid): ignored, counted.
 *
 * Guest RAM is the context's memory, so DMA works wherever the device runs
 * (the device host reaches RAM through the kernel's memory ioctls). The
 * items are configuration, made once from the VM (`qemuPcItems`); the state
 * is the selector, the offset and the half-written DMA address, as QEMU's
 * vmstate (cur_entry, cur_offset, dma_addr).
 */
import type { AccessSize, Device, DeviceContext, IoRegion } from '@splitvisor/abi';
import { expectState } from '@splitvisor/abi';
import {
  DMA_ACCESS_BYTES, DmaControl, FILE_ENTRY_BYTES, FILE_NAME_MAX, FILE_SLOTS, FW_CFG_DMA_SIGNATURE, FW_CFG_SIGNATURE, FwCfgFeature, FwCfgKey, ITEM_KEY_MASK,
} from './keys.ts';

/** An item at a selector key: the bytes a guest reads, in order. */
export interface FwCfgItem {
  readonly key: number;
  readonly data: Uint8Array;
}

/** A named item: listed in the file directory, at a key from FILE_FIRST on. */
export interface FwCfgFile {
  readonly name: string;
  readonly data: Uint8Array;
}

export interface FwCfgConfig {
  /**
   * Items at fixed keys (generic 0002h–001Fh, or the architecture's from
   * 8000h), beside the device's own: the signature, the feature bitmap and
   * the file directory.
   */
  readonly items?: readonly FwCfgItem[];
  /** Named items, listed in the file directory sorted by name (as QEMU since 2.8), at keys FILE_FIRST, FILE_FIRST + 1, … in that order. */
  readonly files?: readonly FwCfgFile[];
}

export type FwCfgState = {
  readonly model: 'fw-cfg';
  readonly version: 1;
  /** The key last selected, as written (16 bits). */
  readonly selector: number;
  /** The offset of the next byte to read in the selected item. */
  readonly offset: number;
  /** The DMA address register's high half, as written since the last operation (0 after each). */
  readonly dmaAddressHigh: number;
};

const MODEL = 'fw-cfg';
const VERSION = 1;

const REGIONS: readonly IoRegion[] = [
  { name: 'selector-data', space: 'port', length: 2, sizes: [1, 2] },
  { name: 'dma-address', space: 'port', length: 8, sizes: [1, 2, 4] },
];

/** The largest piece of zeros a read past an item's end writes at once. */
const ZERO_CHUNK = 64 * 1024;
const ZEROS = new Uint8Array(ZERO_CHUNK);

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const DMA_SIGNATURE = ascii(FW_CFG_DMA_SIGNATURE);

/** A 32-bit value as the guest put its bytes on the bus (lowest port first), read as the big-endian number they spell. */
const bigEndian32 = (value: number): number => (((value & 0xff) << 24) | ((value & 0xff00) << 8) | ((value >>> 8) & 0xff00) | (value >>> 24)) >>> 0;

const be32 = (bytes: Uint8Array, at: number): number => (((bytes[at] ?? 0) << 24) | ((bytes[at + 1] ?? 0) << 16) | ((bytes[at + 2] ?? 0) << 8) | (bytes[at + 3] ?? 0)) >>> 0;

/** Builds the item table: the device's own items, the caller's, the directory and the files. A bad configuration is the host's error. */
function itemTable(config: FwCfgConfig): Map<number, Uint8Array> {
  const table = new Map<number, Uint8Array>();
  const id = new Uint8Array(4);
  id[0] = FwCfgFeature.TRADITIONAL | FwCfgFeature.DMA;
  table.set(FwCfgKey.SIGNATURE, ascii(FW_CFG_SIGNATURE));
  table.set(FwCfgKey.ID, id);
  const files = [...(config.files ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (files.length > FILE_SLOTS) throw new RangeError(`fw_cfg holds at most ${FILE_SLOTS} files, not ${files.length}`);
  for (const item of config.items ?? []) {
    const { key } = item;
    const generic = key >= FwCfgKey.UUID && key < FwCfgKey.FILE_FIRST && key !== FwCfgKey.FILE_DIR;
    const arch = key >= FwCfgKey.ARCH_LOCAL && key < FwCfgKey.ARCH_LOCAL + FwCfgKey.WRITE_CHANNEL;
    if (!Number.isInteger(key) || !(generic || arch)) throw new RangeError(`fw_cfg item key ${key}: expected 0002h–001Fh (not the file directory's 0019h) or 8000h–BFFFh`);
    if (table.has(key)) throw new RangeError(`fw_cfg item key ${key.toString(16)}h given twice`);
    table.set(key, item.data);
  }
  const directory = new Uint8Array(4 + FILE_ENTRY_BYTES * files.length);
  const view = new DataView(directory.buffer);
  view.setUint32(0, files.length);
  files.forEach((file, i) => {
    if (file.name.length === 0 || file.name.length > FILE_NAME_MAX || !/^[\x20-\x7e]+$/.test(file.name)) {
      throw new RangeError(`fw_cfg file name "${file.name}": expected 1 to ${FILE_NAME_MAX} printable ASCII characters`);
    }
    if (i > 0 && files[i - 1]?.name === file.name) throw new RangeError(`fw_cfg file "${file.name}" given twice`);
    const at = 4 + FILE_ENTRY_BYTES * i;
    const key = FwCfgKey.FILE_FIRST + i;
    view.setUint32(at, file.data.length);
    view.setUint16(at + 4, key);
    directory.set(ascii(file.name), at + 8);
    table.set(key, file.data);
  });
  table.set(FwCfgKey.FILE_DIR, directory);
  return table;
}

export class FwCfg implements Device<FwCfgState> {
  readonly model: 'fw-cfg' = MODEL;
  readonly regions: readonly IoRegion[] = REGIONS;
  private readonly items: ReadonlyMap<number, Uint8Array>;
  private selector = 0;
  private offset = 0;
  private dmaAddressHigh = 0;
  private readonly odd = { dataWrites: 0, unacceptedAccesses: 0, dmaAddressWritesIgnored: 0, dmaRefused: 0, dmaWritesRefused: 0 };
  private readonly context: DeviceContext;

  constructor(context: DeviceContext, config: FwCfgConfig = {}) {
    this.context = context;
    this.items = itemTable(config);
  }

  read(region: string, offset: number, size: AccessSize): number {
    if (region === 'selector-data' && size === 1 && (offset === 0 || offset === 1)) return this.dataRead();
    if (region === 'dma-address' && offset >= 0 && offset + size <= DMA_SIGNATURE.length) {
      let value = 0;
      for (let i = size - 1; i >= 0; i--) value = value * 256 + (DMA_SIGNATURE[offset + i] ?? 0);
      return value;
    }
    this.odd.unacceptedAccesses++;
    return size === 4 ? 0xffff_ffff : (1 << (8 * size)) - 1;
  }

  write(region: string, offset: number, size: AccessSize, value: number): void {
    if (region === 'selector-data') {
      if (size === 2 && offset === 0) this.select(value & 0xffff);
      else if (size === 1 && (offset === 0 || offset === 1)) this.odd.dataWrites++; // QEMU 2.4 on: writes to the data register are no-ops
      else this.odd.unacceptedAccesses++;
      return;
    }
    if (region !== 'dma-address') {
      this.odd.unacceptedAccesses++;
      return;
    }
    if (size === 4 && offset === 0) {
      this.dmaAddressHigh = bigEndian32(value);
    } else if (size === 4 && offset === 4) {
      const high = this.dmaAddressHigh;
      this.dmaAddressHigh = 0; // 0 again after every operation
      this.transfer(high, bigEndian32(value));
    } else {
      this.odd.dmaAddressWritesIgnored++;
    }
  }

  private select(key: number): void {
    this.selector = key;
    this.offset = 0;
  }

  private item(): Uint8Array | undefined {
    return this.items.get(this.selector & ITEM_KEY_MASK);
  }

  private dataRead(): number {
    const item = this.item();
    if (item === undefined || this.offset >= item.length) return 0;
    return item[this.offset++] ?? 0;
  }

  /** Runs the FWCfgDmaAccess at `high`:`low` (fw_cfg.rst, "Guest-side DMA Interface"). */
  private transfer(high: number, low: number): void {
    const { memory } = this.context;
    const access = new Uint8Array(DMA_ACCESS_BYTES);
    // No RAM lies above 4 GiB on this board: a descriptor there cannot be read, nor its control word written.
    if (high !== 0 || !memory.read(low, access)) {
      this.odd.dmaRefused++;
      return;
    }
    const control = be32(access, 0);
    let length = be32(access, 4);
    let address = be32(access, 8) * 2 ** 32 + be32(access, 12);
    if ((control & DmaControl.SELECT) !== 0) this.select(control >>> 16);
    const read = (control & DmaControl.READ) !== 0;
    const write = !read && (control & DmaControl.WRITE) !== 0;
    const skip = !read && !write && (control & DmaControl.SKIP) !== 0;
    if (!read && !write && !skip) length = 0;
    let result = 0;
    while (length > 0 && (result & DmaControl.ERROR) === 0) {
      const item = this.item();
      let len: number;
      if (item === undefined || this.offset >= item.length) {
        // Past the item (or no item): a read fills the rest with zeros, a skip consumes it, a write fails.
        len = length;
        if (read && !this.zero(address, len)) result |= DmaControl.ERROR;
      } else {
        len = Math.min(length, item.length - this.offset);
        if (read && !this.toGuest(address, item.subarray(this.offset, this.offset + len))) result |= DmaControl.ERROR;
        this.offset += len;
      }
      if (write) {
        this.odd.dmaWritesRefused++;
        result |= DmaControl.ERROR;
      }
      address += len;
      length -= len;
    }
    const status = new Uint8Array(4);
    new DataView(status.buffer).setUint32(0, result);
    if (!memory.write(low, status)) this.odd.dmaRefused++;
  }

  private toGuest(address: number, bytes: Uint8Array): boolean {
    if (this.context.memory.write(address, bytes)) return true;
    this.odd.dmaRefused++;
    return false;
  }

  /** Zeros into `length` bytes of RAM at `address`, in pieces; refused whole (nothing written) when any of it lies outside RAM. */
  private zero(address: number, length: number): boolean {
    const { memory } = this.context;
    if (!Number.isSafeInteger(address + length) || address + length > memory.size) {
      this.odd.dmaRefused++;
      return false;
    }
    for (let at = 0; at < length; at += ZERO_CHUNK) {
      if (!this.toGuest(address + at, ZEROS.subarray(0, Math.min(ZERO_CHUNK, length - at)))) return false;
    }
    return true;
  }

  // --- host side --------------------------------------------------------------------------------

  /** The bytes of the item at `key` (the write-channel bit aside), or undefined when there is none: what a guest would read. */
  itemAt(key: number): Uint8Array | undefined {
    const item = this.items.get(key & ITEM_KEY_MASK);
    return item === undefined ? undefined : item.slice();
  }

  // --- state ------------------------------------------------------------------------------------

  getState(): FwCfgState {
    return { model: MODEL, version: VERSION, selector: this.selector, offset: this.offset, dmaAddressHigh: this.dmaAddressHigh };
  }

  setState(state: FwCfgState): void {
    expectState(state, MODEL, VERSION);
    this.selector = state.selector & 0xffff;
    this.offset = Number.isSafeInteger(state.offset) && state.offset >= 0 ? state.offset : 0;
    this.dmaAddressHigh = state.dmaAddressHigh >>> 0;
  }

  anomalies(): Readonly<Record<string, number>> {
    return { ...this.odd };
  }
}
