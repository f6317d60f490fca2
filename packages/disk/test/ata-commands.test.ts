// The rest of the command set and the register rules: errors past the end of the disk, INTRQ and nIEN, reset and
// diagnostics, power modes, CHS translation, SMART, TRIM, access widths, and what a failing backend becomes.
import { describe, expect, it } from 'vitest';
import { AtaConfigError, AtaError, Command, Feature, MemoryBlockBackend, Smart, Status } from '../src/index.ts';
import { CMD, RecordingBackend, board, identifyString, patternedDisk, sectorOf, word } from './ata-board.ts';

const LBA = 0xe0;
const CTL = 0x08;
const NIEN = 0x02;
const SRST = 0x04;

describe('addresses past the end of the disk', () => {
  it('READ SECTORS across the last sector: ERR with IDNF, the first missing sector in the registers, no data', () => {
    const b = board({ master: { backend: patternedDisk(1000) } });
    b.deviceControl(CTL);
    b.taskFile({ nsect: 4, lbal: 998 & 0xff, lbam: 998 >> 8, device: LBA });
    b.outb(CMD.COMMAND, Command.READ_SECTORS);
    expect(b.irq()).toBe(true);
    expect([b.inb(CMD.STATUS), b.inb(CMD.ERROR)]).toEqual([Status.DRDY | Status.ERR, AtaError.IDNF]);
    expect(b.inb(CMD.LBAL) | (b.inb(CMD.LBAM) << 8)).toBe(1000);
    expect(b.inw()).toBe(0);
    expect(b.ata.anomalies()).toMatchObject({ addressesNotFound: 1, dataReadsWithoutDrq: 1 });
  });

  it('answers IDNF for WRITE, VERIFY, DMA and EXT commands beyond the end, and for a CHS address off the translation', () => {
    const b = board({ master: { backend: patternedDisk(1000) } });
    for (const command of [Command.WRITE_SECTORS, Command.READ_VERIFY_SECTORS, Command.READ_DMA, Command.WRITE_DMA]) {
      b.taskFile({ nsect: 1, lbal: 1000 & 0xff, lbam: 1000 >> 8, device: LBA });
      b.outb(CMD.COMMAND, command);
      expect([command, b.inb(CMD.STATUS), b.inb(CMD.ERROR)]).toEqual([command, 0x41, AtaError.IDNF]);
    }
    b.outb(CMD.LBAH, 0x01); // LBA48: LBA 1_000000h + ... (previous LBA High byte = 1)
    b.outb(CMD.LBAH, 0x00);
    b.outb(CMD.COMMAND, Command.READ_SECTORS_EXT);
    expect(b.inb(CMD.ERROR)).toBe(AtaError.IDNF);
    b.taskFile({ nsect: 1, lbal: 0, device: 0xa0 }); // CHS sector 0 does not exist
    b.outb(CMD.COMMAND, Command.READ_SECTORS);
    expect(b.inb(CMD.ERROR)).toBe(AtaError.IDNF);
  });

  it('turns a backend that fails a read into UNC at the failing sector, never an exception', () => {
    const backend = new RecordingBackend(64);
    const b = board({ master: { backend } });
    backend.failReads = true;
    b.taskFile({ nsect: 1, lbal: 5, device: LBA });
    b.outb(CMD.COMMAND, Command.READ_SECTORS);
    expect([b.inb(CMD.STATUS), b.inb(CMD.ERROR), b.inb(CMD.LBAL)]).toEqual([0x41, AtaError.UNC, 5]);
    expect(b.ata.anomalies()).toMatchObject({ backendReadErrors: 1 });
  });

  it('reports a refused write as ABRT, and a failed flush as a device fault (DF)', () => {
    const backend = new RecordingBackend(64);
    const b = board({ master: { backend, writeCache: false } });
    backend.failWrites = true;
    b.taskFile({ nsect: 1, lbal: 3, device: LBA });
    b.outb(CMD.COMMAND, Command.WRITE_SECTORS);
    b.outsw(new Uint8Array(512));
    expect([b.inb(CMD.STATUS), b.inb(CMD.ERROR), b.inb(CMD.LBAL)]).toEqual([0x41, AtaError.ABRT, 3]);
    backend.failWrites = false;
    backend.failFlush = true;
    b.taskFile({ device: LBA });
    b.outb(CMD.COMMAND, Command.FLUSH_CACHE);
    expect([b.inb(CMD.STATUS), b.inb(CMD.ERROR)]).toEqual([Status.DRDY | Status.DF | Status.ERR, AtaError.ABRT]);
    backend.failFlush = false;
    b.outb(CMD.COMMAND, Command.FLUSH_CACHE);
    expect(b.inb(CMD.STATUS)).toBe(0x50); // DF belongs to the command that failed
  });
});

