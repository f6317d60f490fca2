// `run --move DEVICE:PLACE@TIME`: a device moved between domains while the guest runs changes where its exits land,
// never what the guest sees; a move that cannot be is one line and nothing runs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { ProfileRun } from '../src/profile-run.ts';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const cwd = fileURLToPath(new URL('..', import.meta.url));
const splitvisor = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd, encoding: 'utf8' });
const scratch = mkdtempSync(join(tmpdir(), 'splitvisor-move-'));
afterAll(() => { rmSync(scratch, { recursive: true, force: true }); });

describe('run --move', () => {
  it('moves the RTC out of the device host and back: the guest counts what it counted, the report marks the moves', () => {
    const shown = splitvisor(['profiles', '--show', 'kvm-irqchip']);
    const file = join(scratch, 'kvm-irqchip-guest-cycles.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(shown.stdout) as object, time: { kind: 'guest-cycles' } }));
    const args = ['run', '--placement', file, '--workload', 'rtc-periodic', '--duration', '30ms', '--json'];
    const still = splitvisor(args);
    const moved = splitvisor([...args, '--move', 'rtc:monitor@10ms', '--move', 'rtc:user@20ms']);
    expect(moved.status, moved.stderr).toBe(0);
    const a = (JSON.parse(still.stdout) as { run: ProfileRun }).run;
    const b = (JSON.parse(moved.stdout) as { run: ProfileRun }).run;
    expect(b.progress).toEqual(a.progress);
    expect(b.moves?.map((m) => [m.device, m.from, m.to])).toEqual([['rtc', 'user', 'monitor'], ['rtc', 'monitor', 'user']]);
    expect(b.exitsByDevice.rtc?.monitor).toBeGreaterThan(0); // its accesses in the monitor's time there
    const table = splitvisor(['run', '--profile', 'kvm-irqchip', '--workload', 'pit-tick', '--duration', '20ms', '--move', 'pit:user@5ms']);
    expect(table.stdout).toMatch(/Devices moved while the guest ran/);
    expect(table.stdout).toMatch(/delay → discard/);
  }, 120_000);

  it('moves live too, the device host in a process making the device moving in', () => {
    const args = ['run', '--profile', 'kvm-irqchip', '--workload', 'rtc-periodic', '--duration', '20ms', '--devhost', 'process', '--json'];
    const still = splitvisor(args);
    const moved = splitvisor([...args, '--move', 'rtc:monitor@5ms', '--move', 'rtc:user@10ms', '--move', 'pit:user@12ms']);
    expect(moved.status, moved.stderr).toBe(0);
    const a = (JSON.parse(still.stdout) as { run: ProfileRun }).run;
    const b = (JSON.parse(moved.stdout) as { run: ProfileRun }).run;
    expect(b.progress).toEqual(a.progress);
    expect(b.guestCycles).toBe(a.guestCycles);
    expect(b.moves?.map((m) => [m.device, m.from, m.to])).toEqual([['rtc', 'user', 'monitor'], ['rtc', 'monitor', 'user'], ['pit', 'kernel', 'user']]);
  }, 120_000);

  it('refuses a move that cannot be, in one line', () => {
    for (const [move, message] of [
      ['pic:kernel@5ms', /pic is part of the irqchip/],
      ['disk:kernel@5ms', /disk in the kernel cannot raise its irq line/],
      ['vga:kernel@5ms', /vga cannot move to kernel|would change the irqchip topology|cannot raise its irq line/],
      ['nothing:user@5ms', /unknown device "nothing"/],
      ['pit:cloud@5ms', /moves to kernel, monitor or user/],
      ['pit:user', /expected DEVICE:PLACE@TIME/],
    ] as const) {
      const result = splitvisor(['run', '--profile', 'qemu-tcg', '--duration', '10ms', '--move', move]);
      expect(result.status, move).toBe(1);
      expect(result.stderr.trim().split('\n'), move).toHaveLength(1);
      expect(result.stderr, move).toMatch(message);
    }
  }, 120_000);
});
