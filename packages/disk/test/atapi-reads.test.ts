// Reading a disc: READ CAPACITY and READ(10)/READ(12)/READ CD of known blocks by PIO — in DRQ blocks of at most the byte
// count limit, an interrupt each — and by bus-master DMA, with the table outcomes of the ATA DMA commands; MODE SELECT's
// data-out; the TOC, disc information and mechanism; eject, load and the lock; read errors of the backend.
import { decodeState, encodeState } from '@splitvisor/abi';
import { describe, expect, it } from 'vitest';
import type { AtaChannelState, BlockBackend } from '../src/index.ts';
import { AtaConfigError, BusMasterCommand, BusMasterStatus, InterruptReason, MediaEvent, MemoryBlockBackend, Profile, SenseKey, Status } from '../src/index.ts';
import type { Board } from './ata-board.ts';
import { CMD, board } from './ata-board.ts';
import { be, blocksOf, cdb, packetIn, patternedDisc, pioDataIn, requestSense, sendPacket } from './atapi-board.ts';

const CTL = 0x08;

/** A drive holding `disc`, with the power-on attention already taken (as SeaBIOS or libata leave it), interrupts enabled. */
function withDisc(disc: BlockBackend = patternedDisc(256)): Board {
  const b = board({ master: { kind: 'cdrom', medium: disc } });
  b.deviceControl(CTL);
  expect(requestSense(b)).toMatchObject({ key: SenseKey.UNIT_ATTENTION, asc: 0x29 });
  return b;
}

/** A PRD table at 0x1000 of (address, bytes) regions, End Of Table on the last. */
function prdTable(b: Board, regions: readonly (readonly [number, number])[]): void {
  const view = new DataView(b.context.ram.buffer);
  regions.forEach(([address, bytes], i) => {
    view.setUint32(0x1000 + 8 * i, address, true);
    view.setUint32(0x1000 + 8 * i + 4, (bytes & 0xffff) | (i === regions.length - 1 ? 0x8000_0000 : 0), true);
  });
  b.bmWrite(4, 0x1000, 4);
}

/** A backend whose reads of `bad` (a 512-byte sector) fail. */
function failingAt(disc: MemoryBlockBackend, bad: number): BlockBackend {
  return {
    sectors: disc.sectors,
    read: (lba, count, into) => !(bad >= lba && bad < lba + count) && disc.read(lba, count, into),
    write: () => false,
    flush: () => true,
    readOnly: true,
  };
}

