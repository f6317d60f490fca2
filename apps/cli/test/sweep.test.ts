// `splitvisor sweep` on the local pool: results as `run --json` prints them, the same bytes on 1 job or 2, a
// sweep killed with SIGKILL resumed without redoing or losing a run, the summary and the report of the folder, a
// run that fails reported, and each bad input one line with nothing written.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const cwd = fileURLToPath(new URL('..', import.meta.url));
const splitvisor = (args: readonly string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd, encoding: 'utf8' });

// 3 placements × (linux-idle-pit at two HZ + serial-console, which takes no hz): 9 runs of 20 ms.
const SWEEP = ['sweep', '--profiles', 'kvm-irqchip,kvm-split,plex86', '--workloads', 'linux-idle-pit,serial-console', '--param', 'hz=100,1000', '--duration', '20ms'];
const RESULT = /^[0-9a-f]{16}\.json$/;

const root = mkdtempSync(join(tmpdir(), 'splitvisor-sweep-'));
afterAll(() => { rmSync(root, { recursive: true, force: true }); });

/** Every file of a folder by name, as bytes. */
function contents(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).sort().map((name) => [name, readFileSync(join(dir, name))]));
}

interface Manifest { runs: { file: string; profile: string; workload: string; parameters: Record<string, string> }[] }
const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')) as Manifest;

let reference: Map<string, Buffer>;
const referenceDir = join(root, 'two-jobs');

beforeAll(() => {
  const swept = splitvisor([...SWEEP, '--out', referenceDir, '--jobs', '2']);
  expect(swept.status, swept.stderr).toBe(0);
  reference = contents(referenceDir);
}, 120_000);

