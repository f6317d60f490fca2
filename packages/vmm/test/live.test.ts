// Modelled and live modes: the device host in this thread over the direct transport, or in a worker thread over
// the shared-memory ring. What the guest sees — interrupts, the values it reads, guest time, where every exit
// lands — must not depend on which.
import { pitTick, pmTimerRead } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import type { VmMode } from '../src/index.ts';
import { Vm } from '../src/index.ts';
import { placement } from './profiles.ts';

async function tick(name: string, mode: VmMode) {
  const { guest, jiffies } = pitTick({ hz: 1000 });
  const vm = new Vm(placement(name), guest, { mode });
  try {
    const summary = vm.run(20_000_000);
    return {
      seen: { jiffies: jiffies(), tsc: vm.clock.tsc(), summary, taken: [...guest.taken], rows: vm.counts.rows() },
      wall: vm.wallTimes,
    };
  } finally {
    await vm.close();
  }
}

async function clocksource(name: string, mode: VmMode) {
  const workload = pmTimerRead({ reads: 500 });
  const vm = new Vm(placement(name), workload.guest, { mode });
  try {
    vm.run(1_000_000_000);
    return { values: workload.values(), tsc: vm.clock.tsc(), rows: vm.counts.rows() };
  } finally {
    await vm.close();
  }
}

describe('modelled and live modes', () => {
  it('give the guest the same ticks, at the same guest time, with the same exits, whatever the irqchip placement', async () => {
    for (const name of ['kvm-userspace-pit', 'qemu-tcg', 'kvm-split']) {
      const modelled = await tick(name, 'modelled');
      const live = await tick(name, 'live');
      expect(live.seen, name).toEqual(modelled.seen);
      expect(modelled.seen.jiffies).toBe(20);
      // Live mode timed every heavyweight I/O exit on the wall clock; modelled mode timed none.
      expect(modelled.wall.size).toBe(0);
      expect(live.wall.get('io')?.count).toBe(
        live.seen.rows.filter((r) => r.from === 'kernel' && r.to === 'user' && r.reason === 'io').reduce((n, r) => n + r.count, 0),
      );
    }
  }, 120_000);

  it('give a clocksource read loop the same PM timer values from a device host in a worker', async () => {
    const modelled = await clocksource('qemu-tcg', 'modelled');
    const live = await clocksource('qemu-tcg', 'live');
    expect(modelled.values).toHaveLength(500);
    expect(live).toEqual(modelled);
  }, 60_000);
});
