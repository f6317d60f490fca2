/**
 * One ATA device (a hard disk, or the empty place of one) on a channel:
 * its registers, status, settings, write cache and the data phase of the
 * command in progress. ATA/ATAPI-6: the command descriptions, and the
 * protocols (non-data, PIO data-in, PIO data-out, DMA).
 *
 * Commands complete at once, as QEMU's synchronous paths do: the status a
 * driver reads right after writing a command is the final one (or the DRQ
 * of the first data block), never BSY. Seek, rotation and transfer timing
 * are not modelled. The channel (`ata-channel.ts`) decides which drive a
 * register access reaches, drives INTRQ from `interruptPending`, and runs
 * bus-master DMA against `dmaIn` / `dmaOut`.
 */
import type { DeviceLogger } from '@splitvisor/abi';
import { DeviceStateError } from '@splitvisor/abi';
import type { BlockBackend } from '../block/block-backend.ts';
import { SECTOR_SIZE } from '../block/block-backend.ts';
import type { WriteBackResult, WriteCacheState } from '../block/write-back-cache.ts';
import { WriteBackCache } from '../block/write-back-cache.ts';
import type { AtaDeviceState } from './ata-device.ts';
import { AtaDevice } from './ata-device.ts';
import type { ChannelDevice, ChannelDeviceState } from './channel-device.ts';
import { readDataWord, writeDataWord } from './data-port.ts';
import type { Geometry } from './identify.ts';
import { POWER_ON_TRANSFER_MODE, cylindersFor, defaultGeometry, identifyDevice, isIdentifyString } from './identify.ts';
import { AtaError, Command, DSM_TRIM, Feature, LBA28_LIMIT, MAX_MULTIPLE_SECTORS, Smart, Status } from './registers.ts';
import type { Addressing } from './task-file.ts';
import { addressableSectors, addressingOf, commandAddress, commandSectorCount, storeAddress } from './task-file.ts';

export interface AtaDriveConfig {
  readonly backend: BlockBackend;
  /** IDENTIFY words 27–46, up to 40 printable ASCII characters. Default `SPLITVISOR HARDDISK`. */
  readonly model?: string;
  /** IDENTIFY words 10–19, up to 20 characters. Default `SV00001` (device 0) / `SV00002` (device 1). */
  readonly serial?: string;
  /** IDENTIFY words 23–26, up to 8 characters. Default `1.0`. */
  readonly firmware?: string;
  /** The default CHS translation (words 1, 3, 6). Default: 16 heads, 63 sectors, as many cylinders as fit. */
  readonly geometry?: Geometry;
  /** Dirty sectors the write cache holds before writing back. Default 512 (256 KiB, word 21). */
  readonly writeCacheSectors?: number;
  /** Whether the write cache is enabled at power-on. Default true. */
  readonly writeCache?: boolean;
  /** READ/WRITE MULTIPLE block at power-on: 0 (disabled) or a power of two up to 16. Default 16, as QEMU. */
  readonly multipleSectors?: number;
  /**
   * Whether the drive offers WRITE DMA FUA EXT and WRITE MULTIPLE FUA EXT
   * (IDENTIFY words 84 and 87 bit 6). Default true; QEMU's IDE disk does not
   * offer them (false gives its IDENTIFY block, and aborts the two commands as it does).
   */
  readonly forceUnitAccess?: boolean;
}

/** A configuration the host got wrong: thrown when the channel is built, never at guest input. */
export class AtaConfigError extends Error {
  override readonly name = 'AtaConfigError';
}

/**
 * The data phase of the command in progress:
 * - `pio-in` / `pio-out`: `data` holds the current DRQ block of `length`
 *   bytes, `position` bytes of it transferred; `lba` is the block's first
 *   sector, `remaining` the sectors after it.
 * - `dma-in` / `dma-out`: `lba` is the command's first sector, `length` its
 *   bytes, `position` those transferred; `data` holds a partly received sector.
 * `target` says what the bytes are: sectors of the medium, a block the drive
 * made (IDENTIFY, SMART data), or DATA SET MANAGEMENT range entries. `fua`:
 * a Forced Unit Access write, its sectors written through to the backend and
 * flushed before the command completes.
 */
export type AtaTransferState = {
  readonly phase: 'idle' | 'pio-in' | 'pio-out' | 'dma-in' | 'dma-out';
  readonly target: 'media' | 'buffer' | 'trim';
  readonly addressing: Addressing;
  readonly lba: number;
  readonly remaining: number;
  readonly blockSectors: number;
  readonly position: number;
  readonly length: number;
  readonly data: Uint8Array;
  /** A TRIM range entry named sectors past the end: the command ends in ABRT. */
  readonly trimRejected: boolean;
  readonly fua: boolean;
};

