/**
 * What a PC keeps in the MC146818's RAM: the IBM PC/AT setup bytes (IBM
 * PC/AT Technical Reference, "CMOS RAM Address Map": diskette types 10h,
 * fixed disk types 12h, equipment 14h, base memory 15h–16h, expansion
 * memory 17h–18h and 30h–31h, checksum of 10h–2Dh in 2Eh–2Fh, century 32h)
 * and the extensions the Bochs BIOS introduced and SeaBIOS reads on QEMU
 * (memory above 16 MiB in 64 KiB units at 34h–35h, above 4 GiB at 5Bh–5Dh,
 * boot order at 3Dh and 38h, ATA translation at 39h, CPU count − 1 at 5Fh).
 * The byte values match what QEMU's `pc` machine stores for the same
 * configuration (checked against the shared traces).
 */
import { CMOS_BYTES, POWER_ON_A, POWER_ON_B, RegD, RtcReg } from '../mc146818/registers.ts';

/** Diskette drive types, CMOS 10h (high nibble drive A, low nibble drive B). */
export type FloppyDriveType = 'none' | '360K' | '1.2M' | '720K' | '1.44M' | '2.88M';
export const FLOPPY_TYPE_CODES: Readonly<Record<FloppyDriveType, number>> = {
  none: 0, '360K': 1, '1.2M': 2, '720K': 3, '1.44M': 4, '2.88M': 5,
};

/** Boot devices as the BIOS reads them from 3Dh and 38h. */
export type BootDevice = 'floppy' | 'hard-disk' | 'cdrom' | 'network';
export const BOOT_DEVICE_CODES: Readonly<Record<BootDevice, number>> = { floppy: 1, 'hard-disk': 2, cdrom: 3, network: 4 };

/** The BIOS's CHS translation for an ATA disk, two bits per disk at 39h. */
export type DiskTranslation = 'none' | 'lba' | 'large' | 'rechs';
export const DISK_TRANSLATION_CODES: Readonly<Record<DiskTranslation, number>> = { none: 0, lba: 1, large: 2, rechs: 3 };

export interface HardDiskGeometry {
  readonly cylinders: number;
  readonly heads: number;
  readonly sectors: number;
  /** Default `none`. */
  readonly translation?: DiskTranslation;
}

export interface PcCmosConfig {
  /** RAM below 4 GiB in bytes (default 128 MiB, QEMU's default). */
  readonly ramBytes?: number;
  /** RAM mapped above 4 GiB in bytes (default 0). */
  readonly ramAbove4gBytes?: number;
  /** Drives A and B (default one 1.44 MB drive). QEMU gives an empty `auto` drive the 2.88 MB type. */
  readonly floppyDrives?: readonly FloppyDriveType[];
  /** ATA disks: primary master, primary slave, secondary master, secondary slave; null for none (default none). */
  readonly hardDisks?: readonly (HardDiskGeometry | null)[];
  /** Up to three boot devices, first first (default hard disk, floppy, CD-ROM: QEMU's `-boot cad`). */
  readonly bootOrder?: readonly BootDevice[];
  /** Whether the BIOS checks a boot floppy's signature (38h bit 0 clear; default true). */
  readonly floppySignatureCheck?: boolean;
  /** Processors (5Fh holds the count − 1; default 1). */
  readonly cpus?: number;
  /** The equipment byte (14h), if not the one derived from the drives (FPU and PS/2 mouse present, as QEMU). */
  readonly equipment?: number;
  /** Store the checksum of 10h–2Dh at 2Eh–2Fh (default true). */
  readonly checksum?: boolean;
  /**
   * Bytes to store as given, index → value, after everything above and
   * before the checksum. Registers A and B may be set here; the time bytes
   * come from the clock's start date.
   */
  readonly bytes?: Readonly<Record<number, number>>;
}

const KIB = 1024;
const MIB = 1024 * KIB;