describe('PIO reads', () => {
  it('READ CAPACITY, then READ(10) of three blocks in one DRQ block under the default limit', () => {
    const disc = patternedDisc(256);
    const b = withDisc(disc);
    const capacity = packetIn(b, cdb.readCapacity()).data;
    expect([be(capacity, 0, 4), be(capacity, 4, 4)]).toEqual([255, 2048]);
    const rises = b.irqRises();
    const reply = packetIn(b, cdb.read10(17, 3), { width: 4 });
    expect(reply.blocks).toEqual([3 * 2048]);
    expect(reply.data).toEqual(blocksOf(disc, 17, 3));
    expect([reply.status, reply.error]).toEqual([0x50, 0]);
    expect(b.irqRises() - rises).toBe(2);
  });

  it('splits the data into DRQ blocks of the byte count limit, an interrupt each, the count in LBA Mid/High', () => {
    const disc = patternedDisc(256);
    const b = withDisc(disc);
    const rises = b.irqRises();
    const reply = packetIn(b, cdb.read10(100, 2), { limit: 0x300 });
    // 4096 bytes: five blocks of 300h and the 100h left.
    expect(reply.blocks).toEqual([0x300, 0x300, 0x300, 0x300, 0x300, 0x100]);
    expect(reply.data).toEqual(blocksOf(disc, 100, 2));
    expect(b.irqRises() - rises).toBe(6 + 1);
    // An odd limit is taken one lower: only the last block may be odd.
    const odd = packetIn(b, cdb.read10(7, 1), { limit: 0x201 });
    expect(odd.blocks).toEqual([0x200, 0x200, 0x200, 0x200]);
    expect(odd.data).toEqual(blocksOf(disc, 7));
  });

  it('READ(12) and READ CD (user data only) read the same blocks; READ CD selecting nothing moves nothing', () => {
    const disc = patternedDisc(256);
    const b = withDisc(disc);
    expect(packetIn(b, cdb.read12(200, 4)).data).toEqual(blocksOf(disc, 200, 4));
    expect(packetIn(b, cdb.readCd(30, 2)).data).toEqual(blocksOf(disc, 30, 2));
    expect(packetIn(b, cdb.readCd(30, 2, 0x10, 2)).data).toEqual(blocksOf(disc, 30, 2)); // expected sector type Mode 1
    const nothing = packetIn(b, cdb.readCd(30, 2, 0x00));
    expect([nothing.data.length, nothing.status]).toEqual([0, 0x50]);
    const none = packetIn(b, cdb.read10(5, 0));
    expect([none.data.length, none.status]).toEqual([0, 0x50]);
  });

  it('a read past the last block is ILLEGAL REQUEST / LOGICAL BLOCK ADDRESS OUT OF RANGE, and no data moves', () => {
    const b = withDisc(patternedDisc(256));
    const reply = packetIn(b, cdb.read10(255, 2));
    expect([reply.data.length, reply.status, reply.error]).toEqual([0, 0x41, SenseKey.ILLEGAL_REQUEST << 4]);
    expect(requestSense(b)).toMatchObject({ key: SenseKey.ILLEGAL_REQUEST, asc: 0x21, ascq: 0 });
    expect(b.ata.anomalies()).toMatchObject({ blocksOutOfRange: 1 });
  });

  it('a block the backend cannot read ends the data phase in MEDIUM ERROR, INFORMATION naming the block (VALID set)', () => {
    const disc = patternedDisc(64);
    const b = withDisc(failingAt(disc, 10 * 4 + 2));
    // Blocks 8–11 in DRQ blocks of one logical block: 8 and 9 arrive, 10 cannot be read.
    const reply = packetIn(b, cdb.read10(8, 4), { limit: 2048 });
    expect(reply.blocks).toEqual([2048, 2048]);
    expect(reply.data).toEqual(blocksOf(disc, 8, 2));
    expect([reply.status, reply.error]).toEqual([0x41, SenseKey.MEDIUM_ERROR << 4]);
    const sense = requestSense(b);
    expect(sense).toMatchObject({ key: SenseKey.MEDIUM_ERROR, asc: 0x11, ascq: 0 });
    expect([sense.bytes[0], be(sense.bytes, 3, 4)]).toEqual([0xf0, 10]);
    expect(b.ata.anomalies()).toMatchObject({ backendReadErrors: 1 });
    expect(b.context.warnings.some((w) => w.includes('logical block 10'))).toBe(true);
  });
});

