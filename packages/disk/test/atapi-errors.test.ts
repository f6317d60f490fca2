// Bad packets and misplaced accesses: operation codes the drive does not implement and CDB fields it cannot honour
// (CHECK CONDITION, ILLEGAL REQUEST, the sense key in Error), the protocol done wrong (data-port accesses without their
// DRQ, commands while the packet is awaited, a zero byte count limit), the ATA commands of a PACKET device, DEVICE
// RESET in every state, SLEEP, and configurations and states a host gets wrong. Guest mistakes are counted, never thrown.
import { DeviceStateError } from '@splitvisor/abi';
import { createTestContext } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import { AtaChannel, AtaConfigError, AtaError, Command, MemoryBlockBackend, PowerModeCode, SenseKey, Status } from '../src/index.ts';
import type { Board } from './ata-board.ts';
import { CMD, board } from './ata-board.ts';
import { cdb, packetIn, patternedDisc, requestSense, sendPacket } from './atapi-board.ts';

const CTL = 0x08;

function drive(): Board {
  const b = board({ master: { kind: 'cdrom', medium: patternedDisc(64) } });
  b.deviceControl(CTL);
  requestSense(b); // the power-on attention
  return b;
}

/** The packet fails ILLEGAL REQUEST (Error 50h: the key, no ABRT, as QEMU) with `asc`/`ascq`, and no data moves. */
function expectIllegal(b: Board, packet: readonly number[], asc: number, ascq = 0): void {
  const reply = packetIn(b, packet);
  expect({ status: reply.status, error: reply.error, data: reply.data.length }).toEqual({ status: 0x41, error: 0x50, data: 0 });
  expect(requestSense(b)).toMatchObject({ key: SenseKey.ILLEGAL_REQUEST, asc, ascq });
}

describe('bad packets', () => {
  it('an operation code the drive does not implement: INVALID COMMAND OPERATION CODE, counted', () => {
    const b = drive();
    for (const opcode of [0x2a /* WRITE(10) */, 0x04 /* FORMAT UNIT */, 0xad /* READ DVD STRUCTURE */, 0xff]) {
      expectIllegal(b, [opcode, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0], 0x20);
    }
    expect(b.ata.anomalies()).toMatchObject({ invalidOperationCodes: 4 });
  });

  it('fields it cannot honour: INVALID FIELD IN CDB (or the field\'s own code), counted', () => {
    const b = drive();
    expectIllegal(b, cdb.inquiry(36, 0x80), 0x24); // a VPD page it does not have
    expectIllegal(b, [0x12, 0x00, 0x83, 0, 36, 0, 0, 0, 0, 0, 0, 0], 0x24); // a page code without EVPD
    expectIllegal(b, [0x12, 0x02, 0x00, 0, 36, 0, 0, 0, 0, 0, 0, 0], 0x24); // CmdDt
    expectIllegal(b, [0x03, 0x01, 0, 0, 18, 0, 0, 0, 0, 0, 0, 0], 0x24); // descriptor-format sense
    expectIllegal(b, cdb.modeSense10(0x05), 0x24); // write parameters: a writer's page
    expectIllegal(b, cdb.modeSense10(0x2a, 0x80, 3), 0x39); // saved values
    expectIllegal(b, [0x55, 0x11, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0], 0x24); // MODE SELECT saving pages
    expectIllegal(b, cdb.getEventStatus(0x10, 8, false), 0x24); // asynchronous notification
    expectIllegal(b, cdb.getConfiguration(3), 0x24);
    expectIllegal(b, cdb.readToc(4), 0x24); // ATIP: not a recordable disc
    expectIllegal(b, cdb.readToc(0, false, 2), 0x24); // a track after the last
    expectIllegal(b, [0x51, 0x01, 0, 0, 0, 0, 0, 0, 34, 0, 0, 0], 0x24); // track resources
    expectIllegal(b, cdb.readCd(0, 1, 0xf8), 0x24); // sync, headers, EDC/ECC
    expectIllegal(b, cdb.readCd(0, 1, 0x10, 6), 0x24); // a reserved sector type
    expectIllegal(b, cdb.readCd(0, 1, 0x10, 1), 0x64); // CD-DA on a data track: ILLEGAL MODE FOR THIS TRACK
    expectIllegal(b, [0x1b, 0, 0, 0, 0x50, 0, 0, 0, 0, 0, 0, 0], 0x24); // power condition SLEEP
    expect(b.ata.anomalies()).toMatchObject({ invalidCdbFields: 15 }); // all but the CD-DA read, a fair request of the wrong track
    expect(b.ata.anomalies()).toMatchObject({ invalidOperationCodes: 0 });
  });

  it('a zero byte count limit is taken as FFFEh, and counted', () => {
    const b = drive();
    const reply = packetIn(b, cdb.read10(0, 2), { limit: 0 });
    expect(reply.blocks).toEqual([4096]);
    expect(b.ata.anomalies()).toMatchObject({ zeroByteCountLimits: 1 });
  });
});

