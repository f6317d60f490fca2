// Linux 6.1's libata (drivers/ata/libata-core.c, libata-sff.c, libata-eh.c, as ata_piix drives it) probing an ATAPI
// drive, then the SCSI midlayer's scan and the sr driver's probe on top of it: softreset and classification by the
// PACKET signature, IDENTIFY DEVICE aborted with the signature, IDENTIFY PACKET DEVICE by 32-bit PIO, the transfer
// mode, atapi_eh_clear_ua's TEST UNIT READY / REQUEST SENSE, INQUIRY and the VPD pages, sr's MODE SENSE(10) of page 2Ah,
// GET CONFIGURATION, GET EVENT STATUS NOTIFICATION and READ CAPACITY — each packet command with irq 15 per DRQ block and
// at the end, as the linux-boot traces show QEMU's drive doing.
import { describe, expect, it } from 'vitest';
import { AtaError, BusMasterStatus, Command, Feature, InterruptReason, MediaEvent, Profile, SenseKey, Status } from '../src/index.ts';
import type { Board } from './ata-board.ts';
import { CMD, board, identifyString, word } from './ata-board.ts';
import { be, cdb, packetIn, patternedDisc, requestSense, sendPacket } from './atapi-board.ts';

const CTL = 0x08;
const NIEN = 0x02;
const SRST = 0x04;

/** ata_sff_dev_classify. */
function classify(lbam: number, lbah: number): string {
  if (lbam === 0 && lbah === 0) return 'ATA';
  if (lbam === 0x14 && lbah === 0xeb) return 'ATAPI';
  return 'unknown';
}

/** ata_dev_read_id with ATA_CMD_ID_ATAPI, polled (nIEN), 32-bit PIO. */
function identifyPacket(b: Board): Uint8Array {
  b.deviceControl(CTL | NIEN);
  b.taskFile({ device: 0xa0 });
  b.outb(CMD.COMMAND, Command.IDENTIFY_PACKET_DEVICE);
  expect(b.altStatus()).toBe(0x58);
  expect(b.inb(CMD.STATUS)).toBe(0x58);
  const id = b.insl(128);
  expect(b.altStatus()).toBe(0x50); // DRDY from now on
  b.deviceControl(CTL);
  return id;
}

/** Up to the point where the SCSI layer takes over: reset, classified, identified, MWDMA 2 set, interrupts on. */
function probed(b: Board): void {
  b.deviceControl(CTL | NIEN | SRST);
  b.deviceControl(CTL | NIEN);
  identifyPacket(b);
  b.deviceControl(CTL | NIEN);
  b.taskFile({ features: Feature.SET_TRANSFER_MODE, nsect: 0x22, device: 0xa0 });
  b.outb(CMD.COMMAND, Command.SET_FEATURES);
  expect(b.inb(CMD.STATUS)).toBe(0x50);
  b.deviceControl(CTL);
}