describe('DMA reads through the bus master', () => {
  it('READ(10) with Features DMA: DRQ while waiting, the data in memory, one interrupt at the end, the status phase', () => {
    const disc = patternedDisc(256);
    const b = withDisc(disc);
    prdTable(b, [[0x10000, 0x1000], [0x20000, 0x1000]]);
    b.bmWrite(2, BusMasterStatus.INTERRUPT);
    const rises = b.irqRises();
    sendPacket(b, cdb.read10(40, 4), { dma: true, limit: 0 });
    expect(b.altStatus()).toBe(0x58); // waiting for the bus master
    expect(b.irqRises()).toBe(rises);
    b.bmWrite(0, BusMasterCommand.START | BusMasterCommand.WRITE_TO_MEMORY);
    expect(b.irqRises() - rises).toBe(1);
    expect(b.bmRead(2) & (BusMasterStatus.ACTIVE | BusMasterStatus.INTERRUPT)).toBe(BusMasterStatus.INTERRUPT);
    expect([b.inb(CMD.STATUS), b.inb(CMD.NSECT) & 0x03]).toEqual([0x50, InterruptReason.COD | InterruptReason.IO]);
    b.bmWrite(0, 0);
    expect(b.context.ram.slice(0x10000, 0x11000)).toEqual(blocksOf(disc, 40, 2));
    expect(b.context.ram.slice(0x20000, 0x21000)).toEqual(blocksOf(disc, 42, 2));
  });

  it('a reply the drive makes (INQUIRY) goes by DMA too; regions need not hold whole blocks', () => {
    const disc = patternedDisc(256);
    const b = withDisc(disc);
    prdTable(b, [[0x3000, 36]]);
    sendPacket(b, cdb.inquiry(36), { dma: true });
    b.bmWrite(0, BusMasterCommand.START | BusMasterCommand.WRITE_TO_MEMORY);
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    expect([b.context.ram[0x3000], b.context.ram[0x3001]]).toEqual([0x05, 0x80]);
    b.bmWrite(0, 0);
    prdTable(b, [[0x40000, 1000], [0x50000, 2048 - 1000 + 2048]]);
    sendPacket(b, cdb.read10(3, 2), { dma: true });
    b.bmWrite(0, BusMasterCommand.START | BusMasterCommand.WRITE_TO_MEMORY);
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    const read = new Uint8Array([...b.context.ram.slice(0x40000, 0x40000 + 1000), ...b.context.ram.slice(0x50000, 0x50000 + 3096)]);
    expect(read).toEqual(blocksOf(disc, 3, 2));
  });

  it('a table smaller than the transfer stops the engine without an interrupt; a new table finishes it', () => {
    const disc = patternedDisc(256);
    const b = withDisc(disc);
    prdTable(b, [[0x10000, 2048]]);
    b.bmWrite(2, BusMasterStatus.INTERRUPT); // the PIO commands' interrupts latched it
    sendPacket(b, cdb.read10(60, 2), { dma: true });
    b.bmWrite(0, BusMasterCommand.START | BusMasterCommand.WRITE_TO_MEMORY);
    expect(b.bmRead(2) & (BusMasterStatus.ACTIVE | BusMasterStatus.INTERRUPT)).toBe(0);
    expect(b.altStatus()).toBe(0x58); // still waiting for the rest
    expect(b.ata.anomalies()).toMatchObject({ dmaTablesExhausted: 1 });
    b.bmWrite(0, 0);
    prdTable(b, [[0x10800, 2048]]);
    b.bmWrite(0, BusMasterCommand.START | BusMasterCommand.WRITE_TO_MEMORY);
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    expect(b.context.ram.slice(0x10000, 0x11000)).toEqual(blocksOf(disc, 60, 2));
  });

  it('a region outside guest memory: the bus master\'s error bit, and CHECK CONDITION ABORTED COMMAND', () => {
    const b = withDisc();
    prdTable(b, [[0x7fff_f000, 2048]]);
    sendPacket(b, cdb.read10(0, 1), { dma: true });
    b.bmWrite(0, BusMasterCommand.START | BusMasterCommand.WRITE_TO_MEMORY);
    expect(b.bmRead(2) & (BusMasterStatus.ERROR | BusMasterStatus.ACTIVE)).toBe(BusMasterStatus.ERROR);
    expect([b.inb(CMD.STATUS), b.inb(CMD.ERROR)]).toEqual([0x41, SenseKey.ABORTED_COMMAND << 4]);
    expect(requestSense(b)).toMatchObject({ key: SenseKey.ABORTED_COMMAND, asc: 0, ascq: 0 });
  });
});

describe('data-out: MODE SELECT', () => {
  it('asks for the parameter list by PIO in DRQ blocks of the limit (Interrupt Reason 00h, an interrupt each), takes it, completes', () => {
    const b = withDisc();
    const list = Uint8Array.from({ length: 24 }, (_, i) => i);
    sendPacket(b, cdb.modeSelect10(list.length), { limit: 16 });
    for (const [from, bytes] of [[0, 16], [16, 8]] as const) {
      expect(b.irq()).toBe(true);
      expect(b.inb(CMD.STATUS)).toBe(0x58);
      expect([b.inb(CMD.NSECT) & 0x03, b.inb(CMD.LBAM)]).toEqual([0, bytes]);
      b.outsw(list.subarray(from, from + bytes));
    }
    expect(b.irq()).toBe(true);
    expect([b.inb(CMD.STATUS), b.inb(CMD.NSECT) & 0x03]).toEqual([0x50, 0x03]);
  });

  it('takes it by DMA too, from guest memory', () => {
    const b = withDisc();
    prdTable(b, [[0x6000, 16]]);
    b.bmWrite(2, BusMasterStatus.INTERRUPT);
    sendPacket(b, cdb.modeSelect10(16), { dma: true });
    expect(b.altStatus()).toBe(0x58);
    b.bmWrite(0, BusMasterCommand.START);
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    expect(b.bmRead(2) & BusMasterStatus.INTERRUPT).toBe(BusMasterStatus.INTERRUPT);
  });
});

