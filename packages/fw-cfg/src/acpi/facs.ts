/**
 * The Firmware ACPI Control Structure (ACPI 6.4, §5.2.10, Table 5.14): the
 * read-write block firmware and OS share for waking from sleep and the
 * global lock. It has no checksum and must sit on a 64-byte boundary; the
 * FADT's FIRMWARE_CTRL points to it.
 *
 *   offset  size  field
 *   0       4     Signature, "FACS"
 *   4       4     Length: 64
 *   8       4     Hardware Signature (changes when the hardware does; 0)
 *   12      4     Firmware Waking Vector (0: the OS sets it)
 *   16      4     Global Lock (0: free)
 *   20      4     Flags (0: no S4BIOS, no 64-bit wake)
 *   24      8     X_Firmware_Waking_Vector (0)
 *   32      1     Version: 1, the ACPI 2.0 structure (the FADT's revision 3)
 *   33      31    Reserved (the OSPM Flags of later versions among them): 0
 */
import { putLe, putText } from './sdt.ts';

export const FACS_BYTES = 64;
/** The alignment the FACS needs (§5.2.10). */
export const FACS_ALIGNMENT = 64;

export const FacsField = { SIGNATURE: 0, LENGTH: 4, VERSION: 32 } as const;

export function facs(): Uint8Array {
  const bytes = new Uint8Array(FACS_BYTES);
  putText(bytes, FacsField.SIGNATURE, 'FACS', 4);
  putLe(bytes, FacsField.LENGTH, 4, FACS_BYTES);
  bytes[FacsField.VERSION] = 1;
  return bytes;
}
