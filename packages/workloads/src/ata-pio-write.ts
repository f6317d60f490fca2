/**
 * Sequential PIO writes to the ATA disk as Linux's libata issues them on a
 * PIO-only SFF port (drivers/ata/libata-sff.c: ata_sff_qc_issue for the PIO
 * data-out protocol, ata_sff_pio_task, ata_sff_hsm_move's HSM_ST_FIRST /
 * HSM_ST / HSM_ST_LAST, ata_pio_sectors → ata_sff_data_xfer with
 * iowrite16_rep, ata_sff_interrupt; libata-core.c: ata_build_rw_tf,
 * ata_dev_read_id). See libata-sff.ts for each one's register sequence.
 *
 * WRITE SECTORS (EXT) of `sectors` sectors each at consecutive LBAs from 0,
 * wrapping at the end of the disk. As libata does it: the command is issued
 * under the host lock; the first block always goes from the PIO task (a
 * kworker, interrupts off), which polls Status until BSY clears and, with
 * DRQ up, writes 256 words and reads Alternate Status; every further block
 * is written from irq 14's handler when the drive interrupts for it, and the
 * interrupt after the last block completes the command (HSM_ST_LAST: the
 * status must be DRDY alone). The issuing thread sleeps in `hlt` meanwhile.
 *
 * The data: word i of the sector at `lba` is `ataWritePattern(lba, i)` — the
 * LBA's two halves, then a mix of both — so a reader can tell every sector
 * and every word apart.
 */
import type { AtaTransfer, AtaTransferOptions } from './libata-sff.ts';
import { SECTOR_WORDS, pioTransfer, transferParameters, transferWorkload } from './libata-sff.ts';
import type { WorkloadDefinition } from './workload.ts';

/** Word `index` of the sector the workloads write at `lba`. */
export function ataWritePattern(lba: number, index: number): number {
  if (index === 0) return lba & 0xffff;
  if (index === 1) return Math.floor(lba / 0x1_0000) & 0xffff;
  return (lba * 0x9e37 + index * 0x0101 + 0x5a5a) & 0xffff;
}

export function fillWritePattern(lba: number, words: Uint16Array): void {
  for (let i = 0; i < SECTOR_WORDS; i++) words[i] = ataWritePattern(lba, i);
}

export type AtaPioWriteOptions = AtaTransferOptions;

/** As AtaTransfer; `sectors` counts those written by commands that completed without error (the first LBAs, until the first wrap). */
export type AtaPioWrite = AtaTransfer;

export function ataPioWrite(options: AtaPioWriteOptions = {}): AtaPioWrite {
  return pioTransfer(options, true, fillWritePattern);
}

export const ATA_PIO_WRITE: WorkloadDefinition = {
  name: 'ata-pio-write',
  description: 'libata PIO writes: WRITE SECTORS (EXT) at consecutive LBAs, the first block from the PIO task, the rest on irq 14',
  follows: 'drivers/ata/libata-sff.c ata_sff_qc_issue (PIO data-out), ata_sff_pio_task, ata_sff_hsm_move, ata_pio_sectors (iowrite16_rep), ata_sff_interrupt; libata-core.c ata_build_rw_tf, ata_dev_read_id; arch/x86/kernel/i8259.c',
  parameters: transferParameters('WRITE SECTORS'),
  create: (p) => transferWorkload(p, ataPioWrite),
};
