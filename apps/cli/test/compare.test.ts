import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { choosePlacement } from '../src/placement-file.ts';
import { tickDrift } from '../src/compare.ts';
import { runProfile } from '../src/profile-run.ts';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const cwd = fileURLToPath(new URL('..', import.meta.url));
const splitvisor = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd, encoding: 'utf8' });

describe('compare', () => {
  it('answers "what does moving the PIT to userspace cost a Linux guest at HZ=1000?"', async () => {
    const options = { workload: 'pit-tick', parameters: { hz: 1000 }, durationNs: 100e6 };
    const kernel = await runProfile(choosePlacement('kvm-irqchip'), options);
    const user = await runProfile(choosePlacement('kvm-userspace-pit'), options);
    expect(user.interrupts).toBe(kernel.interrupts); // the guest sees the same
    expect(kernel.exitsByDevice.pit).toEqual({ kernel: 3 });
    expect(kernel.kicksByDevice.pit).toBeUndefined();
    expect(user.exitsByDevice.pit).toEqual({ user: 3 });
    // Its 3 accesses and two device-host timer kicks per tick (OUT falls and rises in mode 2) become heavyweight exits:
    // the kicks are the PIT's, though the guest took no exit for them.
    expect(user.kicksByDevice.pit).toEqual({ user: 2 * 100 });
    expect(user.heavyweightExits).toBe(3 + 2 * 100);
    expect(user.cyclesByDevice.pit).toBe(203 * 2_528 + 3 * 2_000);
    expect(user.overheadCycles - kernel.overheadCycles).toBe(203 * 2_528);
  });

  it('puts the PIT\'s and PIC\'s exits where qemu-tcg, kvm-irqchip, kvm-split and plex86 put them, and charges each accordingly', async () => {
    const options = { workload: 'pit-tick', parameters: { hz: 1000 }, durationNs: 100e6 };
    const runs = Object.fromEntries(await Promise.all(['qemu-tcg', 'kvm-irqchip', 'kvm-split', 'plex86'].map(async (name) => [name, await runProfile(choosePlacement(name), options)] as const)));
    const where = (name: string, device: string) => Object.keys(runs[name]?.exitsByDevice[device] ?? {}).at(-1);
    expect(['qemu-tcg', 'kvm-irqchip', 'kvm-split', 'plex86'].map((name) => [where(name, 'pit'), where(name, 'pic')])).toEqual([
      ['user', 'user'], ['kernel', 'kernel'], ['user', 'user'], ['monitor', 'monitor'],
    ]);
    for (const run of Object.values(runs)) expect(run.interrupts).toBe(100);
    const cost = (name: string) => runs[name]?.overheadCycles ?? Number.NaN;
    expect(cost('kvm-irqchip')).toBeLessThan(cost('kvm-split'));
    expect(cost('plex86')).toBe(cost('kvm-irqchip')); // both charged kvm-2020 exits; plex86's stop in the monitor
    expect(runs['qemu-tcg']?.costModel).toBe('tcg');
  });

  it('counts what each I/O fast path took in the kernel instead of a heavyweight exit', async () => {
    const options = { workload: 'rtc-read', parameters: {}, durationNs: 100e6 };
    const [tcg, kvm] = await Promise.all(['qemu-tcg', 'kvm-irqchip'].map(async (name) => runProfile(choosePlacement(name), options)));
    expect(tcg?.savedByFastPath).toEqual({ coalescing: 0, cachedReads: 0, kernelCounters: 0, programs: 0, postedWrites: 0 }); // QEMU's TCG has no ring
    expect(kvm?.savedByFastPath.coalescing).toBeGreaterThan(0); // the CMOS index writes to 70h
  });

  it('prints byte-identical JSON for the same arguments', () => {
    const args = ['compare', '--profiles', 'kvm-irqchip,kvm-userspace-pit', '--duration', '20ms', '--json'];
    const first = splitvisor(...args);
    const second = splitvisor(...args);
    expect(first.status).toBe(0);
    expect(first.stdout).toBe(second.stdout);
    expect(JSON.parse(first.stdout)).toMatchObject({ workload: { durationNs: 20e6 }, runs: [{ profile: 'kvm-irqchip' }, { profile: 'kvm-userspace-pit' }] });
  }, 30_000);

  it('answers an unknown profile, an unknown workload and a bad duration with one line each', () => {
    for (const [args, pattern] of [
      [['compare', '--profiles', 'vmware'], /^splitvisor: unknown profile "vmware"/],
      [['compare', '--workload', 'doom'], /^splitvisor: unknown workload "doom"/],
      [['compare', '--duration', 'soon'], /expected a duration/],
    ] as const) {
      const run = splitvisor(...args);
      expect(run.status).not.toBe(0);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(pattern);
    }
  }, 30_000);
});

describe('devices and profiles', () => {
  it('lists every device with its addresses and placement rules, and every profile', () => {
    const devices = splitvisor('devices', '--json');
    expect(devices.status).toBe(0);
    const rows = JSON.parse(devices.stdout) as { device: string; at: string; rules: string[] }[];
    expect(rows.find((r) => r.device === 'pit')).toMatchObject({ at: 'port 0x40, port 0x61', rules: [expect.stringMatching(/KVM_CREATE_PIT2/)] });
    expect(rows.find((r) => r.device === 'pic')?.at).toBe('port 0x20, port 0xa0, port 0x4d0');
    const profiles = splitvisor('profiles', '--json');
    expect((JSON.parse(profiles.stdout) as { name: string }[]).map((p) => p.name)).toContain('kvm-userspace-pit');
  }, 30_000);
});

describe('tick drift', () => {
  it('is the ticks a periodic-timer guest counted less the ticks due at its rate; none for a workload without one', async () => {
    const options = { workload: 'linux-idle-pit', parameters: {}, durationNs: 100e6 };
    const run = await runProfile(choosePlacement('kvm-irqchip'), options);
    expect(tickDrift(run, options)).toBe(run.progress.jiffies === undefined ? Number.NaN : run.progress.jiffies - Math.floor((run.guestNs * 1000) / 1e9));
    expect(Math.abs(tickDrift(run, options) ?? 99)).toBeLessThanOrEqual(1);
    const serial = { workload: 'serial-console', parameters: {}, durationNs: 5e6 };
    expect(tickDrift(await runProfile(choosePlacement('kvm-irqchip'), serial), serial)).toBeUndefined();
  });
});
