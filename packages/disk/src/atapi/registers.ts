/**
 * The Command Block registers as the PACKET command uses them (ATA/ATAPI-6,
 * PACKET command and the PACKET protocols; SFF-8020i 5.x, the ATAPI task
 * file): Features carries how the data moves, Sector Count is the Interrupt
 * Reason, and LBA Mid/High ("cylinder low/high") the Byte Count.
 */

/**
 * Interrupt Reason (Sector Count, read while a PACKET command runs):
 *
 *   bit 2  REL  the device released the bus (overlap; never here)
 *   bit 1  I/O  1: data towards the host
 *   bit 0  C/D  1: a command packet or the completion status, 0: data
 *
 * Command packet wanted: C/D; data to the host: I/O; data from the host:
 * neither; status (the command is over): C/D and I/O.
 */
export const InterruptReason = {
  COD: 0x01,
  IO: 0x02,
  REL: 0x04,
} as const;

export const REASON_PACKET: number = InterruptReason.COD;
export const REASON_DATA_IN: number = InterruptReason.IO;
export const REASON_DATA_OUT = 0x00;
export const REASON_STATUS: number = InterruptReason.COD | InterruptReason.IO;

/**
 * Features, as the PACKET command reads it:
 *
 *   bit 2  DMADIR  (ATA/ATAPI-7) the DMA direction, for bridges that need it: ignored
 *   bit 1  OVL     overlapped: not supported (IDENTIFY PACKET DEVICE word 49 bit 13 clear), ignored
 *   bit 0  DMA     the data moves by DMA, through the bus master
 */
export const PacketFeature = {
  DMA: 0x01,
  OVL: 0x02,
  DMADIR: 0x04,
} as const;

/** Bytes of a command packet (IDENTIFY PACKET DEVICE word 0 bits 1:0 = 00b). */
export const COMMAND_PACKET_BYTES = 12;

/** The largest even byte count: a limit of FFFFh means this (ATA/ATAPI-6, PACKET command). */
const LARGEST_EVEN_COUNT = 0xfffe;

/**
 * The byte count limit the host loaded into LBA Mid/High before PACKET: the
 * most bytes of one DRQ data block. Zero is no limit the host may give
 * (taken as FFFEh, and counted by the drive); an odd limit cannot carry a
 * whole word past the last block, so it is taken one lower.
 */
export function byteCountLimit(lbaMid: number, lbaHigh: number): number {
  const limit = (lbaHigh << 8) | lbaMid;
  return limit === 0 ? LARGEST_EVEN_COUNT : limit & ~1;
}

/**
 * The bytes of the next DRQ data block with `remaining` bytes still to move:
 * all of them if they fit the limit (an odd count only for the last block),
 * else the limit.
 */
export function dataBlockBytes(remaining: number, limit: number): number {
  return remaining <= limit ? remaining : limit;
}