describe('INTRQ, nIEN and the interrupt pending', () => {
  it('holds an interrupt raised under nIEN and asserts it when nIEN is cleared; Status acknowledges it', () => {
    const b = board();
    b.deviceControl(CTL | NIEN);
    b.taskFile({ device: LBA });
    b.outb(CMD.COMMAND, Command.CHECK_POWER_MODE);
    expect(b.irq()).toBe(false);
    b.deviceControl(CTL);
    expect(b.irq()).toBe(true);
    b.deviceControl(CTL | NIEN);
    expect(b.irq()).toBe(false);
    b.deviceControl(CTL);
    expect(b.irq()).toBe(true);
    b.inb(CMD.STATUS);
    expect(b.irq()).toBe(false);
  });

  it('is driven by the selected device only, and a new command acknowledges the last one\'s interrupt', () => {
    const b = board();
    b.deviceControl(CTL);
    b.taskFile({ device: 0xa0 });
    b.outb(CMD.COMMAND, Command.CHECK_POWER_MODE);
    expect(b.irq()).toBe(true);
    b.outb(CMD.DEVICE, 0xb0); // the absent device 1 drives nothing
    expect(b.irq()).toBe(false);
    b.outb(CMD.DEVICE, 0xa0);
    expect(b.irq()).toBe(true);
    b.deviceControl(CTL | NIEN);
    b.outb(CMD.COMMAND, Command.CHECK_POWER_MODE);
    b.deviceControl(CTL);
    expect(b.irqRises()).toBe(3);
  });

  it('ignores register and command writes while BSY or DRQ, as QEMU', () => {
    const b = board();
    b.taskFile({ nsect: 1, device: LBA });
    b.outb(CMD.COMMAND, Command.READ_SECTORS);
    b.outb(CMD.LBAL, 0x77);
    b.outb(CMD.DEVICE, 0xb0);
    b.outb(CMD.COMMAND, Command.IDENTIFY_DEVICE);
    expect([b.inb(CMD.LBAL), b.inb(CMD.STATUS)]).toEqual([1, 0x58]); // the transfer's progress, still DRQ
    expect(b.ata.anomalies()).toMatchObject({ registerWritesWhileBusy: 2, commandsWhileBusy: 1 });
  });
});

describe('reset and diagnostics', () => {
  it('SRST abandons a transfer, holds BSY while set, then gives the signature with device 0 selected', () => {
    const b = board();
    b.taskFile({ nsect: 2, device: LBA });
    b.outb(CMD.COMMAND, Command.READ_SECTORS);
    b.deviceControl(CTL | SRST);
    expect(b.altStatus()).toBe(Status.BSY);
    b.outb(CMD.NSECT, 0x42); // ignored while BSY
    b.deviceControl(CTL);
    expect([b.altStatus(), b.inb(CMD.ERROR), b.inb(CMD.NSECT), b.inb(CMD.LBAL), b.inb(CMD.LBAM), b.inb(CMD.LBAH), b.inb(CMD.DEVICE)])
      .toEqual([0x50, 0x01, 0x01, 0x01, 0x00, 0x00, 0xa0]);
    expect(b.inw()).toBe(0);
    expect([b.irq(), b.irqRises()]).toEqual([false, 1]); // the read's first block raised it; the reset released it
  });

  it('EXECUTE DEVICE DIAGNOSTIC runs on both devices whichever is selected; device 0 reports, with an interrupt', () => {
    const b = board({ master: { backend: patternedDisk(64) }, slave: { backend: patternedDisk(64) } });
    b.deviceControl(CTL);
    b.taskFile({ nsect: 9, lbam: 5, device: 0xb0 });
    b.outb(CMD.COMMAND, Command.EXECUTE_DEVICE_DIAGNOSTIC);
    expect(b.irq()).toBe(true);
    expect([b.inb(CMD.DEVICE), b.inb(CMD.ERROR), b.inb(CMD.NSECT), b.inb(CMD.LBAM), b.inb(CMD.STATUS)]).toEqual([0xa0, 0x01, 0x01, 0x00, 0x50]);
    b.outb(CMD.DEVICE, 0xb0);
    expect([b.inb(CMD.ERROR), b.inb(CMD.STATUS)]).toEqual([0x01, 0x50]);
  });

  it('keeps its settings over SRST unless reverting to power-on defaults was enabled (SET FEATURES CCh)', () => {
    const b = board();
    const multiple = () => {
      b.taskFile({ device: 0xa0 });
      b.outb(CMD.COMMAND, Command.IDENTIFY_DEVICE);
      return word(b.insw(256), 59) & 0xff;
    };
    b.taskFile({ nsect: 2, device: 0xa0 });
    b.outb(CMD.COMMAND, Command.SET_MULTIPLE_MODE);
    b.deviceControl(CTL | SRST);
    b.deviceControl(CTL);
    expect(multiple()).toBe(2);
    b.taskFile({ features: Feature.ENABLE_REVERTING_TO_DEFAULTS, device: 0xa0 });
    b.outb(CMD.COMMAND, Command.SET_FEATURES);
    b.deviceControl(CTL | SRST);
    b.deviceControl(CTL);
    expect(multiple()).toBe(16);
  });
});

