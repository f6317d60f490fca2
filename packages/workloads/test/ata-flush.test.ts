import { describe, expect, it } from 'vitest';
import { ATA_FLUSH, ataFlush } from '../src/ata-flush.ts';
import { ATA_VECTOR } from '../src/libata-sff.ts';
import { resolveParameters } from '../src/workload.ts';
import { FakeAta, drive, onPorts } from './scripted-io.ts';

describe('ata-flush', () => {
  it('flushes with FLUSH CACHE EXT after each run of writes, only Device in its taskfile, completed on irq 14', () => {
    const disk = new FakeAta(2048, ATA_VECTOR);
    const run = ataFlush({ sectors: 2, writesPerFlush: 3, flushes: 2 });
    const { log } = drive(run.guest, disk, 50_000);
    expect(disk.commands).toEqual([0xec, 0x30, 0x30, 0x30, 0xea, 0x30, 0x30, 0x30, 0xea]);
    const at = log.indexOf('out 1f7 ea');
    expect(onPorts(log.slice(0, at + 1), [0x1f1, 0x1f2, 0x1f3, 0x1f4, 0x1f5, 0x1f6, 0x1f7]).slice(-6)).toEqual([
      'in 1f7', 'out 1f6 a0', 'in 1f7', 'out 1f6 a0', 'in 1f7', 'out 1f7 ea',
    ]);
    expect(log.slice(at + 1, at + 9)).toEqual(['in 3f6', 'hlt', 'in a1', 'out a1 ff', 'out a0 66', 'out 20 62', 'in 3f6', 'in 1f7']);
    expect([run.writes(), run.flushes(), run.sectors(), run.sectorsFlushed(), run.flushCommand(), run.errors()]).toEqual([6, 2, 12, 12, 0xea, 0]);
  });

  it('uses FLUSH CACHE (E7h) on a disk without FLUSH CACHE EXT, and takes writesPerFlush', () => {
    const disk = new FakeAta(2048, ATA_VECTOR);
    const run = ataFlush({ writesPerFlush: 0, flushes: 1 });
    drive(run.guest, {
      in: (p) => disk.in(p) & (p === 0x1f0 && disk.commands.at(-1) === 0xec ? ~0x2400 : 0xffff), // no LBA48, no FLUSH EXT
      out: (p, v) => { disk.out(p, v); },
      pending: () => disk.pending(),
    }, 5_000);
    expect(disk.commands).toEqual([0xec, 0xe7]);
    expect(ATA_FLUSH.create(resolveParameters(ATA_FLUSH, { 'writes-per-flush': 8 })).progress()).toMatchObject({ flushes: 0 });
  });
});