describe('splitvisor sweep', () => {
  it('writes one result per run, named by its inputs, the bytes run --json prints, the same on 1 job as on 2', () => {
    const results = [...reference.keys()].filter((name) => RESULT.test(name));
    expect(results).toHaveLength(9); // serial-console takes no hz: one run per placement, not two
    expect([...reference.keys()].filter((name) => !RESULT.test(name))).toEqual(['summary.json', 'sweep.json']);

    const oneJob = join(root, 'one-job');
    const swept = splitvisor([...SWEEP, '--out', oneJob, '--jobs', '1']);
    expect(swept.status, swept.stderr).toBe(0);
    expect(contents(oneJob)).toEqual(reference);

    const run = manifestOf(referenceDir).runs.find((r) => r.profile === 'kvm-split' && r.workload === 'linux-idle-pit' && r.parameters.hz === '100');
    const alone = splitvisor(['run', '--profile', 'kvm-split', '--workload', 'linux-idle-pit', '--param', 'hz=100', '--duration', '20ms', '--json']);
    expect(alone.status, alone.stderr).toBe(0);
    expect(reference.get(run?.file ?? '')?.toString()).toBe(alone.stdout);
  }, 120_000);

  it('sums the runs up in summary.json and a table, and report draws the folder, a comparison per workload', () => {
    const summary = JSON.parse(reference.get('summary.json')?.toString() ?? '') as { done: number; failed: number; runs: { profile: string; status: string; overheadCycles: number; parameters: Record<string, string> }[] };
    expect(summary).toMatchObject({ format: 'splitvisor-sweep-summary', done: 9, failed: 0 });
    const idle = (profile: string, hz: string) => summary.runs.find((r) => r.profile === profile && r.parameters.hz === hz)?.overheadCycles ?? 0;
    expect(idle('kvm-split', '1000')).toBeGreaterThan(idle('kvm-irqchip', '1000')); // the userspace PIT costs more
    expect(idle('kvm-irqchip', '1000')).toBeGreaterThan(idle('kvm-irqchip', '100')); // ten times the ticks

    const page = join(root, 'report.html');
    const drawn = splitvisor(['report', referenceDir, '-o', page]);
    expect(drawn.status, drawn.stderr).toBe(0);
    const headings = [...readFileSync(page, 'utf8').matchAll(/<h2>([^<]*)<\/h2>/g)].map((m) => m[1]);
    expect(headings).toEqual([
      'compare — kvm-irqchip, kvm-split, plex86, workload linux-idle-pit hz=100, 20 ms',
      'compare — kvm-irqchip, kvm-split, plex86, workload linux-idle-pit hz=1000, 20 ms',
      'compare — kvm-irqchip, kvm-split, plex86, workload serial-console, 20 ms',
    ]);
  }, 60_000);

  it('resumes a sweep killed with SIGKILL: no finished run redone, none lost, a half-written one never read', async () => {
    const dir = join(root, 'killed');
    mkdirSync(dir);
    const child = spawn(process.execPath, ['--import', 'tsx', main, ...SWEEP, '--out', dir, '--jobs', '1'], { cwd, stdio: 'ignore' });
    // Killed as the first result lands (renamed into place), the rest still to run.
    await new Promise<void>((resolve, reject) => {
      const watcher = watch(dir, () => {
        if (!readdirSync(dir).some((name) => RESULT.test(name))) return;
        watcher.close();
        child.kill('SIGKILL');
        resolve();
      });
      child.on('exit', () => { watcher.close(); reject(new Error('the sweep ended before it was killed')); });
    });
    await new Promise((resolve) => child.on('exit', resolve));
    const before = readdirSync(dir).filter((name) => RESULT.test(name));
    expect(before.length).toBeGreaterThan(0);
    expect(before.length).toBeLessThan(9);
    const stamps = new Map(before.map((name) => [name, statSync(join(dir, name), { bigint: true }).mtimeNs]));
    // What a writer killed mid-write leaves: a temporary, cut short, under a name no run is read from.
    const unfinished = manifestOf(dir).runs.find((r) => !before.includes(r.file))?.file ?? '';
    writeFileSync(join(dir, `.${unfinished}.${child.pid}.tmp`), reference.get(unfinished)?.subarray(0, 100) ?? '');

    const resumed = splitvisor([...SWEEP, '--out', dir, '--jobs', '2']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`9 runs (${before.length} finished before), ${9 - before.length} to run`);
    for (const [name, stamp] of stamps) expect(statSync(join(dir, name), { bigint: true }).mtimeNs).toBe(stamp);
    expect(contents(dir)).toEqual(reference);

    const again = splitvisor([...SWEEP, '--out', dir]);
    expect(again.stdout).toContain('9 runs (9 finished before), 0 to run');
    expect(contents(dir)).toEqual(reference);
  }, 120_000);

  it('reports a run that fails, with its line, runs the rest, and exits non-zero', () => {
    // A placement the schema accepts but no VM can wire: the local APIC in the monitor, the 8259 and I/O APIC in userspace.
    const placements = join(root, 'placements');
    mkdirSync(placements);
    const shown = splitvisor(['profiles', '--show', 'kvm-split']);
    const file = JSON.parse(shown.stdout) as { name: string; devices: Record<string, string> };
    writeFileSync(join(placements, 'odd.json'), JSON.stringify({ ...file, name: 'odd-irqchip', devices: { ...file.devices, lapic: 'monitor' } }));
    const dir = join(root, 'failing');
    const swept = splitvisor(['sweep', '--profiles', 'kvm-irqchip', '--placement-dir', placements, '--workloads', 'serial-console', '--duration', '10ms', '--out', dir, '--json']);
    expect(swept.status).toBe(1);
    expect(swept.stderr).toMatch(/^splitvisor: run [0-9a-f]{16}\.json \(odd-irqchip × serial-console\) failed: odd-irqchip: the 8259, I\/O APIC and local APIC must share a domain/m);
    const summary = JSON.parse(swept.stdout) as { done: number; failed: number; runs: { profile: string; status: string }[] };
    expect(summary).toMatchObject({ done: 1, failed: 1 });
    expect(summary.runs.map((r) => [r.profile, r.status])).toEqual([['kvm-irqchip', 'done'], ['odd-irqchip', 'failed']]);
  }, 60_000);

  it('refuses bad input in one line, exit ≠ 0, nothing written', () => {
    const out = join(root, 'refused');
    const cases: [string[], RegExp][] = [
      [['--profiles', 'kvm-split', '--workloads', ','], /empty sweep: --workloads names none/],
      [['--workloads', 'linux-idle-pit'], /empty sweep: give --profiles/],
      [['--profiles', 'kvm-split', '--workloads', 'linux-idle-pit', '--param', 'hz='], /--param hz=: an empty value/],
      [['--profiles', 'kvm-nope', '--workloads', 'linux-idle-pit'], /unknown profile "kvm-nope"/],
      [['--profiles', 'kvm-split', '--workloads', 'linux-idle-nope'], /unknown workload "linux-idle-nope"/],
      [['--profiles', 'kvm-split', '--workloads', 'linux-idle-pit', '--param', 'sectors=8'], /unknown parameter "sectors": no run of this sweep takes it/],
      [['--profiles', 'kvm-split', '--workloads', 'linux-idle-pit', '--param', 'vcpus=1,2'], /unknown parameter "vcpus"/],
      [['--profiles', 'kvm-split', '--workloads', 'linux-idle-pit', '--param', 'hz=7'], /parameter hz takes one of 100, 250, 300, 1000, not "7"/],
      [['--profiles', 'kvm-split', '--workloads', 'linux-idle-pit', '--param', 'cost-model=free'], /unknown cost model "free"/],
    ];
    for (const [args, message] of cases) {
      const refused = splitvisor(['sweep', ...args, '--out', out]);
      expect(refused.status, args.join(' ')).not.toBe(0);
      expect(refused.stderr.trim().split('\n'), args.join(' ')).toEqual([expect.stringMatching(message)]);
      expect(existsSync(out)).toBe(false);
    }
    // A folder holding another sweep's results, or anything else: refused, every file as it was.
    const before = contents(referenceDir);
    const other = splitvisor(['sweep', '--profiles', 'kvm-split', '--workloads', 'linux-idle-pit', '--out', referenceDir]);
    expect(other.status).toBe(1);
    expect(other.stderr.trim().split('\n')).toEqual([expect.stringMatching(/holds another sweep's results \(9 runs of kvm-irqchip, kvm-split, plex86 × linux-idle-pit, serial-console; this one is 1 run of kvm-split × linux-idle-pit\)/)]);
    expect(contents(referenceDir)).toEqual(before);
    const foreign = join(root, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'notes.txt'), 'mine');
    const refused = splitvisor(['sweep', '--profiles', 'kvm-split', '--workloads', 'linux-idle-pit', '--out', foreign]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/is not empty and holds no sweep/);
    expect(readdirSync(foreign)).toEqual(['notes.txt']);
  }, 120_000);
});
