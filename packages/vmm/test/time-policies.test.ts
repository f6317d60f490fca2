// Every time policy and delivery resolution a placement names changes what the guest sees, as its definition
// says: `guest-cycles` the same values whatever the placement; `wall` the modelled host time, whose difference
// is the modelled overhead of every crossing (a halted guest's too); `contracted` host time caught up in bounded
// steps, halts compressed in host time; `host-tick` deliveries on the host's tick, late by up to a period.
import { KVM_2020, modelledCycles } from '@splitvisor/metrics';
import type { Placement } from '@splitvisor/placement';
import { pitTick, pmTimerRead, tickCount } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import { Vm, VmError } from '../src/index.ts';
import { placement } from './profiles.ts';

const EXIT = KVM_2020.boundaries.exit.cycles;
const HEAVY = KVM_2020.boundaries['heavyweight-exit'].cycles;

function withTime(name: string, time: Placement['time'], delivery: Placement['delivery'] = { kind: 'exact' }): Placement {
  return { ...placement(name), time, delivery };
}

/** The TSC when 100 PM timer reads are done, and the run's host time, under `time`. */
async function readsUnder(name: string, time: Placement['time']) {
  const run = pmTimerRead({ reads: 100, verified: false, computeCycles: 10_000 });
  const vm = new Vm(withTime(name, time), run.guest);
  const summary = vm.run(10_000_000);
  const tsc = vm.clock.tsc();
  const values = run.values();
  const overhead = modelledCycles(vm.counts.rows(), vm.costModel);
  await vm.close();
  return { tsc, host: summary.hostCycles, values, overhead };
}

describe('time policies', () => {
  it('guest-cycles: the guest reads the same PM timer values under every placement', async () => {
    const seen = await Promise.all(['qemu-tcg', 'kvm-irqchip', 'kvm-split', 'plex86', 'all-kernel'].map(async (name) => (await readsUnder(name, { kind: 'guest-cycles' })).values));
    for (const values of seen) expect(values).toEqual(seen[0]);
  });

  it('wall: guest time is the modelled host time, later than guest-cycles by exactly the modelled overhead', async () => {
    for (const name of ['qemu-tcg', 'kvm-irqchip', 'plex86']) {
      const free = await readsUnder(name, { kind: 'guest-cycles' });
      const wall = await readsUnder(name, { kind: 'wall' });
      expect(wall.tsc - free.tsc, name).toBe(wall.overhead);
      // Under TCG an access is a call: nothing is stolen, and the guest sees what it sees under guest-cycles.
      if (wall.overhead > 0) expect(wall.values, name).not.toEqual(free.values);
      else expect(wall.values, name).toEqual(free.values);
      expect(wall.host, name).toBe(wall.tsc);
    }
    // Under kvm-irqchip each read is an exit to the kernel and on to userspace.
    const kvm = await readsUnder('kvm-irqchip', { kind: 'wall' });
    expect(kvm.overhead).toBe(100 * (EXIT + HEAVY));
  });

  it('wall charges the crossings made while the guest is halted, which guest-and-exits does not', async () => {
    // The PIT in userspace fires its timer beside the halted vCPU: KVM_IRQ_LINE and a kick, host work the guest waits through.
    const ticks = async (time: Placement['time']) => {
      const { guest } = pitTick({ hz: 1000, workCycles: 1000 });
      const vm = new Vm(withTime('kvm-userspace-pit', time), guest);
      vm.run(50_000_000);
      const tsc = vm.clock.tsc();
      await vm.close();
      return tsc;
    };
    expect(await ticks({ kind: 'wall' })).toBeGreaterThan(await ticks({ kind: 'guest-and-exits' }));
  });

  it('contracted: the guest catches up with host time in steps no larger than the bound; a halt costs 1/factor in host time', async () => {
    const contracted = (maxStepUs: number, factor = 1) => readsUnder('kvm-userspace-irqchip', { kind: 'contracted', factor, maxStepUs });
    const wall = await readsUnder('kvm-userspace-irqchip', { kind: 'wall' });
    const loose = await contracted(1000);
    const tight = await contracted(0.001); // 2 cycles a resume at 2 GHz
    expect(loose.tsc).toBe(wall.tsc); // every lag is under the bound: paid at once, as under wall
    const steps = tight.values.slice(1).map((v, i) => v - (tight.values[i] ?? 0));
    const wallSteps = wall.values.slice(1).map((v, i) => v - (wall.values[i] ?? 0));
    expect(Math.max(...steps)).toBeLessThan(Math.max(...wallSteps)); // the guest never sees host time jump
    // Idle under a periodic tick: the halts' waits are compressed in host time, the guest's view is unchanged.
    const idle = async (factor: number) => {
      const run = tickCount({ timer: 'pit', hz: 1024 });
      const vm = new Vm(withTime('plex86', { kind: 'contracted', factor, maxStepUs: 1000 }), run.guest);
      const summary = vm.run(100_000_000);
      await vm.close();
      return { host: summary.hostCycles, ticks: run.ticks() };
    };
    const [one, ten] = [await idle(1), await idle(10)];
    expect(ten.ticks).toBe(one.ticks);
    expect(ten.host).toBeLessThan(one.host / 5);
  });

  it('wall runs live on the host clock: each halt sleeps on it, each timer late by the host\'s wake-up', async () => {
    // A virtual host clock that wakes 50 µs late (a real one is performance.now() and Atomics.wait): the device
    // host in its worker, the guest's time the host's, the local APIC timer (in the kernel) late by the slack.
    const SLACK_NS = 50_000;
    const host = { time: 0, waits: 0, now: () => host.time, waitUntil: (t: number) => { host.waits++; host.time = Math.max(host.time, t + SLACK_NS); } };
    const run = tickCount({ timer: 'lapic', hz: 1000 });
    const vm = new Vm(withTime('kvm-irqchip', { kind: 'wall' }), run.guest, { mode: 'live', hostClock: host });
    const summary = vm.run(50_000_000);
    await vm.close();
    const late = vm.timerLateness.get('lapic')?.[0];
    expect(run.ticks()).toBeGreaterThanOrEqual(48);
    expect(host.waits).toBeGreaterThanOrEqual(run.ticks());
    expect(late?.percentile(50)).toBe(SLACK_NS);
    expect(summary.hostCycles).toBe(vm.clock.tscAt(host.time)); // the host time the run took, measured
  });

  it('contracted is a modelled-run policy, and wall live is for one vCPU: a live VM refuses them in one line', () => {
    const run = pmTimerRead({ reads: 1 });
    expect(() => new Vm(withTime('qemu-tcg', { kind: 'contracted', factor: 10, maxStepUs: 100 }), run.guest, { mode: 'live' })).toThrow(VmError);
    expect(() => new Vm(withTime('qemu-tcg', { kind: 'wall' }), run.guest, { mode: 'live', descheduled: { everyNs: 10_000_000, forNs: 1_000_000 } })).toThrow(VmError);
  });
});