describe('the protocol done wrong', () => {
  it('data-port reads while the packet is awaited, and writes while data is offered, move nothing and are counted', () => {
    const b = drive();
    b.taskFile({ lbam: 0xfe, lbah: 0xff, device: 0xa0 });
    b.outb(CMD.COMMAND, Command.PACKET);
    expect(b.inw()).toBe(0);
    b.outsw(Uint8Array.from(cdb.inquiry(36)));
    expect(b.inb(CMD.STATUS)).toBe(0x58);
    b.outw(0x1234);
    const data = b.insw(18);
    expect([data[0], data[1]]).toEqual([0x05, 0x80]);
    expect(b.ata.anomalies()).toMatchObject({ dataReadsWithoutDrq: 1, dataWritesWithoutDrq: 1 });
    expect(b.inb(CMD.STATUS)).toBe(0x50);
  });

  it('register writes and commands while the packet is awaited are ignored; the packet still runs', () => {
    const b = drive();
    b.taskFile({ lbam: 36, device: 0xa0 });
    b.outb(CMD.COMMAND, Command.PACKET);
    b.outb(CMD.LBAM, 0x99);
    b.outb(CMD.COMMAND, Command.IDENTIFY_PACKET_DEVICE);
    expect(b.ata.anomalies()).toMatchObject({ registerWritesWhileBusy: 1, commandsWhileBusy: 1 });
    b.outsw(Uint8Array.from(cdb.inquiry(36)));
    const reply = pioAfterPacket(b);
    expect(reply).toEqual([36]);
  });

  it('a dword read across a DRQ block that is not the last is counted; the rest of the data follows in the next block', () => {
    const b = drive();
    sendPacket(b, cdb.read10(0, 1), { limit: 6 });
    expect(b.irq()).toBe(true);
    b.inb(CMD.STATUS);
    b.insl(2); // 8 bytes of a 6-byte block
    expect(b.ata.anomalies()).toMatchObject({ straddlingDataAccesses: 1 });
    expect([b.altStatus(), b.inb(CMD.LBAM)]).toEqual([0x58, 6]);
  });
});

/** The Byte Counts of a PIO data-in phase whose packet is already in. */
function pioAfterPacket(b: Board): number[] {
  const counts: number[] = [];
  while ((b.inb(CMD.STATUS) & Status.DRQ) !== 0) {
    const count = b.inb(CMD.LBAM) | (b.inb(CMD.LBAH) << 8);
    counts.push(count);
    b.insw(Math.ceil(count / 2));
  }
  return counts;
}

