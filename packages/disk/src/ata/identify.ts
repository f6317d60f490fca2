/**
 * IDENTIFY DEVICE data (ATA/ATAPI-6, IDENTIFY DEVICE; words 84 and 87 bit 6
 * from ATA/ATAPI-7; words 69, 106 and 169 from ACS-2): 256 little-endian words describing the drive. Values
 * the specification leaves to the vendor, and retired words older drivers
 * still read, are those QEMU's IDE disk gives, so a guest that probed one
 * sees the same drive here; every feature claimed is implemented.
 */
import { LBA28_LIMIT, MAX_MULTIPLE_SECTORS } from './registers.ts';

/** Cylinders, heads and sectors per track of a CHS translation. */
export type Geometry = {
  readonly cylinders: number;
  readonly heads: number;
  readonly sectorsPerTrack: number;
};

/** The most sectors a CHS translation may cover (ATA/ATAPI-6: 16 383 × 16 × 63). */
export const CHS_LIMIT = 16_514_064;

/**
 * The default translation of a disk of `sectors` (IDENTIFY words 1, 3, 6):
 * 16 heads and 63 sectors per track with as many cylinders as fit, up to
 * 16 383 (QEMU's guess for an image without a partition table); a disk
 * smaller than one such cylinder gets one cylinder of as much as fits.
 */
export function defaultGeometry(sectors: number): Geometry {
  if (sectors >= 16 * 63) return { cylinders: Math.min(16_383, Math.floor(sectors / (16 * 63))), heads: 16, sectorsPerTrack: 63 };
  const sectorsPerTrack = Math.max(1, Math.min(63, sectors));
  const heads = Math.max(1, Math.min(16, Math.floor(sectors / sectorsPerTrack)));
  return { cylinders: 1, heads, sectorsPerTrack };
}

/** The cylinders a translation of `heads` × `sectorsPerTrack` gives a disk of `sectors` (word 54 after INITIALIZE DEVICE PARAMETERS). */
export function cylindersFor(sectors: number, heads: number, sectorsPerTrack: number): number {
  return Math.min(65_535, Math.floor(Math.min(sectors, CHS_LIMIT) / (heads * sectorsPerTrack)));
}

/** Whether `text` can be an IDENTIFY string of `length` characters: printable ASCII that fits. */
export function isIdentifyString(text: string, length: number): boolean {
  return text.length <= length && /^[\x20-\x7e]*$/.test(text);
}

export type IdentifyInput = {
  readonly unit: 0 | 1;
  readonly sectors: number;
  readonly defaultGeometry: Geometry;
  /** The current CHS translation, or undefined after an INITIALIZE DEVICE PARAMETERS the drive could not adopt. */
  readonly currentGeometry: Geometry | undefined;
  readonly serial: string;
  readonly firmware: string;
  readonly model: string;
  /** Sectors per READ/WRITE MULTIPLE block; 0 when disabled. */
  readonly multipleCount: number;
  readonly writeCacheEnabled: boolean;
  /** Sectors the write cache holds before it writes back (word 21). */
  readonly writeCacheSectors: number;
  readonly smartEnabled: boolean;
  /** WRITE DMA FUA EXT and WRITE MULTIPLE FUA EXT offered (words 84 and 87 bit 6). */
  readonly forceUnitAccess: boolean;
  /** The last SET FEATURES transfer mode value (Sector Count of subcommand 03h). */
  readonly transferMode: number;
};

/** Transfer mode value classes (SET FEATURES 03h, Sector Count bits 7:3). */
const TransferModeClass = { PIO_DEFAULT: 0x00, PIO_FLOW_CONTROL: 0x08, SINGLE_WORD_DMA: 0x10, MULTIWORD_DMA: 0x20, ULTRA_DMA: 0x40 } as const;

/** The cycle times a device reports, in ns (IDENTIFY words 65–68). */
export type CycleTimes = {
  /** Word 65: the minimum multiword DMA transfer cycle time per word. */
  readonly multiwordDmaMinimum: number;
  /** Word 66: the manufacturer's recommended multiword DMA transfer cycle time. */
  readonly multiwordDmaRecommended: number;
  /** Word 67: the minimum PIO transfer cycle time without flow control. */
  readonly pioMinimum: number;
  /** Word 68: the minimum PIO transfer cycle time with IORDY flow control. */
  readonly pioMinimumWithIordy: number;
};

/**
 * The transfer mode words of IDENTIFY DEVICE and IDENTIFY PACKET DEVICE
 * alike: single-word DMA 0–2 (62), multiword DMA 0–2 (63) and Ultra DMA 0–5
 * (88) supported in the low byte, the mode the last SET FEATURES 03h selected
 * (`transferMode`) in the high byte of its class's word; PIO modes 3 and 4
 * (64); the cycle times (65–68).
 */
export function putTransferModeWords(block: DataView, transferMode: number, cycles: CycleTimes): void {
  const put = (word: number, value: number) => { block.setUint16(word * 2, value & 0xffff, true); };
  const selectedIf = (modeClass: number) => ((transferMode & 0xf8) === modeClass ? 1 << (8 + (transferMode & 0x07)) : 0);
  put(62, 0x0007 | selectedIf(TransferModeClass.SINGLE_WORD_DMA));
  put(63, 0x0007 | selectedIf(TransferModeClass.MULTIWORD_DMA));
  put(64, 0x0003);
  put(65, cycles.multiwordDmaMinimum);
  put(66, cycles.multiwordDmaRecommended);
  put(67, cycles.pioMinimum);
  put(68, cycles.pioMinimumWithIordy);
  put(88, 0x003f | selectedIf(TransferModeClass.ULTRA_DMA));
}

