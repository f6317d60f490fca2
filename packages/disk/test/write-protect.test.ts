// A drive on an image that refuses writes (a file opened read-only): every command that would change the medium is
// aborted before it takes data (ABRT with ERR, an interrupt, no DRQ), reads and the cache commands work, and nothing
// reaches the image. ATA has no write-protect status for a fixed disk; QEMU refuses a read-only IDE disk outright,
// and the patched QEMUs that allow one (Xen's legacy device model, OpenXT) abort its writes in the same way.
import { describe, expect, it } from 'vitest';
import { AtaError, Command, Feature, MemoryBlockBackend, Status } from '../src/index.ts';
import { CMD, board } from './ata-board.ts';

const LBA = 0xe0;
const CTL = 0x08;
const ABORTED = [Status.DRDY | Status.ERR, AtaError.ABRT];

function readOnlyDisk(sectors: number): { backend: MemoryBlockBackend; original: Uint8Array } {
  const image = Uint8Array.from({ length: sectors * 512 }, (_, i) => (i * 11 + (i >> 9)) & 0xff);
  return { backend: new MemoryBlockBackend(image, { readOnly: true }), original: image.slice() };
}

describe('a drive on a read-only image', () => {
  it('aborts every write command at once — no DRQ, ABRT, an interrupt — and the image is unchanged', () => {
    const { backend, original } = readOnlyDisk(256);
    const b = board({ master: { backend } });
    b.deviceControl(CTL);
    const writes = [
      Command.WRITE_SECTORS, Command.WRITE_SECTORS_NO_RETRY, Command.WRITE_SECTORS_EXT, Command.WRITE_MULTIPLE,
      Command.WRITE_MULTIPLE_EXT, Command.WRITE_MULTIPLE_FUA_EXT, Command.WRITE_DMA, Command.WRITE_DMA_NO_RETRY,
      Command.WRITE_DMA_EXT, Command.WRITE_DMA_FUA_EXT,
    ];
    for (const command of writes) {
      b.taskFile({ nsect: 2, lbal: 8, device: LBA });
      b.outb(CMD.COMMAND, command);
      expect({ command, irq: b.irq(), status: b.altStatus() }).toEqual({ command, irq: true, status: Status.DRDY | Status.ERR });
      expect([b.inb(CMD.STATUS), b.inb(CMD.ERROR)]).toEqual(ABORTED);
      b.outw(0x1234); // a driver that writes anyway: nothing is asked for
    }
    // DATA SET MANAGEMENT (TRIM) would change the medium too.
    b.taskFile({ features: 1, nsect: 1, device: 0x40 });
    b.outb(CMD.COMMAND, Command.DATA_SET_MANAGEMENT);
    expect([b.inb(CMD.STATUS), b.inb(CMD.ERROR)]).toEqual(ABORTED);
    expect(backend.image).toEqual(original);
    expect(b.ata.anomalies()).toMatchObject({ writesWhileWriteProtected: writes.length + 1, backendWriteErrors: 0, dataWritesWithoutDrq: writes.length });
  });

  it('reads, and completes FLUSH CACHE and SET FEATURES 82h: there is nothing to write back', () => {
    const { backend, original } = readOnlyDisk(64);
    const b = board({ master: { backend } });
    b.taskFile({ nsect: 1, lbal: 3, device: LBA });
    b.outb(CMD.COMMAND, Command.READ_SECTORS);
    expect(b.inb(CMD.STATUS)).toBe(0x58);
    expect(b.insw(256)).toEqual(original.subarray(3 * 512, 4 * 512));
    for (const command of [Command.FLUSH_CACHE, Command.FLUSH_CACHE_EXT]) {
      b.outb(CMD.COMMAND, command);
      expect(b.inb(CMD.STATUS)).toBe(0x50);
    }
    b.taskFile({ features: Feature.DISABLE_WRITE_CACHE, device: 0xa0 });
    b.outb(CMD.COMMAND, Command.SET_FEATURES);
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    expect(b.ata.flushWriteCaches()).toBe(true);
  });
});
