// Image files as a user gives them to `splitvisor run`: one the board cannot take — a disk image not of whole
// 512-byte sectors, a diskette of no floppy format's size, a file that is not there — is one line on stderr naming
// the file and what is wrong (a diskette's sizes for a floppy), a non-zero exit, nothing on stdout and the file as it
// was, modelled and live (where the device host's worker opens it); `--disk IMAGE:ro` runs with the image read-only:
// the guest's writes fail, its flushes succeed, and the file keeps every byte.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { ProfileRun } from '../src/profile-run.ts';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const cwd = fileURLToPath(new URL('..', import.meta.url));
const splitvisor = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd, encoding: 'utf8' });

const dir = mkdtempSync(join(tmpdir(), 'splitvisor-images-'));
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

function file(name: string, bytes: number): { path: string; bytes: Buffer } {
  const path = join(dir, name);
  const content = Buffer.from(Uint8Array.from({ length: bytes }, (_, i) => (i * 31 + 7) & 0xff));
  writeFileSync(path, content);
  return { path, bytes: content };
}

/** `run` with `args` failed as a user's mistake does: one line on stderr matching `line`, nothing on stdout. */
function refused(args: string[], line: RegExp): void {
  const run = splitvisor(['run', '--profile', 'qemu-tcg', '--duration', '1ms', ...args]);
  expect(run.status, run.stderr).not.toBe(0);
  expect(run.stdout).toBe('');
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(run.stderr.trimEnd()).toMatch(line);
  expect(run.stderr).not.toMatch(/peer|channel|worker/);
}

const escaped = (path: string) => path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('an image the board cannot take', () => {
  it('a disk image that is not a whole number of 512-byte sectors', () => {
    const disk = file('odd-disk.img', 1000);
    refused(['--workload', 'ata-pio-read', '--disk', disk.path], new RegExp(`^splitvisor: disk image ${escaped(disk.path)} is 1000 bytes, which is not a non-zero multiple of 512$`));
    expect(readFileSync(disk.path)).toEqual(disk.bytes);
  }, 120_000);

  // Not whole sectors (the disk's rule would name 512), and whole sectors of no diskette (the floppy would name no file).
  it.each([['modelled', 'odd-floppy.img', 1_000_000], ['live', 'megabyte.img', 1 << 20]] as const)('a diskette of no floppy format\'s size, %s: the floppy\'s sizes', (mode, name, bytes) => {
    const floppy = file(name, bytes);
    const sizes = 'not 737280 \\(720K\\), 1474560 \\(1\\.44M\\) or 2949120 \\(2\\.88M\\)';
    refused(['--workload', 'floppy-read', '--floppy', floppy.path, ...(mode === 'live' ? ['--live'] : [])], new RegExp(`^splitvisor: floppy image ${escaped(floppy.path)} is ${bytes} bytes, ${sizes}$`));
    expect(readFileSync(floppy.path)).toEqual(floppy.bytes);
  }, 120_000);

  it('a file that is not there, modelled and live', () => {
    const missing = join(dir, 'missing.img');
    refused(['--workload', 'ata-pio-read', '--disk', missing], new RegExp(`^splitvisor: cannot open disk image ${escaped(missing)} for reading and writing: ENOENT`));
    refused(['--workload', 'floppy-read', '--floppy', missing, '--live'], new RegExp(`^splitvisor: cannot open floppy image ${escaped(missing)} for reading and writing: ENOENT`));
  }, 120_000);
});

describe('--disk IMAGE:ro', () => {
  it('runs with the image read-only: every write fails, flushes succeed, the file keeps its bytes — modelled and live alike', () => {
    const disk = file('read-only.img', 1 << 20);
    const progress = (mode: string[]) => {
      const run = splitvisor(['run', '--profile', 'qemu-tcg', '--workload', 'ata-flush', '--disk', `${disk.path}:ro`, '--duration', '2ms', '--json', ...mode]);
      expect(run.status, run.stderr).toBe(0);
      return (JSON.parse(run.stdout) as { run: ProfileRun }).run.progress;
    };
    const modelled = progress([]);
    expect(modelled.writes).toBeGreaterThan(0);
    expect(modelled.flushes).toBeGreaterThan(0);
    expect([modelled.sectors, modelled.sectorsFlushed]).toEqual([0, 0]);
    expect(modelled.errors).toBeGreaterThanOrEqual(modelled.writes ?? 0);
    expect(progress(['--live'])).toEqual(modelled);
    expect(readFileSync(disk.path)).toEqual(disk.bytes);
  }, 180_000); // two runs through tsx: seconds each on a loaded 2-core machine
});
