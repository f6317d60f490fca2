// IA32_TSC_DEADLINE through every placement of the local APIC: WRMSR exits reach the LAPIC wherever it lives
// (the kernel, the monitor, or the device host — across the worker's codec in live mode), and the timer fires at
// the guest TSC it was given.
import { TSC_DEADLINE_TIMER_VECTOR, vmexit } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import type { VmMode } from '../src/index.ts';
import { Vm } from '../src/index.ts';
import { placement } from './profiles.ts';

async function tscdeadline(name: string, mode: VmMode = 'modelled', test = 'tscdeadline') {
  const run = vmexit(test, 20);
  const vm = new Vm(placement(name), run.guest, { mode });
  try {
    const summary = vm.run(1_000_000);
    const msr = vm.counts.rows().filter((r) => r.reason === 'msr' && r.from === 'guest').reduce((n, r) => n + r.count, 0);
    return { iterations: run.iterations(), taken: run.guest.taken.get(TSC_DEADLINE_TIMER_VECTOR) ?? 0, msr, shutdown: summary.shutdown, tsc: vm.clock.tsc(), lapic: vm.counts.exitsByDevice().get('lapic') };
  } finally {
    await vm.close();
  }
}

describe('IA32_TSC_DEADLINE', () => {
  it('fires 3000 TSC cycles after each WRMSR, whichever domain holds the local APIC', async () => {
    const kvm = await tscdeadline('kvm-irqchip');
    expect(kvm).toMatchObject({ iterations: 20, taken: 20, msr: 20, shutdown: true });
    // 20 waits of 3000 cycles, and the spinning's granularity (11 cycles a turn) at most per wait, plus the ops.
    expect(kvm.tsc).toBeGreaterThanOrEqual(20 * 3000);
    expect(kvm.tsc).toBeLessThan(20 * 3100);
    for (const name of ['qemu-tcg', 'kvm-split', 'plex86', 'all-monitor', 'kvm-userspace-irqchip']) {
      const other = await tscdeadline(name);
      expect({ ...other, lapic: undefined }, name).toEqual({ ...kvm, lapic: undefined });
    }
    // SVR, LVTT, the WRMSRs, the EOIs, and the timer exits its deadlines bring while the guest spins: the local APIC's.
    expect(kvm.lapic).toEqual({ monitor: 1 + 1 + 20 + 20 + 20, kernel: 1 + 1 + 20 + 20 + 20 });
    expect((await tscdeadline('qemu-tcg')).lapic).toMatchObject({ user: 62 });
    expect((await tscdeadline('plex86')).lapic).toEqual({ monitor: 62 });
  });

  it('fires at once for a deadline already due, and the same live across the worker as modelled', async () => {
    const immediate = await tscdeadline('kvm-irqchip', 'modelled', 'tscdeadline_immed');
    expect(immediate).toMatchObject({ iterations: 20, taken: 20, msr: 20 });
    expect(immediate.tsc).toBeLessThan(200);
    const modelled = await tscdeadline('qemu-tcg');
    const live = await tscdeadline('qemu-tcg', 'live');
    expect(live).toEqual(modelled);
  }, 90_000);
});
