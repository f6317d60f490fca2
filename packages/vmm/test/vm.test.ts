import { PROFILES, validatePlacement } from '@splitvisor/placement';
import type { Placement } from '@splitvisor/placement';
import { pitTick } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import { Vm, VmError } from '../src/index.ts';

function placement(name: string): Placement {
  const result = validatePlacement(PROFILES.find((p) => p.name === name));
  if (!result.ok) throw new Error(result.problems.join('; '));
  return result.placement;
}

function tick(name: string) {
  const { guest, jiffies } = pitTick({ hz: 1000 });
  const vm = new Vm(placement(name), guest);
  const summary = vm.run(50_000_000);
  return { vm, summary, jiffies: jiffies(), exits: Object.fromEntries(vm.counts.exitsByDevice()) };
}

describe('a VM assembled from a placement', () => {
  it('runs Linux\'s HZ=1000 tick the same under every runnable profile, its exits landing where each puts them', () => {
    const kvm = tick('kvm-irqchip');
    const plex86 = tick('plex86');
    const allKernel = tick('all-kernel');
    const userPit = tick('kvm-userspace-pit');
    for (const run of [kvm, plex86, allKernel, userPit]) {
      expect(run.jiffies).toBe(50);
      expect(run.vm.clock.tsc()).toBe(kvm.vm.clock.tsc());
    }
    expect(kvm.exits.pit).toEqual({ monitor: 3, kernel: 3 });
    expect(kvm.exits.pic).toEqual({ monitor: 55, kernel: 55 });
    expect(plex86.exits.pit).toEqual({ monitor: 3 });
    expect(plex86.exits.pic).toEqual({ monitor: 55 });
    expect(userPit.exits.pit).toEqual({ monitor: 3, kernel: 3, user: 3 });
    expect(kvm.vm.unmodelled).toEqual(['rtc', 'keyboard', 'vga', 'floppy', 'dma', 'disk', 'serial']);
  });

  it('says plainly which placements it cannot run yet', () => {
    const { guest } = pitTick();
    expect(() => new Vm(placement('qemu-tcg'), guest)).toThrow(VmError);
    expect(() => new Vm(placement('kvm-split'), guest)).toThrow(/split irqchip/);
  });
});
