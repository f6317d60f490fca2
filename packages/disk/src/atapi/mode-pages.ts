/**
 * MODE SENSE(6)/(10) data (SPC-3 7.4: mode parameter headers and page
 * format) with the pages of a read-only CD/DVD drive (MMC-5 7: Read/Write
 * Error Recovery, 01h; CD/DVD Capabilities and Mechanical Status, 2Ah, in its
 * MMC-3 form of bytes 0–31 without write speed descriptors). No block
 * descriptors (their length is 0, which SPC-3 allows whatever DBD says), no
 * subpages, nothing savable (PS 0; saved values are refused) and nothing
 * changeable: MODE SELECT is taken and its pages ignored, as QEMU takes it.
 */
import type { AdditionalSense } from './sense.ts';
import { Asc } from './sense.ts';

const ModePage = {
  READ_WRITE_ERROR_RECOVERY: 0x01,
  CAPABILITIES_AND_MECHANICAL_STATUS: 0x2a,
  ALL_PAGES: 0x3f,
} as const;

/** Page control (PC, bits 7:6 of byte 2): which values MODE SENSE returns. */
const PageControl = {
  CURRENT: 0,
  CHANGEABLE: 1,
  DEFAULT: 2,
  SAVED: 3,
} as const;

/** The subpage code asking for every subpage of the pages (with page 3Fh, all pages and subpages). */
const ALL_SUBPAGES = 0xff;

/** Read speeds in kB/s (1000 bytes per second; MMC-5: CD 1× = 176.4 kB/s). The fastest: 48×, which Linux prints as "48x". */
export const MAX_READ_SPEED = 8467;
export const MIN_READ_SPEED = 176;

/** What the capabilities page reports of the drive's state. */
export type MechanicalStatus = {
  /** PREVENT ALLOW MEDIUM REMOVAL has locked the tray. */
  readonly locked: boolean;
  /** The read speed SET CD SPEED selected, kB/s. */
  readonly readSpeed: number;
};

export type ModeSenseRequest = {
  /** MODE SENSE(10) (a 8-byte header) rather than (6) (a 4-byte one). */
  readonly tenByte: boolean;
  readonly pageControl: number;
  readonly pageCode: number;
  readonly subpageCode: number;
};

/** Read/Write Error Recovery (MMC-5 7.3.2), page length 0Ah: no retries, no error recovery parameters set. */
function errorRecoveryPage(): Uint8Array {
  const page = new Uint8Array(12);
  page[0] = ModePage.READ_WRITE_ERROR_RECOVERY;
  page[1] = page.length - 2;
  return page;
}

/**
 * CD/DVD Capabilities and Mechanical Status (MMC-3 6.3.11):
 *
 *   byte 2  read: DVD-ROM (3), CD-RW (1), CD-R (0)      byte 3  write: none
 *   byte 4  audio play, mode 2, multi-session: none     byte 5  CD-DA: none
 *   byte 6  loading mechanism 001b tray (7:5), eject (3), lock state (1), lock (0)
 *   bytes 8–9  maximum read speed                      bytes 14–15  current read speed
 */
function capabilitiesPage(status: MechanicalStatus, changeable: boolean): Uint8Array {
  const page = new Uint8Array(32);
  page[0] = ModePage.CAPABILITIES_AND_MECHANICAL_STATUS;
  page[1] = page.length - 2;
  if (changeable) return page;
  const view = new DataView(page.buffer);
  page[2] = 0x08 | 0x02 | 0x01;
  page[6] = (0b001 << 5) | 0x08 | (status.locked ? 0x02 : 0) | 0x01;
  view.setUint16(8, MAX_READ_SPEED);
  view.setUint16(14, status.readSpeed);
  return page;
}

/** The mode data, or the additional sense of an ILLEGAL REQUEST. */
export function modeSenseData(request: ModeSenseRequest, status: MechanicalStatus): { readonly data: Uint8Array } | { readonly error: AdditionalSense } {
  if (request.pageControl === PageControl.SAVED) return { error: Asc.SAVING_PARAMETERS_NOT_SUPPORTED };
  const all = request.pageCode === ModePage.ALL_PAGES;
  if (request.subpageCode !== 0 && !(all && request.subpageCode === ALL_SUBPAGES)) return { error: Asc.INVALID_FIELD_IN_CDB };
  const changeable = request.pageControl === PageControl.CHANGEABLE;
  const shown = request.pageControl === PageControl.DEFAULT ? { ...status, readSpeed: MAX_READ_SPEED } : status;
  const pages: Uint8Array[] = [];
  if (all || request.pageCode === ModePage.READ_WRITE_ERROR_RECOVERY) pages.push(errorRecoveryPage());
  if (all || request.pageCode === ModePage.CAPABILITIES_AND_MECHANICAL_STATUS) pages.push(capabilitiesPage(shown, changeable));
  if (pages.length === 0) return { error: Asc.INVALID_FIELD_IN_CDB };
  const headerBytes = request.tenByte ? 8 : 4;
  const data = new Uint8Array(headerBytes + pages.reduce((n, p) => n + p.length, 0));
  // Header: MODE DATA LENGTH (the bytes after it), medium type 0, device-specific 0, block descriptor length 0.
  if (request.tenByte) new DataView(data.buffer).setUint16(0, data.length - 2);
  else data[0] = data.length - 1;
  let at = headerBytes;
  for (const page of pages) {
    data.set(page, at);
    at += page.length;
  }
  return { data };
}
