// The `guest-and-exits` time policy of KVM's profiles: the guest's clock runs on through each exit by its round
// trip in the cost model, so loops around exits turn as often as they would on that host.
import { KVM_2020 } from '@splitvisor/metrics';
import { pitCalibration, pmTimerRead, pitTick } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import { Vm } from '../src/index.ts';
import { placement } from './profiles.ts';

const EXIT = KVM_2020.boundaries.exit.cycles;
const HEAVY = KVM_2020.boundaries['heavyweight-exit'].cycles;

describe('exits that take guest time', () => {
  it('charges each read its round trip: 100 PM timer reads under kvm-irqchip take their exits\' time, none under seed 000', async () => {
    const tsc = async (time: 'guest-cycles' | 'profile') => {
      const run = pmTimerRead({ reads: 100, verified: false, computeCycles: 0 });
      const vm = new Vm(placement('kvm-irqchip', time), run.guest);
      vm.run(10_000_000);
      const cycles = vm.clock.tsc();
      await vm.close();
      return cycles;
    };
    const free = await tsc('guest-cycles');
    const charged = await tsc('profile');
    expect(charged - free).toBe(100 * (EXIT + HEAVY)); // each read: out to the kernel, on to userspace, and back
  });

  it("lets Linux's PIT calibration loop turn as often as it would under KVM, and still find 2 GHz", async () => {
    const run = pitCalibration({ calibrations: 1 });
    const vm = new Vm(placement('kvm-irqchip', 'profile'), run.guest);
    vm.run(500_000_000);
    await vm.close();
    const result = run.last();
    // One inb of port 61h (an exit to the in-kernel PIT) and a TSC read per turn: about 1 µs each at 2 GHz.
    expect(result?.loops).toBeGreaterThan(5_000);
    expect(result?.loops).toBeLessThan(20_000);
    expect(Math.abs((result?.tscKhz ?? 0) - 2_000_000)).toBeLessThan(2_000);
  });

  it('makes a tick that finds the guest running late by the exits it takes, through the device host most', async () => {
    const latency = async (name: string, workCycles: number) => {
      const { guest } = pitTick({ hz: 1000, workCycles });
      const vm = new Vm(placement(name, 'profile'), guest);
      vm.run(20_000_000);
      const p50 = vm.interruptLatency.percentile(50);
      await vm.close();
      return p50;
    };
    // Idle, the vCPU waits in the kernel: the tick wakes it without an exit of its own.
    expect(await latency('kvm-irqchip', 50_000)).toBe(0);
    expect(await latency('kvm-userspace-pit', 50_000)).toBe(0);
    // Busy (5 ms of work between idles), the tick takes the guest out first: to the kernel, or on to userspace.
    const kernel = await latency('kvm-irqchip', 10_000_000);
    const user = await latency('kvm-userspace-pit', 10_000_000);
    expect(kernel).toBeGreaterThan(0);
    expect(user).toBeGreaterThan(kernel);
  });

  it("times the 8259's ExtINT under the split irqchip too: from its INTR rising in userspace to the vCPU taking the vector KVM_INTERRUPT queued", async () => {
    const { guest } = pitTick({ hz: 1000, workCycles: 10_000_000 });
    const vm = new Vm(placement('kvm-split', 'profile'), guest);
    const summary = vm.run(20_000_000);
    await vm.close();
    expect(vm.interruptLatency.count).toBe(summary.interrupts);
    expect(vm.interruptLatency.percentile(50)).toBeGreaterThan(0); // the tick finds the guest busy: out to userspace first
  });
});
