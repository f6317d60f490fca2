// KVM's coalesced I/O as QEMU uses it for the RTC (Peng Hao's coalesced PIO): the write of the CMOS index to port
// 70h is queued in the kernel's ring instead of exiting to userspace, and reaches the RTC, in order, with the
// heavyweight exit of the read of port 71h that follows. The guest must read exactly what it reads without it.
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import type { Placement } from '@splitvisor/placement';
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
