/**
 * INQUIRY data (SPC-3 6.4): the standard data and the vital product data
 * pages this drive offers — Supported VPD Pages (00h, SPC-3 7.6.10) and
 * Device Identification (83h, SPC-3 7.6.3), the one page SPC-3 requires.
 *
 * Where a field is a claim the drive chooses (the VERSION byte, byte 3's
 * ATAPI form), the values are QEMU's, as the Linux traces show them: VERSION
 * 00h (no claim of a SCSI standard) and 21h in byte 3 (SFF-8020i's ATAPI
 * version 2 in bits 7:4, response data format 1).
 */

/** The identity strings INQUIRY reports. */
export type InquiryIdentity = {
  /** T10 vendor identification, 8 characters. */
  readonly vendor: string;
  /** Product identification, 16 characters. */
  readonly product: string;
  /** Product revision level, 4 characters. */
  readonly revision: string;
  /** The drive's serial number (the Device Identification page's vendor-specific part). */
  readonly serial: string;
};

/** Peripheral qualifier 0 (connected), device type 05h: a CD/DVD device (SPC-3 Table 83). */
const PERIPHERAL_CD_DVD = 0x05;
/** RMB: the medium is removable. */
const REMOVABLE = 0x80;
const VERSION_NO_CLAIM = 0x00;
const ATAPI_2_RESPONSE_FORMAT_1 = 0x21;
const STANDARD_INQUIRY_BYTES = 36;

/** VPD page codes. */
const VpdPage = {
  SUPPORTED_PAGES: 0x00,
  DEVICE_IDENTIFICATION: 0x83,
} as const;

/** Designator header fields (SPC-3 Table 298): code set 2 = ASCII; association 0 = the logical unit; type 1 = T10 vendor ID based. */
const CODE_SET_ASCII = 0x02;
const ASSOCIATION_LU_T10_VENDOR_ID = 0x01;

function putAscii(bytes: Uint8Array, at: number, length: number, text: string): void {
  for (let i = 0; i < length; i++) bytes[at + i] = i < text.length ? text.charCodeAt(i) : 0x20;
}

/**
 * The standard INQUIRY data, 36 bytes:
 *
 *   byte 0  peripheral qualifier / device type     byte 1  RMB (7)
 *   byte 2  VERSION                                byte 3  ATAPI version / response data format
 *   byte 4  additional length (31)                 bytes 8–15 vendor, 16–31 product, 32–35 revision
 */
export function standardInquiryData(identity: InquiryIdentity): Uint8Array {
  const bytes = new Uint8Array(STANDARD_INQUIRY_BYTES);
  bytes[0] = PERIPHERAL_CD_DVD;
  bytes[1] = REMOVABLE;
  bytes[2] = VERSION_NO_CLAIM;
  bytes[3] = ATAPI_2_RESPONSE_FORMAT_1;
  bytes[4] = STANDARD_INQUIRY_BYTES - 5;
  putAscii(bytes, 8, 8, identity.vendor);
  putAscii(bytes, 16, 16, identity.product);
  putAscii(bytes, 32, 4, identity.revision);
  return bytes;
}

/** A VPD page: byte 0 the device type, byte 1 the page code, bytes 2–3 the length of what follows. */
function vpdPage(page: number, body: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(4 + body.length);
  bytes[0] = PERIPHERAL_CD_DVD;
  bytes[1] = page;
  new DataView(bytes.buffer).setUint16(2, body.length);
  bytes.set(body, 4);
  return bytes;
}

/** VPD page `page`, or undefined when this drive has no such page (the command then fails: INVALID FIELD IN CDB). */
export function vitalProductData(page: number, identity: InquiryIdentity): Uint8Array | undefined {
  switch (page) {
    case VpdPage.SUPPORTED_PAGES:
      return vpdPage(page, Uint8Array.of(VpdPage.SUPPORTED_PAGES, VpdPage.DEVICE_IDENTIFICATION));
    case VpdPage.DEVICE_IDENTIFICATION: {
      // One designator, T10 vendor ID based: the vendor, then a vendor-specific identifier (product and serial).
      const identifier = identity.vendor.padEnd(8, ' ') + identity.product.padEnd(16, ' ') + identity.serial.trimEnd();
      const designator = new Uint8Array(4 + identifier.length);
      designator[0] = CODE_SET_ASCII;
      designator[1] = ASSOCIATION_LU_T10_VENDOR_ID;
      designator[3] = identifier.length;
      putAscii(designator, 4, identifier.length, identifier);
      return vpdPage(page, designator);
    }
    default:
      return undefined;
  }
}