describe('power modes', () => {
  it('STANDBY IMMEDIATE completes with DSC set (real drives; QEMU clears it) and CHECK POWER MODE reports each mode', () => {
    const b = board();
    const check = () => {
      b.taskFile({ device: 0xa0 });
      b.outb(CMD.COMMAND, Command.CHECK_POWER_MODE);
      expect(b.inb(CMD.STATUS)).toBe(0x50);
      return b.inb(CMD.NSECT);
    };
    expect(check()).toBe(0xff);
    b.outb(CMD.COMMAND, Command.STANDBY_IMMEDIATE);
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    expect(check()).toBe(0x00);
    b.outb(CMD.COMMAND, Command.IDLE_IMMEDIATE);
    expect(check()).toBe(0x80);
    b.taskFile({ nsect: 1, device: LBA });
    b.outb(CMD.COMMAND, Command.READ_VERIFY_SECTORS); // media access spins the drive up
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    expect(check()).toBe(0xff);
  });

  it('SLEEP: commands are ignored until a reset, which wakes the drive to standby', () => {
    const b = board();
    b.taskFile({ device: 0xa0 });
    b.outb(CMD.COMMAND, Command.SLEEP);
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    b.outb(CMD.COMMAND, Command.IDENTIFY_DEVICE);
    expect(b.altStatus()).toBe(0x50);
    expect(b.ata.anomalies()).toMatchObject({ commandsWhileAsleep: 1 });
    b.deviceControl(CTL | SRST);
    b.deviceControl(CTL);
    b.outb(CMD.COMMAND, Command.CHECK_POWER_MODE);
    expect(b.inb(CMD.NSECT)).toBe(0x00);
  });
});

describe('CHS translation', () => {
  it('INITIALIZE DEVICE PARAMETERS sets the translation IDENTIFY reports and CHS commands use', () => {
    const disk = patternedDisk(20_000);
    const b = board({ master: { backend: disk } });
    b.taskFile({ nsect: 32, device: 0xa0 | 7 }); // 8 heads, 32 sectors per track
    b.outb(CMD.COMMAND, Command.INITIALIZE_DEVICE_PARAMETERS);
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    b.taskFile({ device: 0xa0 });
    b.outb(CMD.COMMAND, Command.IDENTIFY_DEVICE);
    const id = b.insw(256);
    expect([word(id, 54), word(id, 55), word(id, 56), word(id, 57)]).toEqual([78, 8, 32, 78 * 8 * 32]);
    expect([word(id, 1), word(id, 3), word(id, 6)]).toEqual([19, 16, 63]); // the default translation is unchanged
    // Cylinder 3, head 5, sector 17 → LBA (3 × 8 + 5) × 32 + 16
    b.taskFile({ nsect: 1, lbal: 17, lbam: 3, lbah: 0, device: 0xa0 | 5 });
    b.outb(CMD.COMMAND, Command.READ_SECTORS);
    expect(b.inb(CMD.STATUS)).toBe(0x58);
    expect(b.insw(256)).toEqual(sectorOf(disk, (3 * 8 + 5) * 32 + 16));
    expect([b.inb(CMD.LBAL), b.inb(CMD.DEVICE) & 0x0f]).toEqual([18, 5]); // the next sector, in CHS
    // A translation it cannot adopt: aborted, and CHS media access aborted until a valid one; LBA still works.
    b.taskFile({ nsect: 0, device: 0xa0 });
    b.outb(CMD.COMMAND, Command.INITIALIZE_DEVICE_PARAMETERS);
    expect(b.inb(CMD.ERROR)).toBe(AtaError.ABRT);
    b.taskFile({ nsect: 1, lbal: 1, device: 0xa0 });
    b.outb(CMD.COMMAND, Command.READ_SECTORS);
    expect([b.inb(CMD.STATUS), b.inb(CMD.ERROR)]).toEqual([0x41, AtaError.ABRT]);
    b.taskFile({ nsect: 1, lbal: 1, device: LBA });
    b.outb(CMD.COMMAND, Command.READ_SECTORS);
    expect(b.inb(CMD.STATUS)).toBe(0x58);
  });
});

