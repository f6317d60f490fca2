/**
 * A raw disk image file as the block backend of an emulated disk: the
 * device host's side of `@splitvisor/disk`'s `BlockBackend` (sector count,
 * read / write / flush answering success flags). It matches that interface
 * structurally; the device host does not import device packages.
 *
 * Every operation is synchronous (readSync, writeSync, fsyncSync), because a
 * device answers an `in` before the guest's next instruction. `flush` is
 * fsync: what the disk model's FLUSH CACHE promises the guest — that data
 * written before it survives a host crash — holds because the file's data
 * reached stable storage before the command completed.
 *
 * Failures never throw once the image is open: they come back as `false`
 * and the disk turns them into ATA errors (UNC, ABRT) for the guest. The
 * image never grows: reads and writes past its end fail.
 *
 * A floppy drive's image is served the same way (the floppy package's
 * `FloppyImage` is this shape less `flush`); the composition root, which
 * knows the diskette formats, gives their sizes, so an image of another size
 * is refused when opened, naming them.
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';

/** Bytes per sector of the images this backend serves (ATA's logical sector). */
export const IMAGE_SECTOR_SIZE = 512;

/** The image cannot serve as a disk: a host configuration error, raised once, when opening. */
export class FileBlockBackendError extends Error {
  override readonly name = 'FileBlockBackendError';
}

/** A size an image may have, and its name for the user (`1474560` bytes, `1.44M`). */
export interface ImageSize {
  readonly bytes: number;
  readonly name: string;
}

export interface FileBlockBackendOptions {
  /** Open the image read-only (`readOnly` reads true): every write fails, and flush has nothing to do. */
  readonly readOnly?: boolean;
  /** What the image is, in errors. Default `disk image`. */
  readonly medium?: string;
  /** The only sizes the image may have (a diskette's formats), each a multiple of 512 bytes. Default: any non-zero multiple of 512 bytes. */
  readonly sizes?: readonly ImageSize[];
  /** The medium's block, a multiple of 512 bytes, of which the image must be a whole number (a CD's 2048 bytes). Default 512. */
  readonly blockBytes?: number;
}

export class FileBlockBackend {
  readonly path: string;
  /** Capacity in 512-byte sectors. */
  readonly sectors: number;
  readonly readOnly: boolean;
  private fd: number | undefined;

  private constructor(path: string, fd: number, sectors: number, readOnly: boolean) {
    this.path = path;
    this.fd = fd;
    this.sectors = sectors;
    this.readOnly = readOnly;
  }

  /**
   * Opens and checks a raw image: a regular file whose size is a non-zero
   * multiple of 512 bytes (of `blockBytes`), or one of `sizes`. Anything else is one
   * `FileBlockBackendError` naming the medium, the path and the reason.
   * Nothing is written to the file.
   */
  static open(path: string, options: FileBlockBackendOptions = {}): FileBlockBackend {
    const readOnly = options.readOnly ?? false;
    const medium = options.medium ?? 'disk image';
    const sizes = options.sizes;
    const odd = sizes?.find((size) => !Number.isSafeInteger(size.bytes) || size.bytes <= 0 || size.bytes % IMAGE_SECTOR_SIZE !== 0);
    if (odd !== undefined) throw new RangeError(`${medium} size ${odd.name} (${odd.bytes} bytes) is not a whole number of ${IMAGE_SECTOR_SIZE}-byte sectors`);
    const block = options.blockBytes ?? IMAGE_SECTOR_SIZE;
    if (!Number.isSafeInteger(block) || block <= 0 || block % IMAGE_SECTOR_SIZE !== 0) throw new RangeError(`${medium} block of ${block} bytes is not a whole number of ${IMAGE_SECTOR_SIZE}-byte sectors`);
    let fd: number;
    try {
      fd = openSync(path, readOnly ? 'r' : 'r+');
    } catch (error) {
      throw new FileBlockBackendError(`cannot open ${medium} ${path}${readOnly ? '' : ' for reading and writing'}: ${reason(error)}`, { cause: error });
    }
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) throw new FileBlockBackendError(`${medium} ${path} is not a regular file`);
      if (sizes !== undefined && !sizes.some((size) => size.bytes === stat.size)) {
        throw new FileBlockBackendError(`${medium} ${path} is ${stat.size} bytes, not ${listed(sizes)}`);
      }
      if (stat.size === 0 || stat.size % block !== 0) {
        throw new FileBlockBackendError(`${medium} ${path} is ${stat.size} bytes, which is not a non-zero multiple of ${block}`);
      }
      return new FileBlockBackend(path, fd, stat.size / IMAGE_SECTOR_SIZE, readOnly);
    } catch (error) {
      closeSync(fd);
      if (error instanceof FileBlockBackendError) throw error;
      throw new FileBlockBackendError(`cannot use ${medium} ${path}: ${reason(error)}`, { cause: error });
    }
  }

  private inImage(lba: number, count: number): boolean {
    return Number.isSafeInteger(lba) && Number.isSafeInteger(count) && lba >= 0 && count > 0 && lba + count <= this.sectors;
  }

  /** Reads `count` sectors at `lba` into `into`; false if any of them cannot be read. */
  read(lba: number, count: number, into: Uint8Array): boolean {
    const fd = this.fd;
    const bytes = count * IMAGE_SECTOR_SIZE;
    if (fd === undefined || !this.inImage(lba, count) || into.length < bytes) return false;
    try {
      for (let done = 0; done < bytes;) {
        const got = readSync(fd, into, done, bytes - done, lba * IMAGE_SECTOR_SIZE + done);
        if (got === 0) return false; // the file shrank under us
        done += got;
      }
      return true;
    } catch {
      return false;
    }
  }

  /** Writes whole sectors at `lba`; false if the image is read-only, the sectors are not all in it, or the write failed. */
  write(lba: number, data: Uint8Array): boolean {
    const fd = this.fd;
    if (fd === undefined || this.readOnly || data.length % IMAGE_SECTOR_SIZE !== 0 || !this.inImage(lba, data.length / IMAGE_SECTOR_SIZE)) return false;
    try {
      for (let done = 0; done < data.length;) {
        const wrote = writeSync(fd, data, done, data.length - done, lba * IMAGE_SECTOR_SIZE + done);
        if (wrote === 0) return false;
        done += wrote;
      }
      return true;
    } catch {
      return false;
    }
  }

  /** fsync: every write so far to stable storage. */
  flush(): boolean {
    const fd = this.fd;
    if (fd === undefined) return false;
    if (this.readOnly) return true;
    try {
      fsyncSync(fd);
      return true;
    } catch {
      return false;
    }
  }

  /** Closes the image; later operations fail. Flush first to keep what was written. */
  close(): void {
    const fd = this.fd;
    if (fd === undefined) return;
    this.fd = undefined;
    closeSync(fd);
  }
}

/** `737280 (720K), 1474560 (1.44M) or 2949120 (2.88M)`. */
function listed(sizes: readonly ImageSize[]): string {
  const each = sizes.map((size) => `${size.bytes} (${size.name})`);
  const last = each.pop() ?? 'any size';
  return each.length === 0 ? last : `${each.join(', ')} or ${last}`;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
