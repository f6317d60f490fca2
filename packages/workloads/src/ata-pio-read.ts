/**
 * Sequential PIO reads from the ATA disk as Linux's libata issues them on a
 * PIO-only SFF port (drivers/ata/libata-sff.c: ata_sff_qc_issue,
 * ata_sff_tf_load, ata_sff_exec_command, ata_sff_interrupt →
 * __ata_sff_port_intr, ata_sff_hsm_move, ata_pio_sectors → ata_sff_data_xfer
 * with ioread16_rep of the data port, ata_wait_idle; libata-core.c:
 * ata_build_rw_tf, ata_dev_read_id). See libata-sff.ts for the register
 * sequence of each of those.
 *
 * The program: the 8259 pair initialised with irq 14 open, the port thawed,
 * a polled IDENTIFY DEVICE for the capacity and LBA48 support, then READ
 * SECTORS (EXT) commands of `sectors` sectors each at consecutive LBAs from
 * 0, wrapping at the end of the disk (a command never runs past it).
 * Interrupt-driven by default: each block raises irq 14, whose handler
 * (handle_level_irq: mask and specific EOI, ata_sff_interrupt, unmask)
 * reads Alternate Status and Status and moves 256 words; after the last
 * block the handler polls Status idle and completes the command. With
 * `pio: 'polling'` (an LLD with ATA_FLAG_PIO_POLLING) the PIO task polls
 * instead, nIEN set. Between commands the issuing thread sleeps in `hlt`;
 * `requestCycles` of block-layer work precede each command.
 */
import type { AtaTransfer, AtaTransferOptions } from './libata-sff.ts';
import { pioTransfer, transferParameters, transferWorkload } from './libata-sff.ts';
import type { WorkloadDefinition } from './workload.ts';

export interface AtaPioReadOptions extends AtaTransferOptions {
  /** Each sector as the guest read it (the words are reused: copy them). */
  readonly onSector?: (lba: number, words: Uint16Array) => void;
}

export type AtaPioRead = AtaTransfer;

export function ataPioRead(options: AtaPioReadOptions = {}): AtaPioRead {
  return pioTransfer(options, false, options.onSector ?? (() => undefined));
}

export const ATA_PIO_READ: WorkloadDefinition = {
  name: 'ata-pio-read',
  description: "libata PIO reads: READ SECTORS (EXT) at consecutive LBAs, irq 14 per 256-word block read from the data port",
  follows: 'drivers/ata/libata-sff.c ata_sff_qc_issue, ata_sff_tf_load, ata_sff_exec_command, ata_sff_interrupt, ata_sff_hsm_move, ata_pio_sectors (ioread16_rep); libata-core.c ata_build_rw_tf, ata_dev_read_id; arch/x86/kernel/i8259.c',
  parameters: transferParameters('READ SECTORS'),
  create: (p) => transferWorkload(p, ataPioRead),
};