describe('SMART and DATA SET MANAGEMENT', () => {
  it('answers SMART RETURN STATUS with the key, READ DATA with a valid checksum, and aborts without the key', () => {
    const b = board();
    b.taskFile({ features: Smart.RETURN_STATUS, lbam: 0x4f, lbah: 0xc2, device: 0xa0 });
    b.outb(CMD.COMMAND, Command.SMART);
    expect([b.inb(CMD.STATUS), b.inb(CMD.LBAM), b.inb(CMD.LBAH)]).toEqual([0x50, 0x4f, 0xc2]);
    b.taskFile({ features: Smart.READ_DATA, lbam: 0x4f, lbah: 0xc2, device: 0xa0 });
    b.outb(CMD.COMMAND, Command.SMART);
    const data = b.insw(256);
    expect(data.reduce((sum, byte) => (sum + byte) & 0xff, 0)).toBe(0);
    b.taskFile({ features: Smart.RETURN_STATUS, lbam: 0, lbah: 0, device: 0xa0 });
    b.outb(CMD.COMMAND, Command.SMART);
    expect(b.inb(CMD.ERROR)).toBe(AtaError.ABRT);
    b.taskFile({ features: Smart.DISABLE_OPERATIONS, lbam: 0x4f, lbah: 0xc2, device: 0xa0 });
    b.outb(CMD.COMMAND, Command.SMART);
    b.outb(CMD.COMMAND, Command.IDENTIFY_DEVICE);
    expect(word(b.insw(256), 85) & 1).toBe(0);
  });

  it('accepts TRIM ranges by DMA (the sectors keep their data: word 69 promises determinism, not zeros) and aborts ranges past the end', () => {
    const disk = patternedDisk(128);
    const b = board({ master: { backend: disk } });
    const trim = (lba: number, count: number) => {
      const view = new DataView(b.context.ram.buffer);
      b.context.ram.fill(0, 0x4000, 0x4200);
      view.setUint32(0x4000, lba, true);
      view.setUint16(0x4006, count, true);
      view.setUint32(0x100, 0x4000, true);
      view.setUint32(0x104, 0x8000_0200, true);
      b.ata.write('bus-master', 4, 4, 0x100);
      b.outb(CMD.FEATURES, 0);
      b.outb(CMD.FEATURES, 1);
      b.outb(CMD.NSECT, 0);
      b.outb(CMD.NSECT, 1);
      b.outb(CMD.DEVICE, 0x40);
      b.outb(CMD.COMMAND, Command.DATA_SET_MANAGEMENT);
      b.ata.write('bus-master', 0, 1, 0x01);
      b.ata.write('bus-master', 0, 1, 0x00);
      return [b.inb(CMD.STATUS), b.inb(CMD.ERROR)];
    };
    expect(trim(10, 20)).toEqual([0x50, 0]);
    expect(sectorOf(disk, 10)).toEqual(patternedDisk(128).image.slice(10 * 512, 11 * 512));
    expect(trim(120, 20)).toEqual([0x41, AtaError.ABRT]);
  });
});

describe('access widths', () => {
  it('decodes ports as QEMU\'s PIIX does: bytes on the data port read FFh, 16-bit register reads are two bytes, 32-bit all ones', () => {
    const b = board();
    b.outb(CMD.NSECT, 0x12);
    b.outb(CMD.LBAL, 0x34);
    expect(b.ata.read('command', 0, 1)).toBe(0xff);
    expect(b.ata.read('command', CMD.NSECT, 2)).toBe(0x3412);
    expect(b.ata.read('command', CMD.NSECT, 4)).toBe(0xffff_ffff);
    b.ata.write('command', CMD.LBAM, 2, 0xbbaa);
    expect([b.inb(CMD.LBAM), b.inb(CMD.LBAH)]).toEqual([0xaa, 0xbb]);
    b.ata.write('command', 0, 1, 0x55);
    expect(b.ata.anomalies()).toMatchObject({ byteDataPortAccesses: 2, wideRegisterAccesses: 1 });
  });

  it('answers 0 everywhere on a channel with no drive at all (as QEMU)', () => {
    const b = board({});
    b.outb(CMD.NSECT, 0x55);
    expect([b.inb(CMD.NSECT), b.inb(CMD.STATUS), b.altStatus(), b.inw()]).toEqual([0, 0, 0, 0]);
  });
});

