// SeaBIOS's ata_detect and its PIO disk reads (src/hw/ata.c), as the seabios-post trace shows them on QEMU:
// the 55h/AAh register probe, SRST with nIEN, the signature, IDENTIFY PACKET DEVICE (aborted by a disk), IDENTIFY DEVICE,
// the absent slave, then READ SECTORS / READ SECTORS EXT polled through Status.
import { describe, expect, it } from 'vitest';
import { AtaError, Command, MemoryBlockBackend, Status } from '../src/index.ts';
import { CMD, board, identifyString, patternedDisk, sectorOf, waitNotBusy, word } from './ata-board.ts';

const HD15 = 0x08;
const NIEN = 0x02;
const SRST = 0x04;

describe('SeaBIOS ata_detect', () => {
  it('finds the master by its registers, resets the channel and reads its signature', () => {
    const b = board();
    expect(b.inb(CMD.STATUS)).toBe(0x50); // power-on: DRDY | DSC
    b.outb(CMD.DEVICE, 0xa0);
    b.outb(CMD.NSECT, 0x55);
    b.outb(CMD.LBAL, 0xaa);
    expect([b.inb(CMD.NSECT), b.inb(CMD.LBAL)]).toEqual([0x55, 0xaa]);
    b.deviceControl(HD15 | NIEN | SRST);
    expect(b.altStatus() & Status.BSY).toBe(Status.BSY); // held in reset
    b.deviceControl(HD15 | NIEN);
    expect(waitNotBusy(b)).toBe(0x50);
    // The post-reset signature of an ATA device (ATA/ATAPI-6) and the diagnostic code.
    expect([b.inb(CMD.ERROR), b.inb(CMD.NSECT), b.inb(CMD.LBAL), b.inb(CMD.LBAM), b.inb(CMD.LBAH)]).toEqual([0x01, 0x01, 0x01, 0x00, 0x00]);
    expect(b.irqRises()).toBe(0);
  });

  it('tries IDENTIFY PACKET DEVICE first (a disk aborts it: 41h), then IDENTIFY DEVICE (58h, 256 words)', () => {
    const disk = new MemoryBlockBackend(32_768); // 16 MiB, the traces' blank disk
    const b = board({ master: { backend: disk, serial: 'QM00001', model: 'QEMU HARDDISK', firmware: '2.5+' } });
    b.deviceControl(HD15 | NIEN);
    b.taskFile({ device: 0xa0 });
    b.outb(CMD.COMMAND, Command.IDENTIFY_PACKET_DEVICE);
    expect(b.inb(CMD.STATUS)).toBe(Status.DRDY | Status.ERR);
    expect(b.inb(CMD.ERROR)).toBe(AtaError.ABRT);
    b.taskFile({ device: 0xa0 });
    b.outb(CMD.COMMAND, Command.IDENTIFY_DEVICE);
    expect(b.inb(CMD.STATUS)).toBe(0x58);
    const id = b.insw(256);
    expect(b.altStatus()).toBe(0x50);
    expect(identifyString(id, 27, 20)).toBe('QEMU HARDDISK');
    expect(identifyString(id, 10, 10)).toBe('QM00001');
    expect([word(id, 1), word(id, 3), word(id, 6)]).toEqual([32, 16, 63]); // default CHS
    expect(word(id, 60) | (word(id, 61) << 16)).toBe(32_768); // LBA28 capacity
    expect(word(id, 83) & 0x0400).toBe(0x0400); // 48-bit addressing
    expect([word(id, 100), word(id, 101), word(id, 102), word(id, 103)]).toEqual([32_768 & 0xffff, 0, 0, 0]);
    expect(b.irqRises()).toBe(0); // nIEN held INTRQ off throughout
  });

  it('sees no slave: Status and Error read 0 with device 1 selected, commands to it are ignored, the other registers echo', () => {
    const b = board();
    b.outb(CMD.DEVICE, 0xb0);
    expect(b.inb(CMD.STATUS)).toBe(0x00);
    expect(b.altStatus()).toBe(0x00);
    b.outb(CMD.NSECT, 0x55);
    b.outb(CMD.LBAL, 0xaa);
    expect([b.inb(CMD.NSECT), b.inb(CMD.LBAL), b.inb(CMD.DEVICE)]).toEqual([0x55, 0xaa, 0xb0]);
    b.outb(CMD.COMMAND, Command.IDENTIFY_DEVICE);
    expect([b.inb(CMD.STATUS), b.inb(CMD.ERROR), b.inw()]).toEqual([0, 0, 0]);
    expect(b.ata.anomalies()).toMatchObject({ commandsToAbsentDevice: 1 });
    // After SRST an absent device's copy of the signature has FFh cylinders (as QEMU answers).
    b.deviceControl(HD15 | NIEN | SRST);
    b.deviceControl(HD15 | NIEN);
    b.outb(CMD.DEVICE, 0xb0);
    expect([b.inb(CMD.ERROR), b.inb(CMD.NSECT), b.inb(CMD.LBAL), b.inb(CMD.LBAM), b.inb(CMD.LBAH), b.inb(CMD.STATUS)]).toEqual([0, 1, 1, 0xff, 0xff, 0]);
    b.outb(CMD.DEVICE, 0xa0);
    expect(b.inb(CMD.STATUS)).toBe(0x50);
  });

  it('reads sectors one DRQ block at a time with READ SECTORS, polling Status', () => {
    const disk = patternedDisk(4096);
    const b = board({ master: { backend: disk } });
    b.deviceControl(HD15 | NIEN);
    b.taskFile({ nsect: 3, lbal: 0x10, lbam: 0x02, lbah: 0, device: 0xe0 }); // LBA 210h
    b.outb(CMD.COMMAND, Command.READ_SECTORS);
    const data: Uint8Array[] = [];
    for (let n = 0; n < 3; n++) {
      expect(waitNotBusy(b) & (Status.DRQ | Status.ERR)).toBe(Status.DRQ);
      data.push(b.insw(256));
    }
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    expect(Buffer.concat(data)).toEqual(Buffer.from(sectorOf(disk, 0x210, 3)));
    // The registers followed the transfer: the next sector, nothing left.
    expect([b.inb(CMD.NSECT), b.inb(CMD.LBAL), b.inb(CMD.LBAM), b.inb(CMD.DEVICE)]).toEqual([0, 0x13, 0x02, 0xe0]);
  });

  it('reads past 2^28 sectors with READ SECTORS EXT, loading the high bytes first (HOB)', () => {
    const sectors = 2 ** 28 + 64;
    // A sparse backend: only the sectors asked for exist in memory.
    const backend = {
      sectors,
      read(lba: number, count: number, into: Uint8Array) {
        if (lba + count > sectors) return false;
        for (let i = 0; i < count * 512; i++) into[i] = (lba + Math.floor(i / 512)) % 251;
        return true;
      },
      write: () => true,
      flush: () => true,
    };
    const b = board({ master: { backend } });
    b.deviceControl(HD15 | NIEN);
    const lba = 2 ** 28 + 5;
    // ata_cmd_data: the previous (high) byte of each register, then the current one.
    b.outb(CMD.NSECT, 0);
    b.outb(CMD.LBAL, (lba / 2 ** 24) & 0xff);
    b.outb(CMD.LBAM, 0);
    b.outb(CMD.LBAH, 0);
    b.outb(CMD.NSECT, 2);
    b.outb(CMD.LBAL, lba & 0xff);
    b.outb(CMD.LBAM, (lba >> 8) & 0xff);
    b.outb(CMD.LBAH, (lba >> 16) & 0xff);
    b.outb(CMD.DEVICE, 0x40);
    b.outb(CMD.COMMAND, Command.READ_SECTORS_EXT);
    expect(b.inb(CMD.STATUS)).toBe(0x58);
    expect(b.insw(256)[0]).toBe(lba % 251);
    expect(b.insw(256)[0]).toBe((lba + 1) % 251);
    expect(b.inb(CMD.STATUS)).toBe(0x50);
  });
});
