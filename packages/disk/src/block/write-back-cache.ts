/**
 * A drive's volatile write cache (ATA/ATAPI-6, "write cache" in SET
 * FEATURES 02h/82h and IDENTIFY words 82/85 bit 5): a write completes once
 * its sectors are held here; they reach the backend when the cache fills
 * past its bound (written back without a flush, as a drive destages) and
 * reach stable storage only on FLUSH CACHE, which writes back what is dirty
 * and then flushes the backend (fsync for a file) — so data written before a
 * FLUSH CACHE survives a host crash after it, and nothing promises more.
 * A Forced Unit Access write (ATA/ATAPI-7) goes past the cache to the
 * backend and is flushed before its command completes.
 *
 * With the cache disabled every write goes through to the backend and is
 * flushed before the command completes.
 *
 * The dirty sectors are drive state — a drive's cache holds data the guest
 * has been told is written — so they travel in the device's snapshot
 * (`WriteCacheState`) and a restored drive in another domain still has them.
 */
import type { BlockBackend } from './block-backend.ts';
import { SECTOR_SIZE, inImage } from './block-backend.ts';

/** Dirty sectors as runs of consecutive LBAs, in LBA order. */
export type WriteCacheState = {
  readonly enabled: boolean;
  readonly dirty: readonly { readonly lba: number; readonly data: Uint8Array }[];
};

/** The outcome of a write-back: ok, or the first sector the backend refused (undefined when the flush itself failed). */
export type WriteBackResult = { readonly ok: true } | { readonly ok: false; readonly lba: number | undefined };

const OK: WriteBackResult = { ok: true };

export class WriteBackCache {
  readonly backend: BlockBackend;
  /** Dirty sectors held at most; one more is written back (all of them, in LBA order) before the write completes. */
  readonly capacity: number;
  enabled: boolean;
  private readonly dirty = new Map<number, Uint8Array>();

  constructor(backend: BlockBackend, capacity: number, enabled = true) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`write cache capacity ${capacity} is not a positive number of sectors`);
    this.backend = backend;
    this.capacity = capacity;
    this.enabled = enabled;
  }

  get sectors(): number {
    return this.backend.sectors;
  }

  get dirtySectors(): number {
    return this.dirty.size;
  }

  /** The sectors as the guest wrote them: the backend's, with dirty ones laid over. */
  read(lba: number, count: number, into: Uint8Array): boolean {
    if (!inImage(lba, count, this.backend.sectors)) return false;
    if (!this.backend.read(lba, count, into)) return false;
    if (this.dirty.size === 0) return true;
    for (let i = 0; i < count; i++) {
      const sector = this.dirty.get(lba + i);
      if (sector !== undefined) into.set(sector, i * SECTOR_SIZE);
    }
    return true;
  }

  /** Takes `data` (whole sectors) for `lba`; with the cache disabled, writes it through and flushes. */
  write(lba: number, data: Uint8Array): WriteBackResult {
    const count = data.length / SECTOR_SIZE;
    if (!Number.isInteger(count) || !inImage(lba, count, this.backend.sectors)) return { ok: false, lba };
    if (!this.enabled) {
      if (!this.backend.write(lba, data)) return { ok: false, lba };
      return this.backend.flush() ? OK : { ok: false, lba: undefined };
    }
    for (let i = 0; i < count; i++) this.dirty.set(lba + i, data.slice(i * SECTOR_SIZE, (i + 1) * SECTOR_SIZE));
    return this.dirty.size > this.capacity ? this.writeBack() : OK;
  }

  /**
   * A Forced Unit Access write (WRITE DMA FUA EXT, WRITE MULTIPLE FUA EXT):
   * `data` straight to the backend, whether or not the cache is enabled; a
   * dirty copy of any of its sectors is older, and is dropped once the
   * backend has the new one. The command makes it durable with
   * `flushBackend` before it completes; the rest of the cache stays as it is.
   */
  writeThrough(lba: number, data: Uint8Array): WriteBackResult {
    const count = data.length / SECTOR_SIZE;
    if (!Number.isInteger(count) || !inImage(lba, count, this.backend.sectors)) return { ok: false, lba };
    if (!this.backend.write(lba, data)) return { ok: false, lba };
    for (let i = 0; i < count; i++) this.dirty.delete(lba + i);
    return OK;
  }

  /** The backend to stable storage, without writing back what the cache holds: the end of a FUA write. */
  flushBackend(): WriteBackResult {
    return this.backend.flush() ? OK : { ok: false, lba: undefined };
  }

  /** FLUSH CACHE: every dirty sector to the backend, then the backend to stable storage. */
  flush(): WriteBackResult {
    const written = this.writeBack();
    if (!written.ok) return written;
    return this.backend.flush() ? OK : { ok: false, lba: undefined };
  }

  /** Writes the dirty sectors back in LBA order, a run at a time; a refused run and those after it stay dirty. */
  writeBack(): WriteBackResult {
    for (const run of this.runs()) {
      if (!this.backend.write(run.lba, run.data)) return { ok: false, lba: run.lba };
      for (let i = 0; i < run.data.length / SECTOR_SIZE; i++) this.dirty.delete(run.lba + i);
    }
    return OK;
  }

  /** Dirty sectors gathered into runs of consecutive LBAs. */
  private runs(): { lba: number; data: Uint8Array }[] {
    const lbas = [...this.dirty.keys()].sort((a, b) => a - b);
    const runs: { lba: number; data: Uint8Array }[] = [];
    let start = 0;
    while (start < lbas.length) {
      let end = start + 1;
      while (end < lbas.length && lbas[end] === (lbas[end - 1] ?? 0) + 1) end++;
      const first = lbas[start] ?? 0;
      const data = new Uint8Array((end - start) * SECTOR_SIZE);
      for (let i = start; i < end; i++) {
        const sector = this.dirty.get(lbas[i] ?? 0);
        if (sector !== undefined) data.set(sector, (i - start) * SECTOR_SIZE);
      }
      runs.push({ lba: first, data });
      start = end;
    }
    return runs;
  }

  getState(): WriteCacheState {
    return { enabled: this.enabled, dirty: this.runs() };
  }

  setState(state: WriteCacheState): void {
    this.enabled = state.enabled;
    this.dirty.clear();
    for (const run of state.dirty) {
      for (let i = 0; i < Math.floor(run.data.length / SECTOR_SIZE); i++) {
        this.dirty.set(run.lba + i, run.data.slice(i * SECTOR_SIZE, (i + 1) * SECTOR_SIZE));
      }
    }
  }
}