describe('the disc\'s structure', () => {
  it('READ TOC format 0 (LBA and MSF), format 1 (also as SFF-8020i\'s byte 9), format 2; READ DISC INFORMATION', () => {
    const b = withDisc(patternedDisc(1000));
    expect([...packetIn(b, cdb.readToc(0)).data]).toEqual([
      0, 18, 1, 1,
      0, 0x14, 1, 0, 0, 0, 0, 0,
      0, 0x14, 0xaa, 0, 0, 0, 0x03, 0xe8,
    ]);
    // MSF: LBA 0 is 00:02:00; 1000 + 150 frames is 00:15:25.
    expect([...packetIn(b, cdb.readToc(0, true)).data.subarray(4)]).toEqual([0, 0x14, 1, 0, 0, 0, 2, 0, 0, 0x14, 0xaa, 0, 0, 0, 15, 25]);
    expect([...packetIn(b, cdb.readToc(0, false, 0xaa)).data]).toEqual([0, 10, 1, 1, 0, 0x14, 0xaa, 0, 0, 0, 0x03, 0xe8]);
    const session = [0, 10, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0];
    expect([...packetIn(b, cdb.readToc(1)).data]).toEqual(session);
    const sffForm = cdb.readToc(0, false, 0, 12);
    sffForm[9] = 0x40; // sr_cd_check
    expect([...packetIn(b, sffForm).data]).toEqual(session);
    const full = packetIn(b, cdb.readToc(2, true)).data;
    expect(be(full, 0, 2)).toBe(2 + 4 * 11);
    expect([...full.subarray(4 + 2 * 11, 4 + 3 * 11)]).toEqual([1, 0x14, 0, 0xa2, 0, 0, 0, 0, 0, 15, 25]); // the lead-out
    const info = packetIn(b, cdb.readDiscInformation()).data;
    expect([info.length, be(info, 0, 2), info[2], info[3], info[4], info[5], info[6], info[8]]).toEqual([34, 32, 0x0e, 1, 1, 1, 1, 0]);
  });

  it('a disc larger than 80 minutes of blocks is a DVD-ROM: its profile, its Random Readable blocking, no CD sectors', () => {
    const blocks = 2_295_104; // a single-layer DVD
    const dvd: BlockBackend = {
      sectors: blocks * 4,
      read: (lba, count, into) => { into.fill(lba & 0xff, 0, count * 512); return true; },
      write: () => false,
      flush: () => true,
    };
    const b = withDisc(dvd);
    const config = packetIn(b, cdb.getConfiguration(1, 0x10)).data; // the current features from Random Readable on
    expect(be(config, 6, 2)).toBe(Profile.DVD_ROM);
    expect([be(config, 8, 2), be(config, 12, 4), be(config, 16, 2)]).toEqual([0x10, 2048, 16]);
    expect(be(config, 8 + 12, 2)).toBe(0x1f); // DVD Read current, CD Read not
    expect(packetIn(b, cdb.readCd(0, 1))).toMatchObject({ status: 0x41, error: SenseKey.ILLEGAL_REQUEST << 4 });
    expect(requestSense(b)).toMatchObject({ asc: 0x30, ascq: 0x02 });
    expect(packetIn(b, cdb.read10(blocks - 1, 1)).data[0]).toBe(((blocks - 1) * 4) & 0xff);
  });

  it('GET CONFIGURATION lists every feature, the current ones marked; RT 2 returns just the one asked for', () => {
    const b = withDisc();
    const all = packetIn(b, cdb.getConfiguration(0)).data;
    const codes: number[] = [];
    for (let at = 8; at < all.length; at += 4 + (all[at + 3] ?? 0)) codes.push(be(all, at, 2));
    expect(codes).toEqual([0x0000, 0x0001, 0x0002, 0x0003, 0x0010, 0x001e, 0x001f]);
    expect(be(all, 0, 4)).toBe(all.length - 4);
    expect([...all.subarray(12, 20)]).toEqual([0x00, 0x10, 0, 0, 0x00, 0x08, 1, 0]); // DVD-ROM, CD-ROM (current)
    const one = packetIn(b, cdb.getConfiguration(2, 0x0003)).data;
    expect([...one.subarray(8)]).toEqual([0, 0x03, 0x03, 4, 0x29, 0, 0, 0]); // tray, eject, lock
    expect(packetIn(b, cdb.getConfiguration(2, 0x0020)).data.length).toBe(8); // Random Writable: not a feature here
  });
});