export type AtaDriveState = AtaDeviceState & {
  /** A disk, or the empty place of a device. */
  readonly kind: 'ata';
  readonly multipleCount: number;
  readonly revertToDefaultsOnReset: boolean;
  readonly smartEnabled: boolean;
  readonly smartAutosave: boolean;
  /** The current CHS translation; null after an INITIALIZE DEVICE PARAMETERS the drive could not adopt. */
  readonly chs: Geometry | null;
  readonly transfer: AtaTransferState;
  readonly cache: WriteCacheState | null;
};

/** Counts of guest input the drive answers oddly (shared with its channel). */
export type DriveAnomalies = {
  dataReadsWithoutDrq: number;
  dataWritesWithoutDrq: number;
  straddlingDataAccesses: number;
  unsupportedCommands: number;
  addressesNotFound: number;
  backendReadErrors: number;
  backendWriteErrors: number;
  backendFlushErrors: number;
  /** Write commands (and TRIM) to a drive on a read-only image: aborted, nothing taken. */
  writesWhileWriteProtected: number;
};

type Transfer = { -readonly [K in keyof AtaTransferState]: AtaTransferState[K] };

const IDLE_TRANSFER: AtaTransferState = {
  phase: 'idle', target: 'media', addressing: 'lba28', lba: 0, remaining: 0, blockSectors: 1, position: 0, length: 0,
  data: new Uint8Array(0), trimRejected: false, fua: false,
};

/** Sectors read per backend call when verifying. */
const VERIFY_CHUNK = 128;

/** Bytes of one TRIM range entry: a 48-bit LBA and a 16-bit sector count (ACS-2, DATA SET MANAGEMENT). */
const TRIM_ENTRY_BYTES = 8;

interface Identity {
  readonly serial: string;
  readonly firmware: string;
  readonly model: string;
  readonly geometry: Geometry;
  readonly writeCacheSectors: number;
  readonly writeCacheAtPowerOn: boolean;
  readonly multipleAtPowerOn: number;
  readonly forceUnitAccess: boolean;
}

function checkedIdentity(unit: 0 | 1, config: AtaDriveConfig): Identity {
  const serial = config.serial ?? `SV0000${unit + 1}`;
  const firmware = config.firmware ?? '1.0';
  const model = config.model ?? 'SPLITVISOR HARDDISK';
  for (const [name, text, length] of [['serial', serial, 20], ['firmware', firmware, 8], ['model', model, 40]] as const) {
    if (!isIdentifyString(text, length)) throw new AtaConfigError(`drive ${unit} ${name} ${JSON.stringify(text)} is not up to ${length} printable ASCII characters`);
  }
  const sectors = config.backend.sectors;
  if (!Number.isSafeInteger(sectors) || sectors < 1 || sectors >= 2 ** 48) throw new AtaConfigError(`drive ${unit} has ${sectors} sectors: a disk needs 1 to 2^48 - 1`);
  const geometry = config.geometry ?? defaultGeometry(sectors);
  const { cylinders, heads, sectorsPerTrack } = geometry;
  if (!Number.isInteger(cylinders) || cylinders < 1 || cylinders > 65_535 || !Number.isInteger(heads) || heads < 1 || heads > 16
    || !Number.isInteger(sectorsPerTrack) || sectorsPerTrack < 1 || sectorsPerTrack > 255) {
    throw new AtaConfigError(`drive ${unit} geometry ${cylinders}/${heads}/${sectorsPerTrack} is not 1–65535 cylinders, 1–16 heads, 1–255 sectors`);
  }
  const multiple = config.multipleSectors ?? MAX_MULTIPLE_SECTORS;
  if (!isValidMultiple(multiple)) throw new AtaConfigError(`drive ${unit} multiple count ${multiple} is not 0 or a power of two up to ${MAX_MULTIPLE_SECTORS}`);
  const writeCacheSectors = config.writeCacheSectors ?? 512;
  if (!Number.isSafeInteger(writeCacheSectors) || writeCacheSectors < 1 || writeCacheSectors > 0xffff) {
    throw new AtaConfigError(`drive ${unit} write cache of ${writeCacheSectors} sectors is not 1–65535`);
  }
  return {
    serial, firmware, model, geometry, writeCacheSectors, writeCacheAtPowerOn: config.writeCache ?? true, multipleAtPowerOn: multiple,
    forceUnitAccess: config.forceUnitAccess ?? true,
  };
}

function isValidMultiple(count: number): boolean {
  return Number.isInteger(count) && count >= 0 && count <= MAX_MULTIPLE_SECTORS && (count & (count - 1)) === 0;
}

