// The cost model in the open: `splitvisor costs` names every transition with its cycles and source, and
// `--costs FILE` charges a run in a model of the user's own — a bad file is one line naming the entry.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KVM_2020, costTable } from '@splitvisor/metrics';
import { afterAll, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'splitvisor-costs-'));
const splitvisor = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { encoding: 'utf8' });

function costFile(name: string, content: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

describe('splitvisor costs', () => {
  it('lists every transition kind with its cycles and a source, the boundaries as the model has them', () => {
    const rows = costTable(KVM_2020);
    expect(rows.map((r) => r.transition)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^VM exit/), expect.stringMatching(/^heavyweight exit/), expect.stringMatching(/^vCPU kick/),
      expect.stringMatching(/^irq-window exit/), expect.stringMatching(/^interrupt injection/), expect.stringMatching(/^coalesced-ring append/),
    ]));
    for (const row of rows) expect(row.source.length, row.transition).toBeGreaterThan(10);
    const { stdout, status } = splitvisor('costs', '--json');
    expect(status).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ model: 'kvm-2020', description: KVM_2020.description, transitions: rows });
  }, 30_000);

  it('charges a run in a model of the user\'s own, and says which', () => {
    const mine = costFile('mine.json', { name: 'my-epyc', base: 'kvm-2020', costs: { 'heavyweight-exit': { cycles: 10_000, source: 'measured on my host' } } });
    const args = ['run', '--profile', 'kvm-userspace-pit', '--workload', 'linux-idle-pit', '--duration', '10ms', '--json'];
    const theirs = JSON.parse(splitvisor(...args).stdout) as { run: { overheadCycles: number; heavyweightExits: number; costModel: string } };
    const ours = JSON.parse(splitvisor(...args, '--costs', mine).stdout) as { run: { overheadCycles: number; heavyweightExits: number; costModel: string } };
    expect(ours.run.costModel).toBe('my-epyc');
    expect(ours.run.heavyweightExits).toBeGreaterThan(0);
    // Guest time runs on through each exit's round trip: the dearer exits leave the same guest less time to run.
    expect(ours.run.overheadCycles).toBeGreaterThan(theirs.run.overheadCycles);
    const table = JSON.parse(splitvisor('costs', '--costs', mine, '--json').stdout) as { transitions: { charged: string; cycles: number }[] };
    expect(table.transitions.find((t) => t.charged === 'heavyweight-exit')?.cycles).toBe(10_000);
  }, 60_000);

  it.each([
    ['not JSON', '{ nope', /^splitvisor: .*bad-0\.json: not JSON/],
    ['an unknown entry', { name: 'x', base: 'kvm-2020', costs: { 'vm-exit': { cycles: 1, source: 's' } } }, /^splitvisor: .*bad-1\.json: costs: Unrecognized key: "vm-exit"$/],
    ['negative cycles and no source', { name: 'x', base: 'kvm-2020', costs: { exit: { cycles: -1, source: '' } } }, /^splitvisor: .*bad-2\.json: costs\.exit\.cycles: cycles cannot be negative; costs\.exit\.source: say where the number comes from$/],
    ['an unknown base', { name: 'x', base: 'vmware', costs: {} }, /^splitvisor: .*bad-3\.json: base: a built-in model to start from: kvm-2020, tcg$/],
  ])('refuses a cost file with %s in one line, running nothing', (_what, content, message) => {
    const file = costFile(`bad-${['not JSON', 'an unknown entry', 'negative cycles and no source', 'an unknown base'].indexOf(_what)}.json`, content);
    const result = splitvisor('run', '--profile', 'kvm-irqchip', '--duration', '1ms', '--costs', file);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(message)]);
  }, 30_000);
});

describe('splitvisor calibrate', () => {
  it('measures each transition here beside the model: the kernel\'s answer, the direct and worker transports, the ping-pong floor', () => {
    const { stdout, status, stderr } = splitvisor('calibrate', '--iterations', '300', '--json');
    expect(status, stderr).toBe(0);
    const calibration = JSON.parse(stdout) as { iterations: number; model: string; rows: { transition: string; modelCycles?: number; measuredNs: number }[] };
    expect(calibration).toMatchObject({ iterations: 300, model: 'kvm-2020' });
    expect(calibration.rows.map((r) => r.transition)).toEqual([
      expect.stringMatching(/^exit answered in the kernel/), expect.stringMatching(/^heavyweight exit, direct transport/),
      expect.stringMatching(/^heavyweight exit, worker transport/), expect.stringMatching(/^SharedArrayBuffer ping-pong/),
    ]);
    // Wall-clock figures: only that each was measured (a number above zero), never how fast.
    for (const row of calibration.rows) expect(row.measuredNs, row.transition).toBeGreaterThan(0);
    expect(calibration.rows.slice(0, 3).map((r) => r.modelCycles)).toEqual([2_000, 2_528, 2_528]);
  }, 120_000);
});
