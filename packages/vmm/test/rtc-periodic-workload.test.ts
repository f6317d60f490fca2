import { rtcPeriodic } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import { Vm } from '../src/index.ts';
import { placement } from './profiles.ts';

const PROFILES = ['qemu-tcg', 'kvm-irqchip', 'kvm-split', 'plex86'];

describe('rtc-periodic on a VM', () => {
  it('takes irq 8 at the programmed rate under every profile, each acked by a read of register C', async () => {
    for (const name of PROFILES) {
      for (const [hz, ms] of [[1024, 100], [8192, 20], [2, 1600]] as const) {
        const workload = rtcPeriodic({ hz });
        const vm = new Vm(placement(name), workload.guest);
        vm.run(ms * 1_000_000);
        const expected = (hz * ms) / 1000;
        expect(workload.interrupts(), `${name} ${hz} Hz`).toBeGreaterThanOrEqual(Math.floor(expected) - 1);
        expect(workload.interrupts(), `${name} ${hz} Hz`).toBeLessThanOrEqual(Math.ceil(expected));
        expect(workload.spurious(), name).toBe(0);
        await vm.close();
      }
    }
  });
});