export class AtaDrive extends AtaDevice<Transfer> implements ChannelDevice {
  readonly kind = 'ata' as const;
  private readonly identity: Identity | undefined;
  private readonly cache: WriteBackCache | undefined;
  private readonly sectors: number;
  /** The image refuses writes: write commands abort before taking data (a write-protected medium). */
  private readonly writeProtected: boolean;
  private readonly odd: DriveAnomalies;
  private readonly log: DeviceLogger;
  private multipleCount: number;
  private revertToDefaultsOnReset = false;
  private smartEnabled = true;
  private smartAutosave = true;
  private chs: Geometry | undefined;
  /** The DRQ block of a PIO command (up to a READ/WRITE MULTIPLE block), or a DMA write's partial sector. */
  private readonly block = new Uint8Array(MAX_MULTIPLE_SECTORS * SECTOR_SIZE);

  /** Power-on: ready, with the diagnostic code in Error (the empty place of a device: all zeros). */
  constructor(unit: 0 | 1, config: AtaDriveConfig | undefined, odd: DriveAnomalies, log: DeviceLogger) {
    super(unit, config === undefined ? 'absent' : 'ata', IDLE_TRANSFER, odd);
    this.odd = odd;
    this.log = log;
    this.writeProtected = config?.backend.readOnly === true;
    if (config === undefined) {
      this.sectors = 0;
      this.multipleCount = 0;
    } else {
      const identity = checkedIdentity(unit, config);
      this.identity = identity;
      this.sectors = config.backend.sectors;
      this.cache = new WriteBackCache(config.backend, identity.writeCacheSectors, identity.writeCacheAtPowerOn);
      this.multipleCount = identity.multipleAtPowerOn;
      this.chs = this.defaultChs();
    }
  }

  private defaultChs(): Geometry | undefined {
    return this.identity?.geometry;
  }

  /** A disk takes no command while BSY, DRQ or asleep (ATA/ATAPI-6: only a reset reaches it then). */
  takesWhileBusy(): boolean {
    return false;
  }

  // --- commands ---------------------------------------------------------------

  /** Runs `command` from the task file. The channel has checked that the drive is present, awake, and neither BSY nor DRQ. */
  execute(command: number): void {
    this.interruptPending = false;
    this.error = 0;
    this.status = Status.DRDY | Status.DSC;
    if (this.executePowerManagement(command)) return;
    switch (command) {
      case Command.IDENTIFY_DEVICE: this.sendBlock(this.identifyBlock()); return;
      case Command.READ_SECTORS:
      case Command.READ_SECTORS_NO_RETRY: this.startPio('pio-in', false, 1); return;
      case Command.READ_SECTORS_EXT: this.startPio('pio-in', true, 1); return;
      case Command.READ_MULTIPLE: this.startMultiple('pio-in', false); return;
      case Command.READ_MULTIPLE_EXT: this.startMultiple('pio-in', true); return;
      case Command.WRITE_SECTORS:
      case Command.WRITE_SECTORS_NO_RETRY: this.startPio('pio-out', false, 1); return;
      case Command.WRITE_SECTORS_EXT: this.startPio('pio-out', true, 1); return;
      case Command.WRITE_MULTIPLE: this.startMultiple('pio-out', false); return;
      case Command.WRITE_MULTIPLE_EXT: this.startMultiple('pio-out', true); return;
      case Command.WRITE_MULTIPLE_FUA_EXT: if (this.offersFua()) this.startMultiple('pio-out', true, true); return;
      case Command.READ_DMA:
      case Command.READ_DMA_NO_RETRY: this.startDma('dma-in', false); return;
      case Command.READ_DMA_EXT: this.startDma('dma-in', true); return;
      case Command.WRITE_DMA:
      case Command.WRITE_DMA_NO_RETRY: this.startDma('dma-out', false); return;
      case Command.WRITE_DMA_EXT: this.startDma('dma-out', true); return;
      case Command.WRITE_DMA_FUA_EXT: if (this.offersFua()) this.startDma('dma-out', true, true); return;
      case Command.READ_VERIFY_SECTORS:
      case Command.READ_VERIFY_SECTORS_NO_RETRY: this.verify(false); return;
      case Command.READ_VERIFY_SECTORS_EXT: this.verify(true); return;
      case Command.FLUSH_CACHE: this.flushCache('lba28'); return;
      case Command.FLUSH_CACHE_EXT: this.flushCache('lba48'); return;
      case Command.SET_FEATURES: this.setFeatures(); return;
      case Command.SET_MULTIPLE_MODE: this.setMultipleMode(); return;
      case Command.INITIALIZE_DEVICE_PARAMETERS: this.initializeDeviceParameters(); return;
      case Command.READ_NATIVE_MAX_ADDRESS: this.readNativeMaxAddress('lba28'); return;
      case Command.READ_NATIVE_MAX_ADDRESS_EXT: this.readNativeMaxAddress('lba48'); return;
      case Command.SMART: this.smart(); return;
      case Command.DATA_SET_MANAGEMENT: this.dataSetManagement(); return;
      default:
        if ((command & 0xf0) === Command.RECALIBRATE) {
          this.complete();
        } else if ((command & 0xf0) === Command.SEEK) {
          this.seek();
        } else {
          // NOP, DEVICE RESET, PACKET, IDENTIFY PACKET DEVICE (a PACKET device's) and any code not implemented.
          this.abortUnsupported();
        }
    }
  }

