import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DeviceName } from '@splitvisor/placement';
import { DEVICES } from '@splitvisor/placement';
import type { LoneDeviceMaker } from '@splitvisor/vmm';
import { describe, expect, it } from 'vitest';
import type { FuzzReport, FuzzTarget } from '../src/fuzz.ts';
import { FINDINGS_LISTED, boardTarget, fuzz } from '../src/fuzz.ts';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const cwd = fileURLToPath(new URL('..', import.meta.url));
const splitvisor = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd, encoding: 'utf8' });

type Device = ReturnType<LoneDeviceMaker>;

/** A one-port device that keeps a byte, with `overrides` for what a broken one does instead. */
function double(name: string, overrides: (context: Parameters<LoneDeviceMaker>[0]) => Partial<Device>): FuzzTarget {
  return {
    name,
    make: (context) => {
      let latch = 0;
      const device: Device = {
        model: 'test-double',
        regions: [{ name: 'data', space: 'port', length: 4, sizes: [1, 2] }],
        read: () => latch,
        write: (_region, _offset, _size, value) => { latch = value & 0xff; },
        getState: () => ({ model: 'test-double', version: 1, latch }),
        setState: (state) => { latch = Number(state.latch); },
        anomalies: () => ({ ignoredWrites: 0 }),
      };
      return { ...device, ...overrides(context) };
    },
  };
}

describe('splitvisor fuzz', () => {
  it('drives every device of the board through 10^5 operations: none throws or breaks an invariant, and the counts add up', () => {
    const report = fuzz(DEVICES.map(boardTarget), { ops: 100_000, seed: 1 });
    expect(report.devices.map((d) => d.device)).toEqual([...DEVICES]);
    for (const d of report.devices) {
      expect({ device: d.device, throws: d.firstThrows, violations: d.violations }).toEqual({ device: d.device, throws: [], violations: [] });
      expect(d.reads + d.writes + d.advances, d.device).toBe(100_000);
      expect(d.reads, d.device).toBeGreaterThan(30_000);
      expect(d.writes, d.device).toBeGreaterThan(30_000);
      expect(d.virtualTimeNs, d.device).toBeGreaterThan(0);
      expect(d.stateChecks, d.device).toBeGreaterThanOrEqual(2); // at power-on and at the end
      const total = Object.values(d.anomalies).reduce((sum, n) => sum + n, 0);
      expect((d.ignoredWrites ?? 0) + (d.openBusReads ?? 0) + d.otherAnomalies, d.device).toBe(total);
    }
    expect(report).toMatchObject({ throws: 0, invariantViolations: 0, passed: true });
    // The 8254's control port is write-only and the RTC answers 0xff past its index: the anomalies are the devices' own.
    expect(report.devices.find((d) => d.device === 'pit')?.anomalies.controlPortReads).toBeGreaterThan(0);
    expect(report.devices.find((d) => d.device === 'rtc')?.openBusReads).toBeGreaterThan(0);
    expect(report.devices.find((d) => d.device === 'pit')?.ignoredWrites).toBeNull(); // not a count the 8254 keeps: n/a
  }, 240_000);

  it('gives the same report for the same seed, another for another, and each device the same wherever it runs in the list', () => {
    const run = (seed: number, names: readonly DeviceName[] = DEVICES) => fuzz(names.map(boardTarget), { ops: 3_000, seed });
    const first = JSON.stringify(run(42));
    expect(JSON.stringify(run(42))).toBe(first);
    const rtc = (JSON.parse(first) as FuzzReport).devices.find((d) => d.device === 'rtc');
    expect(run(42, ['rtc']).devices[0]).toEqual(rtc);
    expect(run(43, ['rtc']).devices[0]).not.toEqual(rtc);
  }, 120_000);

  it('reports a device whose write throws: counted, the first few listed with the operation, and the run fails', () => {
    const report = fuzz([double('broken', () => ({ write: () => { throw new TypeError('no such register'); } }))], { ops: 2_000, seed: 5 });
    const [broken] = report.devices;
    expect(broken?.throws).toBe(broken?.writes);
    expect(broken?.throws).toBeGreaterThan(500);
    expect(broken?.firstThrows).toHaveLength(FINDINGS_LISTED);
    for (const f of broken?.firstThrows ?? []) {
      expect(f.what).toBe('TypeError: no such register');
      expect(f.access).toMatch(/^write data\+0x[0-3] \([12] bytes?\) 0x[0-9a-f]+$/);
    }
    expect(report).toMatchObject({ passed: false, invariantViolations: 0 });
    expect(report.throws).toBe(broken?.throws);
  });

  it('holds every device to the generic invariants: reads within their width, boolean irq levels, state that survives a restore', () => {
    const badRead = double('bad-read', () => ({ read: (_region, _offset, size) => (size === 2 ? 0x1_0000 : -1) }));
    const badIrq = double('bad-irq', (context) => ({ write: () => { context.setIrq(0, 1 as unknown as boolean); } }));
    const forgetful = double('forgetful', () => ({ setState: () => undefined }));
    const unplain = double('unplain', () => ({ getState: () => ({ model: 'test-double', version: 1, when: new Date(0) as unknown as number }) }));
    const report = fuzz([badRead, badIrq, forgetful, unplain], { ops: 2_000, seed: 9 });
    const of = (name: string) => report.devices.find((d) => d.device === name);
    expect(of('bad-read')?.invariantViolations).toBe(of('bad-read')?.reads);
    expect(of('bad-read')?.violations[0]?.what).toMatch(/^read (-1|65536): not a whole number that fits [12] bytes?$/);
    expect(of('bad-irq')?.invariantViolations).toBe(of('bad-irq')?.writes);
    expect(of('bad-irq')?.violations[0]?.what).toBe('irq output 0 driven with 1: a level is a boolean, on a whole-numbered output');
    // The latch forgotten on restore shows once the fuzzer has written something other than 0 to it.
    expect(of('forgetful')?.invariantViolations).toBeGreaterThan(0);
    expect(of('forgetful')?.violations[0]?.what).toBe('a fresh instance given setState(getState()) gives another getState()');
    expect(of('unplain')?.invariantViolations).toBe(of('unplain')?.stateChecks);
    expect(of('unplain')?.violations[0]).toMatchObject({ op: -1, access: 'power-on' });
    expect(of('unplain')?.violations[0]?.what).toMatch(/^getState\(\) is not plain state: StateEncodeError/);
    expect(report.throws).toBe(0);
    expect(report.passed).toBe(false);
  });
});

