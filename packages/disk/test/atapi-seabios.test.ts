// SeaBIOS's ATAPI paths (src/hw/ata.c, src/hw/blockcmd.c, src/cdrom.c) against a packet drive, polled with nIEN as
// the seabios-post trace shows them on QEMU: ata_detect's register probe, SRST and the PACKET signature; IDENTIFY
// PACKET DEVICE and the "DVD/CD [ata1-0: … ATAPI-4 DVD/CD]" line; scsi_is_ready's TEST UNIT READY / REQUEST SENSE
// loop ("Device reports MEDIUM NOT PRESENT - N tries left"); the boot attempt's READ(10) of the boot record volume
// descriptor ("Boot failed: Could not read from CDROM (code 0003)") — and the same with a disc in the drive.
import { describe, expect, it } from 'vitest';
import type { AtapiDriveConfig } from '../src/index.ts';
import { Command, Status } from '../src/index.ts';
import type { Board } from './ata-board.ts';
import { CMD, board, identifyString, waitNotBusy, word } from './ata-board.ts';
import { blocksOf, cdb, patternedDisc } from './atapi-board.ts';

const HD15 = 0x08;
const NIEN = 0x02;
const SRST = 0x04;

const QEMU_STRINGS: AtapiDriveConfig = { kind: 'cdrom', model: 'QEMU DVD-ROM', serial: 'QM00003', firmware: '2.5+', vendor: 'QEMU' };

/** ata_cmd_packet: a packet with `blocksize` in the byte count, polled under nIEN; the data in blocks of `blocksize`, or an error. */
function seabiosPacket(b: Board, packet: readonly number[], blocksize: number, blocks: number): { ok: true; data: Uint8Array } | { ok: false; error: number } {
  b.deviceControl(HD15 | NIEN);
  expect(b.inb(CMD.STATUS) & Status.BSY).toBe(0);
  b.outb(CMD.DEVICE, 0xa0);
  b.outb(CMD.FEATURES, 0);
  b.outb(CMD.NSECT, 0);
  b.outb(CMD.LBAL, 0);
  b.outb(CMD.LBAM, blocksize & 0xff);
  b.outb(CMD.LBAH, blocksize >> 8);
  b.outb(CMD.COMMAND, Command.PACKET);
  expect(b.inb(CMD.STATUS)).toBe(0x58); // await_drq
  b.outsw(Uint8Array.from(packet));
  const status = waitNotBusy(b);
  b.inb(CMD.STATUS);
  if ((status & Status.ERR) !== 0) {
    const error = b.inb(CMD.ERROR);
    b.deviceControl(HD15);
    return { ok: false, error };
  }
  const parts: number[] = [];
  for (let i = 0; i < blocks; i++) {
    expect(waitNotBusy(b) & (Status.DRQ | Status.ERR)).toBe(Status.DRQ);
    parts.push(...b.insw(blocksize / 2));
  }
  expect(b.altStatus()).toBe(0x50);
  b.inb(CMD.STATUS);
  b.deviceControl(HD15);
  return { ok: true, data: Uint8Array.from(parts) };
}

/** scsi_is_ready: TEST UNIT READY until it passes, counting MEDIUM NOT PRESENT reports (3 allowed); what SeaBIOS logs. */
function scsiIsReady(b: Board, log: string[]): boolean {
  let tries = 3;
  for (let loop = 0; loop < 20; loop++) {
    if (seabiosPacket(b, cdb.testUnitReady(), 0, 0).ok) return true;
    const sense = seabiosPacket(b, cdb.requestSense(18), 18, 1);
    if (!sense.ok) continue;
    if (sense.data[12] === 0x3a) {
      tries--;
      log.push(`Device reports MEDIUM NOT PRESENT - ${tries} tries left`);
      if (tries === 0) return false;
    }
  }
  return false;
}

