// The suites every device runs: state round trip and ≥ 10^5 random register operations, with the channel's invariants.
import type { Op, TestContext } from '@splitvisor/device-testkit';
import { inertContext, registerFuzzSuite, registerOps, stateRoundTripSuite } from '@splitvisor/device-testkit';
import fc from 'fast-check';
import { describe } from 'vitest';
import type { AtaChannelConfig, AtaDriveConfig, AtapiDriveConfig, BlockBackend, ChannelDeviceState } from '../src/index.ts';
import {
  AtaChannel, BusMasterCommand, BusMasterStatus, Command, DeviceControl, DeviceHead, InterruptReason, MemoryBlockBackend, OperationCode, Status,
} from '../src/index.ts';
import { diskState, patternedDisk } from './ata-board.ts';

const write = (region: string, offset: number, value: number, size: 1 | 2 | 4 = 1): Op => ({ kind: 'write', region, offset, size, value });
const read = (region: string, offset: number, size: 1 | 2 | 4 = 1): Op => ({ kind: 'read', region, offset, size });

/** Commands drivers send, and their neighbours, so sequences reach every data phase; any byte stays possible. */
const COMMANDS = [
  Command.IDENTIFY_DEVICE, Command.READ_SECTORS, Command.READ_SECTORS_EXT, Command.WRITE_SECTORS, Command.WRITE_SECTORS_EXT,
  Command.READ_MULTIPLE, Command.WRITE_MULTIPLE, Command.READ_MULTIPLE_EXT, Command.SET_MULTIPLE_MODE, Command.READ_DMA,
  Command.WRITE_DMA, Command.READ_DMA_EXT, Command.WRITE_DMA_EXT, Command.WRITE_DMA_FUA_EXT, Command.WRITE_MULTIPLE_FUA_EXT, Command.READ_VERIFY_SECTORS, Command.FLUSH_CACHE,
  Command.FLUSH_CACHE_EXT, Command.SET_FEATURES, Command.INITIALIZE_DEVICE_PARAMETERS, Command.EXECUTE_DEVICE_DIAGNOSTIC,
  Command.CHECK_POWER_MODE, Command.STANDBY_IMMEDIATE, Command.SLEEP, Command.SMART, Command.DATA_SET_MANAGEMENT,
  Command.READ_NATIVE_MAX_ADDRESS_EXT, Command.IDENTIFY_PACKET_DEVICE, Command.NOP, Command.PACKET, Command.DEVICE_RESET,
];

/**
 * Data-port words that make command packets: an operation code the drive knows in the low byte (the packet's first
 * byte), small values (LBAs and lengths on the disc, allocation lengths), anything.
 */
const packetWord: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...Object.values(OperationCode)), fc.constantFrom(0, 0, 0, 1, 2, 0x10, 0x40, 0x83)).map(([op, flags]) => op | (flags << 8)) },
  { weight: 8, arbitrary: fc.constant(0) },
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 0x30 }).map((v) => v << 8) },
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 0x30 }) },
  { weight: 1, arbitrary: fc.nat({ max: 0xffff }) },
);

/** Guest RAM of the fuzz contexts: PRD tables and DMA regions land in it. */
const RAM = 1 << 20;

const op: fc.Arbitrary<Op> = fc.oneof(
  // Task file: small counts and addresses (mostly on the disk), both devices, LBA and CHS.
  { weight: 6, arbitrary: fc.tuple(fc.integer({ min: 1, max: 5 }), fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 255 })))
    .map(([offset, value]) => write('command', offset, value)) },
  { weight: 2, arbitrary: fc.constantFrom(0xa0, 0xb0, 0xe0, 0xf0, 0x40, 0x50, 0xa7).map((v) => write('command', 6, v)) },
  { weight: 3, arbitrary: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...COMMANDS) }, { weight: 1, arbitrary: fc.nat({ max: 255 }) })
    .map((c) => write('command', 7, c)) },
  // SET FEATURES / SMART / DSM need their Features values.
  { weight: 1, arbitrary: fc.constantFrom(0x02, 0x03, 0x82, 0xaa, 0x55, 0xcc, 0x66, 0xd0, 0xd8, 0xd9, 0xda, 0x01).map((v) => write('command', 1, v)) },
  { weight: 1, arbitrary: fc.constantFrom<[number, number]>([4, 0x4f], [5, 0xc2]).map(([offset, value]) => write('command', offset, value)) },
  // The data port, in the widths drivers use.
  { weight: 10, arbitrary: fc.constantFrom<1 | 2 | 4>(2, 4).map((size) => read('command', 0, size)) },
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom<2 | 4>(2, 4), fc.nat({ max: 0xffff_ffff })).map(([size, v]) => write('command', 0, size === 2 ? v & 0xffff : v, size)) },
  { weight: 4, arbitrary: packetWord.map((v) => write('command', 0, v, 2)) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 7 }).map((offset) => read('command', offset)) },
  { weight: 2, arbitrary: fc.constant(read('control', 0)) },
  // Device Control: mostly nIEN and HOB; SRST now and then (a reset held across many operations freezes the channel).
  { weight: 2, arbitrary: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(0x08, 0x0a, 0x88, 0x8a, 0x00) }, { weight: 1, arbitrary: fc.constantFrom(0x0c, 0x0e) })
    .map((v) => write('control', 0, v)) },
  // The bus master: a table inside RAM, start/stop in either direction, status clears.
  { weight: 2, arbitrary: fc.integer({ min: 0, max: RAM / 4 - 1 }).map((dword) => write('bus-master', 4, dword * 4, 4)) },
  { weight: 3, arbitrary: fc.constantFrom(0x00, 0x01, 0x08, 0x09).map((v) => write('bus-master', 0, v)) },
  { weight: 1, arbitrary: fc.nat({ max: 255 }).map((v) => write('bus-master', 2, v)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 7 }).map((offset) => read('bus-master', offset)) },
  { weight: 1, arbitrary: registerOps(new AtaChannel(inertContext()).regions) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 1_000_000 }).map((ns): Op => ({ kind: 'advance', ns })) },
);

