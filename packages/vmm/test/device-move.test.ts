// A device moved between domains while the guest runs: the guest sees exactly what it would have seen without the
// move (its own count, its console, its clock, under guest-cycles time); only where its exits land changes.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Place } from '@splitvisor/abi';
import type { DeviceName, Placement } from '@splitvisor/placement';
import { createWorkload } from '@splitvisor/workloads';
import type { ParameterValue } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import type { VmOptions } from '../src/index.ts';
import { Vm } from '../src/index.ts';
import { boardFor } from './workload-board.ts';
import { placement } from './profiles.ts';

const AT_NS = 3_000_000;
const BACK_NS = 4_500_000;
const END_NS = 6_000_000;
const PLACES: readonly Place[] = ['kernel', 'monitor', 'user'];

/** Each movable device with a workload that drives it. */
interface Driven { readonly device: DeviceName; readonly workload: string; readonly parameters?: Record<string, ParameterValue> }
const DRIVEN: readonly Driven[] = [
  { device: 'pit', workload: 'pit-tick' },
  { device: 'rtc', workload: 'rtc-periodic' },
  { device: 'hpet', workload: 'linux-idle-hpet' },
  { device: 'pm-timer', workload: 'clocksource-read', parameters: { clocksource: 'acpi_pm' } },
  { device: 'serial', workload: 'serial-console' },
  { device: 'keyboard', workload: 'keyboard-typing' },
  { device: 'vga', workload: 'vga-text-console' },
  { device: 'debugcon', workload: 'firmware-probe' },
  { device: 'port92', workload: 'firmware-probe' },
  { device: 'fw-cfg', workload: 'firmware-probe' },
  { device: 'pci', workload: 'firmware-probe' },
  { device: 'parallel', workload: 'firmware-probe' },
  { device: 'cdrom', workload: 'firmware-probe' },
];

/**
 * The PM timer and the PCI host while the guest's PMBA has moved the PM space to B000h (SeaBIOS's own acpi_pm_base):
 * the one moved goes where the configuration has it, the other heard from wherever it is — in this thread (a live
 * device host is another process, where the board cannot follow: `firmware-devices.test.ts` counts those).
 */
const AT_PMBA: readonly Driven[] = [
  { device: 'pm-timer', workload: 'firmware-probe', parameters: { 'pm-base': 0xb000 } },
  { device: 'pci', workload: 'firmware-probe', parameters: { 'pm-base': 0xb000 } },
];

/** Devices with media, and the 8237 the floppy shares (moving either moves both): the medium in memory goes as state. */
const WITH_MEDIA: readonly Driven[] = [
  { device: 'disk', workload: 'ata-pio-write' },
  { device: 'floppy', workload: 'floppy-read' },
  { device: 'dma', workload: 'floppy-read' },
];

function run(workload: string, parameters: Record<string, ParameterValue>, where: Placement, moves: readonly { atNs: number; device: DeviceName; to: Place }[] = [], options: VmOptions = {}) {
  const made = createWorkload(workload, parameters);
  const vm = new Vm(where, made.guest, { board: boardFor(made), ...options });
  try {
    for (const move of moves) {
      vm.run(move.atNs);
      vm.move(move.device, move.to);
    }
    vm.run(END_NS);
    const seen = { progress: made.progress(), console: vm.console(), debugConsole: vm.debugConsole(), tsc: vm.clock.tsc() };
    const exits = vm.counts.rows().reduce((n, r) => n + r.count, 0);
    return { seen, exits, moves: vm.moves, closed: vm.close() };
  } catch (error) {
    void vm.close();
    throw error;
  }
}

describe.each([...DRIVEN, ...AT_PMBA, ...WITH_MEDIA])('$device under $workload $parameters', ({ device, workload, parameters = {} }) => {
  it.each(['kvm-irqchip', 'plex86'])('from where %s puts it to each other domain and back: the guest sees the same', (profile) => {
    const where = placement(profile);
    const home = where.devices[device] as Place;
    const still = run(workload, parameters, where);
    for (const to of PLACES.filter((p) => p !== home && !(device === 'pit' && p === 'kernel' && where.devices.pic !== 'kernel'))) {
      const moved = run(workload, parameters, where, [{ atNs: AT_NS, device, to }, { atNs: BACK_NS, device, to: home }]);
      expect(moved.seen, `${device} ${home} → ${to} → ${home}`).toEqual(still.seen);
      expect(moved.moves.filter((m) => m.device === device).map((m) => [m.from, m.to])).toEqual([[home, to], [to, home]]);
    }
  }, 120_000);
});

