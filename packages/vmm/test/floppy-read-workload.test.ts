// The floppy-read workload on a real VM: Linux's floppy driver sequence against the 82077AA and the 8237 pair,
// reading a diskette image whose every sector names itself; the last read's sectors land in guest RAM at the DMA
// buffer, no command fails, and every placement shows the guest the same.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { FLOPPY_DMA_BUFFER, floppyRead } from '@splitvisor/workloads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Vm } from '../src/index.ts';
import { placement } from './profiles.ts';

const PROFILES = ['qemu-tcg', 'kvm-irqchip', 'kvm-split', 'plex86'] as const;
const FLOPPY_VECTOR = 0x26;
const dir = mkdtempSync(join(tmpdir(), 'splitvisor-floppy-workload-'));
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });
const bytes = new Uint8Array(1_474_560);
for (let i = 0; i < bytes.length; i++) bytes[i] = ((i >> 9) * 13 + (i & 0x1ff)) & 0xff;
const path = join(dir, 'a.img');
writeFileSync(path, bytes);

describe('floppy-read on a VM', () => {
  it('reads the diskette by DMA into guest RAM, with irq 6 per seek and read, the same under every placement', async () => {
    const results = [];
    for (const profile of PROFILES) {
      let last: [number, number] = [0, 0];
      const run = floppyRead({ sectors: 18, onRead: (lba, n) => { last = [lba, n]; } });
      const vm = new Vm(placement(profile), run.guest, { board: { floppyImage: path } });
      try {
        vm.run(2_000_000);
        const [lba, n] = last;
        const ram = new Uint8Array(vm.ram, FLOPPY_DMA_BUFFER, n * 512);
        expect(ram).toEqual(bytes.subarray(lba * 512, (lba + n) * 512));
        const exits = Object.fromEntries(vm.counts.exitsByDevice());
        results.push({
          reads: run.reads(), sectors: run.sectors(), seeks: run.seeks(), interrupts: run.interrupts(), resets: run.resets(), errors: run.errors(),
          taken: run.guest.taken.get(FLOPPY_VECTOR), last, fdc: (exits.floppy?.monitor ?? 0) > 0, dma: (exits.dma?.monitor ?? 0) > 0,
        });
      } finally {
        await vm.close();
      }
    }
    const [first] = results;
    expect(first?.reads).toBeGreaterThan(4);
    expect(first?.sectors).toBe(18 * (first?.reads ?? 0)); // every completed read moved its 18 sectors
    expect([first?.errors, first?.resets, first?.fdc, first?.dma]).toEqual([0, 1, true, true]);
    // The reset's interrupt, one per seek or recalibrate, one per READ DATA.
    expect((first?.interrupts ?? 0) - 1 - (first?.seeks ?? 0) - (first?.reads ?? 0)).toBeOneOf([0, 1]);
    for (const r of results) expect(r).toEqual(first);
  }, 300_000);
});