/**
 * What a packet-device driver does most: PACKET, command packets, the byte count limit and DMA bit before it, data
 * reads, Status, the bus master; mixed with everything else.
 */
const packetOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: op },
  { weight: 2, arbitrary: fc.constant(write('command', 7, Command.PACKET)) },
  { weight: 8, arbitrary: packetWord.map((v) => write('command', 0, v, 2)) },
  { weight: 6, arbitrary: fc.constantFrom<2 | 4>(2, 4).map((size) => read('command', 0, size)) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(4, 5), fc.constantFrom(0x00, 0x04, 0x08, 0x12, 0x24, 0xfe, 0xff)).map(([offset, v]) => write('command', offset, v)) },
  { weight: 1, arbitrary: fc.constantFrom(0x00, 0x01).map((v) => write('command', 1, v)) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 7 }).map((offset) => read('command', offset)) },
  { weight: 1, arbitrary: fc.constantFrom(0x00, 0x01, 0x08, 0x09).map((v) => write('bus-master', 0, v)) },
);

/**
 * A subject whose second instance (the one the round-trip suite restores
 * into) opens the image and guest memory the first one has at that moment,
 * as a domain taking over a device opens the same image file and maps the
 * same guest RAM. Instances alternate: fresh, then the copy.
 */
function subject(slaveKind: 'none' | 'disk' | 'cdrom') {
  let created = 0;
  let last: { image: MemoryBlockBackend; slave: MemoryBlockBackend | undefined; context: TestContext } | undefined;
  return {
    create(context: TestContext): AtaChannel {
      const restoring = created++ % 2 === 1 && last !== undefined;
      const image = restoring && last !== undefined ? new MemoryBlockBackend(last.image.image.slice()) : patternedDisk(256);
      const slave = slaveKind === 'disk' ? (restoring && last?.slave !== undefined ? new MemoryBlockBackend(last.slave.image.slice()) : new MemoryBlockBackend(64)) : undefined;
      if (restoring && last !== undefined) context.ram.set(last.context.ram);
      last = { image, slave, context };
      const slaveConfig: AtaDriveConfig | AtapiDriveConfig | undefined = slaveKind === 'cdrom'
        ? { kind: 'cdrom' }
        : slave === undefined ? undefined : { backend: slave, writeCacheSectors: 4 };
      const config: AtaChannelConfig = slaveConfig === undefined
        ? { master: { backend: image, writeCacheSectors: 8 } }
        : { master: { backend: image, writeCacheSectors: 8 }, slave: slaveConfig };
      return new AtaChannel(context, config);
    },
    op,
    irqOutputs: [0],
  };
}

function invariant(ata: AtaChannel, context: TestContext): void {
  const state = ata.getState();
  const fail = (what: string) => { throw new Error(`${what} at ${context.now()} ns: ${JSON.stringify(state, (_, v: unknown) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v))}`); };
  for (const drive of state.drives) {
    if ((drive.status & Status.DRQ) !== 0 && (drive.status & Status.BSY) !== 0) fail('DRQ with BSY');
    if (drive.kind === 'cdrom') {
      packetInvariant(drive, fail);
      continue;
    }
    const t = drive.transfer;
    if (t.position < 0 || (t.phase !== 'idle' && t.position > t.length + 2)) fail('transfer position outside its block');
    if (!drive.present && drive.status !== 0 && drive.status !== Status.BSY) fail('an absent drive with status');
  }
  const selected = state.drives[state.selected];
  const expected = selected.present && selected.interruptPending && (state.deviceControl & DeviceControl.NIEN) === 0;
  if (context.irqLevel(0) !== expected || ata.interruptLine !== expected) fail(`irq ${context.irqLevel(0)}, expected ${expected}`);
  if ((state.busMaster.status & BusMasterStatus.ACTIVE) !== 0 && (state.busMaster.command & BusMasterCommand.START) === 0) fail('bus master active while stopped');
  if ((state.deviceControl & DeviceControl.SRST) !== 0 && state.drives.some((d) => d.status !== Status.BSY)) fail('a drive not BSY during SRST');
  // Both devices latch the Device register; DEV in it names the selected one (0 after a reset or a diagnostic).
  const dev = state.drives.map((d) => ((d.taskFile.device & DeviceHead.DEV) !== 0 ? 1 : 0));
  if (dev[0] !== state.selected || dev[1] !== state.selected) fail('DEV and the selected drive disagree');
}

