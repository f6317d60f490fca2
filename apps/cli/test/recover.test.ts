// `run --devhost process`, `--recover`, `--kill-devhost-at`: the device host in a jailed child process gives the
// guest what a worker gives it; a host that dies makes the run stop with the access it never answered — or, with
// --recover, go on from the last checkpoint, counting the whole run and saying how much guest time it replayed.
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
const scratch = mkdtempSync(join(tmpdir(), 'splitvisor-recover-'));
afterAll(() => { rmSync(scratch, { recursive: true, force: true }); });

const runOf = (stdout: string) => (JSON.parse(stdout) as { run: ProfileRun }).run;
/** What the guest saw and what its exits were, not the wall clock's figures. */
const seen = (run: ProfileRun) => ({ progress: run.progress, guestCycles: run.guestCycles, exitsByDevice: run.exitsByDevice, interrupts: run.interrupts, console: run.console });

describe('a device host in its own process', () => {
  it('shows the guest what the worker shows it, and writes the disk image it was given', () => {
    const args = ['run', '--profile', 'kvm-split', '--workload', 'pit-tick', '--duration', '30ms', '--json'];
    const worker = splitvisor([...args, '--live']);
    const child = splitvisor([...args, '--devhost', 'process']);
    expect(child.status, child.stderr).toBe(0);
    expect(runOf(child.stdout).mode).toBe('live');
    expect(seen(runOf(child.stdout))).toEqual(seen(runOf(worker.stdout)));
    // The image is the one file it may write: the guest's sectors land in it.
    const image = join(scratch, 'disk.img');
    writeFileSync(image, new Uint8Array(16 * 1024 * 1024));
    const written = splitvisor(['run', '--profile', 'qemu-tcg', '--workload', 'ata-pio-write', '--duration', '300us', '--devhost', 'process', '--disk', image, '--json']);
    expect(written.status, written.stderr).toBe(0);
    expect(runOf(written.stdout).progress.errors).toBe(0);
    expect(readFileSync(image).some((byte) => byte !== 0)).toBe(true);
  }, 180_000);

  it('stops at the access a dead host never answered, in one line; --recover goes on and counts the whole run', () => {
    const args = ['run', '--profile', 'qemu-tcg', '--workload', 'pit-tick', '--duration', '40ms', '--devhost', 'process', '--json'];
    const undisturbed = splitvisor(args);
    const lost = splitvisor([...args, '--kill-devhost-at', '60']);
    expect(lost.status).toBe(1);
    expect(lost.stdout).toBe('');
    expect(lost.stderr.trim().split('\n')).toHaveLength(1);
    expect(lost.stderr).toMatch(/^splitvisor: the device host was lost while serving .+ at guest time [\d.]+ ms: peer died: devhost process \d+ was killed by SIGKILL; the guest is paused at that access \(--recover goes on from a checkpoint\)$/m);
    const recovered = splitvisor([...args, '--kill-devhost-at', '60', '--recover', '--checkpoint-every', '10ms']);
    expect(recovered.status, recovered.stderr).toBe(0);
    const run = runOf(recovered.stdout);
    expect(seen(run)).toEqual(seen(runOf(undisturbed.stdout)));
    expect(run.recovery?.checkpoints).toBe(3);
    expect(run.recovery?.recoveries).toHaveLength(1);
    const [recovery] = run.recovery?.recoveries ?? [];
    expect(recovery?.replayedNs).toBe((recovery?.atNs ?? 0) - (recovery?.fromNs ?? 0));
    expect(recovery?.reason).toMatch(/killed by SIGKILL/);
    const table = splitvisor(args.filter((a) => a !== '--json').concat(['--kill-devhost-at', '60', '--recover', '--checkpoint-every', '10ms']));
    expect(table.stdout).toMatch(/Device host lost 1 time, each time the VM made again from the last checkpoint/);
    expect(table.stdout).toMatch(/guest ms replayed/);
  }, 180_000);

  it('refuses what cannot be recovered or injected, in one line', () => {
    for (const [extra, message] of [
      [['--recover'], /--recover is for a live device host/],
      [['--checkpoint-every', '10ms'], /--checkpoint-every sets how often --recover checkpoints/],
      [['--kill-devhost-at', '5'], /--kill-devhost-at is for a live device host/],
      [['--live', '--recover', '--disk', join(scratch, 'disk.img')], /--recover needs the disk image read-only/],
      [['--devhost', 'thread'], /Allowed choices are worker, process/],
    ] as const) {
      const result = splitvisor(['run', '--profile', 'qemu-tcg', '--duration', '10ms', ...extra]);
      expect(result.status, extra.join(' ')).toBe(1);
      expect(result.stderr.trim().split('\n'), extra.join(' ')).toHaveLength(1);
      expect(result.stderr, extra.join(' ')).toMatch(message);
    }
  }, 120_000);
});