describe('the tray', () => {
  it('locked by PREVENT ALLOW MEDIUM REMOVAL, an eject is refused; unlocked, it opens, the disc is not ready, and loads again with UNIT ATTENTION', () => {
    const b = withDisc();
    expect(packetIn(b, cdb.preventAllow(true)).status).toBe(0x50);
    expect(packetIn(b, cdb.modeSense10(0x2a)).data[8 + 6]).toBe(0x2b); // lock state
    expect(packetIn(b, cdb.startStopUnit(false, true))).toMatchObject({ status: 0x41, error: SenseKey.ILLEGAL_REQUEST << 4 });
    expect(requestSense(b)).toMatchObject({ key: SenseKey.ILLEGAL_REQUEST, asc: 0x53, ascq: 0x02 });
    packetIn(b, cdb.preventAllow(false));
    expect(packetIn(b, cdb.startStopUnit(false, true)).status).toBe(0x50);
    expect(packetIn(b, cdb.read10(0, 1))).toMatchObject({ status: 0x41, error: SenseKey.NOT_READY << 4 });
    expect(requestSense(b)).toMatchObject({ key: SenseKey.NOT_READY, asc: 0x3a, ascq: 0x02 }); // tray open
    expect([...packetIn(b, cdb.getEventStatus()).data.subarray(4, 6)]).toEqual([MediaEvent.MEDIA_REMOVAL, 0x01]);
    expect(packetIn(b, cdb.mechanismStatus()).data[1]).toBe(0x10); // door open
    expect(packetIn(b, cdb.startStopUnit(true, true)).status).toBe(0x50);
    expect([...packetIn(b, cdb.getEventStatus()).data.subarray(4, 6)]).toEqual([MediaEvent.NEW_MEDIA, 0x02]);
    expect(packetIn(b, cdb.testUnitReady())).toMatchObject({ status: 0x41, error: SenseKey.UNIT_ATTENTION << 4 });
    expect(packetIn(b, cdb.testUnitReady()).status).toBe(0x50);
    expect(packetIn(b, cdb.startStopUnit(true, false)).status).toBe(0x50); // spin up: nothing to do
  });

  it('the host takes the disc out (a forced eject, locked or not) and puts another in; an image that is no disc is refused', () => {
    const first = patternedDisc(16);
    const second = patternedDisc(32);
    const b = withDisc(first);
    packetIn(b, cdb.preventAllow(true));
    b.ata.changeMedium(0, undefined);
    expect(packetIn(b, cdb.testUnitReady())).toMatchObject({ status: 0x41, error: SenseKey.NOT_READY << 4 });
    b.ata.changeMedium(0, second);
    expect(packetIn(b, cdb.testUnitReady())).toMatchObject({ status: 0x41, error: SenseKey.UNIT_ATTENTION << 4 });
    expect(be(packetIn(b, cdb.readCapacity()).data, 0, 4)).toBe(31);
    expect(packetIn(b, cdb.read10(20, 1)).data).toEqual(blocksOf(second, 20));
    expect(() => { b.ata.changeMedium(0, new MemoryBlockBackend(6)); }).toThrow(AtaConfigError);
    expect(() => { board({ master: { backend: new MemoryBlockBackend(8) } }).ata.changeMedium(0, second); }).toThrow(AtaConfigError);
  });

  it('SET CD SPEED: the read speed MODE SENSE reports, bounded by what the drive does', () => {
    const b = withDisc();
    packetIn(b, cdb.setCdSpeed(1412));
    expect(be(packetIn(b, cdb.modeSense10(0x2a)).data, 8 + 14, 2)).toBe(1412);
    packetIn(b, cdb.setCdSpeed(0xffff));
    expect(be(packetIn(b, cdb.modeSense10(0x2a)).data, 8 + 14, 2)).toBe(8467);
    packetIn(b, cdb.setCdSpeed(10));
    expect(be(packetIn(b, cdb.modeSense10(0x2a)).data, 8 + 14, 2)).toBe(176);
    expect(be(packetIn(b, cdb.modeSense10(0x2a, 0x80, 2)).data, 8 + 14, 2)).toBe(8467); // the default
    expect(packetIn(b, cdb.modeSense10(0x2a, 0x80, 1)).data.subarray(8 + 2).every((x) => x === 0)).toBe(true); // nothing changeable
  });
});

