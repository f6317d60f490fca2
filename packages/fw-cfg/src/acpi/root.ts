/**
 * The root of the ACPI tables: the Root System Description Pointer, which
 * firmware leaves where the OS searches for it, and the Root System
 * Description Table it points to, which lists the other tables' addresses
 * (ACPI 6.4, §5.2.5.3 "Root System Description Pointer (RSDP) Structure",
 * Table 5.3; §5.2.7 "Root System Description Table (RSDT)", Table 5.5).
 *
 * RSDP, revision 0 (ACPI 1.0): 20 bytes, no XSDT — as QEMU's `pc` machine
 * gives it.
 *
 *   offset  size  field
 *   0       8     Signature, "RSD PTR "
 *   8       1     Checksum of these 20 bytes
 *   9       6     OEM ID
 *   15      1     Revision: 0
 *   16      4     RSDT address (32-bit physical)
 *
 * On a PC the OS finds it on a 16-byte boundary in the BIOS area
 * E0000h–FFFFFh or the EBDA's first KiB (§5.2.5.1); SeaBIOS looks in its
 * F-segment (biostables.c find_acpi_rsdp), where the table loader's
 * `etc/acpi/rsdp` is allocated.
 *
 * RSDT, revision 1: the header, then a 32-bit physical address per table
 * (not the DSDT nor the FACS: the FADT points to those).
 */
import type { AcpiOem } from './sdt.ts';
import { SDT_HEADER_BYTES, fixChecksum, putLe, putText, sdt } from './sdt.ts';

export const RSDP_SIGNATURE = 'RSD PTR ';
/** An ACPI 1.0 RSDP's length, which its checksum covers. */
export const RSDP_V1_BYTES = 20;

export const RsdpField = { SIGNATURE: 0, CHECKSUM: 8, OEM_ID: 9, REVISION: 15, RSDT_ADDRESS: 16 } as const;

/** An ACPI 1.0 RSDP pointing at `rsdtAddress`, its checksum set. */
export function rsdp(rsdtAddress: number, oem: AcpiOem): Uint8Array {
  const bytes = new Uint8Array(RSDP_V1_BYTES);
  putText(bytes, RsdpField.SIGNATURE, RSDP_SIGNATURE, 8);
  putText(bytes, RsdpField.OEM_ID, oem.id, 6);
  bytes[RsdpField.REVISION] = 0;
  putLe(bytes, RsdpField.RSDT_ADDRESS, 4, rsdtAddress);
  fixChecksum(bytes, RsdpField.CHECKSUM, 0, RSDP_V1_BYTES);
  return bytes;
}

/** The offset in the RSDT of its `index`th entry. */
export const rsdtEntryOffset = (index: number): number => SDT_HEADER_BYTES + 4 * index;

/** An RSDT listing `addresses` (32-bit). */
export function rsdt(addresses: readonly number[], oem: AcpiOem): Uint8Array {
  const body = new Uint8Array(4 * addresses.length);
  addresses.forEach((address, i) => { putLe(body, 4 * i, 4, address); });
  return sdt('RSDT', 1, body, oem);
}
