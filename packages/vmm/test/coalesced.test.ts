// KVM's coalesced I/O as QEMU uses it for the RTC (Peng Hao's coalesced PIO): the write of the CMOS index to port
// 70h is queued in the kernel's ring instead of exiting to userspace, and reaches the RTC, in order, with the
// heavyweight exit of the read of port 71h that follows. The guest must read exactly what it reads without it.
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import { KVM_2020, crossingCycles, modelledCycles } from '@splitvisor/metrics';
import type { Placement } from '@splitvisor/placement';
import { rtcRead, vgaTextConsole } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import { Vm } from '../src/index.ts';
import { placement } from './profiles.ts';

function withCoalescing(name: string, coalescedWrites: boolean): Placement {
  const base = placement(name);
  return { ...base, io: { ...base.io, coalescedWrites } };
}

/** mc146818_get_time's reads: each CMOS byte is an index write to 70h and a data read from 71h. */
function cmosReader(coalescedWrites: boolean) {
  const values: number[] = [];
  const guest = new ScriptedGuest((function* main(): GuestProgram {
    for (const index of [0x0a, 0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32, 0x0b, 0x10, 0x14]) {
      yield { op: 'out', port: 0x70, value: index };
      values.push(yield { op: 'in', port: 0x71 });
      yield { op: 'compute', cycles: 1_000 };
    }
  })());
  const vm = new Vm(withCoalescing('kvm-irqchip', coalescedWrites), guest);
  vm.run(1_000_000);
  return { values, rtc: Object.fromEntries(vm.counts.exitsByDevice()).rtc, applied: vm.hostActivity()?.coalescedWrites };
}

describe('coalesced writes', () => {
  it('keeps the RTC index writes in the kernel and delivers them ahead of the data reads, the guest reading the same', () => {
    const plain = cmosReader(false);
    const coalesced = cmosReader(true);
    expect(coalesced.values).toEqual(plain.values);
    expect(plain.values[7]).toBe(0x20); // the century byte, BCD
    expect(plain.rtc).toEqual({ monitor: 22, kernel: 22, user: 22 });
    expect(coalesced.rtc).toEqual({ monitor: 22, kernel: 22, user: 11 }); // the 11 index writes stop in the kernel
    expect(coalesced.applied).toBe(11);
  });
});

/**
 * The cycles a run's accesses to `device` cost past the hardware exit — every crossing beyond the monitor and
 * the coalesced ring's work — which is what perf kvm stat times from exit to entry, and what the two paths of a
 * coalescable write do not share.
 */
function pastTheExit(vm: Vm, device: string): { cycles: number; appended: number; drained: number } {
  const rows = vm.counts.rows().filter((r) => r.device === device && r.from !== 'guest');
  const count = (from: 'kernel' | 'user') => rows.filter((r) => r.reason === 'coalesced' && r.from === from).reduce((n, r) => n + r.count, 0);
  return { cycles: modelledCycles(rows, vm.costModel), appended: count('kernel'), drained: count('user') };
}

/** Per coalesced write, what it costs past the exit through userspace and through the ring, from two runs differing only in coalescing. */
function perWrite(off: ReturnType<typeof pastTheExit>, on: ReturnType<typeof pastTheExit>) {
  const throughUserspace = crossingCycles(KVM_2020, 'monitor', 'kernel') + crossingCycles(KVM_2020, 'kernel', 'user');
  const saved = (off.cycles - on.cycles) / on.appended;
  return { throughUserspace, throughRing: throughUserspace - saved };
}

describe('the coalesced ring in the cost model (kvm-2020)', () => {
  // Peng Hao measured port 70h writes at 10.75 µs exit-to-entry through userspace and 1.57 µs coalesced: 6.85×.
  const PUBLISHED = 10.75 / 1.57;

  it('charges each queued write its append, and its drain at the heavyweight exit that flushes it: a CMOS read loop saves 6.85× on each index write', () => {
    const run = (coalescedWrites: boolean) => {
      const workload = rtcRead({ intervalMs: 10 });
      const vm = new Vm(withCoalescing('kvm-irqchip', coalescedWrites), workload.guest);
      vm.run(100_000_000);
      return { ...pastTheExit(vm, 'rtc'), reads: workload.reads() };
    };
    const [off, on] = [run(false), run(true)];
    expect(on.reads).toBe(off.reads);
    expect(off.appended).toBe(0);
    expect(on.appended).toBeGreaterThan(100);
    expect(on.drained).toBe(on.appended); // every index write is followed by its data read's exit
    const { throughUserspace, throughRing } = perWrite(off, on);
    expect(throughRing).toBe(KVM_2020.coalescedAppend.cycles + KVM_2020.coalescedDrain.cycles);
    expect(throughUserspace / throughRing / PUBLISHED).toBeGreaterThan(0.8);
    expect(throughUserspace / throughRing / PUBLISHED).toBeLessThan(1.2);
  });

  it('saves the same on VGA text output: the window and index writes through the ring cost the append and drain, not the trip to userspace', () => {
    const run = (coalescedWrites: boolean) => {
      const workload = vgaTextConsole();
      const vm = new Vm(withCoalescing('kvm-irqchip', coalescedWrites), workload.guest);
      vm.run(100_000_000);
      return { ...pastTheExit(vm, 'vga'), characters: workload.characters() };
    };
    const [off, on] = [run(false), run(true)];
    expect(on.characters).toBe(off.characters);
    expect(on.appended).toBeGreaterThan(1_000);
    // The writes after the last heavyweight exit are still in the ring when the run ends: appended, not yet drained.
    expect(on.drained).toBeLessThanOrEqual(on.appended);
    const { throughUserspace, throughRing } = perWrite(off, { ...on, cycles: on.cycles + (on.appended - on.drained) * KVM_2020.coalescedDrain.cycles });
    expect(throughUserspace / throughRing / PUBLISHED).toBeGreaterThan(0.8);
    expect(throughUserspace / throughRing / PUBLISHED).toBeLessThan(1.2);
  });
});
