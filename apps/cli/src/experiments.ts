/**
 * `splitvisor experiment NAME`: the time arguments of the design threads as
 * experiments anyone can rerun, each a set of tables (and `--json`), modelled
 * and deterministic — the same arguments give the same bytes.
 *
 * - `xen-vtimer` — seed 004: the nearest-deadline machine timer against
 *   per-vCPU soft timers on a host of many VMs (`@splitvisor/host`), and a
 *   sweep over 1 … 64 vCPUs per host CPU.
 * - `lost-ticks` — seed 001's lost ticks: a tick-counting guest's drift under
 *   each device's lost-tick policies when it masks interrupts, and on the host
 *   model when its vCPU is descheduled (guest time running or frozen).
 * - `event-resolution` — seed 001's "only as good as the interrupt period of
 *   the host timer tick": each timer device's lateness, exact delivery against
 *   a host tick of 100, 250 and 1000 Hz.
 * - `time-policies` — seed 000: what the guest sees (its TSC, its tick count)
 *   and what the host spends under each time policy, for two placements.
 * - `io-fastpaths` — seeds 002 and 003: heavyweight exits saved by each I/O
 *   fast path, added one by one (`io-fastpaths.ts`).
 */
import type { DescheduledTime, HostModelConfig, HostModelResult } from '@splitvisor/host';
import { DESCHEDULED_TIMES, HOST_TIMER_STRATEGIES, HostModelError, XEN_TIMER_MODES, runHostModel } from '@splitvisor/host';
import type { Histogram } from '@splitvisor/metrics';
import { modelledCycles } from '@splitvisor/metrics';
import type { Placement, TimerDevice } from '@splitvisor/placement';
import { LOST_TICK_POLICIES, TIMER_DEVICES } from '@splitvisor/placement';
import { Vm } from '@splitvisor/vmm';
import type { TickTimer } from '@splitvisor/workloads';
import { tickCount } from '@splitvisor/workloads';
import { CliError } from './cli-error.ts';
import { ioFastpaths } from './io-fastpaths.ts';
import { choosePlacement } from './placement-file.ts';
import { printTable } from './table.ts';

export const EXPERIMENTS = ['xen-vtimer', 'lost-ticks', 'event-resolution', 'time-policies', 'io-fastpaths'] as const;
export type ExperimentName = (typeof EXPERIMENTS)[number];

export interface ExperimentOptions {
  /** xen-vtimer: VMs, vCPUs each, host CPUs, slice. */
  readonly vms: number;
  readonly vcpus: number;
  readonly pcpus: number;
  readonly sliceNs: number;
  /** Guest time each case runs (default: a second; io-fastpaths, whose guests run free of exit costs, 20 ms). */
  readonly durationNs?: number;
  /** Called as each run of the experiment finishes (done, total): the progress bar. */
  readonly progress?: (done: number, total: number) => void;
}

/** The options with every default applied. */
export type Resolved = ExperimentOptions & { readonly durationNs: number };

/** One table of an experiment: a title, what it shows, rows of plain cells. */
export interface ExperimentTable {
  readonly title: string;
  readonly rows: readonly Readonly<Record<string, string | number>>[];
}

export interface ExperimentReport {
  readonly experiment: ExperimentName;
  readonly seed: string;
  readonly tables: readonly ExperimentTable[];
}

const ms = (ns: number): number => Math.round(ns / 1e3) / 1e3;
const lateCells = (h: Histogram | undefined) => ({ 'late p50 µs': h === undefined ? 'n/a' : h.percentile(50) / 1e3, 'late p99 µs': h === undefined ? 'n/a' : h.percentile(99) / 1e3, 'late max µs': h === undefined || h.count === 0 ? 'n/a' : h.max / 1e3 });

/** Counts the runs an experiment makes, for the progress bar, and reports each. */
class Runs {
  private done = 0;
  private readonly total: number;
  private readonly progress: ExperimentOptions['progress'];
  constructor(total: number, progress: ExperimentOptions['progress']) {
    this.total = total;
    this.progress = progress;
  }

  finished(): void {
    this.done++;
    this.progress?.(this.done, this.total);
  }
}