  /** Whether the FUA commands are offered; the command is aborted as unsupported when they are not. */
  private offersFua(): boolean {
    if (this.identity?.forceUnitAccess === true) return true;
    this.abortUnsupported();
    return false;
  }

  /**
   * A command that would change the medium, on a drive whose image refuses
   * writes: aborted before any data moves (ABRT, the error of a command the
   * device cannot do; ATA has no write-protect status for a fixed disk, and
   * Linux's libata reports it as an I/O error without retrying it forever).
   */
  private refusedAsWriteProtected(): boolean {
    if (!this.writeProtected) return false;
    this.odd.writesWhileWriteProtected++;
    this.abort();
    return true;
  }

  /** An error at sector `lba`, which the address registers then name. */
  private failAt(error: number, addressing: Addressing, lba: number, deviceFault = false): void {
    storeAddress(this.taskFile, addressing, lba, this.chs);
    this.abort(error, deviceFault);
  }

  private writeFailed(result: WriteBackResult, addressing: Addressing, fallbackLba: number): void {
    if (result.ok) return;
    if (result.lba === undefined) {
      // The backend would not make written data durable: the drive cannot vouch for what it holds.
      this.odd.backendFlushErrors++;
      this.log.warn(`ATA drive ${this.unit}: the backend failed to flush`);
      this.failAt(AtaError.ABRT, addressing, fallbackLba, true);
    } else {
      this.odd.backendWriteErrors++;
      this.log.warn(`ATA drive ${this.unit}: the backend refused a write at sector ${result.lba}`);
      this.failAt(AtaError.ABRT, addressing, result.lba);
    }
  }

  /**
   * The sectors a media command names, checked against the disk (READ SECTORS
   * error outputs: IDNF for an address that is no user-accessible sector,
   * with the first such address in the registers); undefined after ending
   * the command in error.
   */
  private mediaRange(lba48: boolean, countOverride?: number): { addressing: Addressing; lba: number; count: number } | undefined {
    const addressing = addressingOf(this.taskFile, lba48);
    if (addressing === 'chs' && this.chs === undefined) {
      // INITIALIZE DEVICE PARAMETERS: after an unusable one, CHS media access is aborted until a valid one.
      this.abort();
      return undefined;
    }
    const count = countOverride ?? commandSectorCount(this.taskFile, addressing);
    const lba = commandAddress(this.taskFile, addressing, this.chs);
    const limit = addressableSectors(addressing, this.sectors);
    if (lba === undefined) {
      this.odd.addressesNotFound++;
      this.abort(AtaError.IDNF);
      return undefined;
    }
    if (lba + count > limit) {
      this.odd.addressesNotFound++;
      this.failAt(AtaError.IDNF, addressing, Math.max(lba, limit));
      return undefined;
    }
    this.power = 'active';
    return { addressing, lba, count };
  }

  private identifyBlock(): Uint8Array {
    const identity = this.identity;
    if (identity === undefined) return new Uint8Array(SECTOR_SIZE);
    return identifyDevice({
      unit: this.unit, sectors: this.sectors, defaultGeometry: identity.geometry, currentGeometry: this.chs,
      serial: identity.serial, firmware: identity.firmware, model: identity.model, multipleCount: this.multipleCount,
      writeCacheEnabled: this.cache?.enabled ?? false, writeCacheSectors: identity.writeCacheSectors,
      smartEnabled: this.smartEnabled, transferMode: this.transferMode, forceUnitAccess: identity.forceUnitAccess,
    });
  }

  /** PIO data-in of one block the drive made: DRQ, and an interrupt. */
  private sendBlock(data: Uint8Array): void {
    this.block.set(data);
    this.transfer = { ...IDLE_TRANSFER, phase: 'pio-in', target: 'buffer', blockSectors: 1, position: 0, length: data.length };
    this.status = Status.DRDY | Status.DSC | Status.DRQ;
    this.interruptPending = true;
  }

  private startMultiple(phase: 'pio-in' | 'pio-out', lba48: boolean, fua = false): void {
    // READ/WRITE MULTIPLE before a valid SET MULTIPLE MODE is aborted.
    if (this.multipleCount === 0) {
      this.abort();
      return;
    }
    this.startPio(phase, lba48, this.multipleCount, fua);
  }