describe('libata probes an ATAPI drive', () => {
  it('classifies it by the PACKET signature after softreset; device 1 is absent', () => {
    const b = board({ master: { kind: 'cdrom' } });
    b.deviceControl(CTL | NIEN);
    b.deviceControl(CTL | NIEN | SRST);
    b.deviceControl(CTL | NIEN);
    expect(b.altStatus()).toBe(0x00); // not BSY: ata_sff_wait_after_reset is done; DRDY clear until a command
    expect([b.inb(CMD.ERROR), b.inb(CMD.NSECT), b.inb(CMD.LBAL)]).toEqual([0x01, 0x01, 0x01]);
    expect(classify(b.inb(CMD.LBAM), b.inb(CMD.LBAH))).toBe('ATAPI');
    b.outb(CMD.DEVICE, 0xb0);
    expect([b.altStatus(), b.inb(CMD.LBAM), b.inb(CMD.LBAH)]).toEqual([0, 0xff, 0xff]);
    b.outb(CMD.COMMAND, Command.IDENTIFY_DEVICE); // ignored: nobody there
    expect(b.inb(CMD.STATUS)).toBe(0);
  });

  it('aborts IDENTIFY DEVICE with the signature loaded, so ata_dev_read_id retries as ATAPI', () => {
    const b = board({ master: { kind: 'cdrom' } });
    b.deviceControl(CTL | NIEN);
    b.taskFile({ nsect: 0x55, lbam: 0x12, lbah: 0x34, device: 0xa0 });
    b.outb(CMD.COMMAND, Command.IDENTIFY_DEVICE);
    expect([b.inb(CMD.STATUS), b.inb(CMD.ERROR)]).toEqual([Status.DRDY | Status.ERR, AtaError.ABRT]);
    expect([b.inb(CMD.NSECT), b.inb(CMD.LBAL), b.inb(CMD.LBAM), b.inb(CMD.LBAH)]).toEqual([0x01, 0x01, 0x14, 0xeb]);
    expect(classify(b.inb(CMD.LBAM), b.inb(CMD.LBAH))).toBe('ATAPI');
  });

  it('reads IDENTIFY PACKET DEVICE: a removable CD-ROM, 12-byte packets, DRQ without an interrupt, UDMA 0–5, ATAPI-4', () => {
    const b = board({ master: { kind: 'cdrom' } });
    const id = identifyPacket(b);
    const w0 = word(id, 0);
    expect(w0).toBe(0x85c0);
    expect(w0 >> 14).toBe(0b10); // ata_id_is_atapi
    expect(w0 & 0x3).toBe(0); // atapi_cdb_len: 12
    expect((w0 >> 5) & 0x3).toBe(0b10); // not ata_id_cdb_intr: no interrupt for the packet
    expect((w0 >> 8) & 0x1f).toBe(0x05); // CD-ROM
    expect(w0 & 0x80).toBe(0x80); // removable
    expect(identifyString(id, 27, 20)).toBe('SPLITVISOR DVD-ROM');
    expect(identifyString(id, 10, 10)).toBe('SVCD0001');
    expect(identifyString(id, 23, 4)).toBe('1.0');
    expect(word(id, 49) & 0x0300).toBe(0x0300); // DMA and LBA
    expect(word(id, 62) & 0x8000).toBe(0); // no DMADIR needed
    expect([word(id, 63), word(id, 64), word(id, 88)]).toEqual([0x0007, 0x0003, 0x203f]); // UDMA 5 selected: "max UDMA/100"
    expect(31 - Math.clz32(word(id, 80))).toBe(4);
    expect(word(id, 82) & 0x0218).toBe(0x0218); // DEVICE RESET, PACKET, power management
    expect([word(id, 83) >> 14, word(id, 84) >> 14, word(id, 87) >> 14]).toEqual([1, 1, 1]);
    expect(b.irqRises()).toBe(0);
  });

  it('takes SET FEATURES transfer mode and shows it selected', () => {
    const b = board({ master: { kind: 'cdrom' } });
    probed(b);
    const id = identifyPacket(b);
    expect([word(id, 62), word(id, 63), word(id, 88)]).toEqual([0x0007, 0x0407, 0x003f]);
    b.deviceControl(CTL | NIEN);
    b.taskFile({ features: Feature.SET_TRANSFER_MODE, nsect: 0x47, device: 0xa0 }); // UDMA 7: none
    b.outb(CMD.COMMAND, Command.SET_FEATURES);
    expect([b.inb(CMD.STATUS), b.inb(CMD.ERROR)]).toEqual([0x41, AtaError.ABRT]);
  });
});