describe('PIO in 32-bit accesses', () => {
  it('an odd reply read in dwords: the padding reads zero, and the status phase follows', () => {
    const b = withDisc();
    sendPacket(b, cdb.inquiry(5), { width: 4 });
    const reply = pioDataIn(b, 4);
    expect([...reply.data]).toEqual([0x05, 0x80, 0x00, 0x21, 31]);
    expect(reply.status).toBe(Status.DRDY | Status.DSC);
    expect(b.ata.anomalies()).toMatchObject({ straddlingDataAccesses: 0 });
  });
});

describe('a drive moved mid-command', () => {
  it('continues a PIO read, its DRQ block half read, and a waiting DMA read, from a state that crossed the wire into a fresh channel', () => {
    const disc = patternedDisc(64);
    const b = withDisc(disc);
    b.bmWrite(2, BusMasterStatus.INTERRUPT);
    sendPacket(b, cdb.read10(9, 2), { limit: 0x400 });
    b.inb(CMD.STATUS);
    const firstHalf = b.insw(0x100);
    const moved = board({ master: { kind: 'cdrom', medium: disc } });
    const wire = decodeState(encodeState(b.ata.getState()));
    if (!wire.ok) throw new Error(wire.reason);
    moved.ata.setState(wire.state as AtaChannelState);
    expect(moved.ata.getState()).toEqual(b.ata.getState());
    const rest = [...moved.insw(0x100)];
    for (let block = 1; block < 4; block++) {
      expect(moved.irq()).toBe(true);
      expect([moved.inb(CMD.STATUS), moved.inb(CMD.LBAM) | (moved.inb(CMD.LBAH) << 8)]).toEqual([0x58, 0x400]);
      rest.push(...moved.insw(0x200));
    }
    expect(moved.irq()).toBe(true);
    expect(moved.inb(CMD.STATUS)).toBe(0x50);
    expect(Uint8Array.from([...firstHalf, ...rest])).toEqual(blocksOf(disc, 9, 2));
    // A DMA read waiting for the bus master: the moved drive's bus master finishes it.
    prdTable(moved, [[0x30000, 2048]]);
    sendPacket(moved, cdb.read10(33, 1), { dma: true });
    const again = board({ master: { kind: 'cdrom', medium: disc } });
    again.context.ram.set(moved.context.ram); // guest memory, with the PRD table, moves with the VM
    again.ata.setState(moved.ata.getState());
    expect(again.altStatus()).toBe(0x58);
    again.bmWrite(0, BusMasterCommand.START | BusMasterCommand.WRITE_TO_MEMORY);
    expect(again.inb(CMD.STATUS)).toBe(0x50);
    expect(again.context.ram.slice(0x30000, 0x30800)).toEqual(blocksOf(disc, 33));
  });
});
