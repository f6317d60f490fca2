// Seed 004's two host timer strategies on a model host: the nearest-deadline machine timer interrupts the host
// once per guest deadline of every vCPU it carries; per-vCPU soft timers only for the running ones, and deliver
// late. Deterministic; bad configurations are refused naming the field.
import { describe, expect, it } from 'vitest';
import { HostModelError, XEN_TIMER_MODES, runHostModel } from '../src/index.ts';

const SEED_004 = { pcpus: 4, vms: 16, vcpusPerVm: 4, durationNs: 1_000_000_000 } as const;

describe('the host model', () => {
  it('one vCPU per physical CPU: every tick on time under either strategy, one host interrupt per tick', () => {
    for (const strategy of ['nearest-deadline', 'soft-timers'] as const) {
      const r = runHostModel({ pcpus: 4, vms: 1, vcpusPerVm: 4, strategy, durationNs: 100_000_000 });
      expect(r.ticksTaken, strategy).toBe(r.ticksDue);
      expect(r.lateness.max, strategy).toBe(0);
      expect(r.hostTimerInterrupts, strategy).toBe(r.ticksDue);
      expect(r.contextSwitches).toBe(0);
    }
  });

  it("16 VMs × 4 vCPUs on 4 CPUs: nearest-deadline sees a host interrupt for every vCPU's deadline, soft timers about one CPU's worth", () => {
    const nearest = runHostModel({ ...SEED_004, strategy: 'nearest-deadline' });
    const soft = runHostModel({ ...SEED_004, strategy: 'soft-timers' });
    expect(nearest.ticksDue).toBeGreaterThan(63_900); // 64 vCPUs × 1000 Hz
    expect(nearest.hostTimerInterrupts).toBeGreaterThanOrEqual(nearest.ticksDue);
    expect(soft.hostTimerInterrupts).toBeLessThan(nearest.hostTimerInterrupts / 10);
    // A vCPU waits 150 ms for its turn: deliveries are late by up to that, under either.
    expect(soft.lateness.max).toBeGreaterThan(100_000_000);
    expect(soft.lateness.max).toBeLessThanOrEqual(150_000_000);
  });

  it('the lost-tick policy decides what becomes of ticks due while a vCPU is descheduled; frozen guest time misses none', () => {
    const base = { ...SEED_004, strategy: 'soft-timers' } as const;
    const discard = runHostModel({ ...base, lostTicks: 'discard' });
    const delay = runHostModel({ ...base, lostTicks: 'delay' });
    const merge = runHostModel({ ...base, lostTicks: 'merge' });
    expect(delay.ticksTaken + delay.ticksOutstanding).toBe(delay.ticksDue); // every tick, the last turn's still waiting
    // Each held tick keeps its own deadline: most of them reach the guest a good part of a wait late.
    expect(delay.lateness.percentile(50)).toBeGreaterThan(30_000_000);
    expect(discard.ticksTaken).toBeLessThan(discard.ticksDue / 3); // one of ~16 a turn, with ~10 while running
    expect(merge.ticksTaken).toBeGreaterThan(discard.ticksTaken);
    const frozen = runHostModel({ ...base, descheduled: 'frozen' });
    expect(frozen.lateness.max).toBe(0); // a frozen clock's deadlines pass only while it runs
    expect(frozen.ticksTaken).toBeLessThan(frozen.ticksDue); // …and it falls behind host time by the time preempted
  });

  it("Xen's timer modes: only delay_for_missed_ticks keeps the guest's time behind; only no_delay_for_missed_ticks delivers every tick", () => {
    const run = (mode: string) => {
      const settings = XEN_TIMER_MODES[mode];
      if (settings === undefined) throw new Error(mode);
      return runHostModel({ ...SEED_004, strategy: 'soft-timers', ...settings });
    };
    const frozen = run('delay_for_missed_ticks');
    expect(frozen.lateness.max).toBe(0);
    const all = run('no_delay_for_missed_ticks');
    expect(all.ticksTaken + all.ticksOutstanding).toBe(all.ticksDue);
    expect(run('one_missed_tick_pending').ticksTaken).toBeGreaterThan(run('no_missed_ticks_pending').ticksTaken);
  });

  it('is deterministic', () => {
    const a = runHostModel({ ...SEED_004, strategy: 'nearest-deadline', lostTicks: 'delay' });
    const b = runHostModel({ ...SEED_004, strategy: 'nearest-deadline', lostTicks: 'delay' });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('refuses a bad configuration naming the field', () => {
    expect(() => runHostModel({ ...SEED_004, pcpus: 0, strategy: 'soft-timers' })).toThrow(new HostModelError('pcpus: a whole number from 1 to 256, not 0'));
    expect(() => runHostModel({ ...SEED_004, vcpusPerVm: 65, strategy: 'soft-timers' })).toThrow(/^vcpusPerVm: a whole number from 1 to 64/);
    expect(() => runHostModel({ ...SEED_004, vms: 1024, vcpusPerVm: 8, strategy: 'soft-timers' })).toThrow(/^vcpus \(vms × vcpusPerVm\): a whole number from 1 to 4096, not 8192$/);
  });
});
