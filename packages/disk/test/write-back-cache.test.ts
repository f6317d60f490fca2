// The write cache on its own: what it holds, when it writes back, what a flush promises, what it keeps on failure.
import { describe, expect, it } from 'vitest';
import { BlockBackendError, MemoryBlockBackend, WriteBackCache } from '../src/index.ts';
import { RecordingBackend } from './ata-board.ts';

const sector = (fill: number) => new Uint8Array(512).fill(fill);

describe('WriteBackCache', () => {
  it('lays dirty sectors over the backend on read, and writes them back in LBA-ordered runs on flush', () => {
    const backend = new RecordingBackend(32);
    const cache = new WriteBackCache(backend, 16);
    expect(cache.write(5, sector(5))).toEqual({ ok: true });
    expect(cache.write(3, Uint8Array.from([...sector(3), ...sector(4)]))).toEqual({ ok: true });
    expect(cache.write(9, sector(9))).toEqual({ ok: true });
    const into = new Uint8Array(8 * 512);
    expect(cache.read(2, 8, into)).toBe(true);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => into[i * 512])).toEqual([0, 3, 4, 5, 0, 0, 0, 9]);
    expect(backend.writes).toBe(0);
    expect(cache.flush()).toEqual({ ok: true });
    expect([backend.writes, backend.flushes, cache.dirtySectors]).toEqual([2, 1, 0]); // 3–5 as one run, then 9
    expect([3, 4, 5, 9].map((lba) => backend.stable[lba * 512])).toEqual([3, 4, 5, 9]);
  });

  it('keeps sectors the backend refused dirty, to be written by a later flush', () => {
    const backend = new RecordingBackend(32);
    const cache = new WriteBackCache(backend, 16);
    cache.write(1, sector(1));
    backend.failWrites = true;
    expect(cache.flush()).toEqual({ ok: false, lba: 1 });
    expect(cache.dirtySectors).toBe(1);
    backend.failWrites = false;
    backend.failFlush = true;
    expect(cache.flush()).toEqual({ ok: false, lba: undefined });
    backend.failFlush = false;
    expect(cache.flush()).toEqual({ ok: true });
    expect(backend.stable[512]).toBe(1);
  });

  it('refuses sectors past the end of the image and carries its dirty sectors through its state', () => {
    const backend = new MemoryBlockBackend(4);
    const cache = new WriteBackCache(backend, 8);
    expect(cache.write(4, sector(1))).toEqual({ ok: false, lba: 4 });
    expect(cache.read(3, 2, new Uint8Array(1024))).toBe(false);
    cache.write(2, sector(7));
    const copy = new WriteBackCache(new MemoryBlockBackend(4), 8);
    copy.setState(cache.getState());
    const into = new Uint8Array(512);
    copy.read(2, 1, into);
    expect(into[0]).toBe(7);
    expect(copy.getState()).toEqual(cache.getState());
  });

  it('writes a FUA write through: the backend has it, an older dirty copy is dropped only once it does, the rest stays dirty', () => {
    const backend = new RecordingBackend(32);
    const cache = new WriteBackCache(backend, 16);
    cache.write(1, Uint8Array.from([...sector(1), ...sector(2)]));
    backend.failWrites = true;
    expect(cache.writeThrough(2, sector(0x22))).toEqual({ ok: false, lba: 2 });
    expect(cache.dirtySectors).toBe(2); // the guest's earlier data is still held
    backend.failWrites = false;
    expect(cache.writeThrough(2, sector(0x22))).toEqual({ ok: true });
    expect([cache.dirtySectors, backend.writes, backend.flushes]).toEqual([1, 1, 0]);
    expect(cache.flushBackend()).toEqual({ ok: true });
    expect([backend.stable[512], backend.stable[1024]]).toEqual([0, 0x22]); // sector 1 still only cached
    expect(cache.flush()).toEqual({ ok: true });
    expect([backend.stable[512], backend.stable[1024]]).toEqual([1, 0x22]);
  });

  it('a read-only memory image refuses every write', () => {
    const backend = new MemoryBlockBackend(4, { readOnly: true });
    expect([backend.readOnly, backend.write(0, sector(1)), backend.flush(), backend.image[0]]).toEqual([true, false, true, 0]);
  });

  it('a memory image must be whole sectors', () => {
    expect(() => new MemoryBlockBackend(new Uint8Array(700))).toThrow(BlockBackendError);
    expect(() => new MemoryBlockBackend(0)).toThrow(BlockBackendError);
  });
});