function hostRun(config: Parameters<typeof runHostModel>[0]): HostModelResult {
  try {
    return runHostModel(config);
  } catch (error) {
    if (error instanceof HostModelError) throw new CliError(error.message);
    throw error;
  }
}

function hostRow(r: HostModelResult, durationNs: number) {
  return {
    'host timer irq/s': Math.round(r.hostTimerInterrupts / (durationNs / 1e9)),
    'late p50 ms': ms(r.lateness.percentile(50)),
    'late p99 ms': ms(r.lateness.percentile(99)),
    'ticks due': r.ticksDue,
    'ticks taken': r.ticksTaken,
    // Lost to the policy while guest time runs on; not yet come, for a guest whose clock was frozen.
    'ticks behind': r.ticksDue - r.ticksTaken - r.ticksOutstanding,
  };
}

const SWEEP = [1, 2, 4, 8, 16, 32, 64];

function xenVtimer(o: Resolved): ExperimentReport {
  const modes = Object.entries(XEN_TIMER_MODES);
  const runs = new Runs(HOST_TIMER_STRATEGIES.length * (DESCHEDULED_TIMES.length + SWEEP.length) + modes.length, o.progress);
  const base = { pcpus: o.pcpus, vms: o.vms, vcpusPerVm: o.vcpus, sliceNs: o.sliceNs, durationNs: o.durationNs };
  const scenario = HOST_TIMER_STRATEGIES.flatMap((strategy) => DESCHEDULED_TIMES.map((descheduled) => {
    const r = hostRun({ ...base, strategy, descheduled });
    runs.finished();
    return { strategy, 'guest time descheduled': descheduled, ...hostRow(r, o.durationNs) };
  }));
  const sweep = SWEEP.flatMap((perCpu) => HOST_TIMER_STRATEGIES.map((strategy) => {
    const r = hostRun({ pcpus: o.pcpus, vms: perCpu, vcpusPerVm: o.pcpus, sliceNs: o.sliceNs, strategy, durationNs: o.durationNs });
    runs.finished();
    return { 'vCPUs per host CPU': perCpu, strategy, ...hostRow(r, o.durationNs) };
  }));
  const xen = modes.map(([mode, { descheduled, lostTicks: policy }]) => {
    const r = hostRun({ ...base, strategy: 'soft-timers', descheduled, lostTicks: policy });
    runs.finished();
    return { 'timer_mode': mode, 'guest time descheduled': descheduled, 'lost ticks': policy, ...hostRow(r, o.durationNs) };
  });
  return {
    experiment: 'xen-vtimer',
    seed: '../shared/seeds/004_9b904300889c2671.txt',
    tables: [
      { title: `${o.vms} VMs × ${o.vcpus} vCPUs on ${o.pcpus} host CPUs, ${ms(o.sliceNs)} ms slices, 1 kHz guest timers, ${ms(o.durationNs)} ms (lost ticks: discard; ticks behind: due in host time and not counted — lost, or not yet come to a frozen clock)`, rows: scenario },
      { title: "Xen's four timer_mode settings on the same host (soft timers)", rows: xen },
      { title: `The sweep: 1 … 64 vCPUs per host CPU (${o.pcpus} host CPUs, one vCPU per VM per CPU)`, rows: sweep },
    ],
  };
}

/** A VM of `profile` with `timer`'s policy set, running tick-count; the guest's count. */
function ticksCounted(where: Placement, timer: TickTimer, policy: string, maskMs: number, durationNs: number, delivery?: Placement['delivery'], descheduled?: { everyNs: number; forNs: number }) {
  const run = tickCount({ timer, hz: 1024, maskMs, maskEveryMs: 100 });
  const lostTicks = { ...where.lostTicks, [timer]: policy } as Placement['lostTicks'];
  const vm = new Vm({ ...where, lostTicks, ...(delivery === undefined ? {} : { delivery }) }, run.guest, descheduled === undefined ? {} : { descheduled });
  vm.run(durationNs);
  const lateness = vm.timerLateness.get(timer)?.[0];
  void vm.close();
  return { ticks: run.ticks(), lateness };
}

