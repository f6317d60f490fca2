// Linux libata's SFF paths (drivers/ata/libata-sff.c, as ata_piix uses them), driven through the ports:
// softreset and classification, ata_dev_read_id with 32-bit PIO, the transfer-mode SET FEATURES, PIO reads with
// irq 14, LBA48 task-file reads with HOB, WRITE + FLUSH CACHE, READ/WRITE MULTIPLE, and bus-master DMA.
import { describe, expect, it } from 'vitest';
import { AtaError, BusMasterStatus, Command, Feature, MemoryBlockBackend, Status } from '../src/index.ts';
import { CMD, RecordingBackend, board, patternedDisk, sectorOf, word } from './ata-board.ts';

const ATA_DEVICE_OBS = 0xa0;
const ATA_LBA = 0x40;
const CTL = 0x08; // ap->ctl: the obsolete "always one" bit
const NIEN = 0x02;
const SRST = 0x04;
const HOB = 0x80;

/** ata_dev_classify: the signature's LBA mid/high. */
function classify(lbam: number, lbah: number): string {
  if (lbam === 0 && lbah === 0) return 'ATA';
  if (lbam === 0x14 && lbah === 0xeb) return 'ATAPI';
  return 'unknown';
}

describe('ata_sff_softreset and ata_sff_dev_classify', () => {
  it('resets both devices, then reads an ATA signature from device 0 and none from the absent device 1', () => {
    const b = board();
    // ata_sff_devchk on both devices: the 55h/AAh pattern echoes on either (both latch the registers).
    for (const device of [0xa0, 0xb0]) {
      b.outb(CMD.DEVICE, device);
      for (const [n, l] of [[0x55, 0xaa], [0xaa, 0x55], [0x55, 0xaa]] as const) {
        b.outb(CMD.NSECT, n);
        b.outb(CMD.LBAL, l);
      }
      expect([b.inb(CMD.NSECT), b.inb(CMD.LBAL)]).toEqual([0x55, 0xaa]);
    }
    b.outb(CMD.DEVICE, 0xa0);
    b.deviceControl(CTL | NIEN);
    b.deviceControl(CTL | NIEN | SRST);
    b.deviceControl(CTL | NIEN);
    expect(b.altStatus()).toBe(0x50);
    b.outb(CMD.DEVICE, 0xb0);
    expect(b.altStatus()).toBe(0); // no device 1: ata_sff_wait_after_reset stops waiting for it
    expect([b.inb(CMD.ERROR), b.inb(CMD.LBAM), b.inb(CMD.LBAH)]).toEqual([0, 0xff, 0xff]);
    b.outb(CMD.DEVICE, 0xa0);
    expect(b.inb(CMD.ERROR)).toBe(0x01); // device 0 passed, device 1 passed or absent
    expect(classify(b.inb(CMD.LBAM), b.inb(CMD.LBAH))).toBe('ATA');
  });
});

describe('ata_dev_read_id and the transfer mode', () => {
  it('reads IDENTIFY DEVICE with 32-bit PIO while polling (nIEN), and SET FEATURES 03h selects the DMA mode it reports', () => {
    const b = board({ master: { backend: new MemoryBlockBackend(32_768) } });
    b.deviceControl(CTL | NIEN);
    b.taskFile({ device: ATA_DEVICE_OBS });
    b.outb(CMD.COMMAND, Command.IDENTIFY_DEVICE);
    expect(b.altStatus()).toBe(0x58);
    const id = b.insl(128);
    expect(b.altStatus()).toBe(0x50);
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    expect([word(id, 63), word(id, 88)]).toEqual([0x0007, 0x203f]); // power-on: UDMA 5 selected
    expect(word(id, 59)).toBe(0x0110); // multiple mode 16, valid
    // ata_dev_set_xfermode: MWDMA 2 (what ata_piix picks for QEMU's PIIX3)
    b.taskFile({ features: Feature.SET_TRANSFER_MODE, nsect: 0x22, device: ATA_DEVICE_OBS });
    b.outb(CMD.COMMAND, Command.SET_FEATURES);
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    b.taskFile({ device: ATA_DEVICE_OBS });
    b.outb(CMD.COMMAND, Command.IDENTIFY_DEVICE);
    const again = b.insl(128);
    expect([word(again, 62), word(again, 63), word(again, 88)]).toEqual([0x0007, 0x0407, 0x003f]);
    // An unsupported mode (UDMA 6) is aborted and leaves the selection alone.
    b.taskFile({ features: Feature.SET_TRANSFER_MODE, nsect: 0x46, device: ATA_DEVICE_OBS });
    b.outb(CMD.COMMAND, Command.SET_FEATURES);
    expect([b.inb(CMD.STATUS), b.inb(CMD.ERROR)]).toEqual([0x41, AtaError.ABRT]);
    expect(b.irqRises()).toBe(0);
  });
});

