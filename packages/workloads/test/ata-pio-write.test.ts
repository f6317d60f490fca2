import { describe, expect, it } from 'vitest';
import { ATA_PIO_WRITE, ataPioWrite, ataWritePattern } from '../src/ata-pio-write.ts';
import { ATA_VECTOR } from '../src/libata-sff.ts';
import { resolveParameters } from '../src/workload.ts';
import { FakeAta, drive } from './scripted-io.ts';

describe('ata-pio-write', () => {
  it('sends the first block from the PIO task before any interrupt, the rest on irq 14, and completes on the last', () => {
    const disk = new FakeAta(2048, ATA_VECTOR);
    const run = ataPioWrite({ sectors: 4, commands: 1 });
    const { log } = drive(run.guest, disk, 20_000);
    expect(disk.commands).toEqual([0xec, 0x30]);
    const after = log.slice(log.indexOf('out 1f7 30') + 2);
    // ata_sff_pio_task: busy wait (Status), then 256 words and the altstatus sync — no hlt before it.
    expect(after.slice(0, 4)).toEqual(['in 1f7', 'out 1f0 0', 'out 1f0 0', `out 1f0 ${ataWritePattern(0, 2).toString(16)}`]); // LBA 0 names itself
    expect(after.indexOf('hlt')).toBe(1 + 256 + 1);
    expect(after.filter((e) => e === 'out a0 66')).toHaveLength(4); // one irq per block written (3) and the completion
    expect(disk.written).toHaveLength(4 * 256);
    expect(disk.written.slice(256, 259)).toEqual([1, 0, ataWritePattern(1, 2)]);
    expect([run.commands(), run.sectors(), run.interrupts(), run.errors()]).toEqual([1, 4, 4, 0]);
  });

  it('writes LBA48 with WRITE SECTORS EXT when asked, and lists itself', () => {
    const disk = new FakeAta(2048, ATA_VECTOR);
    const run = ataPioWrite({ sectors: 2, commands: 2, addressing: 'lba48' });
    drive(run.guest, disk, 20_000);
    expect(disk.commands).toEqual([0xec, 0x34, 0x34]);
    expect(run.sectors()).toBe(4);
    expect(ATA_PIO_WRITE.create(resolveParameters(ATA_PIO_WRITE, {})).progress()).toMatchObject({ commands: 0, sectors: 0 });
  });
});