  private startPio(phase: 'pio-in' | 'pio-out', lba48: boolean, blockSectors: number, fua = false): void {
    if (phase === 'pio-out' && this.refusedAsWriteProtected()) return;
    const range = this.mediaRange(lba48);
    if (range === undefined) return;
    this.transfer = {
      ...IDLE_TRANSFER, phase, target: 'media', addressing: range.addressing, lba: range.lba, remaining: range.count, blockSectors, fua,
    };
    if (phase === 'pio-in') {
      this.loadReadBlock();
    } else {
      // PIO data-out protocol: the first block of a command is asked for without an interrupt.
      this.nextWriteBlock(false);
    }
  }

  /** Reads the next block of a PIO data-in command into the buffer, then DRQ and an interrupt (PIO data-in protocol). */
  private loadReadBlock(): void {
    const t = this.transfer;
    const count = Math.min(t.remaining, t.blockSectors);
    const cache = this.cache;
    if (!cache?.read(t.lba, count, this.block.subarray(0, count * SECTOR_SIZE))) {
      this.odd.backendReadErrors++;
      this.log.warn(`ATA drive ${this.unit}: the backend failed to read ${count} sectors at ${t.lba}`);
      this.failAt(AtaError.UNC, t.addressing, t.lba);
      return;
    }
    t.lba += count;
    t.remaining -= count;
    t.position = 0;
    t.length = count * SECTOR_SIZE;
    // As QEMU: the registers follow the transfer (the next sector, the sectors still to come).
    storeAddress(this.taskFile, t.addressing, t.lba, this.chs, t.remaining);
    this.status = Status.DRDY | Status.DSC | Status.DRQ;
    this.interruptPending = true;
  }

  /** Asks for the next block of a PIO data-out command: DRQ, with an interrupt after the first (PIO data-out protocol). */
  private nextWriteBlock(interrupt: boolean): void {
    const t = this.transfer;
    t.position = 0;
    t.length = Math.min(t.remaining, t.blockSectors) * SECTOR_SIZE;
    this.status = Status.DRDY | Status.DSC | Status.DRQ;
    if (interrupt) this.interruptPending = true;
  }

  private commitWriteBlock(): void {
    const t = this.transfer;
    const count = t.length / SECTOR_SIZE;
    const data = this.block.subarray(0, t.length);
    if (!this.storeSectors(t.lba, data)) return;
    if (t.remaining === count && !this.madeDurable(t.lba)) return;
    t.lba += count;
    t.remaining -= count;
    storeAddress(this.taskFile, t.addressing, t.lba, this.chs, t.remaining);
    if (t.remaining > 0) {
      this.nextWriteBlock(true);
    } else {
      this.endTransfer();
      this.complete();
    }
  }

  /** Sectors of a write command to the cache (through it to the backend for FUA); false after ending the command in error. */
  private storeSectors(lba: number, data: Uint8Array): boolean {
    const t = this.transfer;
    const cache = this.cache;
    const result: WriteBackResult = cache === undefined ? { ok: false, lba } : t.fua ? cache.writeThrough(lba, data) : cache.write(lba, data);
    if (result.ok) return true;
    this.writeFailed(result, t.addressing, lba);
    return false;
  }

  /**
   * A write command's last sector is in: a FUA write's sectors reach stable
   * storage before it completes (ATA/ATAPI-7, WRITE DMA FUA EXT); a failed
   * flush ends it as FLUSH CACHE's would (ABRT with DF), the address
   * registers naming `lba` (a DMA command's first sector, a PIO command's
   * last block). False after ending the command in error.
   */
  private madeDurable(lba: number): boolean {
    const t = this.transfer;
    if (!t.fua || this.cache === undefined) return true;
    const result = this.cache.flushBackend();
    if (result.ok) return true;
    this.writeFailed(result, t.addressing, lba);
    return false;
  }

  private verify(lba48: boolean): void {
    const range = this.mediaRange(lba48);
    if (range === undefined) return;
    const scratch = new Uint8Array(Math.min(range.count, VERIFY_CHUNK) * SECTOR_SIZE);
    for (let done = 0; done < range.count; done += VERIFY_CHUNK) {
      const count = Math.min(VERIFY_CHUNK, range.count - done);
      if (!this.cache?.read(range.lba + done, count, scratch)) {
        this.odd.backendReadErrors++;
        this.failAt(AtaError.UNC, range.addressing, range.lba + done);
        return;
      }
    }
    this.complete();
  }

  private seek(): void {
    const addressing = addressingOf(this.taskFile, false);
    const lba = addressing === 'chs' && this.chs === undefined ? undefined : commandAddress(this.taskFile, addressing, this.chs);
    if (lba === undefined || lba >= addressableSectors(addressing, this.sectors)) {
      this.odd.addressesNotFound++;
      this.abort(AtaError.IDNF);
      return;
    }
    this.complete();
  }

  private flushCache(addressing: Addressing): void {
    const result: WriteBackResult = this.cache === undefined ? { ok: true } : this.cache.flush();
    if (!result.ok) {
      this.writeFailed(result, addressing, 0);
      return;
    }
    this.complete();
  }