/** Where each timer can be given every policy its device has: with the irqchip (its ack notifier), as KVM's in-kernel PIT. */
const WITH_IRQCHIP: Readonly<Record<TimerDevice, string>> = { pit: 'kvm-irqchip', rtc: 'kvm-irqchip', hpet: 'all-kernel', lapic: 'kvm-irqchip' };

/**
 * Where each timer's lateness shows: a domain that runs its timers at the time it is asked to (the kernel's).
 * The device host runs each of its timers at its own deadline in its own time and raises the line then; what a
 * host tick delays is the interrupt reaching the guest, which its lateness would not show.
 */
const IN_KERNEL: Readonly<Record<TimerDevice, string>> = { pit: 'kvm-irqchip', rtc: 'all-kernel', hpet: 'all-kernel', lapic: 'kvm-irqchip' };

function lostTicks(o: Resolved): ExperimentReport {
  const policies = TIMER_DEVICES.flatMap((device) => LOST_TICK_POLICIES[device].map((policy) => [device, policy] as const));
  const runs = new Runs(TIMER_DEVICES.length + 2 * policies.length + 3 * DESCHEDULED_TIMES.length, o.progress);
  const due = new Map<TimerDevice, number>();
  for (const device of TIMER_DEVICES) {
    due.set(device, ticksCounted(choosePlacement({ profile: WITH_IRQCHIP[device] }).placement, device, LOST_TICK_POLICIES[device][0], 0, o.durationNs).ticks);
    runs.finished();
  }
  const masked = policies.map(([device, policy]) => {
    const { ticks } = ticksCounted(choosePlacement({ profile: WITH_IRQCHIP[device] }).placement, device, policy, 20, o.durationNs);
    runs.finished();
    const expected = due.get(device) ?? 0;
    return { device, policy, profile: WITH_IRQCHIP[device], 'ticks due': expected, 'ticks counted': ticks, 'drift ms': ms(((expected - ticks) * 1e9) / 1024) };
  });
  const window = { everyNs: 100_000_000, forNs: 20_000_000 };
  const offCpu = policies.map(([device, policy]) => {
    const { ticks } = ticksCounted(choosePlacement({ profile: WITH_IRQCHIP[device] }).placement, device, policy, 0, o.durationNs, undefined, window);
    runs.finished();
    const expected = due.get(device) ?? 0;
    return { device, policy, profile: WITH_IRQCHIP[device], 'ticks due': expected, 'ticks counted': ticks, 'drift ms': ms(((expected - ticks) * 1e9) / 1024) };
  });
  const pacings: NonNullable<HostModelConfig['lostTicks']>[] = ['discard', 'delay', 'merge'];
  const descheduled = pacings.flatMap((policy) => DESCHEDULED_TIMES.map((time: DescheduledTime) => {
    const r = hostRun({ pcpus: 1, vms: 4, vcpusPerVm: 1, sliceNs: o.sliceNs, strategy: 'soft-timers', lostTicks: policy, descheduled: time, durationNs: o.durationNs });
    runs.finished();
    const perVcpu = (r.ticksDue - r.ticksTaken - r.ticksOutstanding) / r.vcpus;
    return { policy, 'guest time descheduled': time, 'ticks due': r.ticksDue, 'ticks taken': r.ticksTaken, 'drift ms per vCPU': ms((perVcpu * 1e9) / 1000) };
  }));
  return {
    experiment: 'lost-ticks',
    seed: '../shared/seeds/001_a5bc81c21020d6e9.txt, ../shared/seeds/004_9b904300889c2671.txt',
    tables: [
      { title: `tick-count at 1024 Hz, interrupts masked 20 ms of every 100, ${ms(o.durationNs)} ms: what each device's policy loses`, rows: masked },
      { title: `The same guest's vCPU descheduled 20 ms of every 100, its time running on (stolen), ${ms(o.durationNs)} ms`, rows: offCpu },
      { title: `On the host model: a 1 kHz tick-counting vCPU descheduled (4 vCPUs on 1 host CPU, ${ms(o.sliceNs)} ms slices, soft timers), ${ms(o.durationNs)} ms`, rows: descheduled },
    ],
  };
}

