/**
 * IDENTIFY PACKET DEVICE data (ATA/ATAPI-6, IDENTIFY PACKET DEVICE; word 0
 * as SFF-8020i defines it): 256 little-endian words describing a removable
 * CD-ROM drive with 12-byte command packets. Words the specification leaves
 * to the vendor, and retired words older drivers still read, are those of
 * QEMU's drive (the shared traces hold its block); words 82–87, which QEMU
 * leaves zero, name the feature sets the drive implements, as ATA/ATAPI-6
 * asks of a PACKET device.
 */
import type { CycleTimes } from '../ata/identify.ts';
import { putIdentifyString, putTransferModeWords } from '../ata/identify.ts';

export type IdentifyPacketInput = {
  readonly serial: string;
  readonly firmware: string;
  readonly model: string;
  /** The last SET FEATURES transfer mode value (Sector Count of subcommand 03h). */
  readonly transferMode: number;
};

/**
 * Word 0, general configuration:
 *
 *   bits 15:14  10b: ATAPI device          bits 12:8  05h: CD-ROM device
 *   bit 7       removable media            bits 6:5   10b: DRQ within 50 µs of PACKET (no interrupt for the packet)
 *   bits 1:0    00b: 12-byte command packets
 */
export const GENERAL_CONFIGURATION_CDROM = 0x85c0;

/** Word 82/85 bits: DEVICE RESET (9), PACKET (4), power management (3: CHECK POWER MODE, IDLE, STANDBY, SLEEP). */
const FEATURE_SETS = 0x0200 | 0x0010 | 0x0008;
/** Words 83, 84, 87: bit 14 one, bit 15 zero — the words are valid. */
const WORDS_VALID = 0x4000;
/** Cycle times (words 65–68), QEMU's drive's. */
const CYCLE_TIMES: CycleTimes = { multiwordDmaMinimum: 180, multiwordDmaRecommended: 180, pioMinimum: 300, pioMinimumWithIordy: 180 };

export function identifyPacketDevice(input: IdentifyPacketInput): Uint8Array {
  const bytes = new Uint8Array(512);
  const block = new DataView(bytes.buffer);
  const put = (word: number, value: number) => { block.setUint16(word * 2, value & 0xffff, true); };

  put(0, GENERAL_CONFIGURATION_CDROM);
  putIdentifyString(block, 10, 10, input.serial);
  put(20, 3); // retired: buffer type
  put(21, 512); // retired: buffer size in sectors
  put(22, 4); // obsolete: ECC bytes
  putIdentifyString(block, 23, 4, input.firmware);
  putIdentifyString(block, 27, 20, input.model);
  put(48, 0x0001); // doubleword (32-bit) PIO data transfers
  put(49, 0x0300); // LBA (9, shall be one), DMA (8) supported; no overlap, no queuing, no interleaved DMA
  put(53, 0x0007); // words 54–58, 64–70 and 88 are valid
  putTransferModeWords(block, input.transferMode, CYCLE_TIMES); // words 62–68 and 88
  put(71, 30); // typical time from PACKET to bus release (overlap; unused)
  put(72, 30); // typical time from SERVICE to BSY clear (overlap; unused)
  put(80, 0x001e); // major version: ATA/ATAPI-1 to -4
  put(82, FEATURE_SETS); // supported
  put(83, WORDS_VALID);
  put(84, WORDS_VALID);
  put(85, FEATURE_SETS); // enabled: all of them, always
  put(87, WORDS_VALID);
  return bytes;
}