  // --- DMA (the DMA protocol; the bus master moves the bytes) -----------------------------------------

  private startDma(phase: 'dma-in' | 'dma-out', lba48: boolean, fua = false): void {
    if (phase === 'dma-out' && this.refusedAsWriteProtected()) return;
    const range = this.mediaRange(lba48);
    if (range === undefined) return;
    this.beginDma(phase, 'media', range.addressing, range.lba, range.count, fua);
  }

  private beginDma(phase: 'dma-in' | 'dma-out', target: 'media' | 'trim', addressing: Addressing, lba: number, count: number, fua = false): void {
    this.transfer = { ...IDLE_TRANSFER, phase, target, addressing, lba, remaining: count, position: 0, length: count * SECTOR_SIZE, fua };
    // Waiting for the bus master: DRQ without BSY, no interrupt until the transfer ends (QEMU: 58h).
    this.status = Status.DRDY | Status.DSC | Status.DRQ;
  }

  dmaRemaining(): number {
    return this.transfer.length - this.transfer.position;
  }

  /** Gives the bus master the next `into.length` bytes of a DMA read; false after ending the command in error. */
  dmaIn(into: Uint8Array): boolean {
    const t = this.transfer;
    const cache = this.cache;
    let done = 0;
    while (done < into.length) {
      const sector = t.lba + Math.floor(t.position / SECTOR_SIZE);
      const within = t.position % SECTOR_SIZE;
      const whole = within === 0 ? Math.floor((into.length - done) / SECTOR_SIZE) : 0;
      if (whole > 0) {
        if (!cache?.read(sector, whole, into.subarray(done, done + whole * SECTOR_SIZE))) return this.dmaReadFailed(sector);
        done += whole * SECTOR_SIZE;
        t.position += whole * SECTOR_SIZE;
      } else {
        const part = this.block.subarray(0, SECTOR_SIZE);
        if (!cache?.read(sector, 1, part)) return this.dmaReadFailed(sector);
        const bytes = Math.min(SECTOR_SIZE - within, into.length - done);
        into.set(part.subarray(within, within + bytes), done);
        done += bytes;
        t.position += bytes;
      }
    }
    return true;
  }

  private dmaReadFailed(sector: number): false {
    this.odd.backendReadErrors++;
    this.log.warn(`ATA drive ${this.unit}: the backend failed to read sector ${sector}`);
    this.failAt(AtaError.UNC, this.transfer.addressing, sector);
    return false;
  }

  /** Takes the next `data.length` bytes of a DMA write from the bus master; false after ending the command in error. */
  dmaOut(data: Uint8Array): boolean {
    const t = this.transfer;
    let done = 0;
    while (done < data.length) {
      const sector = t.lba + Math.floor(t.position / SECTOR_SIZE);
      const within = t.position % SECTOR_SIZE;
      const whole = within === 0 ? Math.floor((data.length - done) / SECTOR_SIZE) : 0;
      if (whole > 0) {
        if (!this.acceptSectors(sector, data.subarray(done, done + whole * SECTOR_SIZE))) return false;
        done += whole * SECTOR_SIZE;
        t.position += whole * SECTOR_SIZE;
      } else {
        const bytes = Math.min(SECTOR_SIZE - within, data.length - done);
        this.block.set(data.subarray(done, done + bytes), within);
        done += bytes;
        t.position += bytes;
        if (within + bytes === SECTOR_SIZE && !this.acceptSectors(sector, this.block.subarray(0, SECTOR_SIZE))) return false;
      }
    }
    return true;
  }

  /** Whole sectors received by DMA: to the write cache, or (DATA SET MANAGEMENT) range entries to check. */
  private acceptSectors(lba: number, data: Uint8Array): boolean {
    const t = this.transfer;
    if (t.target === 'trim') {
      for (let at = 0; at + TRIM_ENTRY_BYTES <= data.length; at += TRIM_ENTRY_BYTES) {
        let start = 0;
        for (let i = 5; i >= 0; i--) start = start * 256 + (data[at + i] ?? 0);
        const length = (data[at + 6] ?? 0) | ((data[at + 7] ?? 0) << 8);
        if (length !== 0 && start + length > this.sectors) t.trimRejected = true;
      }
      return true;
    }
    return this.storeSectors(lba, data);
  }

  /** Every byte moved: the command ends, with an interrupt (DMA protocol). */
  finishDma(): void {
    const t = this.transfer;
    if (t.target === 'trim') {
      // TRIM is accepted and the sectors left as they are: IDENTIFY word 69 promises deterministic data after TRIM, not zeros.
      if (t.trimRejected) {
        this.abort();
        return;
      }
    } else {
      if (!this.madeDurable(t.lba)) return;
      storeAddress(this.taskFile, t.addressing, t.lba + t.remaining, this.chs, 0);
    }
    this.endTransfer();
    this.complete();
  }

