/**
 * One drive's Command Block registers (ATA/ATAPI-6) as plain data, with
 * the 48-bit Address feature set's two-deep registers: each of
 * Features, Sector Count and LBA Low/Mid/High keeps its previous content
 * when written, and reading with HOB set returns that previous (high-order)
 * byte. Both drives on a cable latch every register write; each answers
 * reads from its own copy.
 */
import type { Geometry } from './identify.ts';
import { DeviceHead, LBA28_LIMIT, TaskFileOffset } from './registers.ts';

export type TaskFile = {
  features: number;
  previousFeatures: number;
  sectorCount: number;
  previousSectorCount: number;
  lbaLow: number;
  previousLbaLow: number;
  lbaMid: number;
  previousLbaMid: number;
  lbaHigh: number;
  previousLbaHigh: number;
  device: number;
};

/** How a command names its sectors: 28-bit LBA, 48-bit LBA, or cylinder/head/sector. */
export type Addressing = 'lba28' | 'lba48' | 'chs';

/** What answers at a DEV value, as the signature tells it: a device without the PACKET feature set, one with it, or nothing. */
export type SignatureKind = 'ata' | 'packet' | 'absent';

/**
 * The signature after power-on or a reset (ATA/ATAPI-6, signature and
 * persistence): 01h/01h in Sector Count and LBA Low, then 00h/00h in LBA
 * Mid/High for a device without the PACKET command feature set, 14h/EBh for
 * one with it; FFh/FFh in the copy of an absent device (as QEMU).
 */
export function signatureTaskFile(kind: SignatureKind): TaskFile {
  const [lbaMid, lbaHigh] = kind === 'ata' ? [0x00, 0x00] : kind === 'packet' ? [0x14, 0xeb] : [0xff, 0xff];
  return {
    features: 0, previousFeatures: 0,
    sectorCount: 0x01, previousSectorCount: 0,
    lbaLow: 0x01, previousLbaLow: 0,
    lbaMid, previousLbaMid: 0,
    lbaHigh, previousLbaHigh: 0,
    // DEV = 0 (device 0 selected after a reset); the obsolete bits read as one.
    device: DeviceHead.OBSOLETE,
  };
}

/** A host write of Command Block register `offset` (1–6). */
export function latchRegister(tf: TaskFile, offset: number, value: number): void {
  const byte = value & 0xff;
  switch (offset) {
    case TaskFileOffset.ERROR_FEATURES:
      tf.previousFeatures = tf.features;
      tf.features = byte;
      break;
    case TaskFileOffset.SECTOR_COUNT:
      tf.previousSectorCount = tf.sectorCount;
      tf.sectorCount = byte;
      break;
    case TaskFileOffset.LBA_LOW:
      tf.previousLbaLow = tf.lbaLow;
      tf.lbaLow = byte;
      break;
    case TaskFileOffset.LBA_MID:
      tf.previousLbaMid = tf.lbaMid;
      tf.lbaMid = byte;
      break;
    case TaskFileOffset.LBA_HIGH:
      tf.previousLbaHigh = tf.lbaHigh;
      tf.lbaHigh = byte;
      break;
    case TaskFileOffset.DEVICE:
      // The obsolete bits 7 and 5 read as one whatever is written (as QEMU).
      tf.device = byte | DeviceHead.OBSOLETE;
      break;
    default:
      break;
  }
}

/** A host read of Command Block register `offset` (2–6; Error and Status are the drive's, not the task file's). With HOB, the previous byte. */
export function readRegister(tf: TaskFile, offset: number, hob: boolean): number {
  switch (offset) {
    case TaskFileOffset.ERROR_FEATURES: return tf.previousFeatures; // only asked for with HOB (as QEMU)
    case TaskFileOffset.SECTOR_COUNT: return hob ? tf.previousSectorCount : tf.sectorCount;
    case TaskFileOffset.LBA_LOW: return hob ? tf.previousLbaLow : tf.lbaLow;
    case TaskFileOffset.LBA_MID: return hob ? tf.previousLbaMid : tf.lbaMid;
    case TaskFileOffset.LBA_HIGH: return hob ? tf.previousLbaHigh : tf.lbaHigh;
    case TaskFileOffset.DEVICE: return tf.device;
    default: return 0;
  }
}