describe('splitvisor fuzz, the command', () => {
  it('prints the same JSON for the same seed, and exits 0 when nothing broke', () => {
    const args = ['fuzz', '--device', 'pit,serial', '--ops', '2000', '--seed', '3', '--json'];
    const first = splitvisor(args);
    const second = splitvisor(args);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toBe(second.stdout);
    const report = JSON.parse(first.stdout) as FuzzReport;
    expect(report).toMatchObject({ seed: 3, opsPerDevice: 2000, passed: true });
    expect(report.devices.map((d) => d.device)).toEqual(['pit', 'serial']);
  }, 120_000); // a child process each, several seconds on a loaded 2-core machine

  it('refuses a bad flag in one line, with exit status 1 and nothing on stdout', () => {
    for (const [args, pattern] of [
      [['--device', 'sound'], /unknown device "sound" \(known: pic, ioapic, .*, or all\)/],
      [['--ops', '1.5'], /--ops .* expected a whole number of operations, at least 1/],
      [['--ops', 'many'], /--ops .* expected a whole number of operations, at least 1/],
      [['--seed', '-1'], /--seed .* expected a whole number from 0 to 2\^53 − 1/],
    ] as const) {
      const run = splitvisor(['fuzz', ...args, '--json']);
      expect(run.status, args.join(' ')).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(run.stderr).toMatch(pattern);
    }
  }, 120_000); // a child process each, several seconds on a loaded 2-core machine
});