describe('atapi_eh_clear_ua and the SCSI scan', () => {
  it('TEST UNIT READY fails UNIT ATTENTION (power on), then NOT READY: one interrupt each, status phase, Error 60h then 20h', () => {
    const b = board({ master: { kind: 'cdrom' } });
    probed(b);
    sendPacket(b, cdb.testUnitReady(), { limit: 0, width: 4 });
    expect(b.irq()).toBe(true);
    expect(b.bmRead(2) & BusMasterStatus.INTERRUPT).toBe(BusMasterStatus.INTERRUPT);
    b.bmWrite(2, BusMasterStatus.INTERRUPT);
    expect(b.altStatus()).toBe(0x41);
    expect(b.inb(CMD.STATUS)).toBe(0x41);
    expect(b.irq()).toBe(false);
    expect([b.inb(CMD.ERROR), b.inb(CMD.NSECT), b.inb(CMD.LBAM), b.inb(CMD.LBAH)]).toEqual([SenseKey.UNIT_ATTENTION << 4, 0x03, 0, 0]);
    // atapi_eh_request_sense: REQUEST SENSE with SCSI_SENSE_BUFFERSIZE (96) as allocation and byte count.
    const sense = packetIn(b, [0x03, 0, 0, 0, 96, 0, 0, 0, 0, 0, 0, 0], { limit: 96, width: 4 });
    expect(sense.blocks).toEqual([18]);
    expect([sense.data[2], sense.data[12], sense.data[13]]).toEqual([SenseKey.UNIT_ATTENTION, 0x29, 0x00]);
    expect(b.inb(CMD.LBAM)).toBe(18); // the Byte Count keeps the last block's
    // The attention is gone: the next TEST UNIT READY says why the drive is not ready, and clear_ua stops there.
    sendPacket(b, cdb.testUnitReady(), { limit: 0, width: 4 });
    expect([b.inb(CMD.STATUS), b.inb(CMD.ERROR)]).toEqual([0x41, SenseKey.NOT_READY << 4]);
    expect(requestSense(b)).toMatchObject({ key: SenseKey.NOT_READY, asc: 0x3a, ascq: 0 });
    expect(b.irqRises()).toBe(1 + 2 + 1 + 2);
  });

  it('INQUIRY: an interrupt with the 36 bytes, one at the end; CD/DVD device, removable, the identity strings', () => {
    const b = board({ master: { kind: 'cdrom', vendor: 'ACME', model: 'ACME DVD-ROM 16X', firmware: '1.23' } });
    probed(b);
    const rises = b.irqRises();
    const reply = packetIn(b, cdb.inquiry(36), { limit: 36, width: 4 });
    expect(b.irqRises() - rises).toBe(2);
    expect(reply.blocks).toEqual([36]);
    expect(reply.status).toBe(0x50);
    const text = (from: number, to: number) => String.fromCharCode(...reply.data.subarray(from, to));
    expect([...reply.data.subarray(0, 5)]).toEqual([0x05, 0x80, 0x00, 0x21, 31]);
    expect([text(8, 16), text(16, 32), text(32, 36)]).toEqual(['ACME    ', 'ACME DVD-ROM 16X', '1.23']);
  });

  it('the VPD pages: 00h lists 00h and 83h; 83h, asked for its length and then whole, names the drive', () => {
    const b = board({ master: { kind: 'cdrom', vendor: 'ACME', model: 'ACME DVD-ROM', serial: 'XYZ42' } });
    probed(b);
    expect([...packetIn(b, cdb.inquiry(4, 0x00), { limit: 4, width: 4 }).data]).toEqual([0x05, 0x00, 0x00, 0x02]);
    expect([...packetIn(b, cdb.inquiry(6, 0x00), { limit: 6, width: 4 }).data]).toEqual([0x05, 0x00, 0x00, 0x02, 0x00, 0x83]);
    const header = packetIn(b, cdb.inquiry(4, 0x83), { limit: 4, width: 4 });
    expect(header.status).toBe(0x50);
    const length = 4 + be(header.data, 2, 2);
    const page = packetIn(b, cdb.inquiry(length, 0x83), { limit: length, width: 4 }).data;
    expect(page.length).toBe(length);
    expect([page[4], page[5], page[7]]).toEqual([0x02, 0x01, length - 8]); // ASCII, T10 vendor ID, designator length
    expect(String.fromCharCode(...page.subarray(8))).toBe('ACME    ACME DVD-ROM    XYZ42');
  });

  it('sr\'s get_capabilities: MODE SENSE(10) page 2Ah — reads CD-R/RW and DVD-ROM, writes nothing, a tray that ejects and locks, 48x', () => {
    const b = board({ master: { kind: 'cdrom' } });
    probed(b);
    // Not INQUIRY: MODE SENSE reports the power-on attention first.
    expect(packetIn(b, cdb.modeSense10(0x2a, 128), { limit: 128, width: 4 })).toMatchObject({ status: 0x41, error: SenseKey.UNIT_ATTENTION << 4 });
    const reply = packetIn(b, cdb.modeSense10(0x2a, 128), { limit: 128, width: 4 });
    const data = reply.data;
    expect(data.length).toBe(8 + 32);
    expect(be(data, 0, 2)).toBe(data.length - 2); // mode data length
    expect(be(data, 6, 2)).toBe(0); // no block descriptors
    const n = 8;
    expect([data[n], data[n + 1]]).toEqual([0x2a, 30]);
    expect([data[n + 2], data[n + 3], data[n + 4], data[n + 5]]).toEqual([0x0b, 0x00, 0x00, 0x00]);
    expect(data[n + 6]).toBe(0x29); // loading mechanism tray, eject, lock (not locked)
    expect(Math.floor(be(data, n + 8, 2) / 176)).toBe(48); // "sr0: scsi3-mmc drive: 48x/48x"
    // MODE SENSE(6), all pages: the 4-byte header, 01h and 2Ah.
    const all = packetIn(b, cdb.modeSense6(0x3f), { width: 4 }).data;
    expect([all[0], all[3], all[4], all[4 + 12]]).toEqual([all.length - 1, 0, 0x01, 0x2a]);
  });

  it('GET CONFIGURATION, GET EVENT STATUS NOTIFICATION, READ CAPACITY: no disc, then a disc inserted by the host', () => {
    const disc = patternedDisc(300);
    const b = board({ master: { kind: 'cdrom' } });
    probed(b);
    requestSense(b); // takes the power-on attention
    // cdrom_mmc3_profile: the feature header alone.
    let config = packetIn(b, cdb.getConfiguration(0, 0, 8), { limit: 8, width: 4 }).data;
    expect(be(config, 6, 2)).toBe(Profile.NONE);
    let event = packetIn(b, cdb.getEventStatus(), { limit: 8, width: 4 }).data;
    expect([...event]).toEqual([0, 6, 4, 0x10, MediaEvent.NO_CHANGE, 0x00, 0, 0]);
    b.ata.changeMedium(0, disc);
    // sr_check_events: polled media events are not held back by the UNIT ATTENTION; the event is reported once.
    event = packetIn(b, cdb.getEventStatus(), { limit: 8, width: 4 }).data;
    expect([event[4], event[5]]).toEqual([MediaEvent.NEW_MEDIA, 0x02]);
    event = packetIn(b, cdb.getEventStatus(), { limit: 8, width: 4 }).data;
    expect([event[4], event[5]]).toEqual([MediaEvent.NO_CHANGE, 0x02]);
    config = packetIn(b, cdb.getConfiguration(0, 0, 8), { limit: 8, width: 4 }).data;
    expect(be(config, 6, 2)).toBe(Profile.CD_ROM);
    sendPacket(b, cdb.testUnitReady(), { limit: 0 });
    expect([b.inb(CMD.STATUS), b.inb(CMD.ERROR)]).toEqual([0x41, SenseKey.UNIT_ATTENTION << 4]);
    expect(requestSense(b)).toMatchObject({ key: SenseKey.UNIT_ATTENTION, asc: 0x28, ascq: 0 });
    sendPacket(b, cdb.testUnitReady(), { limit: 0 });
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    expect(b.inb(CMD.NSECT) & 0x03).toBe(InterruptReason.COD | InterruptReason.IO);
    const capacity = packetIn(b, cdb.readCapacity(), { limit: 8, width: 4 }).data;
    expect([be(capacity, 0, 4), be(capacity, 4, 4)]).toEqual([299, 2048]);
  });
});
