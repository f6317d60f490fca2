/**
 * The disc in the drive: a read-only image of 2048-byte logical blocks
 * (MMC-5: the user data of a Mode 1 CD-ROM sector, or a DVD-ROM sector), over
 * a `BlockBackend` of 512-byte sectors. One data track in one complete
 * session — what an ISO 9660 image is.
 *
 * Which kind of disc it is (MMC-5 Table 68, profiles) follows its size, a
 * choice the specifications leave to whoever made the image: up to 80
 * minutes of Mode 1 blocks it is a CD-ROM (profile 0008h), larger a DVD-ROM
 * (profile 0010h).
 */
import type { BlockBackend } from '../block/block-backend.ts';
import { SECTOR_SIZE } from '../block/block-backend.ts';

/** Bytes of user data in a logical block (MMC-5: CD Mode 1 and DVD). */
export const LOGICAL_BLOCK_BYTES = 2048;
const SECTORS_PER_BLOCK = LOGICAL_BLOCK_BYTES / SECTOR_SIZE;

/** Profiles a read-only drive can have current (MMC-5 Table 68). */
export const Profile = {
  NONE: 0x0000,
  CD_ROM: 0x0008,
  DVD_ROM: 0x0010,
} as const;

/** 80 minutes × 60 seconds × 75 blocks: the longest CD. */
const CD_MAX_BLOCKS = 360_000;

/** Why `backend` cannot be a disc, or undefined when it can: a whole, non-zero number of logical blocks. */
export function discImageProblem(backend: BlockBackend): string | undefined {
  const sectors = backend.sectors;
  if (!Number.isSafeInteger(sectors) || sectors < SECTORS_PER_BLOCK || sectors % SECTORS_PER_BLOCK !== 0) {
    return `a disc is a whole, non-zero number of ${LOGICAL_BLOCK_BYTES}-byte blocks; this image has ${sectors} sectors of ${SECTOR_SIZE} bytes`;
  }
  return undefined;
}

export class Disc {
  readonly blocks: number;
  /** The disc's profile: CD-ROM or DVD-ROM. */
  readonly profile: number;
  private readonly backend: BlockBackend;
  private readonly scratch = new Uint8Array(LOGICAL_BLOCK_BYTES);

  /** `backend` must pass `discImageProblem`. */
  constructor(backend: BlockBackend) {
    this.backend = backend;
    this.blocks = backend.sectors / SECTORS_PER_BLOCK;
    this.profile = this.blocks <= CD_MAX_BLOCKS ? Profile.CD_ROM : Profile.DVD_ROM;
  }

  get isCd(): boolean {
    return this.profile === Profile.CD_ROM;
  }

  /**
   * Copies the disc's bytes from byte `offset` into `into` (any alignment: a
   * DMA region or a DRQ block need not hold whole blocks). Returns undefined,
   * or the first logical block that could not be read.
   */
  read(offset: number, into: Uint8Array): number | undefined {
    let done = 0;
    while (done < into.length) {
      const at = offset + done;
      const block = Math.floor(at / LOGICAL_BLOCK_BYTES);
      const within = at % LOGICAL_BLOCK_BYTES;
      const whole = within === 0 ? Math.floor((into.length - done) / LOGICAL_BLOCK_BYTES) : 0;
      if (block + Math.max(whole, 1) > this.blocks) return block;
      if (whole > 0) {
        if (!this.backend.read(block * SECTORS_PER_BLOCK, whole * SECTORS_PER_BLOCK, into.subarray(done, done + whole * LOGICAL_BLOCK_BYTES))) {
          return this.firstUnreadable(block, whole);
        }
        done += whole * LOGICAL_BLOCK_BYTES;
      } else {
        if (!this.backend.read(block * SECTORS_PER_BLOCK, SECTORS_PER_BLOCK, this.scratch)) return block;
        const bytes = Math.min(LOGICAL_BLOCK_BYTES - within, into.length - done);
        into.set(this.scratch.subarray(within, within + bytes), done);
        done += bytes;
      }
    }
    return undefined;
  }

  /** After a failed read of `count` blocks from `first`: the first of them the backend will not read alone. */
  private firstUnreadable(first: number, count: number): number {
    for (let block = first; block < first + count; block++) {
      if (!this.backend.read(block * SECTORS_PER_BLOCK, SECTORS_PER_BLOCK, this.scratch)) return block;
    }
    return first;
  }
}
