/**
 * What a floppy drive reads and writes: the 512-byte sectors of a raw image
 * (sector 0 = cylinder 0, head 0, sector 1; then the sectors of head 1; then
 * the next cylinder), answered synchronously. The same shape as the disk
 * package's BlockBackend less its flush, so the device host's file backend
 * serves a floppy image as it serves a disk; failures are `false`, never
 * exceptions, and the controller turns them into a data error for the guest.
 */
import { formatOfImage } from './formats.ts';
import type { DriveType, MediaFormat } from './formats.ts';
import { MEDIA_FORMATS } from './formats.ts';
import { SECTOR_BYTES } from '../i82077aa/registers.ts';

export interface FloppyImage {
  /** 512-byte sectors in the image: 1440, 2880 or 5760. */
  readonly sectors: number;
  /** Copies `count` sectors from `lba` into `into`; false when any cannot be read. */
  read(lba: number, count: number, into: Uint8Array): boolean;
  /** Writes `data` (whole sectors) at `lba`; false when it could not. */
  write(lba: number, data: Uint8Array): boolean;
}

/** The host asked for something a floppy drive cannot be: an image of another size, a medium the drive cannot read, a drive that is not there. */
export class FloppyConfigError extends Error {
  override readonly name = 'FloppyConfigError';
}

/** A diskette in memory: a test's, or one the host built. */
export class MemoryFloppyImage implements FloppyImage {
  readonly bytes: Uint8Array;
  readonly sectors: number;
  readonly format: MediaFormat;

  /** A blank (zero-filled) diskette of a format, or an existing raw image (used in place, not copied). */
  constructor(source: DriveType | Uint8Array) {
    this.bytes = typeof source === 'string' ? new Uint8Array(MEDIA_FORMATS[source].sectors * SECTOR_BYTES) : source;
    const format = this.bytes.length % SECTOR_BYTES === 0 ? formatOfImage(this.bytes.length / SECTOR_BYTES) : undefined;
    if (format === undefined) {
      throw new FloppyConfigError(`a floppy image is 737280 (720 KB), 1474560 (1.44 MB) or 2949120 (2.88 MB) bytes, not ${this.bytes.length}`);
    }
    this.format = format;
    this.sectors = format.sectors;
  }

  read(lba: number, count: number, into: Uint8Array): boolean {
    if (!this.inside(lba, count) || into.length < count * SECTOR_BYTES) return false;
    into.set(this.bytes.subarray(lba * SECTOR_BYTES, (lba + count) * SECTOR_BYTES));
    return true;
  }

  write(lba: number, data: Uint8Array): boolean {
    if (data.length % SECTOR_BYTES !== 0 || !this.inside(lba, data.length / SECTOR_BYTES)) return false;
    this.bytes.set(data, lba * SECTOR_BYTES);
    return true;
  }

  private inside(lba: number, count: number): boolean {
    return Number.isSafeInteger(lba) && Number.isSafeInteger(count) && lba >= 0 && count > 0 && lba + count <= this.sectors;
  }
}
