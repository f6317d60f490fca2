// A raw image file as a disk's block backend: sector reads and writes at the right offsets, flush = fsync on the
// image's descriptor (seen through a spy on node:fs, and the bytes through a second descriptor), failures as false,
// and one clear error for an image that cannot be a disk.
import type * as fs from 'node:fs';
import { chmodSync, closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FileBlockBackend, FileBlockBackendError } from '../src/file-block-backend.ts';

vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof fs>();
  return { ...actual, fsyncSync: vi.fn(actual.fsyncSync) };
});

/** `@splitvisor/disk`'s BlockBackend, restated: the device host does not import device packages and matches it by shape. */
interface BlockBackend {
  readonly sectors: number;
  read(lba: number, count: number, into: Uint8Array): boolean;
  write(lba: number, data: Uint8Array): boolean;
  flush(): boolean;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'splitvisor-disk-'));
  vi.mocked(fsyncSync).mockClear();
});
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

function image(bytes: number): string {
  const path = join(dir, 'disk.img');
  writeFileSync(path, new Uint8Array(bytes));
  return path;
}

/** The file's bytes as another process would read them: through a descriptor of its own. */
function bytesOnDisk(path: string, offset: number, length: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const into = new Uint8Array(length);
    readSync(fd, into, 0, length, offset);
    return into;
  } finally {
    closeSync(fd);
  }
}

describe('FileBlockBackend', () => {
  it('writes sectors, flushes them with fsync on its descriptor, and reads them back', () => {
    const path = image(64 * 512);
    const disk: BlockBackend & { close(): void } = FileBlockBackend.open(path);
    expect(disk.sectors).toBe(64);
    const data = Uint8Array.from({ length: 2 * 512 }, (_, i) => (i * 7 + 1) & 0xff);
    expect(disk.write(10, data)).toBe(true);
    expect(fsyncSync).not.toHaveBeenCalled();
    expect(disk.flush()).toBe(true);
    expect(fsyncSync).toHaveBeenCalledTimes(1);
    const [fd] = vi.mocked(fsyncSync).mock.calls[0] ?? [];
    expect(typeof fd).toBe('number');
    expect(bytesOnDisk(path, 10 * 512, 2 * 512)).toEqual(data);
    expect(bytesOnDisk(path, 9 * 512, 512)).toEqual(new Uint8Array(512));
    const back = new Uint8Array(3 * 512);
    expect(disk.read(9, 3, back)).toBe(true);
    expect(back.subarray(512)).toEqual(data);
    disk.close();
    // A new opening of the file sees the flushed data.
    const again = FileBlockBackend.open(path);
    const sector = new Uint8Array(512);
    expect(again.read(11, 1, sector)).toBe(true);
    expect(sector).toEqual(data.subarray(512));
    again.close();
  });

  it('fails reads and writes past the end of the image (which never grows), and partial sectors', () => {
    const path = image(8 * 512);
    const disk = FileBlockBackend.open(path);
    expect(disk.read(7, 2, new Uint8Array(1024))).toBe(false);
    expect(disk.read(8, 1, new Uint8Array(512))).toBe(false);
    expect(disk.read(0, 1, new Uint8Array(100))).toBe(false);
    expect(disk.write(8, new Uint8Array(512))).toBe(false);
    expect(disk.write(0, new Uint8Array(100))).toBe(false);
    expect(statSync(path).size).toBe(8 * 512);
    disk.close();
    expect(FileBlockBackend.open(path).sectors).toBe(8);
  });

  it('fails reads of a file truncated under it, and every operation once closed', () => {
    const path = image(8 * 512);
    const disk = FileBlockBackend.open(path);
    truncateSync(path, 4 * 512);
    expect(disk.read(6, 1, new Uint8Array(512))).toBe(false);
    disk.close();
    expect([disk.read(0, 1, new Uint8Array(512)), disk.write(0, new Uint8Array(512)), disk.flush()]).toEqual([false, false, false]);
  });

  it('opened read-only, refuses writes and has nothing to flush', () => {
    const disk = FileBlockBackend.open(image(4 * 512), { readOnly: true });
    expect(disk.write(0, new Uint8Array(512))).toBe(false);
    expect(disk.flush()).toBe(true);
    expect(fsyncSync).not.toHaveBeenCalled();
    disk.close();
  });

  it('opens a file it may not write read-only, and says so when asked to write it', () => {
    const path = image(4 * 512);
    chmodSync(path, 0o444);
    const disk = FileBlockBackend.open(path, { readOnly: true });
    expect([disk.readOnly, disk.read(0, 4, new Uint8Array(4 * 512))]).toEqual([true, true]);
    disk.close();
    if (process.getuid?.() !== 0) expect(() => FileBlockBackend.open(path)).toThrow(/^cannot open disk image .*disk\.img for reading and writing: EACCES/);
  });

  it('takes only the sizes it is given (a diskette\'s), naming the medium and each size; the file is left as it was', () => {
    const sizes = [{ bytes: 737_280, name: '720K' }, { bytes: 1_474_560, name: '1.44M' }, { bytes: 2_949_120, name: '2.88M' }];
    const floppy = (bytes: number) => FileBlockBackend.open(image(bytes), { medium: 'floppy image', sizes });
    expect(floppy(1_474_560).sectors).toBe(2880);
    for (const bytes of [1_000_000, 1024 * 1024, 0]) {
      expect(() => floppy(bytes)).toThrow(new RegExp(`^floppy image .*disk\\.img is ${bytes} bytes, not 737280 \\(720K\\), 1474560 \\(1\\.44M\\) or 2949120 \\(2\\.88M\\)$`));
    }
    expect(readFileSync(join(dir, 'disk.img'))).toEqual(Buffer.alloc(0)); // the last, refused, still empty
    expect(() => FileBlockBackend.open(join(dir, 'missing.img'), { medium: 'floppy image', sizes })).toThrow(/^cannot open floppy image .*missing\.img/);
    expect(() => FileBlockBackend.open(image(512), { sizes: [{ bytes: 1000, name: 'odd' }] })).toThrow(RangeError);
  });

  it('gives one clear error for a missing path, a directory, an empty image or one not of whole sectors', () => {
    expect(() => FileBlockBackend.open(join(dir, 'missing.img'))).toThrow(FileBlockBackendError);
    expect(() => FileBlockBackend.open(join(dir, 'missing.img'))).toThrow(/cannot open disk image .*missing\.img/);
    expect(() => FileBlockBackend.open(dir)).toThrow(FileBlockBackendError);
    expect(() => FileBlockBackend.open(image(0))).toThrow(/0 bytes, which is not a non-zero multiple of 512/);
    expect(() => FileBlockBackend.open(image(1000))).toThrow(/1000 bytes, which is not a non-zero multiple of 512/);
  });

  it("takes a medium's larger block: a CD image is whole 2048-byte blocks", () => {
    const cd = FileBlockBackend.open(image(4096), { readOnly: true, medium: 'CD-ROM image', blockBytes: 2048 });
    expect(cd.sectors).toBe(8);
    cd.close();
    expect(() => FileBlockBackend.open(image(2560), { readOnly: true, medium: 'CD-ROM image', blockBytes: 2048 })).toThrow(/^CD-ROM image .* is 2560 bytes, which is not a non-zero multiple of 2048$/);
    expect(() => FileBlockBackend.open(image(4096), { blockBytes: 1000 })).toThrow(RangeError);
  });
});