describe('the write cache', () => {
  it('writes back (without a flush) when it holds more than its bound, and flushes on FLUSH CACHE', () => {
    const backend = new RecordingBackend(256);
    const b = board({ master: { backend, writeCacheSectors: 4 } });
    const write = (lba: number, count: number) => {
      b.taskFile({ nsect: count, lbal: lba, device: LBA });
      b.outb(CMD.COMMAND, Command.WRITE_SECTORS);
      for (let i = 0; i < count; i++) b.outsw(new Uint8Array(512).fill(lba + i));
      return b.inb(CMD.STATUS);
    };
    expect(write(10, 4)).toBe(0x50);
    expect([backend.writes, backend.flushes]).toEqual([0, 0]);
    expect(write(20, 1)).toBe(0x50); // five dirty: written back, in two runs
    expect([backend.writes, backend.flushes]).toEqual([2, 0]);
    expect(backend.inner.image[20 * 512]).toBe(20);
    expect(backend.stable[20 * 512]).toBe(0); // not durable yet
    b.outb(CMD.COMMAND, Command.FLUSH_CACHE);
    expect(backend.stable[20 * 512]).toBe(20);
  });

  it('SET FEATURES 82h flushes and turns the cache off: each write then reaches stable storage before it completes', () => {
    const backend = new RecordingBackend(256);
    const b = board({ master: { backend } });
    b.taskFile({ nsect: 1, lbal: 1, device: LBA });
    b.outb(CMD.COMMAND, Command.WRITE_SECTORS);
    b.outsw(new Uint8Array(512).fill(0xab));
    b.taskFile({ features: Feature.DISABLE_WRITE_CACHE, device: 0xa0 });
    b.outb(CMD.COMMAND, Command.SET_FEATURES);
    expect(backend.stable[512]).toBe(0xab);
    b.outb(CMD.COMMAND, Command.IDENTIFY_DEVICE);
    expect(word(b.insw(256), 85) & 0x20).toBe(0);
    b.taskFile({ nsect: 1, lbal: 2, device: LBA });
    b.outb(CMD.COMMAND, Command.WRITE_SECTORS);
    b.outsw(new Uint8Array(512).fill(0xcd));
    expect(backend.stable[1024]).toBe(0xcd);
  });

  it('keeps dirty sectors in the snapshot: a restored channel in another domain still has them, and flushes them', () => {
    const image = new MemoryBlockBackend(64);
    const b = board({ master: { backend: image } });
    b.taskFile({ nsect: 1, lbal: 7, device: LBA });
    b.outb(CMD.COMMAND, Command.WRITE_SECTORS);
    b.outsw(new Uint8Array(512).fill(0x5a));
    // The other domain opens the same image.
    const other = board({ master: { backend: image } });
    other.ata.setState(b.ata.getState());
    expect(image.image[7 * 512]).toBe(0);
    other.ata.write('command', CMD.COMMAND, 1, Command.FLUSH_CACHE);
    expect(image.image[7 * 512]).toBe(0x5a);
    expect(other.ata.flushWriteCaches()).toBe(true);
  });
});

describe('configuration', () => {
  it('refuses identity strings that IDENTIFY cannot carry, and names strings as given', () => {
    expect(() => board({ master: { backend: new MemoryBlockBackend(8), model: 'é' } })).toThrow(AtaConfigError);
    expect(() => board({ master: { backend: new MemoryBlockBackend(8), serial: 'x'.repeat(21) } })).toThrow(AtaConfigError);
    expect(() => board({ master: { backend: new MemoryBlockBackend(8), multipleSectors: 3 } })).toThrow(AtaConfigError);
    const b = board({ master: { backend: new MemoryBlockBackend(8), model: 'TINY DISK', serial: 'ABC123', firmware: 'F1' } });
    b.taskFile({ device: 0xa0 });
    b.outb(CMD.COMMAND, Command.IDENTIFY_DEVICE);
    const id = b.insw(256);
    expect([identifyString(id, 27, 20), identifyString(id, 10, 10), identifyString(id, 23, 4)]).toEqual(['TINY DISK', 'ABC123', 'F1']);
    expect([word(id, 1), word(id, 3), word(id, 6), word(id, 60)]).toEqual([1, 1, 8, 8]); // a disk smaller than a cylinder
  });
});