/** Setup byte locations. */
export const CmosByte = {
  SHUTDOWN_STATUS: 0x0f,
  FLOPPY_TYPES: 0x10,
  HARD_DISK_TYPES: 0x12,
  EQUIPMENT: 0x14,
  BASE_MEMORY: 0x15, // 15h–16h, KiB below 640 KiB
  EXTENDED_MEMORY: 0x17, // 17h–18h, KiB above 1 MiB (at most 65 535)
  HARD_DISK_0_TYPE: 0x19, // 47: user-defined parameters at 1Bh
  HARD_DISK_1_TYPE: 0x1a, // 47: user-defined parameters at 24h
  HARD_DISK_0_PARAMS: 0x1b,
  HARD_DISK_1_PARAMS: 0x24,
  CHECKSUM: 0x2e, // 2Eh high, 2Fh low: the sum of 10h–2Dh
  EXTENDED_MEMORY_COPY: 0x30, // 30h–31h, as 17h–18h
  CENTURY: 0x32,
  MEMORY_ABOVE_16M: 0x34, // 34h–35h, 64 KiB units (at most 65 535)
  BOOT_ORDER_3: 0x38, // high nibble: third boot device; bit 0: no floppy signature check
  DISK_TRANSLATION: 0x39,
  BOOT_ORDER_12: 0x3d, // low nibble first, high nibble second boot device
  MEMORY_ABOVE_4G: 0x5b, // 5Bh–5Dh, 64 KiB units
  CPU_COUNT_MINUS_1: 0x5f,
} as const;

/** The drive type that points at user-defined parameters (the AT's type 47). */
const USER_DEFINED_DISK_TYPE = 47;

