/**
 * READ TOC/PMA/ATIP data (MMC-5 6.26) of a disc with one data track in one
 * complete session: format 0 (the TOC: track 1 and the lead-out, AAh),
 * format 1 (session information), format 2 (the full TOC's points A0h, A1h,
 * A2h and 01h; CDs only). The format is in byte 2 bits 3:0, or, when that is
 * 0, in bits 7:6 of byte 9 — SFF-8020i's place for it, which Linux's sr
 * still uses for the session information.
 *
 * Addresses are LBAs, or with the MSF bit minute/second/frame of the disc's
 * absolute time: LBA 0 is 00:02:00 (150 frames of pre-gap), 75 frames a second.
 */

const TocFormat = {
  TOC: 0,
  SESSION_INFORMATION: 1,
  FULL_TOC: 2,
} as const;

/** ADR 1 (Q sub-channel mode 1) and CONTROL 4 (a data track, recorded uninterrupted): 14h. */
const ADR_CONTROL_DATA = 0x14;
const LEAD_OUT_TRACK = 0xaa;
const FIRST_TRACK = 1;
const FIRST_SESSION = 1;
/** Frames before LBA 0: the two-second pre-gap of track 1. */
const PREGAP_FRAMES = 150;
const FRAMES_PER_SECOND = 75;

/** Minute, second and frame of `lba` (MMC-5 Table 14; M saturates at 255, past any CD). */
function msf(lba: number): [number, number, number] {
  const frames = lba + PREGAP_FRAMES;
  return [Math.min(255, Math.floor(frames / (60 * FRAMES_PER_SECOND))), Math.floor(frames / FRAMES_PER_SECOND) % 60, frames % FRAMES_PER_SECOND];
}

/** A 4-byte address field: the LBA, or 00h M S F. */
function address(lba: number, useMsf: boolean): number[] {
  if (useMsf) return [0, ...msf(lba)];
  return [(lba >>> 24) & 0xff, (lba >>> 16) & 0xff, (lba >>> 8) & 0xff, lba & 0xff];
}

/** A response: its 2-byte DATA LENGTH (the bytes after it), two header bytes, the descriptors. */
function response(first: number, last: number, descriptors: number[][]): Uint8Array {
  const body = descriptors.flat();
  const length = 2 + body.length;
  return Uint8Array.from([length >> 8, length & 0xff, first, last, ...body]);
}

export type TocRequest = {
  readonly format: number;
  readonly msf: boolean;
  /** Format 0: the first track to describe (0 = from the first; AAh = the lead-out only). */
  readonly track: number;
};

/** The data for `request` on a disc of `blocks` (`cd`: a CD, which has a full TOC), or undefined for a field the drive cannot honour (INVALID FIELD IN CDB). */
export function tocData(request: TocRequest, blocks: number, cd: boolean): Uint8Array | undefined {
  switch (request.format) {
    case TocFormat.TOC: {
      const tracks = [{ number: FIRST_TRACK, lba: 0 }, { number: LEAD_OUT_TRACK, lba: blocks }];
      if (request.track > FIRST_TRACK && request.track !== LEAD_OUT_TRACK) return undefined;
      const shown = tracks.filter((t) => t.number >= request.track);
      return response(FIRST_TRACK, FIRST_TRACK, shown.map((t) => [0, ADR_CONTROL_DATA, t.number, 0, ...address(t.lba, request.msf)]));
    }
    case TocFormat.SESSION_INFORMATION:
      // The first track of the last session, and where it starts.
      return response(FIRST_SESSION, FIRST_SESSION, [[0, ADR_CONTROL_DATA, FIRST_TRACK, 0, ...address(0, request.msf)]]);
    case TocFormat.FULL_TOC: {
      if (!cd) return undefined;
      // Q sub-channel of the lead-in: session, ADR/CONTROL, TNO 0, POINT, ATIME (0), zero, PMIN/PSEC/PFRAME.
      const point = (p: number, pmsf: number[]) => [FIRST_SESSION, ADR_CONTROL_DATA, 0, p, 0, 0, 0, 0, ...pmsf];
      return response(FIRST_SESSION, FIRST_SESSION, [
        point(0xa0, [FIRST_TRACK, 0x00, 0]), // first track; disc type 00h: CD-DA or CD-ROM
        point(0xa1, [FIRST_TRACK, 0, 0]), // last track
        point(0xa2, msf(blocks)), // the lead-out
        point(FIRST_TRACK, msf(0)),
      ]);
    }
    default:
      return undefined;
  }
}
