// The libata PIO workloads (ata-pio-read, ata-pio-write, ata-flush) on a real VM with the ATA disk on an image
// file: the data they move is the image's, their writes reach the file (the flushed ones before the VM closes),
// no command fails, irq 14 is taken per block, and every placement shows the guest the same.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { ataFlush, ataPioRead, ataPioWrite, ataWritePattern } from '@splitvisor/workloads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Vm } from '../src/index.ts';
import { placement } from './profiles.ts';

const PROFILES = ['qemu-tcg', 'kvm-irqchip', 'kvm-split', 'plex86'] as const;
const ATA_VECTOR = 0x2e;
const DISK_SECTORS = 512;
const dir = mkdtempSync(join(tmpdir(), 'splitvisor-ata-workload-'));
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

function image(name: string, fill: (i: number) => number): string {
  const bytes = new Uint8Array(DISK_SECTORS * 512);
  for (let i = 0; i < bytes.length; i++) bytes[i] = fill(i);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

function patternWord(file: Uint8Array, lba: number, i: number): number {
  return (file[lba * 512 + 2 * i] ?? 0) | ((file[lba * 512 + 2 * i + 1] ?? 0) << 8);
}

describe('ata-pio-read on a VM', () => {
  const path = image('read.img', (i) => (i * 7 + (i >> 9)) & 0xff);
  const file = new Uint8Array(readFileSync(path));

  it('reads the image through PIO with an irq 14 per sector, the same under every placement', async () => {
    const results = [];
    for (const profile of PROFILES) {
      let mismatches = 0;
      const run = ataPioRead({
        sectors: 8,
        onSector: (lba, words) => { for (let i = 0; i < 256; i++) if (words[i] !== patternWord(file, lba, i)) mismatches++; },
      });
      const vm = new Vm(placement(profile), run.guest, { board: { diskImage: path } });
      try {
        vm.run(1_000_000);
        const exits = Object.fromEntries(vm.counts.exitsByDevice());
        results.push({ profile, mismatches, identity: run.identity(), commands: run.commands(), sectors: run.sectors(), interrupts: run.interrupts(), errors: run.errors(), taken: run.guest.taken.get(ATA_VECTOR), diskExits: exits.disk?.monitor });
      } finally {
        await vm.close();
      }
    }
    const [first] = results;
    expect(first?.identity).toEqual({ sectors: DISK_SECTORS, lba48: true, flushExt: true });
    expect(first?.sectors).toBeGreaterThan(64);
    expect(first?.mismatches).toBe(0);
    expect(first?.errors).toBe(0);
    // PIO data-in: one interrupt per block, none at the end (the run may stop inside a handler, before its block).
    expect((first?.interrupts ?? 0) - (first?.sectors ?? 0)).toBeOneOf([0, 1]);
    expect(first?.taken).toBeGreaterThanOrEqual(first?.sectors ?? 0);
    expect(first?.diskExits).toBeGreaterThan(256 * (first?.sectors ?? 0));
    for (const r of results) expect({ ...r, profile: first?.profile }).toEqual(first);
  }, 300_000);
});

describe('ata-pio-write and ata-flush on a VM', () => {
  it('writes the pattern to the image, sector by sector, the same under every placement', async () => {
    const counts = [];
    for (const profile of PROFILES) {
      const path = image(`write-${profile}.img`, () => 0);
      const run = ataPioWrite({ sectors: 16 });
      const vm = new Vm(placement(profile), run.guest, { board: { diskImage: path } });
      vm.run(1_000_000);
      await vm.close(); // the write cache goes to the file
      const file = new Uint8Array(readFileSync(path));
      const written = run.sectors();
      let mismatches = 0;
      for (let lba = 0; lba < written; lba++) for (let i = 0; i < 256; i++) if (patternWord(file, lba, i) !== ataWritePattern(lba, i)) mismatches++;
      expect(mismatches).toBe(0);
      expect(file.subarray(written * 512).every((b) => b === 0)).toBe(true); // nothing past what completed
      counts.push([run.commands(), written, run.interrupts(), run.errors()]);
    }
    expect(counts[0]?.[1]).toBeGreaterThan(16);
    // One interrupt per block written; the command the run stopped in has taken some without completing.
    const extra = (counts[0]?.[2] ?? 0) - (counts[0]?.[1] ?? 0);
    expect(extra >= 0 && extra <= 16).toBe(true);
    expect(counts[0]?.[3]).toBe(0);
    for (const c of counts) expect(c).toEqual(counts[0]);
  }, 300_000);

  it('flushes with FLUSH CACHE EXT: what was written before the last flush is in the file before the VM closes', async () => {
    const counts = [];
    for (const profile of PROFILES) {
      const path = image(`flush-${profile}.img`, () => 0);
      const run = ataFlush({ sectors: 8, writesPerFlush: 4 });
      const vm = new Vm(placement(profile), run.guest, { board: { diskImage: path } });
      try {
        vm.run(1_000_000);
        const file = new Uint8Array(readFileSync(path)); // before close: only what FLUSH CACHE wrote back
        const flushed = run.sectorsFlushed();
        let mismatches = 0;
        for (let lba = 0; lba < flushed; lba++) for (let i = 0; i < 256; i++) if (patternWord(file, lba, i) !== ataWritePattern(lba, i)) mismatches++;
        expect(mismatches).toBe(0);
        counts.push([run.writes(), run.flushes(), flushed, run.flushCommand(), run.errors()]);
      } finally {
        await vm.close();
      }
    }
    expect(counts[0]?.[1]).toBeGreaterThan(1);
    expect(counts[0]?.[2]).toBe(32 * (counts[0]?.[1] ?? 0));
    expect(counts[0]?.[3]).toBe(0xea);
    expect(counts[0]?.[4]).toBe(0);
    for (const c of counts) expect(c).toEqual(counts[0]);
  }, 300_000);
});