describe('PIO with irq 14', () => {
  it('READ SECTORS: an interrupt per DRQ block, acknowledged by reading Status; none at the end', () => {
    const disk = patternedDisk(4096);
    const b = board({ master: { backend: disk } });
    b.deviceControl(CTL);
    b.taskFile({ nsect: 3, lbal: 7, device: ATA_DEVICE_OBS | ATA_LBA });
    b.outb(CMD.COMMAND, Command.READ_SECTORS);
    const data: number[] = [];
    for (let block = 0; block < 3; block++) {
      expect(b.irq()).toBe(true);
      expect(b.altStatus()).toBe(0x58); // Alternate Status leaves the interrupt pending
      expect(b.irq()).toBe(true);
      expect(b.inb(CMD.STATUS)).toBe(0x58); // ata_sff_hsm_move's ata_sff_irq_status
      expect(b.irq()).toBe(false);
      data.push(...b.insw(256));
    }
    expect(b.irq()).toBe(false);
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    expect(Uint8Array.from(data)).toEqual(sectorOf(disk, 7, 3));
    expect(b.irqRises()).toBe(3);
    expect(b.bmRead(2) & BusMasterStatus.INTERRUPT).toBe(BusMasterStatus.INTERRUPT); // the PIIX latches INTRQ's rise
  });

  it('READ SECTOR(S) EXT with the 48-bit registers loaded high byte first; ata_sff_tf_read reads them back with HOB', () => {
    const disk = patternedDisk(70_000);
    const b = board({ master: { backend: disk } });
    b.deviceControl(CTL);
    const lba = 0x1_0203;
    // ata_sff_tf_load for an LBA48 command: the HOB bytes, then the current ones.
    b.outb(CMD.FEATURES, 0);
    b.outb(CMD.NSECT, 0);
    b.outb(CMD.LBAL, 0x00);
    b.outb(CMD.LBAM, 0x00);
    b.outb(CMD.LBAH, 0x00);
    b.outb(CMD.FEATURES, 0);
    b.outb(CMD.NSECT, 2);
    b.outb(CMD.LBAL, lba & 0xff);
    b.outb(CMD.LBAM, (lba >> 8) & 0xff);
    b.outb(CMD.LBAH, (lba >> 16) & 0xff);
    b.outb(CMD.DEVICE, ATA_LBA);
    b.outb(CMD.COMMAND, Command.READ_SECTORS_EXT);
    expect(b.inb(CMD.STATUS)).toBe(0x58);
    expect(b.insw(256)).toEqual(sectorOf(disk, lba));
    expect(b.inb(CMD.STATUS)).toBe(0x58);
    expect(b.insw(256)).toEqual(sectorOf(disk, lba + 1));
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    // READ NATIVE MAX ADDRESS EXT answers in all six address bytes.
    b.outb(CMD.DEVICE, ATA_LBA);
    b.outb(CMD.COMMAND, Command.READ_NATIVE_MAX_ADDRESS_EXT);
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    const low = [b.inb(CMD.LBAL), b.inb(CMD.LBAM), b.inb(CMD.LBAH)];
    b.deviceControl(CTL | HOB);
    const high = [b.inb(CMD.LBAL), b.inb(CMD.LBAM), b.inb(CMD.LBAH)];
    b.deviceControl(CTL);
    expect([...low, ...high]).toEqual([(70_000 - 1) & 0xff, ((70_000 - 1) >> 8) & 0xff, 0x01, 0, 0, 0]);
    // HOB reads the previous byte of each register; any register write clears HOB.
    b.outb(CMD.NSECT, 0x12);
    b.outb(CMD.NSECT, 0x34);
    b.deviceControl(CTL | HOB);
    expect(b.inb(CMD.NSECT)).toBe(0x12);
    b.outb(CMD.LBAL, 0x99);
    expect(b.inb(CMD.NSECT)).toBe(0x34);
  });

  it('WRITE SECTORS then FLUSH CACHE: the data reaches stable storage only with the flush', () => {
    const backend = new RecordingBackend(1024);
    const b = board({ master: { backend } });
    b.deviceControl(CTL);
    const payload = Uint8Array.from({ length: 1024 }, (_, i) => (i * 13) & 0xff);
    b.taskFile({ nsect: 2, lbal: 100, device: ATA_DEVICE_OBS | ATA_LBA });
    b.outb(CMD.COMMAND, Command.WRITE_SECTORS);
    expect(b.altStatus()).toBe(0x58);
    expect(b.irq()).toBe(false); // PIO data-out: the first block is asked for without an interrupt
    b.outsw(payload.subarray(0, 512));
    expect(b.irq()).toBe(true); // the next block
    expect(b.inb(CMD.STATUS)).toBe(0x58);
    b.outsl(payload.subarray(512));
    expect(b.irq()).toBe(true); // command complete
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    // Held in the write cache: not in the backend yet, but read back through the drive.
    expect(backend.writes).toBe(0);
    b.taskFile({ nsect: 2, lbal: 100, device: ATA_DEVICE_OBS | ATA_LBA });
    b.outb(CMD.COMMAND, Command.READ_SECTORS);
    b.inb(CMD.STATUS);
    const first = b.insw(256);
    b.inb(CMD.STATUS);
    expect([...first, ...b.insw(256)]).toEqual([...payload]);
    b.taskFile({ device: ATA_DEVICE_OBS });
    b.outb(CMD.COMMAND, Command.FLUSH_CACHE);
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    expect(backend.flushes).toBe(1);
    expect(backend.stable.subarray(100 * 512, 102 * 512)).toEqual(payload);
  });

  it('READ MULTIPLE after SET MULTIPLE MODE: one interrupt per block of the multiple count, a short last block', () => {
    const disk = patternedDisk(4096);
    const b = board({ master: { backend: disk } });
    b.deviceControl(CTL);
    b.taskFile({ nsect: 4, device: ATA_DEVICE_OBS });
    b.outb(CMD.COMMAND, Command.SET_MULTIPLE_MODE);
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    b.taskFile({ nsect: 10, lbal: 40, device: ATA_DEVICE_OBS | ATA_LBA });
    b.outb(CMD.COMMAND, Command.READ_MULTIPLE);
    const blocks: number[] = [];
    let data: number[] = [];
    while ((b.altStatus() & Status.DRQ) !== 0) {
      expect(b.irq()).toBe(true);
      b.inb(CMD.STATUS);
      let words = 0;
      while ((b.altStatus() & Status.DRQ) !== 0 && words < 4 * 256) {
        const w = b.inw();
        data.push(w & 0xff, w >> 8);
        words++;
      }
      blocks.push(words / 256);
      if (blocks.length > 3) break;
    }
    expect(blocks).toEqual([4, 4, 2]);
    expect(Uint8Array.from(data)).toEqual(sectorOf(disk, 40, 10));
    expect(b.irqRises()).toBe(4); // SET MULTIPLE MODE's completion, then three blocks
    data = [];
    // WRITE MULTIPLE: blocks of 4 out, an interrupt after each but the last's is the completion.
    const payload = Uint8Array.from({ length: 6 * 512 }, (_, i) => (i * 31) & 0xff);
    b.taskFile({ nsect: 6, lbal: 200, device: ATA_DEVICE_OBS | ATA_LBA });
    b.outb(CMD.COMMAND, Command.WRITE_MULTIPLE);
    expect(b.altStatus()).toBe(0x58);
    b.outsw(payload.subarray(0, 4 * 512));
    expect([b.irq(), b.inb(CMD.STATUS)]).toEqual([true, 0x58]);
    b.outsw(payload.subarray(4 * 512));
    expect([b.irq(), b.inb(CMD.STATUS)]).toEqual([true, 0x50]);
    b.taskFile({ device: ATA_DEVICE_OBS });
    b.outb(CMD.COMMAND, Command.FLUSH_CACHE_EXT);
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    expect(sectorOf(disk, 200, 6)).toEqual(payload);
  });

  it('aborts READ MULTIPLE while multiple mode is disabled, and SET MULTIPLE MODE with a block size it cannot do', () => {
    const b = board();
    b.taskFile({ nsect: 3, device: ATA_DEVICE_OBS });
    b.outb(CMD.COMMAND, Command.SET_MULTIPLE_MODE); // not a power of two: aborted, multiple mode disabled
    expect([b.inb(CMD.STATUS), b.inb(CMD.ERROR)]).toEqual([0x41, AtaError.ABRT]);
    b.taskFile({ nsect: 1, device: ATA_DEVICE_OBS | ATA_LBA });
    b.outb(CMD.COMMAND, Command.READ_MULTIPLE);
    expect([b.inb(CMD.STATUS), b.inb(CMD.ERROR)]).toEqual([0x41, AtaError.ABRT]);
    b.taskFile({ nsect: 0, device: ATA_DEVICE_OBS });
    b.outb(CMD.COMMAND, Command.IDENTIFY_DEVICE);
    expect(word(b.insw(256), 59)).toBe(0x0100);
  });
});

