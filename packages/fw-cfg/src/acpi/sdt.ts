/**
 * The system description table header every ACPI table but the RSDP and
 * the FACS starts with (ACPI 6.4, §5.2.6 "System Description Table
 * Header", Table 5.4), and the checksum rule (§5.2.6: "the entire table,
 * including the checksum field, must add to zero" in 8-bit arithmetic).
 *
 *   offset  size  field
 *   0       4     Signature (ASCII)
 *   4       4     Length, in bytes, of the entire table, header included
 *   8       1     Revision of the table's structure
 *   9       1     Checksum
 *   10      6     OEM ID
 *   16      8     OEM Table ID
 *   24      4     OEM Revision
 *   28      4     Creator ID (the ASL compiler's vendor; here, this encoder's)
 *   32      4     Creator Revision
 *
 * Multi-byte fields are little-endian, text fields ASCII padded with
 * spaces.
 */

export const SDT_HEADER_BYTES = 36;

/** Field offsets in the header. */
export const SdtField = {
  SIGNATURE: 0,
  LENGTH: 4,
  REVISION: 8,
  CHECKSUM: 9,
  OEM_ID: 10,
  OEM_TABLE_ID: 16,
  OEM_REVISION: 24,
  CREATOR_ID: 28,
  CREATOR_REVISION: 32,
} as const;

/** Who made the tables: the OEM fields and the creator fields of every header, and the RSDP's OEM ID. */
export interface AcpiOem {
  /** Up to 6 characters. */
  readonly id: string;
  /** Up to 8 characters. */
  readonly tableId: string;
  readonly revision: number;
  /** 4 characters. */
  readonly creatorId: string;
  readonly creatorRevision: number;
}

/** This project's: OEM "SPLITV", table "SPLITVPC", made by "SPLV" (the tables are its own, not QEMU's or a BIOS vendor's). */
export const SPLITVISOR_OEM: AcpiOem = { id: 'SPLITV', tableId: 'SPLITVPC', revision: 1, creatorId: 'SPLV', creatorRevision: 1 };

/** Writes `text` at `at`, padded with spaces to `width` (printable ASCII, at most `width` characters). */
export function putText(bytes: Uint8Array, at: number, text: string, width: number): void {
  if (text.length > width || !/^[\x20-\x7e]*$/.test(text)) throw new RangeError(`"${text}": expected at most ${width} printable ASCII characters`);
  for (let i = 0; i < width; i++) bytes[at + i] = i < text.length ? text.charCodeAt(i) : 0x20;
}

/** Writes the `size`-byte little-endian `value` at `at` (values up to 2⁵³). */
export function putLe(bytes: Uint8Array, at: number, size: number, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value >= 2 ** (8 * size)) throw new RangeError(`${value} does not fit ${size} bytes`);
  for (let i = 0; i < size; i++) bytes[at + i] = Math.floor(value / 2 ** (8 * i)) & 0xff;
}

/** The `size`-byte little-endian bytes of `value` (values up to 2⁵³). */
export function leBytes(size: number, value: number): Uint8Array {
  const bytes = new Uint8Array(size);
  putLe(bytes, 0, size, value);
  return bytes;
}

/** The 8-bit sum of `length` bytes from `start`. */
export function byteSum(bytes: Uint8Array, start = 0, length: number = bytes.length - start): number {
  let sum = 0;
  for (let i = start; i < start + length; i++) sum = (sum + (bytes[i] ?? 0)) & 0xff;
  return sum;
}

/** Sets the byte at `field` so that the `length` bytes from `start` (which hold it) add to 0. */
export function fixChecksum(bytes: Uint8Array, field: number, start = 0, length: number = bytes.length - start): void {
  bytes[field] = 0;
  bytes[field] = (0x100 - byteSum(bytes, start, length)) & 0xff;
}

/** A table: the header (`signature`, `revision`, `oem`), then `body`; its length and checksum set. */
export function sdt(signature: string, revision: number, body: Uint8Array, oem: AcpiOem): Uint8Array {
  if (signature.length !== 4) throw new RangeError(`table signature "${signature}": expected 4 characters`);
  if (oem.creatorId.length !== 4) throw new RangeError(`creator ID "${oem.creatorId}": expected 4 characters`);
  const table = new Uint8Array(SDT_HEADER_BYTES + body.length);
  putText(table, SdtField.SIGNATURE, signature, 4);
  putLe(table, SdtField.LENGTH, 4, table.length);
  putLe(table, SdtField.REVISION, 1, revision);
  putText(table, SdtField.OEM_ID, oem.id, 6);
  putText(table, SdtField.OEM_TABLE_ID, oem.tableId, 8);
  putLe(table, SdtField.OEM_REVISION, 4, oem.revision);
  putText(table, SdtField.CREATOR_ID, oem.creatorId, 4);
  putLe(table, SdtField.CREATOR_REVISION, 4, oem.creatorRevision);
  table.set(body, SDT_HEADER_BYTES);
  fixChecksum(table, SdtField.CHECKSUM);
  return table;
}
