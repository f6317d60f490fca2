import { rtcRead } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import { Vm } from '../src/index.ts';
import { placement } from './profiles.ts';

const PROFILES = ['qemu-tcg', 'kvm-irqchip', 'kvm-split', 'plex86'];

describe('rtc-read on a VM', () => {
  it("reads the RTC's power-on date through mc146818_get_time under every profile, past the first update", async () => {
    const runs = [];
    for (const name of PROFILES) {
      const workload = rtcRead({ intervalMs: 250 });
      const vm = new Vm(placement(name), workload.guest);
      vm.run(1_250_000_000);
      runs.push({ name, reads: workload.reads(), failures: workload.failures(), time: workload.lastTime(), exits: Object.fromEntries(vm.counts.exitsByDevice()) });
      await vm.close();
    }
    for (const run of runs) {
      expect(run.reads, run.name).toBe(5); // at 0, 250, 500, 750 and 1000 ms
      expect(run.failures, run.name).toBe(0);
      expect(run.time, run.name).toEqual({ year: 2000, month: 1, day: 1, hour: 0, minute: 0, second: 1 }); // the first update came at 1 s
      expect(run.exits.rtc, run.name).toHaveProperty('user'); // QEMU's RTC is in userspace in each of these
    }
    expect(new Set(runs.map((r) => JSON.stringify([r.reads, r.time]))).size).toBe(1);
  });
});
