// A device moved between domains while the guest runs: the guest sees exactly what it would have seen without the
// move (its own count, its console, its clock, under guest-cycles time); only where its exits land changes.
import type { Place } from '@splitvisor/abi';
import type { DeviceName, Placement } from '@splitvisor/placement';
import { createWorkload } from '@splitvisor/workloads';
import type { ParameterValue } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import { Vm } from '../src/index.ts';
import { boardFor } from './workload-board.ts';
import { placement } from './profiles.ts';

const AT_NS = 3_000_000;
const BACK_NS = 4_500_000;
const END_NS = 6_000_000;
const PLACES: readonly Place[] = ['kernel', 'monitor', 'user'];

/** Each movable device with a workload that drives it. */
const DRIVEN: readonly { readonly device: DeviceName; readonly workload: string; readonly parameters?: Record<string, ParameterValue> }[] = [
  { device: 'pit', workload: 'pit-tick' },
  { device: 'rtc', workload: 'rtc-periodic' },
  { device: 'hpet', workload: 'linux-idle-hpet' },
  { device: 'pm-timer', workload: 'clocksource-read', parameters: { clocksource: 'acpi_pm' } },
  { device: 'serial', workload: 'serial-console' },
  { device: 'keyboard', workload: 'keyboard-typing' },
  { device: 'vga', workload: 'vga-text-console' },
];

function run(workload: string, parameters: Record<string, ParameterValue>, where: Placement, moves: readonly { atNs: number; device: DeviceName; to: Place }[] = []) {
  const made = createWorkload(workload, parameters);
  const vm = new Vm(where, made.guest, { board: boardFor(made) });
  for (const move of moves) {
    vm.run(move.atNs);
    vm.move(move.device, move.to);
  }
  vm.run(END_NS);
  const seen = { progress: made.progress(), console: vm.console(), tsc: vm.clock.tsc() };
  const exits = vm.counts.rows().reduce((n, r) => n + r.count, 0);
  void vm.close();
  return { seen, exits, moves: vm.moves };
}

describe.each(DRIVEN)('$device under $workload', ({ device, workload, parameters = {} }) => {
  it.each(['kvm-irqchip', 'plex86'])('from where %s puts it to each other domain and back: the guest sees the same', (profile) => {
    const where = placement(profile);
    const home = where.devices[device] as Place;
    const still = run(workload, parameters, where);
    for (const to of PLACES.filter((p) => p !== home && !(device === 'pit' && p === 'kernel' && where.devices.pic !== 'kernel'))) {
      const moved = run(workload, parameters, where, [{ atNs: AT_NS, device, to }, { atNs: BACK_NS, device, to: home }]);
      expect(moved.seen, `${device} ${home} → ${to} → ${home}`).toEqual(still.seen);
      expect(moved.moves.map((m) => [m.from, m.to])).toEqual([[home, to], [to, home]]);
    }
  }, 120_000);
});

describe('moves refused', () => {
  it('the irqchip, devices with media, a device into a domain a userspace irqchip cannot hear, a live VM', () => {
    const made = createWorkload('pit-tick');
    const vm = new Vm(placement('qemu-tcg'), made.guest, { board: boardFor(made) });
    vm.run(AT_NS);
    expect(() => vm.move('pic', 'kernel')).toThrow(/part of the irqchip/);
    expect(() => vm.move('disk', 'kernel')).toThrow(/does not move yet/);
    expect(() => vm.move('pit', 'kernel')).toThrow(/pit (cannot move to kernel|in kernel would change)/);
    expect(() => vm.move('pit', 'user')).toThrow(/in user already/);
    const plex = new Vm(placement('plex86'), createWorkload('pit-tick').guest);
    expect(() => plex.move('pit', 'kernel')).toThrow(/the PIT can be in the kernel only with the PIC and I\/O APIC there too/);
    void plex.close();
    expect(vm.moves).toEqual([]);
    vm.run(END_NS);
    expect(made.progress()).toEqual(run('pit-tick', {}, placement('qemu-tcg')).seen.progress);
    void vm.close();
  });

  it('a PIT paced by the in-kernel irqchip\'s ack notifier takes its default policy in userspace, and says so', () => {
    const moved = run('pit-tick', {}, placement('kvm-irqchip'), [{ atNs: AT_NS, device: 'pit', to: 'user' }]);
    expect(moved.moves[0]).toMatchObject({ device: 'pit', from: 'kernel', to: 'user', lostTicks: 'delay → discard' });
  });
});
