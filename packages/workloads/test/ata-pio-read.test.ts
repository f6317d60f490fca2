import { describe, expect, it } from 'vitest';
import { ATA_PIO_READ, ataPioRead } from '../src/ata-pio-read.ts';
import { ATA_VECTOR } from '../src/libata-sff.ts';
import { resolveParameters } from '../src/workload.ts';
import { FakeAta, drive, onPorts } from './scripted-io.ts';

const TASKFILE = [0x1f1, 0x1f2, 0x1f3, 0x1f4, 0x1f5, 0x1f6, 0x1f7, 0x3f6];

describe('ata-pio-read', () => {
  it('opens irq 14 on the 8259, IDENTIFYs polled, then issues READ SECTORS as ata_sff_qc_issue does', () => {
    const disk = new FakeAta(2048, ATA_VECTOR);
    const run = ataPioRead({ sectors: 8, commands: 1 });
    const { log } = drive(run.guest, disk, 20_000);
    expect(log.slice(0, 2)).toEqual(['out 21 ff', 'out a1 ff']);
    expect(log).toContain('out a1 bf'); // irq 14 unmasked on the slave (and irq 2 on the master)
    expect(run.identity()).toEqual({ sectors: 2048, lba48: true, flushExt: true });
    expect(disk.commands).toEqual([0xec, 0x20]);
    // The READ: wait idle, select (A0h, altstatus pause), wait idle; tf_load (no ctl: unchanged), wait idle; command, pause.
    const at = log.indexOf('out 1f7 20');
    expect(onPorts(log.slice(0, at + 2), TASKFILE).slice(-13)).toEqual([
      'in 1f7', 'out 1f6 a0', 'in 3f6', 'in 1f7',
      'out 1f1 0', 'out 1f2 8', 'out 1f3 0', 'out 1f4 0', 'out 1f5 0', 'out 1f6 e0', 'in 1f7',
      'out 1f7 20', 'in 3f6',
    ]);
    // Each block: irq 14 (mask, specific EOIs), altstatus, status, 256 data words, altstatus; the last then waits idle.
    const after = log.slice(at + 2);
    const firstIrq = after.slice(0, 8);
    expect(firstIrq).toEqual(['hlt', 'in a1', 'out a1 ff', 'out a0 66', 'out 20 62', 'in 3f6', 'in 1f7', 'in 1f0']);
    expect(after.filter((e) => e === 'in 1f0')).toHaveLength(8 * 256);
    expect(after.filter((e) => e === 'out a0 66')).toHaveLength(8);
    expect([run.commands(), run.sectors(), run.interrupts(), run.errors()]).toEqual([1, 8, 8, 0]);
  });

  it('uses READ SECTORS EXT with the HOB bytes first when asked for LBA48, and polls with nIEN set when asked', () => {
    const disk = new FakeAta(2048, ATA_VECTOR);
    const run = ataPioRead({ sectors: 256, commands: 1, addressing: 'lba48', pio: 'polling' });
    const { log } = drive(run.guest, disk, 200_000);
    const at = log.indexOf('out 1f7 24');
    expect(onPorts(log.slice(0, at), [0x1f1, 0x1f2, 0x1f3, 0x1f4, 0x1f5, 0x1f6]).slice(-11)).toEqual([
      'out 1f1 0', 'out 1f2 1', 'out 1f3 0', 'out 1f4 0', 'out 1f5 0',
      'out 1f1 0', 'out 1f2 0', 'out 1f3 0', 'out 1f4 0', 'out 1f5 0', 'out 1f6 e0',
    ]);
    expect(log.slice(at + 1)).not.toContain('hlt'); // polled: no interrupt awaited
    expect(log.filter((e) => e === 'out 3f6 a')).toHaveLength(2); // nIEN for IDENTIFY and for the read (ata_qc_set_polling)
    expect([run.sectors(), run.interrupts(), run.errors()]).toEqual([256, 0, 0]);
  });

  it('wraps at the end of the disk, counts an error status and carries on', () => {
    const disk = new FakeAta(20, ATA_VECTOR);
    const seen: number[] = [];
    const run = ataPioRead({ sectors: 8, commands: 4, onSector: (lba) => seen.push(lba) });
    drive(run.guest, disk, 100_000);
    expect(seen).toEqual([...Array.from({ length: 20 }, (_, i) => i), 0, 1, 2, 3, 4, 5, 6, 7]); // 8 + 8 + 4, then from 0
    const failing = new FakeAta(64, ATA_VECTOR);
    const bad = ataPioRead({ sectors: 1, commands: 2 });
    let commands = 0;
    drive(bad.guest, { in: (p) => (p === 0x1f7 && commands === 2 ? 0x51 : failing.in(p)), out: (p, v) => { if (p === 0x1f7) commands++; failing.out(p, v); }, pending: () => failing.pending() }, 20_000);
    expect(bad.errors()).toBe(1);
    expect(bad.commands()).toBe(2);
  });

  it('is a catalogued definition with checked parameters', () => {
    expect(ATA_PIO_READ.create(resolveParameters(ATA_PIO_READ, { sectors: '16' })).board).toEqual({ diskBytes: 16 * 1024 * 1024 });
    expect(() => resolveParameters(ATA_PIO_READ, { sectors: 300 })).toThrow(/1 to 256/);
  });
});