function checkCount(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, not ${value}`);
  return value;
}

function storeWord(image: Uint8Array, at: number, value: number): void {
  image[at] = value & 0xff;
  image[at + 1] = (value >> 8) & 0xff;
}

/**
 * The fixed-disk parameter block of type 47: cylinders (word), heads,
 * write precompensation (word, FFFFh: none), control byte (C0h, bit 3 when
 * more than 8 heads), landing zone (word, the last cylinder), sectors per track.
 */
function storeDiskParams(image: Uint8Array, at: number, disk: HardDiskGeometry): void {
  storeWord(image, at, disk.cylinders);
  image[at + 2] = disk.heads;
  storeWord(image, at + 3, 0xffff);
  image[at + 5] = 0xc0 | (disk.heads > 8 ? 0x08 : 0);
  storeWord(image, at + 6, disk.cylinders);
  image[at + 8] = disk.sectors;
}

/**
 * The 128 bytes a PC's CMOS holds at power-on for `config`, with registers A,
 * B and D as the BIOS leaves them (26h, 02h, 80h); the time bytes (00h–09h,
 * and the century) are zero here — the clock renders them from its start date.
 */
export function pcCmosImage(config: PcCmosConfig = {}): Uint8Array {
  const image = new Uint8Array(CMOS_BYTES);
  image[RtcReg.A] = POWER_ON_A;
  image[RtcReg.B] = POWER_ON_B;
  image[RtcReg.D] = RegD.VRT;

  const ram = checkCount('ramBytes', config.ramBytes ?? 128 * MIB);
  const above4g = checkCount('ramAbove4gBytes', config.ramAbove4gBytes ?? 0);
  storeWord(image, CmosByte.BASE_MEMORY, Math.min(Math.floor(ram / KIB), 640));
  const extended = Math.min(Math.floor(Math.max(ram - MIB, 0) / KIB), 0xffff);
  storeWord(image, CmosByte.EXTENDED_MEMORY, extended);
  storeWord(image, CmosByte.EXTENDED_MEMORY_COPY, extended);
  storeWord(image, CmosByte.MEMORY_ABOVE_16M, Math.min(Math.floor(Math.max(ram - 16 * MIB, 0) / (64 * KIB)), 0xffff));
  const high = Math.min(Math.floor(above4g / (64 * KIB)), 0xff_ffff);
  storeWord(image, CmosByte.MEMORY_ABOVE_4G, high & 0xffff);
  image[CmosByte.MEMORY_ABOVE_4G + 2] = high >> 16;

  const floppies = config.floppyDrives ?? ['1.44M'];
  if (floppies.length > 2) throw new RangeError(`a PC's CMOS describes 2 diskette drives, not ${floppies.length}`);
  const [a = 'none', b = 'none'] = floppies;
  image[CmosByte.FLOPPY_TYPES] = (FLOPPY_TYPE_CODES[a] << 4) | FLOPPY_TYPE_CODES[b];
  const drives = [a, b].filter((t) => t !== 'none').length;
  // Bit 0 diskettes present, bits 7–6 drives − 1, bit 1 FPU, bit 2 PS/2 mouse (as QEMU), bits 5–4 00: EGA/VGA.
  image[CmosByte.EQUIPMENT] = config.equipment ?? ((drives > 0 ? 0x01 : 0) | (drives === 2 ? 0x40 : 0) | 0x02 | 0x04);

  const disks = config.hardDisks ?? [];
  if (disks.length > 4) throw new RangeError(`a PC's CMOS describes 4 ATA disks, not ${disks.length}`);
  let translation = 0;
  disks.forEach((disk, i) => {
    if (disk === null) return;
    checkCount('cylinders', disk.cylinders);
    if (disk.heads < 1 || disk.heads > 255 || disk.sectors < 1 || disk.sectors > 255) {
      throw new RangeError(`disk ${i}: ${disk.heads} heads and ${disk.sectors} sectors do not fit the parameter block`);
    }
    translation |= DISK_TRANSLATION_CODES[disk.translation ?? 'none'] << (2 * i);
  });
  image[CmosByte.DISK_TRANSLATION] = translation;
  const [disk0 = null, disk1 = null] = disks;
  // Type 15 in a nibble means "see the extended type byte" (19h, 1Ah).
  image[CmosByte.HARD_DISK_TYPES] = (disk0 !== null ? 0xf0 : 0) | (disk1 !== null ? 0x0f : 0);
  if (disk0 !== null) {
    image[CmosByte.HARD_DISK_0_TYPE] = USER_DEFINED_DISK_TYPE;
    storeDiskParams(image, CmosByte.HARD_DISK_0_PARAMS, disk0);
  }
  if (disk1 !== null) {
    image[CmosByte.HARD_DISK_1_TYPE] = USER_DEFINED_DISK_TYPE;
    storeDiskParams(image, CmosByte.HARD_DISK_1_PARAMS, disk1);
  }

  const boot = config.bootOrder ?? ['hard-disk', 'floppy', 'cdrom'];
  if (boot.length > 3) throw new RangeError(`the CMOS holds 3 boot devices, not ${boot.length}`);
  const code = (i: number) => {
    const device = boot[i];
    return device === undefined ? 0 : BOOT_DEVICE_CODES[device];
  };
  image[CmosByte.BOOT_ORDER_12] = code(0) | (code(1) << 4);
  image[CmosByte.BOOT_ORDER_3] = (code(2) << 4) | (config.floppySignatureCheck === false ? 0x01 : 0);

  const cpus = checkCount('cpus', config.cpus ?? 1);
  if (cpus < 1 || cpus > 256) throw new RangeError(`5Fh holds 1 to 256 processors, not ${cpus}`);
  image[CmosByte.CPU_COUNT_MINUS_1] = cpus - 1;

  for (const [key, value] of Object.entries(config.bytes ?? {})) {
    const at = Number(key);
    if (!Number.isInteger(at) || at < 0 || at >= CMOS_BYTES) throw new RangeError(`CMOS byte ${key} is outside 00h–7Fh`);
    if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new RangeError(`CMOS byte ${key} cannot hold ${value}`);
    image[at] = value;
  }
  if (config.checksum !== false) {
    const sum = image.subarray(CmosByte.FLOPPY_TYPES, CmosByte.CHECKSUM).reduce((total, byte) => total + byte, 0);
    image[CmosByte.CHECKSUM] = (sum >> 8) & 0xff;
    image[CmosByte.CHECKSUM + 1] = sum & 0xff;
  }
  return image;
}
