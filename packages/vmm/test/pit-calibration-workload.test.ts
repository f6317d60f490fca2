// The pit-calibration workload on a real VM: tsc.c's PIT loop on counter 2 and port 61h, checked against the
// PM timer, finds the guest's TSC rate (2 GHz) under every placement. A 1 ms window (windowMs) keeps the runs short.
import { describe, expect, it } from 'vitest';
import { pitCalibration } from '@splitvisor/workloads';
import { Vm } from '../src/index.ts';
import { placement } from './profiles.ts';

const PROFILES = ['qemu-tcg', 'kvm-irqchip', 'kvm-split', 'plex86'] as const;

describe('pit-calibration on a VM', () => {
  it('calibrates the TSC to 2 GHz against the PIT and the PM timer, the same under every placement', () => {
    const results = [];
    for (const profile of PROFILES) {
      const run = pitCalibration({ calibrations: 1, windowMs: 1 });
      const vm = new Vm(placement(profile), run.guest);
      const summary = vm.run(5_000_000);
      const exits = Object.fromEntries(vm.counts.exitsByDevice());
      results.push({ shutdown: summary.shutdown, last: run.last(), failures: run.pitFailures(), pit: (exits.pit?.monitor ?? 0) > 1000, pm: (exits['pm-timer']?.monitor ?? 0) >= 6 });
    }
    const [first] = results;
    expect(first?.shutdown).toBe(true);
    expect(first?.failures).toBe(0);
    expect(first?.last?.tries).toBe(1); // PIT and PM timer agree within 10 %: the reference's value
    expect(Math.abs((first?.last?.tscKhz ?? 0) - 2_000_000)).toBeLessThan(2_000);
    expect(Math.abs((first?.last?.pitKhz ?? 0) - 2_000_000)).toBeLessThan(2_000);
    expect([first?.pit, first?.pm]).toEqual([true, true]);
    for (const r of results) expect(r).toEqual(first);
  }, 300_000);
});
