// `splitvisor experiment NAME`: each runs, prints JSON a machine can read, and is deterministic — the same
// arguments give the same bytes; a bad name or a host the model cannot hold is one line and a non-zero exit.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ExperimentReport } from '../src/experiments.ts';
import { EXPERIMENTS } from '../src/experiments.ts';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const cwd = fileURLToPath(new URL('..', import.meta.url));

function splitvisor(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('splitvisor experiment', () => {
  it.each(EXPERIMENTS)('%s runs, as JSON, byte-identical twice', (name) => {
    const args = ['experiment', name, '--duration', name === 'io-fastpaths' ? '2ms' : '200ms', '--json'];
    const first = splitvisor(...args);
    expect(first.status, first.stderr).toBe(0);
    expect(splitvisor(...args).stdout).toBe(first.stdout);
    const report = JSON.parse(first.stdout) as ExperimentReport;
    expect(report.experiment).toBe(name);
    expect(report.seed).toMatch(/^\.\.\/shared\/seeds\/00[0-4]_/);
    for (const table of report.tables) expect(table.rows.length).toBeGreaterThan(0);
  }, 60_000);

  it('xen-vtimer: the nearest-deadline host takes a timer interrupt for every vCPU\'s deadline, soft timers one CPU\'s worth', () => {
    const report = JSON.parse(splitvisor('experiment', 'xen-vtimer', '--vms', '16', '--vcpus', '4', '--duration', '200ms', '--json').stdout) as ExperimentReport;
    const [scenario] = report.tables;
    const irqs = (strategy: string) => Number(scenario?.rows.find((r) => r.strategy === strategy && r['guest time descheduled'] === 'running')?.['host timer irq/s']);
    expect(irqs('nearest-deadline')).toBeGreaterThan(60_000); // 64 vCPUs × 1 kHz
    expect(irqs('soft-timers')).toBeLessThan(5_000); // 4 CPUs × 1 kHz, and the slices
  }, 60_000);

  it('io-fastpaths: each mechanism saves heavyweight exits where its devices are used, none anywhere adds one', () => {
    const report = JSON.parse(splitvisor('experiment', 'io-fastpaths', '--json').stdout) as ExperimentReport;
    const rows = report.tables[0]?.rows ?? [];
    const exits = (workload: string, mechanisms: string) => Number(rows.find((r) => r.workload === workload && r.mechanisms === mechanisms)?.['heavyweight exits']);
    expect(exits('rtc-read', 'coalescing')).toBeLessThan(exits('rtc-read', 'none')); // the 70h index writes
    expect(exits('keyboard-typing', '+ cached reads')).toBeLessThan(exits('keyboard-typing', 'coalescing')); // the 64h polls
    expect(exits('clocksource-read acpi_pm', '+ kernel counters')).toBeLessThan(exits('clocksource-read acpi_pm', '+ cached reads') / 10); // every PM timer read
    expect(exits('clocksource-read pit', '+ fast-path programs')).toBeLessThan(exits('clocksource-read pit', '+ kernel counters') * 0.6); // latch, LSB, MSB (the port 80h delays still go out)
    expect(exits('serial-console', '+ posted writes (all)')).toBeLessThan(exits('serial-console', '+ fast-path programs')); // THR and IER writes go one way
    for (const row of rows) expect(Number(row['saved vs none']), `${String(row.workload)} ${String(row.mechanisms)}`).toBeGreaterThanOrEqual(0);
  }, 180_000); // every workload under every mechanism: half a minute alone, longer on a loaded CI

  it('refuses an unknown experiment or a host the model cannot hold, in one line, writing nothing', () => {
    for (const [args, message] of [
      [['experiment', 'no-such'], /^splitvisor: unknown experiment "no-such" \(there are: xen-vtimer, lost-ticks, event-resolution, time-policies, io-fastpaths\)$/],
      [['experiment', 'xen-vtimer', '--vcpus', '65'], /^splitvisor: vcpusPerVm: a whole number from 1 to 64, not 65$/],
      [['experiment', 'xen-vtimer', '--pcpus', '300'], /^splitvisor: pcpus: a whole number from 1 to 256, not 300$/],
      [['experiment', 'xen-vtimer', '--vms', '0'], /--vms.*positive whole number/],
    ] as const) {
      const { status, stdout, stderr } = splitvisor(...args);
      expect(status, args.join(' ')).not.toBe(0);
      expect(stdout, args.join(' ')).toBe('');
      expect(stderr.trim().split('\n'), args.join(' ')).toEqual([expect.stringMatching(message)]);
    }
  }, 60_000);
});