  /** The bus master could not reach guest memory: the command ends in ABRT. */
  abortDma(): void {
    this.abort();
  }

  private dataSetManagement(): void {
    if (this.refusedAsWriteProtected()) return;
    if ((this.taskFile.features & DSM_TRIM) === 0) {
      this.abort();
      return;
    }
    const blocks = this.taskFile.previousSectorCount * 256 + this.taskFile.sectorCount;
    if (blocks === 0) {
      this.abort();
      return;
    }
    this.beginDma('dma-out', 'trim', 'lba48', 0, blocks);
  }

  // --- PIO data port ----------------------------------------------------------------------

  /** A 16- or 32-bit read of the data port. Without DRQ on a data-in command it answers 0 and moves nothing, as QEMU. */
  readData(size: 2 | 4): number {
    const t = this.transfer;
    if ((this.status & Status.DRQ) === 0 || t.phase !== 'pio-in') {
      this.odd.dataReadsWithoutDrq++;
      return 0;
    }
    const value = readDataWord(this.block, t.length, t.position, size);
    t.position += size;
    if (t.position >= t.length) {
      if (t.position > t.length) this.odd.straddlingDataAccesses++;
      this.endReadBlock();
    }
    return value;
  }

  private endReadBlock(): void {
    const t = this.transfer;
    if (t.target === 'media' && t.remaining > 0) {
      this.loadReadBlock();
      return;
    }
    // The last block read: the command is over; its interrupt came with the block's DRQ (PIO data-in protocol).
    this.endTransfer();
    this.status = Status.DRDY | Status.DSC;
  }

  /** A 16- or 32-bit write of the data port; ignored without DRQ on a data-out command, as QEMU. */
  writeData(size: 2 | 4, value: number): void {
    const t = this.transfer;
    if ((this.status & Status.DRQ) === 0 || t.phase !== 'pio-out') {
      this.odd.dataWritesWithoutDrq++;
      return;
    }
    writeDataWord(this.block, t.length, t.position, size, value);
    t.position += size;
    if (t.position >= t.length) {
      if (t.position > t.length) this.odd.straddlingDataAccesses++;
      this.status &= ~Status.DRQ;
      this.commitWriteBlock();
    }
  }

  // --- settings and small commands ---------------------------------------------------------

  private setFeatures(): void {
    const tf = this.taskFile;
    switch (tf.features) {
      case Feature.ENABLE_WRITE_CACHE:
        if (this.cache !== undefined) this.cache.enabled = true;
        this.complete();
        return;
      case Feature.DISABLE_WRITE_CACHE: {
        // What the cache holds goes to stable storage first; then every write goes through.
        const result: WriteBackResult = this.cache === undefined ? { ok: true } : this.cache.flush();
        if (!result.ok) {
          this.writeFailed(result, 'lba28', 0);
          return;
        }
        if (this.cache !== undefined) this.cache.enabled = false;
        this.complete();
        return;
      }
      case Feature.SET_TRANSFER_MODE:
        this.setTransferMode();
        return;
      case Feature.ENABLE_READ_LOOK_AHEAD:
      case Feature.DISABLE_READ_LOOK_AHEAD:
        // Accepted (as QEMU); reads come from the backend either way.
        this.complete();
        return;
      case Feature.ENABLE_REVERTING_TO_DEFAULTS:
        this.revertToDefaultsOnReset = true;
        this.complete();
        return;
      case Feature.DISABLE_REVERTING_TO_DEFAULTS:
        this.revertToDefaultsOnReset = false;
        this.complete();
        return;
      default:
        this.abortUnsupported();
    }
  }

  private setMultipleMode(): void {
    const count = this.taskFile.sectorCount;
    if (!isValidMultiple(count)) {
      // SET MULTIPLE MODE: an unsupported block size is aborted and READ/WRITE MULTIPLE are disabled.
      this.multipleCount = 0;
      this.abort();
      return;
    }
    this.multipleCount = count; // 0 disables
    this.complete();
  }

  private initializeDeviceParameters(): void {
    const tf = this.taskFile;
    const heads = (tf.device & 0x0f) + 1;
    const sectorsPerTrack = tf.sectorCount;
    const cylinders = sectorsPerTrack === 0 ? 0 : cylindersFor(this.sectors, heads, sectorsPerTrack);
    if (cylinders === 0) {
      this.chs = undefined;
      this.abort();
      return;
    }
    this.chs = { cylinders, heads, sectorsPerTrack };
    this.complete();
  }

  private readNativeMaxAddress(addressing: 'lba28' | 'lba48'): void {
    const max = addressing === 'lba48' ? this.sectors - 1 : Math.min(this.sectors, LBA28_LIMIT) - 1;
    storeAddress(this.taskFile, addressing, max, this.chs);
    this.complete();
  }