describe('bus-master DMA (ata_bmdma_setup / ata_bmdma_start)', () => {
  const PRD_TABLE = 0x8000;

  function prd(b: ReturnType<typeof board>, entries: readonly (readonly [address: number, bytes: number, last: boolean])[]) {
    const view = new DataView(b.context.ram.buffer);
    entries.forEach(([address, bytes, last], i) => {
      view.setUint32(PRD_TABLE + 8 * i, address, true);
      view.setUint32(PRD_TABLE + 8 * i + 4, (bytes & 0xffff) | (last ? 0x8000_0000 : 0), true);
    });
    b.bmWrite(4, PRD_TABLE, 4);
  }

  it('READ DMA: DRQ without BSY until the engine starts, the data in memory across PRD regions, then the interrupt', () => {
    const disk = patternedDisk(4096);
    const b = board({ master: { backend: disk } });
    b.deviceControl(CTL);
    prd(b, [[0x1_0000, 1536, false], [0x2_0000, 2560, true]]);
    expect(b.bmRead(0)).toBe(0);
    b.bmWrite(0, 0x08); // to memory
    b.taskFile({ nsect: 8, lbal: 64, device: ATA_DEVICE_OBS | ATA_LBA });
    b.outb(CMD.COMMAND, Command.READ_DMA);
    expect(b.altStatus()).toBe(0x58);
    expect(b.irq()).toBe(false);
    b.bmWrite(0, 0x09); // start
    expect(b.irq()).toBe(true);
    expect(b.bmRead(2)).toBe(BusMasterStatus.INTERRUPT); // not active: the table matched the transfer
    expect(b.bmRead(0)).toBe(0x09);
    b.bmWrite(0, 0x08); // ata_bmdma_stop
    expect(b.altStatus()).toBe(0x50);
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    b.bmWrite(2, BusMasterStatus.INTERRUPT); // write 1 to clear
    expect(b.bmRead(2)).toBe(0);
    const expected = sectorOf(disk, 64, 8);
    expect(b.context.ram.subarray(0x1_0000, 0x1_0000 + 1536)).toEqual(expected.subarray(0, 1536));
    expect(b.context.ram.subarray(0x2_0000, 0x2_0000 + 2560)).toEqual(expected.subarray(1536));
  });

  it('WRITE DMA (EXT) with the engine started first: the data comes from memory; a larger table stays active', () => {
    const disk = new MemoryBlockBackend(4096);
    const b = board({ master: { backend: disk } });
    b.deviceControl(CTL);
    const payload = Uint8Array.from({ length: 1024 }, (_, i) => (i * 7 + 3) & 0xff);
    b.context.ram.set(payload, 0x3_0000);
    prd(b, [[0x3_0000, 0, true]]); // 64 KiB region: larger than the transfer
    b.bmWrite(0, 0x01);
    for (const [register, high, low] of [[CMD.NSECT, 0, 2], [CMD.LBAL, 0, 9], [CMD.LBAM, 0, 0], [CMD.LBAH, 0, 0]] as const) {
      b.outb(register, high);
      b.outb(register, low);
    }
    b.outb(CMD.DEVICE, ATA_LBA);
    b.outb(CMD.COMMAND, Command.WRITE_DMA_EXT);
    expect(b.irq()).toBe(true);
    expect(b.bmRead(2)).toBe(BusMasterStatus.INTERRUPT | BusMasterStatus.ACTIVE);
    expect(b.inb(CMD.STATUS)).toBe(0x50);
    b.bmWrite(0, 0x00);
    expect(b.bmRead(2) & BusMasterStatus.ACTIVE).toBe(0);
    b.taskFile({ device: ATA_DEVICE_OBS });
    b.outb(CMD.COMMAND, Command.FLUSH_CACHE);
    expect(sectorOf(disk, 9, 2)).toEqual(payload);
    expect(b.ata.anomalies()).toMatchObject({ dmaDirectionMismatches: 0 });
  });

  it('a table smaller than the transfer leaves the engine inactive, no interrupt, and the drive waiting with DRQ', () => {
    const b = board();
    b.deviceControl(CTL);
    prd(b, [[0x1_0000, 512, true]]);
    b.bmWrite(0, 0x08);
    b.taskFile({ nsect: 2, device: ATA_DEVICE_OBS | ATA_LBA });
    b.outb(CMD.COMMAND, Command.READ_DMA);
    b.bmWrite(0, 0x09);
    expect([b.irq(), b.bmRead(2), b.altStatus()]).toEqual([false, 0, 0x58]);
    // Restarted on a table for the rest, the transfer goes on and ends.
    prd(b, [[0x1_0200, 512, true]]);
    b.bmWrite(0, 0x08);
    b.bmWrite(0, 0x09);
    expect([b.irq(), b.bmRead(2), b.inb(CMD.STATUS)]).toEqual([true, BusMasterStatus.INTERRUPT, 0x50]);
  });

  it('a PRD outside guest memory sets the bus master\'s error bit and aborts the command', () => {
    const b = board();
    b.deviceControl(CTL);
    prd(b, [[0xf000_0000, 512, true]]);
    b.bmWrite(0, 0x09);
    b.taskFile({ nsect: 1, device: ATA_DEVICE_OBS | ATA_LBA });
    b.outb(CMD.COMMAND, Command.READ_DMA);
    expect(b.bmRead(2)).toBe(BusMasterStatus.ERROR | BusMasterStatus.INTERRUPT);
    expect([b.inb(CMD.STATUS), b.inb(CMD.ERROR)]).toEqual([0x41, AtaError.ABRT]);
    expect(b.ata.anomalies()).toMatchObject({ dmaMemoryErrors: 1 });
  });
});
