import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import { pitTick } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import { Vm } from '../src/index.ts';
import { placement } from './profiles.ts';

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
    expect(userPit.exits.pit).toEqual({ monitor: 3, kernel: 3, user: 3 + 100 }); // and its timer's kicks, two a tick: the PIT's
    expect(kvm.vm.unmodelled).toEqual([]);
  });

  it('runs it under a userspace and a split irqchip too, the 8259\'s exits then in userspace and its vector injected by ioctl', () => {
    const kvm = tick('kvm-irqchip');
    for (const name of ['qemu-tcg', 'kvm-userspace-irqchip', 'kvm-split', 'all-monitor', 'firecracker']) {
      const run = tick(name);
      expect(run.jiffies, name).toBe(50);
      expect(run.vm.clock.tsc(), name).toBe(kvm.vm.clock.tsc());
    }
    const tcg = tick('qemu-tcg');
    expect(tcg.exits.pic).toEqual({ monitor: 55, kernel: 55, user: 55 });
    expect(tcg.vm.hostActivity()).toMatchObject({ injected: 50, halts: 50 }); // KVM_EXIT_HLT, then KVM_INTERRUPT at the tick
    const split = tick('kvm-split');
    expect(split.vm.irqchip).toBe('split');
    expect(split.vm.hostActivity()).toMatchObject({ injected: 50, halts: 0 }); // the LAPIC in the kernel handles hlt
  });

  it('says plainly which placements it cannot run', () => {
    const { guest } = pitTick();
    const base = placement('kvm-irqchip');
    expect(() => new Vm({ ...base, name: 'odd', devices: { ...base.devices, lapic: 'user' } }, guest)).toThrow(/share a domain/);
    const tcg = placement('qemu-tcg');
    expect(() => new Vm({ ...tcg, name: 'odd', devices: { ...tcg.devices, 'pm-timer': 'kernel' } }, guest)).toThrow(/pm-timer in the kernel cannot raise/);
  });
});

/** A guest that keeps interrupts off across a PIT tick, as a driver in a spinlock: the tick waits for its `sti`. */
function tickDuringCli(name: string) {
  const taken: number[] = [];
  const holder: { vm?: Vm } = {};
  const guest = new ScriptedGuest((function* main(): GuestProgram {
    for (const [port, value] of [[0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, 0x01], [0x21, 0xfe]] as const) yield { op: 'out', port, value };
    for (const [port, value] of [[0x43, 0x34], [0x40, 1193 & 0xff], [0x40, 1193 >> 8]] as const) yield { op: 'out', port, value };
    yield { op: 'compute', cycles: 3_000_000 }; // 1.5 ms with IF clear: the first tick (at ~1 ms) waits
    yield { op: 'sti' };
    yield { op: 'compute', cycles: 1_000 };
    yield { op: 'cli' };
    for (;;) yield { op: 'hlt' };
  })()).on(0x20, function* handler(): GuestProgram {
    taken.push(holder.vm?.now() ?? -1);
    yield { op: 'out', port: 0x20, value: 0x20 };
  });
  const vm = new Vm(placement(name), guest);
  holder.vm = vm;
  const summary = vm.run(2_000_000);
  return { taken, summary };
}

describe('interrupt windows', () => {
  it('delivers a tick held off by cli at the sti, by an irq-window exit when the irqchip is in userspace', () => {
    const kvm = tickDuringCli('kvm-irqchip');
    const tcg = tickDuringCli('qemu-tcg');
    expect(kvm.taken).toHaveLength(1);
    expect(tcg.taken).toEqual(kvm.taken);
    expect(kvm.taken[0]).toBeGreaterThanOrEqual(1_500_000);
    expect(kvm.summary.windows).toBe(0);
    expect(tcg.summary.windows).toBe(1);
  });
});

/** The ACPI PM timer's SCI, level-triggered on GSI 9 through the I/O APIC to vector 41h, acknowledged as Linux's acpi_ev_sci_xrupt_handler does. */
function sciGuest(name: string) {
  const taken: number[] = [];
  const holder: { vm?: Vm } = {};
  const guest = new ScriptedGuest((function* main(): GuestProgram {
    yield { op: 'write', address: 0xfee0_00f0, value: 0x1ff }; // SVR: APIC on
    yield { op: 'write', address: 0xfee0_0350, value: 0x1_0000 }; // LINT0 masked
    yield { op: 'write', address: 0xfec0_0000, value: 0x10 + 2 * 9 };
    yield { op: 'write', address: 0xfec0_0010, value: 0x41 | 0x8000 }; // pin 9: vector 41h, level, active high, fixed, CPU 0
    yield { op: 'out', port: 0x602, value: 1, size: 2 }; // PM1_EN.TMR_EN
    yield { op: 'sti' };
    for (;;) yield { op: 'hlt' };
  })()).on(0x41, function* sci(): GuestProgram {
    taken.push(holder.vm?.now() ?? -1);
    yield { op: 'out', port: 0x600, value: 1, size: 2 }; // PM1_STS.TMR_STS, write 1 to clear: SCI falls
    yield { op: 'write', address: 0xfee0_00b0, value: 0 }; // EOI
  });
  const vm = new Vm(placement(name), guest);
  holder.vm = vm;
  vm.run(5_000_000_000);
  return { vm, taken };
}

describe('a level-triggered interrupt under a split irqchip', () => {
  it('reaches the kernel\'s local APIC as an MSI and returns its EOI by an ioapic-eoi exit, at the same guest times', () => {
    const kvm = sciGuest('kvm-irqchip');
    const split = sciGuest('kvm-split');
    expect(kvm.taken).toHaveLength(2); // bit 23 of the 3.579545 MHz count changes every 2.34 s
    expect(split.taken).toEqual(kvm.taken);
    expect(split.vm.hostActivity()).toMatchObject({ msis: 2, ioapicEois: 2 });
    expect(Object.fromEntries(split.vm.counts.exitsByDevice()).lapic).toEqual({ monitor: 4, kernel: 4 }) // SVR, LINT0 and two EOIs;
  });
});