const DELIVERIES: readonly Placement['delivery'][] = [{ kind: 'exact' }, { kind: 'host-tick', hz: 1000 }, { kind: 'host-tick', hz: 250 }, { kind: 'host-tick', hz: 100 }];

function eventResolution(o: Resolved): ExperimentReport {
  const runs = new Runs(TIMER_DEVICES.length * DELIVERIES.length, o.progress);
  const rows = TIMER_DEVICES.flatMap((device) => DELIVERIES.map((delivery) => {
    const { ticks, lateness } = ticksCounted(choosePlacement({ profile: IN_KERNEL[device] }).placement, device, LOST_TICK_POLICIES[device][0], 0, o.durationNs, delivery);
    runs.finished();
    return { device, profile: IN_KERNEL[device], delivery: delivery.kind === 'exact' ? 'exact' : `host-tick ${delivery.hz} Hz`, 'ticks counted': ticks, ...lateCells(lateness) };
  }));
  return {
    experiment: 'event-resolution',
    seed: '../shared/seeds/001_a5bc81c21020d6e9.txt',
    tables: [{ title: `tick-count at 1024 Hz per timer device, ${ms(o.durationNs)} ms: lateness is deadline → its domain runs the timer`, rows }],
  };
}

const TIME_POLICIES: readonly Placement['time'][] = [
  { kind: 'guest-cycles' }, { kind: 'guest-and-exits' }, { kind: 'wall' }, { kind: 'contracted', factor: 10, maxStepUs: 100 },
];

function timePolicies(o: Resolved): ExperimentReport {
  const profiles = ['kvm-userspace-pit', 'plex86'];
  const runs = new Runs(profiles.length * TIME_POLICIES.length, o.progress);
  const rows = profiles.flatMap((profile) => TIME_POLICIES.map((time) => {
    const where = { ...choosePlacement({ profile }).placement, time };
    const run = tickCount({ timer: 'pit', hz: 1024 });
    const vm = new Vm(where, run.guest);
    const summary = vm.run(o.durationNs);
    // Under guest-cycles the run loop charges no crossing to anyone: the host's share is the modelled overhead.
    const hostCycles = summary.hostCycles + (time.kind === 'guest-cycles' ? modelledCycles(vm.counts.rows(), vm.costModel) : 0);
    const row = {
      profile,
      time: time.kind === 'contracted' ? `contracted ×${time.factor}, ${time.maxStepUs} µs` : time.kind,
      'guest ms': ms(vm.clock.now()),
      'host ms': ms((hostCycles * 1e9) / vm.clock.tscHz),
      'guest/host %': Math.round((vm.clock.tsc() / hostCycles) * 10_000) / 100,
      'ticks counted': run.ticks(),
      exits: summary.exits,
    };
    void vm.close();
    runs.finished();
    return row;
  }));
  return {
    experiment: 'time-policies',
    seed: '../shared/seeds/000_bb736e8060275289.txt',
    tables: [{ title: `An idle tick-counting guest (PIT at 1024 Hz) for ${ms(o.durationNs)} ms of its time: what it sees, what the host spends`, rows }],
  };
}

export function runExperiment(name: string, options: ExperimentOptions): ExperimentReport {
  const o: Resolved = { ...options, durationNs: options.durationNs ?? (name === 'io-fastpaths' ? 20e6 : 1e9) };
  switch (name as ExperimentName) {
    case 'xen-vtimer': return xenVtimer(o);
    case 'lost-ticks': return lostTicks(o);
    case 'event-resolution': return eventResolution(o);
    case 'time-policies': return timePolicies(o);
    case 'io-fastpaths': return ioFastpaths(o);
    default: throw new CliError(`unknown experiment "${name}" (there are: ${EXPERIMENTS.join(', ')})`);
  }
}

export function printExperiment(report: ExperimentReport): void {
  console.log(`splitvisor experiment ${report.experiment} — from ${report.seed}\n`);
  for (const table of report.tables) {
    console.log(table.title);
    printTable(table.rows);
  }
}
