// The ATA disk on the board, backed by a raw image file: a guest reads sector 0 the way libata's PIO path does
// (LBA28 READ SECTORS, status polling, 256 16-bit data reads), modelled and live, and gets the image's bytes. Opened
// read-only (BoardOptions.diskReadOnly), the file is opened O_RDONLY in whichever thread holds the disk, a write
// command ends in ABRT, FLUSH CACHE succeeds, reads work, and the file keeps every byte. Media the board cannot take
// are one line naming the file, in both modes.
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import { afterAll, describe, expect, it } from 'vitest';
import type { VmMode } from '../src/index.ts';
import { Vm, VmError } from '../src/index.ts';
import { placement } from './profiles.ts';

const dir = mkdtempSync(join(tmpdir(), 'splitvisor-disk-'));
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });
const image = join(dir, 'disk.img');
const bytes = new Uint8Array(64 * 512);
for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + 3) & 0xff;
writeFileSync(image, bytes);

function readSector(lba: number, words: number[]): GuestProgram {
  return (function* read(): GuestProgram {
    yield { op: 'out', port: 0x3f6, value: 0x02 }; // nIEN: polled
    yield { op: 'out', port: 0x1f6, value: 0xe0 | ((lba >> 24) & 0x0f) }; // LBA, device 0
    yield { op: 'out', port: 0x1f2, value: 1 };
    yield { op: 'out', port: 0x1f3, value: lba & 0xff };
    yield { op: 'out', port: 0x1f4, value: (lba >> 8) & 0xff };
    yield { op: 'out', port: 0x1f5, value: (lba >> 16) & 0xff };
    yield { op: 'out', port: 0x1f7, value: 0x20 }; // READ SECTORS
    let status = 0x80;
    while ((status & 0x88) !== 0x08) status = yield { op: 'in', port: 0x1f7 }; // BSY clear, DRQ set
    for (let i = 0; i < 256; i++) words.push(yield { op: 'in', port: 0x1f0, size: 2 });
  })();
}

async function run(mode: VmMode) {
  const words: number[] = [];
  const guest = new ScriptedGuest(readSector(3, words));
  const vm = new Vm(placement('kvm-irqchip'), guest, { mode, board: { diskImage: image } });
  try {
    vm.run(10_000_000);
    return { words, exits: Object.fromEntries(vm.counts.exitsByDevice()).disk };
  } finally {
    await vm.close();
  }
}

describe('the ATA disk on the board', () => {
  it('reads the image\'s sector through PIO, the same modelled and live', async () => {
    const modelled = await run('modelled');
    const expected = Array.from({ length: 256 }, (_, i) => (bytes[3 * 512 + 2 * i] ?? 0) | ((bytes[3 * 512 + 2 * i + 1] ?? 0) << 8));
    expect(modelled.words).toEqual(expected);
    expect(modelled.exits?.user).toBeGreaterThanOrEqual(7 + 1 + 256);
    expect(await run('live')).toEqual(modelled);
  }, 60_000);

  it('refuses an image that is not there, in one line, before anything runs', () => {
    const guest = new ScriptedGuest((function* idle(): GuestProgram { yield { op: 'hlt' }; })());
    expect(() => new Vm(placement('kvm-irqchip'), guest, { board: { diskImage: join(dir, 'missing.img') } })).toThrow(/missing\.img/);
  });
});

/** The open/access mode (O_RDONLY 0, O_WRONLY 1, O_RDWR 2) of each descriptor this process holds on `path`, any thread's (Linux's /proc). */
function openModes(path: string): number[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) !== path) return [];
      const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
      return flags === undefined ? [] : [Number.parseInt(flags, 8) & 3];
    } catch {
      return []; // closed while we looked
    }
  });
}

/** What a driver sees of a write, a flush and a read on the disk: WRITE SECTORS at `lba` (the data sent if asked for), FLUSH CACHE, READ SECTORS. */
interface Seen {
  writeStatus: number;
  writeError: number;
  flushStatus: number;
  readStatus: number;
  words: number[];
}

function writeFlushRead(lba: number, seen: Seen): GuestProgram {
  return (function* program(): GuestProgram {
    const poll = function* poll(): Generator<{ op: 'in'; port: number }, number, number> {
      let status = 0x80;
      while ((status & 0x80) !== 0) status = yield { op: 'in', port: 0x1f7 };
      return status;
    };
    yield { op: 'out', port: 0x3f6, value: 0x02 }; // nIEN: polled
    yield { op: 'out', port: 0x1f6, value: 0xe0 };
    yield { op: 'out', port: 0x1f2, value: 1 };
    yield { op: 'out', port: 0x1f3, value: lba };
    yield { op: 'out', port: 0x1f4, value: 0 };
    yield { op: 'out', port: 0x1f5, value: 0 };
    yield { op: 'out', port: 0x1f7, value: 0x30 }; // WRITE SECTORS
    seen.writeStatus = yield* poll();
    if ((seen.writeStatus & 0x08) !== 0) {
      for (let i = 0; i < 256; i++) yield { op: 'out', port: 0x1f0, size: 2, value: 0xdead };
      seen.writeStatus = yield* poll();
    }
    seen.writeError = yield { op: 'in', port: 0x1f1 };
    yield { op: 'out', port: 0x1f7, value: 0xe7 }; // FLUSH CACHE
    seen.flushStatus = yield* poll();
    yield { op: 'out', port: 0x1f2, value: 1 };
    yield { op: 'out', port: 0x1f3, value: lba };
    yield { op: 'out', port: 0x1f7, value: 0x20 }; // READ SECTORS
    seen.readStatus = yield* poll();
    if ((seen.readStatus & 0x08) !== 0) for (let i = 0; i < 256; i++) seen.words.push(yield { op: 'in', port: 0x1f0, size: 2 });
  })();
}

