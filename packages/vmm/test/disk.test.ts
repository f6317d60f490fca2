// The ATA disk on the board, backed by a raw image file: a guest reads sector 0 the way libata's PIO path does
// (LBA28 READ SECTORS, status polling, 256 16-bit data reads), modelled and live, and gets the image's bytes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import { afterAll, describe, expect, it } from 'vitest';
import type { VmMode } from '../src/index.ts';
import { Vm } from '../src/index.ts';
import { placement } from './profiles.ts';

const dir = mkdtempSync(join(tmpdir(), 'splitvisor-disk-'));
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });
const image = join(dir, 'disk.img');
const bytes = new Uint8Array(64 * 512);
for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + 3) & 0xff;
writeFileSync(image, bytes);

function readSector(lba: number, words: number[]): GuestProgram {
  return (function* read(): GuestProgram {
    yield { op: 'out', port: 0x3f6, value: 0x02 }; // nIEN: polled
    yield { op: 'out', port: 0x1f6, value: 0xe0 | ((lba >> 24) & 0x0f) }; // LBA, device 0
    yield { op: 'out', port: 0x1f2, value: 1 };
    yield { op: 'out', port: 0x1f3, value: lba & 0xff };
    yield { op: 'out', port: 0x1f4, value: (lba >> 8) & 0xff };
    yield { op: 'out', port: 0x1f5, value: (lba >> 16) & 0xff };
    yield { op: 'out', port: 0x1f7, value: 0x20 }; // READ SECTORS
    let status = 0x80;
    while ((status & 0x88) !== 0x08) status = yield { op: 'in', port: 0x1f7 }; // BSY clear, DRQ set
    for (let i = 0; i < 256; i++) words.push(yield { op: 'in', port: 0x1f0, size: 2 });
  })();
}

async function run(mode: VmMode) {
  const words: number[] = [];
  const guest = new ScriptedGuest(readSector(3, words));
  const vm = new Vm(placement('kvm-irqchip'), guest, { mode, board: { diskImage: image } });
  try {
    vm.run(10_000_000);
    return { words, exits: Object.fromEntries(vm.counts.exitsByDevice()).disk };
  } finally {
    await vm.close();
  }
}

describe('the ATA disk on the board', () => {
  it('reads the image\'s sector through PIO, the same modelled and live', async () => {
    const modelled = await run('modelled');
    const expected = Array.from({ length: 256 }, (_, i) => (bytes[3 * 512 + 2 * i] ?? 0) | ((bytes[3 * 512 + 2 * i + 1] ?? 0) << 8));
    expect(modelled.words).toEqual(expected);
    expect(modelled.exits?.user).toBeGreaterThanOrEqual(7 + 1 + 256);
    expect(await run('live')).toEqual(modelled);
  }, 60_000);

  it('refuses an image that is not there, in one line, before anything runs', () => {
    const guest = new ScriptedGuest((function* idle(): GuestProgram { yield { op: 'hlt' }; })());
    expect(() => new Vm(placement('kvm-irqchip'), guest, { board: { diskImage: join(dir, 'missing.img') } })).toThrow(/missing\.img/);
  });
});
