/**
 * What a disk reads and writes: 512-byte sectors of an image, answered
 * synchronously (an `in` from the data port must be answered before the
 * guest's next instruction, so the device cannot wait for a promise).
 *
 * Every operation reports success as a flag and never throws: a failure is
 * the host's, and the device turns it into an ATA error for the guest
 * (UNC for a read, ABRT for a write or a flush), never into an exception.
 *
 * The device host implements this over a file (`FileBlockBackend` in
 * `@splitvisor/devhost`: readSync / writeSync / fsyncSync); tests and RAM
 * disks use `MemoryBlockBackend`.
 */

/** Bytes per logical sector. ATA's 512, the only size this model offers. */
export const SECTOR_SIZE = 512;

export interface BlockBackend {
  /** Capacity in 512-byte sectors. */
  readonly sectors: number;
  /**
   * Copies `count` sectors from `lba` into `into` (at least `count × 512`
   * bytes). False — and `into` unspecified — when any of them cannot be read,
   * including any past the end of the image.
   */
  read(lba: number, count: number, into: Uint8Array): boolean;
  /** Writes `data` (a whole number of sectors) at `lba`; false when it could not, or would pass the end. */
  write(lba: number, data: Uint8Array): boolean;
  /** Makes every write completed so far durable (fsync for a file); false when it could not. */
  flush(): boolean;
  /**
   * True when the image refuses every write (a file opened read-only): the
   * disk on it is write-protected and aborts write commands before taking
   * any data. Absent means writable.
   */
  readonly readOnly?: boolean;
}

/** A host configuration error: a backend that cannot be (an image of no whole sectors). */
export class BlockBackendError extends Error {
  override readonly name = 'BlockBackendError';
}

/** Whether `[lba, lba + count)` is a non-empty run of whole sectors inside a disk of `sectors`. */
export function inImage(lba: number, count: number, sectors: number): boolean {
  return Number.isSafeInteger(lba) && Number.isSafeInteger(count) && lba >= 0 && count > 0 && lba + count <= sectors;
}

/**
 * A disk image in memory: a RAM disk, or a test's image. Flushing has nothing
 * to do; `flushes` counts the requests so tests can see that FLUSH CACHE
 * reached the backend.
 */
export class MemoryBlockBackend implements BlockBackend {
  readonly image: Uint8Array;
  readonly sectors: number;
  readonly readOnly: boolean;
  flushes = 0;

  /** A zero-filled disk of `sectors`, or an existing image (a whole number of sectors; used in place, not copied); `readOnly`: every write refused. */
  constructor(source: number | Uint8Array, options: { readonly readOnly?: boolean } = {}) {
    this.readOnly = options.readOnly ?? false;
    if (typeof source === 'number') {
      if (!Number.isSafeInteger(source) || source <= 0) throw new BlockBackendError(`a disk needs a positive whole number of sectors, not ${source}`);
      this.image = new Uint8Array(source * SECTOR_SIZE);
    } else {
      if (source.length === 0 || source.length % SECTOR_SIZE !== 0) {
        throw new BlockBackendError(`a disk image must be a non-empty multiple of ${SECTOR_SIZE} bytes, not ${source.length}`);
      }
      this.image = source;
    }
    this.sectors = this.image.length / SECTOR_SIZE;
  }

  read(lba: number, count: number, into: Uint8Array): boolean {
    if (!inImage(lba, count, this.sectors) || into.length < count * SECTOR_SIZE) return false;
    into.set(this.image.subarray(lba * SECTOR_SIZE, (lba + count) * SECTOR_SIZE));
    return true;
  }

  write(lba: number, data: Uint8Array): boolean {
    if (this.readOnly || data.length % SECTOR_SIZE !== 0 || !inImage(lba, data.length / SECTOR_SIZE, this.sectors)) return false;
    this.image.set(data, lba * SECTOR_SIZE);
    return true;
  }

  flush(): boolean {
    this.flushes++;
    return true;
  }
}