describe('ATA commands to a PACKET device', () => {
  it('aborts what it does not implement (NOP, the DMA and multiple commands of a disk), counted', () => {
    const b = drive();
    for (const command of [Command.NOP, Command.READ_DMA, Command.WRITE_SECTORS, Command.READ_MULTIPLE, Command.FLUSH_CACHE]) {
      b.taskFile({ device: 0xa0 });
      b.outb(CMD.COMMAND, command);
      expect([b.inb(CMD.STATUS), b.inb(CMD.ERROR)]).toEqual([0x41, AtaError.ABRT]);
    }
    expect(b.ata.anomalies()).toMatchObject({ unsupportedCommands: 5 });
  });

  it('aborts READ SECTORS with the signature loaded, as IDENTIFY DEVICE', () => {
    const b = drive();
    b.taskFile({ nsect: 1, lbal: 5, device: 0xe0 });
    b.outb(CMD.COMMAND, Command.READ_SECTORS);
    expect([b.inb(CMD.STATUS), b.inb(CMD.ERROR), b.inb(CMD.LBAM), b.inb(CMD.LBAH)]).toEqual([0x41, AtaError.ABRT, 0x14, 0xeb]);
  });

  it('DEVICE RESET is taken even while the drive holds DRQ: the data abandoned, the signature, Status 00h, no interrupt', () => {
    const b = drive();
    sendPacket(b, cdb.read10(0, 4));
    expect(b.irq()).toBe(true);
    b.inb(CMD.STATUS);
    b.insw(10);
    b.outb(CMD.COMMAND, Command.DEVICE_RESET);
    expect([b.altStatus(), b.inb(CMD.ERROR), b.inb(CMD.NSECT), b.inb(CMD.LBAL), b.inb(CMD.LBAM), b.inb(CMD.LBAH)]).toEqual([0x00, 0x01, 0x01, 0x01, 0x14, 0xeb]);
    expect(b.irq()).toBe(false);
    expect(b.inw()).toBe(0);
    // The logical unit was not reset: no new attention, and the disc reads.
    expect(packetIn(b, cdb.testUnitReady()).status).toBe(0x50);
  });

  it('SLEEP: everything but DEVICE RESET is ignored (counted) until it; CHECK POWER MODE reports standby and idle', () => {
    const b = drive();
    for (const [command, mode] of [[Command.STANDBY_IMMEDIATE, PowerModeCode.STANDBY], [Command.IDLE_IMMEDIATE, PowerModeCode.IDLE]] as const) {
      b.taskFile({ device: 0xa0 });
      b.outb(CMD.COMMAND, command);
      expect(b.inb(CMD.STATUS)).toBe(0x50);
      b.outb(CMD.COMMAND, Command.CHECK_POWER_MODE);
      expect([b.inb(CMD.STATUS), b.inb(CMD.NSECT)]).toEqual([0x50, mode]);
    }
    b.outb(CMD.COMMAND, Command.SLEEP);
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    b.outb(CMD.COMMAND, Command.PACKET);
    expect(b.altStatus()).toBe(0x50);
    expect(b.ata.anomalies()).toMatchObject({ commandsWhileAsleep: 1 });
    b.outb(CMD.COMMAND, Command.DEVICE_RESET);
    expect(b.altStatus()).toBe(0x00);
    b.outb(CMD.COMMAND, Command.CHECK_POWER_MODE);
    expect([b.inb(CMD.STATUS), b.inb(CMD.NSECT)]).toEqual([0x50, PowerModeCode.STANDBY]);
  });

  it('EXECUTE DEVICE DIAGNOSTIC: the PACKET signature, code 01h, Status 00h, an interrupt from device 0', () => {
    const b = drive();
    b.taskFile({ device: 0xa0 });
    b.outb(CMD.COMMAND, Command.EXECUTE_DEVICE_DIAGNOSTIC);
    expect(b.irq()).toBe(true);
    expect([b.inb(CMD.STATUS), b.inb(CMD.ERROR), b.inb(CMD.LBAM), b.inb(CMD.LBAH)]).toEqual([0x00, 0x01, 0x14, 0xeb]);
  });

  it('a disk and a CD-ROM on one cable: each answers with its own signature; commands reach the selected one', () => {
    const b = board({ master: { backend: new MemoryBlockBackend(64) }, slave: { kind: 'cdrom' } });
    b.deviceControl(CTL | 0x04);
    b.deviceControl(CTL);
    expect([b.altStatus(), b.inb(CMD.LBAM), b.inb(CMD.LBAH)]).toEqual([0x50, 0x00, 0x00]);
    b.outb(CMD.DEVICE, 0xb0);
    expect([b.altStatus(), b.inb(CMD.LBAM), b.inb(CMD.LBAH)]).toEqual([0x00, 0x14, 0xeb]);
    const reply = packetIn(b, cdb.inquiry(36), { device: 0xb0 });
    expect(reply.data[0]).toBe(0x05);
    b.outb(CMD.DEVICE, 0xa0);
    b.outb(CMD.COMMAND, Command.IDENTIFY_DEVICE);
    expect(b.inb(CMD.STATUS)).toBe(0x58);
  });
});

describe('what a host gets wrong', () => {
  it('refuses at construction an image that is no whole number of 2048-byte blocks, and identity strings that do not fit', () => {
    const context = createTestContext();
    expect(() => new AtaChannel(context, { master: { kind: 'cdrom', medium: new MemoryBlockBackend(6) } })).toThrow(AtaConfigError);
    expect(() => new AtaChannel(context, { master: { kind: 'cdrom', vendor: 'NINE CHAR' } })).toThrow(AtaConfigError);
    expect(() => new AtaChannel(context, { master: { kind: 'cdrom', model: 'é' } })).toThrow(AtaConfigError);
  });

  it('refuses a state whose devices are of another kind, or whose disc is not the one it was given', () => {
    const cdrom = new AtaChannel(createTestContext(), { master: { kind: 'cdrom', medium: patternedDisc(16) } });
    const disk = new AtaChannel(createTestContext(), { master: { backend: new MemoryBlockBackend(64) } });
    const otherDisc = new AtaChannel(createTestContext(), { master: { kind: 'cdrom', medium: patternedDisc(32) } });
    const empty = new AtaChannel(createTestContext(), { master: { kind: 'cdrom' } });
    expect(() => { disk.setState(cdrom.getState()); }).toThrow(DeviceStateError);
    expect(() => { cdrom.setState(disk.getState()); }).toThrow(DeviceStateError);
    expect(() => { otherDisc.setState(cdrom.getState()); }).toThrow(DeviceStateError);
    expect(() => { empty.setState(cdrom.getState()); }).toThrow(DeviceStateError);
    expect(() => { cdrom.setState({ ...cdrom.getState(), version: 2 } as unknown as ReturnType<AtaChannel['getState']>); }).toThrow(DeviceStateError);
  });
});