/** Whether a SET FEATURES 03h value names a mode this drive supports (words 62–64, 88: PIO 0–4, SW/MW DMA 0–2, UDMA 0–5). */
export function isSupportedTransferMode(value: number): boolean {
  const mode = value & 0x07;
  switch (value & 0xf8) {
    case TransferModeClass.PIO_DEFAULT: return mode <= 1;
    case TransferModeClass.PIO_FLOW_CONTROL: return mode <= 4;
    case TransferModeClass.SINGLE_WORD_DMA:
    case TransferModeClass.MULTIWORD_DMA: return mode <= 2;
    case TransferModeClass.ULTRA_DMA: return mode <= 5;
    default: return false;
  }
}

/** The power-on transfer mode: Ultra DMA 5 selected, as QEMU's drive reports it (word 88 = 203Fh). */
export const POWER_ON_TRANSFER_MODE = 0x45;

/** Puts `text` into `words` words from `word`, two characters a word, the first in the high byte, space-padded (ATA string convention). */
export function putIdentifyString(block: DataView, word: number, words: number, text: string): void {
  for (let i = 0; i < words * 2; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 0x20;
    block.setUint8(word * 2 + (i ^ 1), code);
  }
}

/** A disk's cycle times (words 65–68), as QEMU's IDE disk reports them. */
const DISK_CYCLE_TIMES: CycleTimes = { multiwordDmaMinimum: 120, multiwordDmaRecommended: 120, pioMinimum: 120, pioMinimumWithIordy: 120 };

/** The 512-byte IDENTIFY DEVICE block. */
export function identifyDevice(input: IdentifyInput): Uint8Array {
  const bytes = new Uint8Array(512);
  const block = new DataView(bytes.buffer);
  const put = (word: number, value: number) => { block.setUint16(word * 2, value & 0xffff, true); };
  const put32 = (word: number, value: number) => { put(word, value % 0x1_0000); put(word + 1, Math.floor(value / 0x1_0000)); };
  const geometry = input.defaultGeometry;
  const current = input.currentGeometry;

  put(0, 0x0040); // general configuration: fixed device, ATA
  put(1, geometry.cylinders);
  put(3, geometry.heads);
  put(4, 512 * geometry.sectorsPerTrack); // retired: unformatted bytes per track
  put(5, 512); // retired: unformatted bytes per sector
  put(6, geometry.sectorsPerTrack);
  putIdentifyString(block, 10, 10, input.serial);
  put(20, 3); // retired: buffer type (dual-ported, look-ahead)
  put(21, input.writeCacheSectors); // retired: buffer size in sectors
  put(22, 4); // obsolete: ECC bytes of READ/WRITE LONG
  putIdentifyString(block, 23, 4, input.firmware);
  putIdentifyString(block, 27, 20, input.model);
  put(47, 0x8000 | MAX_MULTIPLE_SECTORS);
  put(48, 0x0001); // doubleword (32-bit) PIO data transfers
  put(49, 0x0b00); // IORDY supported (11), LBA supported (9), DMA supported (8)
  put(51, 0x0200); // obsolete PIO timing mode 2
  put(52, 0x0200); // obsolete DMA timing mode 2
  put(53, 0x0007); // words 54–58, 64–70 and 88 are valid
  if (current !== undefined) {
    put(54, current.cylinders);
    put(55, current.heads);
    put(56, current.sectorsPerTrack);
    put32(57, current.cylinders * current.heads * current.sectorsPerTrack);
  }
  put(59, 0x0100 | input.multipleCount); // bit 8: the multiple setting below is valid (0 = disabled)
  put32(60, Math.min(input.sectors, LBA28_LIMIT));
  putTransferModeWords(block, input.transferMode, DISK_CYCLE_TIMES); // words 62–68 and 88
  put(69, 0x4000); // deterministic data after TRIM (a trimmed sector reads as before)
  put(80, 0x00f0); // major version: ATA/ATAPI-4 to -7
  put(81, 0x0016); // minor version
  put(82, 0x4000 | 0x0020 | 0x0001); // supported: NOP (14), write cache (5), SMART (0)
  put(83, 0x4000 | 0x2000 | 0x1000 | 0x0400); // one (14), FLUSH CACHE EXT (13), FLUSH CACHE (12), 48-bit address (10)
  const fua = input.forceUnitAccess ? 0x0040 : 0;
  put(84, 0x4000 | fua); // one (14), WRITE DMA FUA EXT and WRITE MULTIPLE FUA EXT (6)
  put(85, 0x4000 | (input.writeCacheEnabled ? 0x0020 : 0) | (input.smartEnabled ? 0x0001 : 0)); // enabled: NOP, write cache, SMART
  put(86, 0x2000 | 0x1000 | 0x0400); // enabled: FLUSH CACHE EXT, FLUSH CACHE, 48-bit address
  put(87, 0x4000 | fua); // one (14), the FUA commands (6): a copy of word 84's, as nothing enables them
  // Hardware reset result: one (14), 80-conductor cable detected (13), and this device's field (bit 0 device 0, bit 8 device 1).
  put(93, 0x4000 | 0x2000 | (input.unit === 0 ? 0x0001 : 0x0100));
  put32(100, input.sectors % 0x1_0000_0000);
  put32(102, Math.floor(input.sectors / 0x1_0000_0000));
  put(106, 0x6000); // physical/logical sector size valid: one 512-byte logical sector per physical sector
  put(169, 0x0001); // DATA SET MANAGEMENT with TRIM supported
  return bytes;
}