describe.skipIf(!existsSync('/proc/self/fdinfo'))('a disk image opened read-only', () => {
  const readOnly = join(dir, 'read-only.img');
  writeFileSync(readOnly, bytes);

  async function attempt(mode: VmMode) {
    const seen: Seen = { writeStatus: -1, writeError: -1, flushStatus: -1, readStatus: -1, words: [] };
    const vm = new Vm(placement('kvm-irqchip'), new ScriptedGuest(writeFlushRead(5, seen)), { mode, board: { diskImage: readOnly, diskReadOnly: true } });
    let modes: number[];
    try {
      modes = openModes(readOnly); // the worker's descriptor too, live: it has answered power-on by now
      vm.run(10_000_000);
    } finally {
      await vm.close();
    }
    return { seen, modes };
  }

  it('is opened O_RDONLY; a write command ends in ABRT (ERR, no DRQ), FLUSH CACHE succeeds, reads work, the file is unchanged — modelled and live', async () => {
    const modelled = await attempt('modelled');
    const sector = Array.from({ length: 256 }, (_, i) => (bytes[5 * 512 + 2 * i] ?? 0) | ((bytes[5 * 512 + 2 * i + 1] ?? 0) << 8));
    expect(modelled.seen).toEqual({ writeStatus: 0x41, writeError: 0x04, flushStatus: 0x50, readStatus: 0x58, words: sector });
    expect(modelled.modes).toEqual([0]);
    const live = await attempt('live');
    expect(live.seen).toEqual(modelled.seen);
    expect(live.modes).toEqual([0]);
    expect(readFileSync(readOnly)).toEqual(Buffer.from(bytes));
    expect(openModes(readOnly)).toEqual([]); // closed when the VM stopped
  }, 60_000);

  it('without diskReadOnly the same image is opened for reading and writing, and the write lands', async () => {
    const writable = join(dir, 'writable.img');
    writeFileSync(writable, bytes);
    const seen: Seen = { writeStatus: -1, writeError: -1, flushStatus: -1, readStatus: -1, words: [] };
    const vm = new Vm(placement('kvm-irqchip'), new ScriptedGuest(writeFlushRead(5, seen)), { board: { diskImage: writable } });
    expect(openModes(writable)).toEqual([2]);
    vm.run(10_000_000);
    await vm.close();
    expect([seen.writeStatus, seen.writeError, seen.flushStatus]).toEqual([0x50, 0x00, 0x50]);
    expect(readFileSync(writable).subarray(5 * 512, 5 * 512 + 2)).toEqual(Buffer.from([0xad, 0xde]));
  });
});

describe('media the board cannot take', () => {
  const idle = () => new ScriptedGuest((function* idle(): GuestProgram { yield { op: 'hlt' }; })());
  const odd = join(dir, 'odd.img');
  writeFileSync(odd, new Uint8Array(1000));
  const megabyte = join(dir, 'megabyte.img');
  writeFileSync(megabyte, new Uint8Array(1 << 20));

  it.each(['modelled', 'live'] as const)('%s: one VmError naming the file and what is wrong with it — a diskette\'s sizes for a floppy', async (mode) => {
    const cases = [
      [{ diskImage: odd }, `disk image ${odd} is 1000 bytes, which is not a non-zero multiple of 512`],
      [{ floppyImage: odd }, `floppy image ${odd} is 1000 bytes, not 737280 (720K), 1474560 (1.44M) or 2949120 (2.88M)`],
      [{ floppyImage: megabyte }, `floppy image ${megabyte} is 1048576 bytes, not 737280 (720K), 1474560 (1.44M) or 2949120 (2.88M)`],
      [{ diskImage: join(dir, 'missing.img') }, new RegExp(`^cannot open disk image ${join(dir, 'missing\\.img')} for reading and writing: ENOENT`)],
    ] as const;
    for (const [board, message] of cases) {
      let error: unknown;
      try {
        const vm = new Vm(placement('qemu-tcg'), idle(), { mode, board });
        await vm.close();
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(VmError);
      if (typeof message === 'string') expect((error as Error).message).toBe(message);
      else expect((error as Error).message).toMatch(message);
    }
    expect(readFileSync(odd)).toEqual(Buffer.alloc(1000));
  }, 60_000);
});