/** A tick-counting guest on `timer` at 1000 Hz for 100 ms under `profile`, delivered exactly or on the host tick. */
async function lateness(timer: 'lapic' | 'pit', profile: string, delivery: Placement['delivery']) {
  const run = tickCount({ timer, hz: 1000 });
  const vm = new Vm(withTime(profile, { kind: 'guest-cycles' }, delivery), run.guest);
  vm.run(100_000_000);
  await vm.close();
  const late = vm.timerLateness.get(timer)?.[0];
  return { ticks: run.ticks(), p50: late?.percentile(50) ?? -1, max: late?.max ?? -1, fired: late?.count ?? 0 };
}

describe('event delivery', () => {
  it('exact delivers each tick at its deadline; host-tick at the next tick of the host clock, late by up to its period', async () => {
    // The local APIC timer in periodic mode, in the kernel.
    const exact = await lateness('lapic', 'kvm-split', { kind: 'exact' });
    expect(exact).toMatchObject({ ticks: 99, max: 0 }); // the 100th is due just after 100 ms: programmed just after 0
    // 250 Hz: every 4 ms. The 1 ms timer fires at the host tick after its deadline, the periods missed merging in IRR.
    const coarse = await lateness('lapic', 'kvm-split', { kind: 'host-tick', hz: 250 });
    expect(coarse.ticks).toBe(24); // one a host tick: the host ticks at 4, 8, … ms, the first 1 ms timer waiting for the first
    expect(coarse.max).toBeLessThanOrEqual(4_000_000);
    expect(coarse.p50).toBeGreaterThan(0);
    // 100 kHz: a tick every 10 µs, each timer up to 10 µs late, none lost.
    const fine = await lateness('lapic', 'kvm-split', { kind: 'host-tick', hz: 100_000 });
    expect(fine.ticks).toBe(99);
    expect(fine.max).toBeLessThanOrEqual(10_000);
  });

  it("a device host's timer is late by when the host got to it: 0 when the kernel kicks it at the deadline, up to a host tick otherwise", async () => {
    // The 8254 in userspace (QEMU/TCG's placement): it fires at its deadline in device time, but only at the exit that brought time there.
    const exact = await lateness('pit', 'qemu-tcg', { kind: 'exact' });
    expect(exact.fired).toBeGreaterThanOrEqual(99);
    expect(exact.max).toBe(0);
    const coarse = await lateness('pit', 'qemu-tcg', { kind: 'host-tick', hz: 250 });
    expect(coarse.fired).toBeGreaterThanOrEqual(99); // the 8254 counts on: every period fires, four to a host tick
    expect(coarse.p50).toBeGreaterThan(0);
    expect(coarse.max).toBeLessThanOrEqual(4_000_000);
  });
});