  private smart(): void {
    const tf = this.taskFile;
    if (tf.lbaMid !== Smart.KEY_LBA_MID || tf.lbaHigh !== Smart.KEY_LBA_HIGH || (!this.smartEnabled && tf.features !== Smart.ENABLE_OPERATIONS)) {
      this.abort();
      return;
    }
    switch (tf.features) {
      case Smart.ENABLE_OPERATIONS:
        this.smartEnabled = true;
        this.complete();
        return;
      case Smart.DISABLE_OPERATIONS:
        this.smartEnabled = false;
        this.complete();
        return;
      case Smart.RETURN_STATUS:
        // No threshold is ever exceeded: the key comes back unchanged.
        tf.lbaMid = Smart.KEY_LBA_MID;
        tf.lbaHigh = Smart.KEY_LBA_HIGH;
        this.complete();
        return;
      case Smart.ENABLE_DISABLE_AUTOSAVE:
        if (tf.sectorCount !== 0x00 && tf.sectorCount !== 0xf1) {
          this.abort();
          return;
        }
        this.smartAutosave = tf.sectorCount === 0xf1;
        this.complete();
        return;
      case Smart.READ_DATA:
        this.sendBlock(this.smartData());
        return;
      default:
        this.abortUnsupported();
    }
  }

  /** SMART READ DATA (its data structure: status bytes 362–363, capabilities 367–370, checksum 511): no attributes, no off-line collection, no self-test, no error log; a valid checksum. */
  private smartData(): Uint8Array {
    const data = new Uint8Array(SECTOR_SIZE);
    data[0] = 0x01; // data structure revision (vendor-specific area)
    data[368] = 0x03; // SMART capability: saves data before power saving, supports autosave
    data[369] = 0x00;
    let sum = 0;
    for (let i = 0; i < SECTOR_SIZE - 1; i++) sum += data[i] ?? 0;
    data[SECTOR_SIZE - 1] = (0x100 - (sum & 0xff)) & 0xff;
    return data;
  }

  // --- resets -------------------------------------------------------------------------------

  /**
   * The end of a software reset or an EXECUTE DEVICE DIAGNOSTIC, as every
   * device's (`ata-device.ts`: the signature, the diagnostic code, ready).
   * After a software reset with reverting enabled (SET FEATURES CCh) the
   * settings return to their power-on values.
   */
  override completeReset(kind: 'reset' | 'diagnostic'): void {
    super.completeReset(kind);
    if (kind === 'reset' && this.revertToDefaultsOnReset && this.identity !== undefined) {
      this.multipleCount = this.identity.multipleAtPowerOn;
      this.transferMode = POWER_ON_TRANSFER_MODE;
      this.chs = this.defaultChs();
      if (this.cache !== undefined && this.cache.enabled !== this.identity.writeCacheAtPowerOn) {
        const written = this.cache.flush();
        if (!written.ok) this.odd.backendFlushErrors++;
        else this.cache.enabled = this.identity.writeCacheAtPowerOn;
      }
    }
  }

  /** The host's request (VM shutdown): every cached write to stable storage. */
  flushWriteCache(): boolean {
    return this.cache === undefined ? true : this.cache.flush().ok;
  }

  // --- state ----------------------------------------------------------------------------------

  getState(): AtaDriveState {
    const t = this.transfer;
    const buffered = t.phase === 'pio-in' || t.phase === 'pio-out' ? t.length : t.phase === 'dma-out' ? SECTOR_SIZE : 0;
    return {
      kind: this.kind,
      present: this.present,
      ...this.registerState(),
      multipleCount: this.multipleCount,
      transferMode: this.transferMode,
      revertToDefaultsOnReset: this.revertToDefaultsOnReset,
      smartEnabled: this.smartEnabled,
      smartAutosave: this.smartAutosave,
      power: this.power,
      chs: this.chs === undefined ? null : { ...this.chs },
      transfer: { ...t, data: this.block.slice(0, buffered) },
      cache: this.cache === undefined ? null : this.cache.getState(),
    };
  }

  setState(state: ChannelDeviceState): void {
    if (state.kind !== this.kind) throw new DeviceStateError(`a ${state.kind} state given to ATA device ${this.unit}`);
    this.adoptCommonState(state);
    this.multipleCount = state.multipleCount;
    this.revertToDefaultsOnReset = state.revertToDefaultsOnReset;
    this.smartEnabled = state.smartEnabled;
    this.smartAutosave = state.smartAutosave;
    this.chs = state.chs === null ? undefined : { ...state.chs };
    this.block.fill(0);
    this.block.set(state.transfer.data.subarray(0, this.block.length));
    this.transfer = { ...state.transfer, data: IDLE_TRANSFER.data };
    if (this.cache !== undefined && state.cache !== null) this.cache.setState(state.cache);
  }
}
