/**
 * Writes followed by a cache flush, as Linux issues a flush to an ATA disk
 * with a volatile write cache (fsync, a journal commit, a REQ_PREFLUSH
 * request): the SCSI translation's SYNCHRONIZE CACHE becomes an ATA
 * non-data command (drivers/ata/libata-scsi.c ata_scsi_flush_xlat: FLUSH
 * CACHE EXT, EAh, when the device has ATA_DFLAG_FLUSH_EXT — LBA48 and
 * IDENTIFY word 83 bit 13 — else FLUSH CACHE, E7h; the taskfile carries only
 * Device), issued by ata_sff_qc_issue's non-data path (select, Device,
 * Command, then HSM_ST_LAST) and completed on irq 14 by ata_sff_interrupt
 * when Status shows DRDY alone. The writes are ata-pio-write's (see there
 * and libata-sff.ts).
 *
 * The program: `writesPerFlush` WRITE SECTORS commands of `sectors` sectors
 * at consecutive LBAs (wrapping at the end of the disk), then one flush, and
 * again.
 */
import type { GuestProgram, ScriptedGuest } from '@splitvisor/scripted-guest';
import { fillWritePattern } from './ata-pio-write.ts';
import type { AtaIdentity } from './libata-sff.ts';
import { ATA_CMD, ataGuest, execute } from './libata-sff.ts';
import type { WorkloadDefinition } from './workload.ts';
import { numberParameter } from './workload.ts';

export interface AtaFlushOptions {
  /** Sectors per WRITE SECTORS command, 1–256 (default 8). */
  readonly sectors?: number;
  /** WRITE SECTORS commands between flushes (default 4). */
  readonly writesPerFlush?: number;
  /** Flushes before the guest stops (default: it never does). */
  readonly flushes?: number;
  /** Cycles of block-layer work before each command (default 20,000: 10 µs). */
  readonly requestCycles?: number;
}

export interface AtaFlush {
  readonly guest: ScriptedGuest;
  readonly identity: () => AtaIdentity | undefined;
  readonly writes: () => number;
  readonly flushes: () => number;
  /** Sectors written without error. */
  readonly sectors: () => number;
  /** Sectors written without error before the last flush that completed without error: on stable storage. */
  readonly sectorsFlushed: () => number;
  /** The flush command used (EAh or E7h; 0 before IDENTIFY). */
  readonly flushCommand: () => number;
  readonly interrupts: () => number;
  readonly errors: () => number;
}

export function ataFlush(options: AtaFlushOptions = {}): AtaFlush {
  const perCommand = options.sectors ?? 8;
  if (!Number.isInteger(perCommand) || perCommand < 1 || perCommand > 256) throw new RangeError(`sectors per command must be 1–256, not ${perCommand}`);
  const writesPerFlush = options.writesPerFlush ?? 4;
  if (!Number.isInteger(writesPerFlush) || writesPerFlush < 0) throw new RangeError(`writes per flush must be a whole number, not ${writesPerFlush}`);
  const limit = options.flushes ?? Number.POSITIVE_INFINITY;
  const requestCycles = options.requestCycles ?? 20_000;
  let writes = 0;
  let flushes = 0;
  let sectors = 0;
  let sectorsFlushed = 0;
  let flushCommand = 0;
  const ata = ataGuest(function* writeAndFlush(port, identity): GuestProgram {
    flushCommand = identity.flushExt ? ATA_CMD.FLUSH_EXT : ATA_CMD.FLUSH;
    let lba = 0;
    while (flushes < limit) {
      for (let w = 0; w < writesPerFlush; w++) {
        yield { op: 'compute', cycles: requestCycles };
        const count = Math.min(perCommand, identity.sectors - lba);
        const tf = port.rwTaskfile(lba, count, true, identity, false);
        if (tf === undefined) {
          port.errors++;
        } else {
          const start = lba;
          const qc = port.command(tf, 'pio', count, (index, words) => { fillWritePattern(start + index, words); });
          yield* execute(port, qc);
          if (!qc.failed) sectors += count;
        }
        writes++;
        lba += count;
        if (lba >= identity.sectors) lba = 0;
      }
      yield { op: 'compute', cycles: requestCycles };
      const tf = port.taskfile();
      tf.hasDevice = true;
      tf.command = flushCommand;
      const written = sectors;
      const qc = port.command(tf, 'nodata', 0);
      yield* execute(port, qc);
      flushes++;
      if (!qc.failed) sectorsFlushed = written;
    }
  });
  return {
    guest: ata.guest,
    identity: ata.identity,
    writes: () => writes,
    flushes: () => flushes,
    sectors: () => sectors,
    sectorsFlushed: () => sectorsFlushed,
    flushCommand: () => flushCommand,
    interrupts: () => ata.port.interrupts,
    errors: () => ata.port.errors,
  };
}

export const ATA_FLUSH: WorkloadDefinition = {
  name: 'ata-flush',
  description: 'libata writes then FLUSH CACHE (EXT) as a non-data command completed on irq 14, as fsync or a journal commit makes it',
  follows: 'drivers/ata/libata-scsi.c ata_scsi_flush_xlat; drivers/ata/libata-sff.c ata_sff_qc_issue (ATA_PROT_NODATA, ATA_PROT_PIO), ata_sff_interrupt, ata_sff_hsm_move; libata-core.c ata_build_rw_tf, ata_dev_read_id',
  parameters: [
    { name: 'sectors', description: 'sectors per WRITE SECTORS command', default: 8, min: 1, max: 256 },
    { name: 'writes-per-flush', description: 'WRITE SECTORS commands between flushes', default: 4, min: 0 },
    { name: 'flushes', description: 'flushes before the guest stops (0: as many as the run allows)', default: 0, min: 0 },
  ],
  create: (p) => {
    const flushes = numberParameter(p, 'flushes');
    const run = ataFlush({
      sectors: numberParameter(p, 'sectors'),
      writesPerFlush: numberParameter(p, 'writes-per-flush'),
      ...(flushes === 0 ? {} : { flushes }),
    });
    return {
      guest: run.guest,
      board: { diskBytes: 16 * 1024 * 1024 },
      progress: () => ({
        writes: run.writes(), flushes: run.flushes(), sectors: run.sectors(), sectorsFlushed: run.sectorsFlushed(),
        interrupts: run.interrupts(), errors: run.errors(),
      }),
    };
  },
};