// Live, a device moving into the device host is made there by the host's own build (`place-device`), and one
// moving out is taken out there (`remove-device`): through a worker, and through a jailed process.
describe.each(['worker', 'process'] as const)('live moves, the device host in a %s', (transport) => {
  it.each(DRIVEN)('$device into or out of the device host and back under kvm-irqchip: the guest sees the same', async ({ device, workload, parameters = {} }) => {
    const where = placement('kvm-irqchip');
    const home = where.devices[device] as Place;
    const to: Place = home === 'user' ? 'monitor' : 'user';
    const live: VmOptions = { mode: 'live', transport };
    const still = run(workload, parameters, where, [], live);
    const moved = run(workload, parameters, where, [{ atNs: AT_NS, device, to }, { atNs: BACK_NS, device, to: home }], live);
    await Promise.all([still.closed, moved.closed]);
    // Live, what COM1 sent is this thread's console only while the UART is outside the host: the guest's view is its count and
    // clock, and the debug console's log (the device's state, read wherever it is).
    const view = ({ progress, tsc, debugConsole }: typeof still.seen) => ({ progress, tsc, debugConsole });
    expect(view(moved.seen), `${device} ${home} → ${to} → ${home}`).toEqual(view(still.seen));
    expect(moved.moves.map((m) => [m.from, m.to])).toEqual([[home, to], [to, home]]);
  }, 120_000);
});

describe.each(['worker', 'process'] as const)('live moves of devices with media, the device host in a %s', (transport) => {
  it.each(WITH_MEDIA)('$device out of the device host and back under kvm-irqchip: the guest sees the same', async ({ device, workload }) => {
    const where = placement('kvm-irqchip');
    const live: VmOptions = { mode: 'live', transport };
    const short = { at: 100_000, back: 200_000, end: 300_000 };
    const go = (moves: readonly { atNs: number; to: Place }[]) => {
      const made = createWorkload(workload);
      const vm = new Vm(where, made.guest, { board: boardFor(made), ...live });
      for (const move of moves) {
        vm.run(move.atNs);
        vm.move(device, move.to);
      }
      vm.run(short.end);
      return { seen: { progress: made.progress(), tsc: vm.clock.tsc(), ram: Buffer.from(vm.ram).toString('base64') }, moves: vm.moves, closed: vm.close() };
    };
    const still = go([]);
    const moved = go([{ atNs: short.at, to: 'monitor' }, { atNs: short.back, to: 'user' }]);
    await Promise.all([still.closed, moved.closed]);
    expect(moved.seen).toEqual(still.seen);
    const group = device === 'disk' ? ['disk'] : device === 'floppy' ? ['floppy', 'dma'] : ['dma', 'floppy'];
    expect(moved.moves.map((m) => [m.device, m.from, m.to])).toEqual([...group.map((d) => [d, 'user', 'monitor']), ...group.map((d) => [d, 'monitor', 'user'])]);
  }, 120_000);
});

describe('a disk image file moved between domains', () => {
  it('is flushed and closed where the disk was and opened where it goes: every sector the guest wrote lands in it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'splitvisor-move-disk-'));
    try {
      const image = (name: string) => {
        const path = join(dir, name);
        writeFileSync(path, new Uint8Array(16 * 1024 * 1024));
        return path;
      };
      const still = image('still.img');
      const moved = image('moved.img');
      for (const [path, moves] of [[still, []], [moved, [{ atNs: 1_000_000, to: 'kernel' as Place }, { atNs: 2_000_000, to: 'user' as Place }]]] as const) {
        const made = createWorkload('ata-pio-write');
        const vm = new Vm(placement('kvm-irqchip'), made.guest, { board: { diskImage: path } });
        for (const move of moves) {
          vm.run(move.atNs);
          vm.move('disk', move.to);
        }
        vm.run(3_000_000);
        expect(made.progress().errors).toBe(0);
        await vm.close();
      }
      expect(readFileSync(moved).equals(readFileSync(still))).toBe(true);
      expect(readFileSync(moved).some((byte) => byte !== 0)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('moves refused', () => {
  it('the irqchip, devices with media, a device into a domain a userspace irqchip cannot hear', () => {
    const made = createWorkload('pit-tick');
    const vm = new Vm(placement('qemu-tcg'), made.guest, { board: boardFor(made) });
    vm.run(AT_NS);
    expect(() => vm.move('pic', 'kernel')).toThrow(/part of the irqchip/);
    expect(() => vm.move('disk', 'kernel')).toThrow(/disk in the kernel cannot raise its irq line/);
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