/**
 * A PACKET device: DRQ exactly while a phase wants the data port (or the bus master), never with ERR; a PIO DRQ block
 * no larger than a byte count may be, announced in the Byte Count, its direction in the Interrupt Reason (register
 * writes cannot change them while DRQ stands); the transfer inside its bounds.
 */
function packetInvariant(drive: ChannelDeviceState & { kind: 'cdrom' }, fail: (what: string) => never): void {
  const t = drive.transfer;
  const drq = (drive.status & Status.DRQ) !== 0;
  if (drq !== (t.phase !== 'idle')) fail(`DRQ ${drq} in phase ${t.phase}`);
  if (drq && (drive.status & Status.ERR) !== 0) fail('DRQ with ERR');
  if (t.position < 0 || t.position > t.block + 3 || t.done > t.length) fail('transfer outside its bounds');
  const reason = drive.taskFile.sectorCount & 0x07;
  if (t.phase === 'packet' && reason !== InterruptReason.COD) fail('the packet awaited without C/D');
  if (t.phase === 'pio-in' || t.phase === 'pio-out') {
    const count = drive.taskFile.lbaMid | (drive.taskFile.lbaHigh << 8);
    if (count !== t.block || t.block === 0 || t.block > 0xfffe) fail(`a DRQ block of ${t.block} announced as ${count}`);
    if (reason !== (t.phase === 'pio-in' ? InterruptReason.IO : 0)) fail(`Interrupt Reason ${reason} in ${t.phase}`);
  }
}

describe('ATA channel, master only', () => {
  stateRoundTripSuite(subject('none'), 300);
  registerFuzzSuite(subject('none'), invariant, { runs: 250, opsPerRun: 400 });
});

/** A master on a read-only image: whatever the guest sends, nothing is written, nothing is even cached. */
const readOnlyImages = new WeakMap<AtaChannel, { image: MemoryBlockBackend; original: Uint8Array }>();
const readOnlySubject = {
  create(context: TestContext): AtaChannel {
    const original = patternedDisk(64).image;
    const image = new MemoryBlockBackend(original.slice(), { readOnly: true });
    const ata = new AtaChannel(context, { master: { backend: image, writeCacheSectors: 8 } });
    readOnlyImages.set(ata, { image, original });
    return ata;
  },
  op,
  irqOutputs: [0],
};

function readOnlyInvariant(ata: AtaChannel, context: TestContext): void {
  invariant(ata, context);
  const media = readOnlyImages.get(ata);
  if (media === undefined || !Buffer.from(media.image.image.buffer).equals(media.original)) throw new Error(`the read-only image changed by ${context.now()} ns`);
  if ((diskState(ata).cache?.dirty.length ?? 0) > 0) throw new Error('a read-only drive cached a write');
}

describe('ATA channel, master on a read-only image', () => {
  registerFuzzSuite(readOnlySubject, readOnlyInvariant, { runs: 250, opsPerRun: 400 });
});

describe('ATA channel, master and slave', () => {
  stateRoundTripSuite(subject('disk'), 200);
  registerFuzzSuite(subject('disk'), invariant, { runs: 250, opsPerRun: 400 });
});

describe('ATA channel, a disk and an empty ATAPI CD-ROM', () => {
  stateRoundTripSuite(subject('cdrom'), 200);
  registerFuzzSuite(subject('cdrom'), invariant, { runs: 250, opsPerRun: 400 });
});

/**
 * An ATAPI drive with a disc as master: a DVD of 2^24 blocks whose every block reads (its bytes made from the sector
 * number), so that most of the LBAs random packets name are on it and reads reach their data phases. A CD-ROM drive
 * never writes: the invariant checks that it never tried.
 */
let discWrites = 0;
const discBackend: BlockBackend = {
  sectors: 2 ** 26,
  read(lba, count, into) {
    for (let i = 0; i < count * 512; i++) into[i] = (lba + (i >> 9) + i) & 0xff;
    return true;
  },
  write: () => { discWrites++; return false; },
  flush: () => true,
  readOnly: true,
};
const cdromSubject = {
  create(context: TestContext): AtaChannel {
    return new AtaChannel(context, { master: { kind: 'cdrom', medium: discBackend } });
  },
  op: packetOp,
  irqOutputs: [0],
};

describe('ATA channel, an ATAPI CD-ROM with a disc', () => {
  stateRoundTripSuite(cdromSubject, 300);
  registerFuzzSuite(cdromSubject, (ata: AtaChannel, context: TestContext) => {
    invariant(ata, context);
    if (discWrites > 0) throw new Error(`the drive wrote to its disc by ${context.now()} ns`);
  }, { runs: 250, opsPerRun: 400 });
});
