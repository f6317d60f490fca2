import { LOCAL_TIMER_VECTOR, lapicCalibration, lapicTick, pmTimerMonotonic, pmTimerRead } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import { Vm } from '../src/index.ts';
import { placement } from './profiles.ts';

function lapicTickRun(name: string, hz: number, durationNs: number) {
  const { guest, jiffies } = lapicTick({ hz });
  const vm = new Vm(placement(name), guest);
  const summary = vm.run(durationNs);
  return {
    vm, summary, jiffies: jiffies(), interrupts: guest.taken.get(LOCAL_TIMER_VECTOR) ?? 0,
    exits: Object.fromEntries(vm.counts.exitsByDevice()),
  };
}

function pmTimerReadRun(name: string, reads: number) {
  const workload = pmTimerRead({ reads });
  const vm = new Vm(placement(name), workload.guest);
  const summary = vm.run(50_000_000);
  return { vm, summary, workload, exits: Object.fromEntries(vm.counts.exitsByDevice()) };
}

/** The LAPIC accesses lapic-tick makes before its first idle: SVR read and write, LVT0, LVT1, LVTT, TDCR read and write. */
const LAPIC_SETUP_ACCESSES = 7;

describe('lapic-tick on a VM', () => {
  it('takes one LAPIC timer interrupt per jiffy at HZ=1000 for 50 ms, its LAPIC exits in the kernel', () => {
    const kvm = lapicTickRun('kvm-irqchip', 1000, 50_000_000);
    expect(kvm.interrupts).toBe(50);
    expect(kvm.jiffies).toBeGreaterThanOrEqual(49); // the 50th tick lands at 50 ms: taken, its handler not yet run
    expect(kvm.jiffies).toBeLessThanOrEqual(51);
    expect(kvm.summary.interrupts).toBe(kvm.interrupts);
    // Setup, then a TMICT write before each idle and an EOI in each handler that ran: all on the lightweight path.
    const lapicExits = LAPIC_SETUP_ACCESSES + kvm.interrupts + kvm.jiffies;
    expect(kvm.exits.lapic).toEqual({ monitor: lapicExits, kernel: lapicExits });
    expect(Object.keys(kvm.exits)).toEqual(['lapic']);
  });

  it('sees the same ticks wherever the LAPIC is placed, and keeps to the grid over a longer run', () => {
    const kvm = lapicTickRun('kvm-irqchip', 1000, 50_000_000);
    for (const name of ['all-kernel', 'plex86']) {
      const run = lapicTickRun(name, 1000, 50_000_000);
      expect([run.interrupts, run.jiffies, run.vm.clock.tsc()]).toEqual([kvm.interrupts, kvm.jiffies, kvm.vm.clock.tsc()]);
    }
    expect(lapicTickRun('plex86', 1000, 50_000_000).exits.lapic).not.toHaveProperty('kernel');
    const long = lapicTickRun('kvm-irqchip', 250, 2_000_000_000);
    expect(long.interrupts).toBe(500);
  });
});

describe('pm-timer-read on a VM', () => {
  it('reads a monotonic PM timer, its exits in userspace under kvm-irqchip and in the kernel under all-kernel', () => {
    const kvm = pmTimerReadRun('kvm-irqchip', 1000);
    const allKernel = pmTimerReadRun('all-kernel', 1000);
    for (const run of [kvm, allKernel]) {
      expect(run.summary.shutdown).toBe(true); // the program returned after its reads
      expect(run.workload.reads()).toBe(1000);
      expect(run.workload.values()).toHaveLength(1000);
      expect(pmTimerMonotonic(run.workload.values())).toBe(true);
      expect(run.workload.backwardSteps()).toBe(0);
      expect(new Set(run.workload.values()).size).toBeGreaterThan(900); // the counter moves between reads
    }
    expect(allKernel.workload.values()).toEqual(kvm.workload.values()); // what the guest sees does not depend on placement
    const triple = 3 * 1000 + 3 * kvm.workload.retries();
    expect(kvm.exits['pm-timer']).toEqual({ monitor: triple, kernel: triple, user: triple });
    expect(allKernel.exits['pm-timer']).toEqual({ monitor: triple, kernel: triple });
  });
});

describe('lapic-tick in TSC-deadline mode on a VM', () => {
  it('takes one tick per jiffy, re-armed by a WRMSR of IA32_TSC_DEADLINE wherever the LAPIC is', () => {
    for (const name of ['kvm-irqchip', 'qemu-tcg', 'kvm-split', 'plex86']) {
      const { guest, jiffies } = lapicTick({ hz: 1000, timer: 'tsc-deadline' });
      const vm = new Vm(placement(name), guest);
      vm.run(50_000_000);
      const msr = vm.counts.rows().filter((r) => r.from === 'guest' && r.reason === 'msr').reduce((n, r) => n + r.count, 0);
      expect([guest.taken.get(LOCAL_TIMER_VECTOR), msr, jiffies()], name).toEqual([50, 50, 49]);
    }
  });
});

describe('lapic-calibration on a VM', () => {
  it("finds the model's APIC bus clock per jiffy, and the PM timer's 100 ms, wherever the LAPIC and PM timer are", async () => {
    for (const name of ['kvm-irqchip', 'qemu-tcg', 'kvm-split', 'plex86']) {
      for (const hz of [100, 1000]) {
        const run = lapicCalibration({ hz });
        const vm = new Vm(placement(name), run.guest);
        const summary = vm.run(1_000_000_000);
        expect([summary.shutdown, run.calibrations(), run.lapicTimerPeriod()], `${name} HZ=${hz}`).toEqual([true, 1, 1_000_000_000 / hz]);
        expect(Math.abs(run.pmTicks() - 357_954)).toBeLessThanOrEqual(2); // (HZ / 10) jiffies = 100 ms of 3.579545 MHz
        await vm.close();
      }
    }
  });
});