/** The sector count of a command: 28-bit 0 means 256, 48-bit 0000h means 65 536. */
export function commandSectorCount(tf: TaskFile, addressing: Addressing): number {
  if (addressing === 'lba48') {
    const count = tf.previousSectorCount * 256 + tf.sectorCount;
    return count === 0 ? 65_536 : count;
  }
  return tf.sectorCount === 0 ? 256 : tf.sectorCount;
}

/** The addressing a command uses: 48-bit for an EXT command, else the Device register's LBA bit. */
export function addressingOf(tf: TaskFile, lba48: boolean): Addressing {
  if (lba48) return 'lba48';
  return (tf.device & DeviceHead.LBA) !== 0 ? 'lba28' : 'chs';
}

/**
 * The first sector a command names, or undefined when a CHS address is no
 * sector of the current translation (sector 0, a head or sector past it).
 */
export function commandAddress(tf: TaskFile, addressing: Addressing, chs: Geometry | undefined): number | undefined {
  switch (addressing) {
    case 'lba48':
      return ((tf.previousLbaHigh * 256 + tf.previousLbaMid) * 256 + tf.previousLbaLow) * 0x100_0000
        + tf.lbaHigh * 0x1_0000 + tf.lbaMid * 0x100 + tf.lbaLow;
    case 'lba28':
      return (tf.device & DeviceHead.HEAD) * 0x100_0000 + tf.lbaHigh * 0x1_0000 + tf.lbaMid * 0x100 + tf.lbaLow;
    case 'chs': {
      if (chs === undefined) return undefined;
      const cylinder = tf.lbaHigh * 256 + tf.lbaMid;
      const head = tf.device & DeviceHead.HEAD;
      const sector = tf.lbaLow;
      if (sector === 0 || sector > chs.sectorsPerTrack || head >= chs.heads || cylinder >= chs.cylinders) return undefined;
      return (cylinder * chs.heads + head) * chs.sectorsPerTrack + sector - 1;
    }
  }
}

/** The sectors a command of `addressing` may reach on a disk of `sectors`: 28-bit commands stop at words 60–61. */
export function addressableSectors(addressing: Addressing, sectors: number): number {
  return addressing === 'lba48' ? sectors : Math.min(sectors, LBA28_LIMIT);
}

/**
 * Writes `lba` back into the address registers in the command's own form,
 * and `count` into Sector Count: the progress of a transfer, or where an
 * error struck (the error outputs' "address of the first unrecoverable error").
 */
export function storeAddress(tf: TaskFile, addressing: Addressing, lba: number, chs: Geometry | undefined, count?: number): void {
  switch (addressing) {
    case 'lba48': {
      const high = Math.floor(lba / 0x100_0000);
      tf.lbaLow = lba & 0xff;
      tf.lbaMid = Math.floor(lba / 0x100) & 0xff;
      tf.lbaHigh = Math.floor(lba / 0x1_0000) & 0xff;
      tf.previousLbaLow = high & 0xff;
      tf.previousLbaMid = Math.floor(high / 0x100) & 0xff;
      tf.previousLbaHigh = Math.floor(high / 0x1_0000) & 0xff;
      if (count !== undefined) {
        tf.sectorCount = count & 0xff;
        tf.previousSectorCount = (count >> 8) & 0xff;
      }
      return;
    }
    case 'lba28':
      tf.lbaLow = lba & 0xff;
      tf.lbaMid = (lba >> 8) & 0xff;
      tf.lbaHigh = (lba >> 16) & 0xff;
      tf.device = (tf.device & ~DeviceHead.HEAD) | ((lba >> 24) & DeviceHead.HEAD);
      break;
    case 'chs': {
      if (chs === undefined) return;
      const perCylinder = chs.heads * chs.sectorsPerTrack;
      const cylinder = Math.floor(lba / perCylinder);
      const withinCylinder = lba % perCylinder;
      tf.lbaLow = (withinCylinder % chs.sectorsPerTrack) + 1;
      tf.lbaMid = cylinder & 0xff;
      tf.lbaHigh = (cylinder >> 8) & 0xff;
      tf.device = (tf.device & ~DeviceHead.HEAD) | (Math.floor(withinCylinder / chs.sectorsPerTrack) & DeviceHead.HEAD);
      break;
    }
  }
  if (count !== undefined) tf.sectorCount = count & 0xff;
}