/** ata_detect and init_drive_atapi: the drive's line in the boot log. */
function detect(b: Board, log: string[]): void {
  b.outb(CMD.DEVICE, 0xa0);
  b.outb(CMD.NSECT, 0x55);
  b.outb(CMD.LBAL, 0xaa);
  expect([b.inb(CMD.NSECT), b.inb(CMD.LBAL)]).toEqual([0x55, 0xaa]);
  b.deviceControl(HD15 | NIEN | SRST);
  expect(b.altStatus()).toBe(Status.BSY);
  b.deviceControl(HD15 | NIEN);
  // After the reset a PACKET device shows its signature and Status 00h: not busy, and (until a command) not ready.
  expect(waitNotBusy(b)).toBe(0x00);
  expect([b.inb(CMD.ERROR), b.inb(CMD.NSECT), b.inb(CMD.LBAL), b.inb(CMD.LBAM), b.inb(CMD.LBAH), b.inb(CMD.DEVICE)]).toEqual([0x01, 0x01, 0x01, 0x14, 0xeb, 0xa0]);
  b.taskFile({ device: 0xa0 });
  b.outb(CMD.COMMAND, Command.IDENTIFY_PACKET_DEVICE);
  expect(b.inb(CMD.STATUS)).toBe(0x58);
  const id = b.insw(256);
  expect(b.inb(CMD.STATUS)).toBe(0x50);
  const version = 31 - Math.clz32(word(id, 80));
  const type = (word(id, 0) >> 8) & 0x1f;
  expect(word(id, 0) >> 14).toBe(0b10); // ATAPI
  log.push(`${type === 0x05 ? 'DVD/CD' : 'device'} [ata1-0: ${identifyString(id, 27, 20)} ATAPI-${version} ${type === 0x05 ? 'DVD/CD' : 'Device'}]`);
  b.deviceControl(HD15);
}

/** cdrom_boot: scsi_is_ready, then the Boot Record Volume Descriptor (block 11h). */
function cdromBoot(b: Board, log: string[]): Uint8Array | undefined {
  scsiIsReady(b, log);
  const record = seabiosPacket(b, cdb.read10(0x11, 1), 2048, 1);
  if (!record.ok) {
    log.push('Boot failed: Could not read from CDROM (code 0003)');
    return undefined;
  }
  return record.data;
}

describe('SeaBIOS and an empty drive', () => {
  it('logs what it logs on QEMU: the drive, MEDIUM NOT PRESENT three times, and the failed boot', () => {
    const b = board({ master: QEMU_STRINGS });
    expect(b.inb(CMD.STATUS)).toBe(0x00); // power-on: the signature's Status
    const log: string[] = [];
    detect(b, log);
    scsiIsReady(b, log);
    cdromBoot(b, log);
    expect(log).toEqual([
      'DVD/CD [ata1-0: QEMU DVD-ROM ATAPI-4 DVD/CD]',
      'Device reports MEDIUM NOT PRESENT - 2 tries left',
      'Device reports MEDIUM NOT PRESENT - 1 tries left',
      'Device reports MEDIUM NOT PRESENT - 0 tries left',
      'Device reports MEDIUM NOT PRESENT - 2 tries left',
      'Device reports MEDIUM NOT PRESENT - 1 tries left',
      'Device reports MEDIUM NOT PRESENT - 0 tries left',
      'Boot failed: Could not read from CDROM (code 0003)',
    ]);
    expect(b.irqRises()).toBe(0); // nIEN was set whenever the drive interrupted, and every interrupt acknowledged before it was cleared
  });

  it('gets the power-on UNIT ATTENTION first (an extra turn of the loop), then NOT READY / MEDIUM NOT PRESENT each time', () => {
    const b = board({ master: { kind: 'cdrom' } });
    b.deviceControl(HD15 | NIEN);
    const first = seabiosPacket(b, cdb.testUnitReady(), 0, 0);
    expect(first).toEqual({ ok: false, error: 0x60 }); // sense key 6 in Error bits 7:4
    const attention = seabiosPacket(b, cdb.requestSense(18), 18, 1);
    expect(attention.ok && [...attention.data]).toEqual([0x70, 0, 0x06, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0x29, 0x00, 0, 0, 0, 0]);
    for (let i = 0; i < 2; i++) {
      expect(seabiosPacket(b, cdb.testUnitReady(), 0, 0)).toEqual({ ok: false, error: 0x20 });
      const sense = seabiosPacket(b, cdb.requestSense(18), 18, 1);
      // Fixed format, current; NOT READY; ASC 3Ah MEDIUM NOT PRESENT (tray closed, as QEMU: ASCQ 00h); VALID clear.
      expect(sense.ok && [...sense.data]).toEqual([0x70, 0, 0x02, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0x3a, 0x00, 0, 0, 0, 0]);
    }
  });
});

describe('SeaBIOS and a disc', () => {
  it('passes scsi_is_ready once the power-on attention is taken, and reads the boot record volume descriptor', () => {
    const disc = patternedDisc(64);
    const b = board({ master: { kind: 'cdrom', medium: disc } });
    const log: string[] = [];
    detect(b, log);
    expect(log).toEqual(['DVD/CD [ata1-0: SPLITVISOR DVD-ROM ATAPI-4 DVD/CD]']);
    const record = cdromBoot(b, log);
    expect(log).toHaveLength(1); // no MEDIUM NOT PRESENT, no failure
    expect(record).toEqual(blocksOf(disc, 0x11));
  });
});
