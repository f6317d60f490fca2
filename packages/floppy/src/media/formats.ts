/**
 * The 3½-inch diskette formats a PC reads, and the drives that read them.
 * References: IBM PS/2 Hardware Interface Technical Reference, "Diskette
 * Drive" (80 cylinders, 2 heads, 512-byte sectors; 9 sectors at 250 kb/s
 * for 720 KB double density, 18 at 500 kb/s for 1.44 MB high density, 36 at
 * 1 Mb/s for 2.88 MB extra-high density with perpendicular recording).
 * A drive reads its own density and the lower ones.
 */
import { DataRate } from '../i82077aa/registers.ts';

export type DriveType = '720K' | '1.44M' | '2.88M';

export interface MediaFormat {
  readonly name: DriveType;
  readonly cylinders: number;
  readonly heads: number;
  readonly sectorsPerTrack: number;
  /** DataRate code the medium is recorded at (DSR/CCR bits 0–1). */
  readonly dataRate: number;
  /** 512-byte sectors in all. */
  readonly sectors: number;
}

function format(name: DriveType, sectorsPerTrack: number, dataRate: number): MediaFormat {
  return { name, cylinders: 80, heads: 2, sectorsPerTrack, dataRate, sectors: 80 * 2 * sectorsPerTrack };
}

export const MEDIA_FORMATS: Readonly<Record<DriveType, MediaFormat>> = {
  '720K': format('720K', 9, DataRate.KBPS_250),
  '1.44M': format('1.44M', 18, DataRate.KBPS_500),
  '2.88M': format('2.88M', 36, DataRate.MBPS_1),
};

const DENSITY: Readonly<Record<DriveType, number>> = { '720K': 0, '1.44M': 1, '2.88M': 2 };

/** The format of an image of `sectors` 512-byte sectors, or undefined for any other size. */
export function formatOfImage(sectors: number): MediaFormat | undefined {
  return Object.values(MEDIA_FORMATS).find((f) => f.sectors === sectors);
}

/** Whether a drive of `drive` type reads and writes a medium of `format`. */
export function driveAccepts(drive: DriveType, format: MediaFormat): boolean {
  return DENSITY[format.name] <= DENSITY[drive];
}

export function isDriveType(value: unknown): value is DriveType {
  return value === '720K' || value === '1.44M' || value === '2.88M';
}
