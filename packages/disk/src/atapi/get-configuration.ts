/**
 * GET CONFIGURATION data (MMC-5 6.6 and 5, features and profiles): a feature
 * header with the current profile, then feature descriptors in feature-code
 * order. The drive reads CD-ROM and DVD-ROM discs and writes nothing; it
 * reports the features of MMC-3's forms (version 0, and 1 for Morphing):
 *
 *   0000h Profile List       DVD-ROM, CD-ROM; the disc's current
 *   0001h Core               physical interface 2 (ATAPI)
 *   0002h Morphing           polled events only (GET EVENT STATUS NOTIFICATION, Polled = 1)
 *   0003h Removable Medium   tray, eject, lock
 *   0010h Random Readable    2048-byte blocks; current with a disc
 *   001Eh CD Read            current with a CD
 *   001Fh DVD Read           current with a DVD
 *
 * A feature descriptor: bytes 0–1 feature code, byte 2 version (5:2),
 * persistent (1), current (0), byte 3 additional length.
 */
import { LOGICAL_BLOCK_BYTES, Profile } from './disc.ts';

/** The RT field (byte 1, bits 1:0): which features to return. */
const RequestType = {
  /** Every feature from the starting feature number on. */
  ALL: 0,
  /** The current features from the starting feature number on. */
  CURRENT: 1,
  /** Only the feature with the starting feature number. */
  ONE: 2,
} as const;

const FeatureCode = {
  PROFILE_LIST: 0x0000,
  CORE: 0x0001,
  MORPHING: 0x0002,
  REMOVABLE_MEDIUM: 0x0003,
  RANDOM_READABLE: 0x0010,
  CD_READ: 0x001e,
  DVD_READ: 0x001f,
} as const;

/** Physical Interface Standard of the Core feature: ATAPI. */
const PHYSICAL_INTERFACE_ATAPI = 0x0000_0002;
/** Removable Medium, byte 4: loading mechanism 001b (tray), eject, lock. */
const TRAY_EJECT_LOCK = (0b001 << 5) | 0x08 | 0x01;
/** Random Readable blocking: blocks per ECC block (1 on a CD, 16 on a DVD). */
const BLOCKING = { [Profile.CD_ROM]: 1, [Profile.DVD_ROM]: 16 } as const;

type Feature = {
  readonly code: number;
  readonly version: number;
  readonly persistent: boolean;
  readonly current: boolean;
  readonly body: Uint8Array;
};

function be32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value);
  return bytes;
}

/** The features of a drive whose current profile is `profile` (0000h: no disc ready). */
function features(profile: number): Feature[] {
  const ready = profile !== Profile.NONE;
  const profiles = [Profile.DVD_ROM, Profile.CD_ROM].flatMap((p) => [p >> 8, p & 0xff, p === profile ? 1 : 0, 0]);
  const randomReadable = new Uint8Array(8);
  const view = new DataView(randomReadable.buffer);
  view.setUint32(0, LOGICAL_BLOCK_BYTES);
  view.setUint16(4, profile === Profile.DVD_ROM ? BLOCKING[Profile.DVD_ROM] : BLOCKING[Profile.CD_ROM]);
  return [
    { code: FeatureCode.PROFILE_LIST, version: 0, persistent: true, current: true, body: Uint8Array.from(profiles) },
    { code: FeatureCode.CORE, version: 0, persistent: true, current: true, body: be32(PHYSICAL_INTERFACE_ATAPI) },
    { code: FeatureCode.MORPHING, version: 1, persistent: true, current: true, body: new Uint8Array(4) },
    { code: FeatureCode.REMOVABLE_MEDIUM, version: 0, persistent: true, current: true, body: Uint8Array.of(TRAY_EJECT_LOCK, 0, 0, 0) },
    { code: FeatureCode.RANDOM_READABLE, version: 0, persistent: false, current: ready, body: randomReadable },
    { code: FeatureCode.CD_READ, version: 0, persistent: false, current: profile === Profile.CD_ROM, body: new Uint8Array(4) },
    { code: FeatureCode.DVD_READ, version: 0, persistent: false, current: profile === Profile.DVD_ROM, body: new Uint8Array(0) },
  ];
}

/** The configuration data for request type `rt` from feature `start`, or undefined for a reserved request type (INVALID FIELD IN CDB). */
export function configurationData(rt: number, start: number, profile: number): Uint8Array | undefined {
  if (rt !== RequestType.ALL && rt !== RequestType.CURRENT && rt !== RequestType.ONE) return undefined;
  const chosen = features(profile).filter((f) => (rt === RequestType.ONE ? f.code === start : f.code >= start && (rt === RequestType.ALL || f.current)));
  const data = new Uint8Array(8 + chosen.reduce((n, f) => n + 4 + f.body.length, 0));
  const view = new DataView(data.buffer);
  // Feature header: DATA LENGTH (the bytes after it), reserved, CURRENT PROFILE.
  view.setUint32(0, data.length - 4);
  view.setUint16(6, profile);
  let at = 8;
  for (const f of chosen) {
    view.setUint16(at, f.code);
    data[at + 2] = (f.version << 2) | (f.persistent ? 0x02 : 0) | (f.current ? 0x01 : 0);
    data[at + 3] = f.body.length;
    data.set(f.body, at + 4);
    at += 4 + f.body.length;
  }
  return data;
}
