// `run --snapshot-at T --snapshot-to DIR` and `resume DIR`: the guest sees, from a snapshot resumed under its own
// placement or another one, what it saw in the run that was never stopped; a snapshot folder that is not whole is
// refused in one line naming the file, and nothing is written over anything.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { ProfileRun } from '../src/profile-run.ts';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const cwd = fileURLToPath(new URL('..', import.meta.url));
const splitvisor = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd, encoding: 'utf8' });
const scratch = mkdtempSync(join(tmpdir(), 'splitvisor-snapshot-'));
afterAll(() => { rmSync(scratch, { recursive: true, force: true }); });

/** A profile as a placement file whose guest time is the cycles it ran: what the guest sees is then every placement's. */
function guestCyclesFile(profile: string): string {
  const shown = splitvisor(['profiles', '--show', profile]);
  const file = join(scratch, `${profile}.json`);
  writeFileSync(file, JSON.stringify({ ...JSON.parse(shown.stdout) as object, time: { kind: 'guest-cycles' } }));
  return file;
}

const runOf = (stdout: string) => (JSON.parse(stdout) as { run: ProfileRun }).run;
const seen = (run: ProfileRun) => ({ progress: run.progress, console: run.console });

describe('snapshot and resume', () => {
  it('continues under its own placement and under another, the guest seeing what the uninterrupted run showed it', () => {
    const from = guestCyclesFile('kvm-irqchip');
    const to = guestCyclesFile('qemu-tcg');
    const whole = splitvisor(['run', '--placement', from, '--workload', 'serial-console', '--duration', '20ms', '--json']);
    expect(whole.status, whole.stderr).toBe(0);
    const dir = join(scratch, 'serial');
    const taken = splitvisor(['run', '--placement', from, '--workload', 'serial-console', '--duration', '20ms', '--snapshot-at', '8ms', '--snapshot-to', dir, '--json']);
    expect(taken.status, taken.stderr).toBe(0);
    expect(seen(runOf(taken.stdout))).toEqual(seen(runOf(whole.stdout))); // taking it changes nothing for the guest
    expect(runOf(taken.stdout).snapshot?.sizes.devices).toHaveProperty('serial');
    for (const args of [[], ['--placement', to]]) {
      const resumed = splitvisor(['resume', dir, ...args, '--json']);
      expect(resumed.status, resumed.stderr).toBe(0);
      const run = runOf(resumed.stdout);
      expect(seen(run)).toEqual(seen(runOf(whole.stdout)));
      expect(run.resumedFrom?.placement).toBe('kvm-irqchip');
    }
    const table = splitvisor(['resume', dir, '--placement', to]);
    expect(table.stdout).toMatch(/Resumed from .* under kvm-irqchip/);
  }, 120_000);

  it('refuses a snapshot that is not whole, in one line naming the file', () => {
    const dir = join(scratch, 'tick');
    expect(splitvisor(['run', '--profile', 'kvm-irqchip', '--workload', 'pit-tick', '--duration', '10ms', '--snapshot-at', '5ms', '--snapshot-to', dir]).status).toBe(0);
    const state = join(dir, 'state.msgpack');
    const manifest = join(dir, 'manifest.json');
    const good = readFileSync(state);
    const refused = (pattern: RegExp) => {
      const result = splitvisor(['resume', dir]);
      expect(result.status).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(pattern);
    };
    const flipped = Buffer.from(good);
    const middle = flipped.length >> 1;
    flipped[middle] = (flipped[middle] ?? 0) ^ 0xff;
    writeFileSync(state, flipped);
    refused(/state\.msgpack: checksum does not match/);
    writeFileSync(state, good);
    truncateSync(state, good.length - 100);
    refused(/state\.msgpack: \d+ bytes where the manifest says \d+ \(truncated/);
    writeFileSync(state, good);
    const text = readFileSync(manifest, 'utf8');
    writeFileSync(manifest, text.replace('"version": 1', '"version": 2'));
    refused(/manifest\.json: snapshot format version 2; this splitvisor reads version 1/);
    writeFileSync(manifest, '{ not json');
    refused(/manifest\.json: not JSON/);
    writeFileSync(manifest, text);
    const elsewhere = splitvisor(['resume', dir, '--profile', 'firecracker']);
    expect(elsewhere.status).toBe(1);
    expect(elsewhere.stderr).toMatch(/tick: the snapshot's \S+ has no place in firecracker/);
    expect(splitvisor(['resume', dir]).status).toBe(0); // whole again
  }, 120_000);

  it('writes over nothing, and takes its two flags together and before the end of the run', () => {
    const full = join(scratch, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'keep'), 'mine');
    const over = splitvisor(['run', '--profile', 'qemu-tcg', '--duration', '10ms', '--snapshot-at', '5ms', '--snapshot-to', full]);
    expect(over.status).toBe(1);
    expect(over.stderr).toMatch(/full: the folder exists and is not empty/);
    expect(readdirSync(full)).toEqual(['keep']);
    const alone = splitvisor(['run', '--profile', 'qemu-tcg', '--duration', '10ms', '--snapshot-at', '5ms']);
    expect(alone.stderr).toMatch(/give --snapshot-at TIME and --snapshot-to DIR together/);
    const late = splitvisor(['run', '--profile', 'qemu-tcg', '--duration', '10ms', '--snapshot-at', '10ms', '--snapshot-to', join(scratch, 'late')]);
    expect(late.stderr).toMatch(/--snapshot-at 10 ms is not before the end of the run/);
    expect(readdirSync(scratch)).not.toContain('late');
  }, 120_000);
});
