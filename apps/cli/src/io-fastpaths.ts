/**
 * `splitvisor experiment io-fastpaths`: seeds 002 and 003's ways around the
 * trip to the userspace device host, measured together. Each I/O workload
 * runs under KVM's in-kernel irqchip with QEMU's PIT (every other device in
 * the device host) with the mechanisms added one by one — none; out-port
 * write coalescing (KVM's coalesced ring, seed 003's batching); + the
 * coupled in-port cache (seed 003); + counters the kernel serves for
 * userspace devices (seed 002); + verified fast-path programs (seed 002's
 * bytecode: the 8254's latch-and-read); + posted writes (KVM's ioeventfd,
 * crosvm's one-way writes: every mechanism at once) — and shows the
 * heavyweight exits and modelled overhead of each. Guest
 * time is the cycles the guest runs (`guest-cycles`), so every variant does
 * exactly the same work and the exits saved are the mechanisms' alone.
 */
import { exitReport } from '@splitvisor/metrics';
import type { Placement } from '@splitvisor/placement';
import { createWorkload } from '@splitvisor/workloads';
import { Vm } from '@splitvisor/vmm';
import type { ExperimentReport, Resolved } from './experiments.ts';
import { choosePlacement } from './placement-file.ts';
import { boardOf } from './profile-run.ts';

/** The mechanisms, each row adding one to the one before. */
const MECHANISMS: readonly { readonly name: string; readonly io: Placement['io'] }[] = [
  { name: 'none', io: { coalescedWrites: false, cachedReads: false, kernelCounters: false, programs: false, postedWrites: false } },
  { name: 'coalescing', io: { coalescedWrites: true, cachedReads: false, kernelCounters: false, programs: false, postedWrites: false } },
  { name: '+ cached reads', io: { coalescedWrites: true, cachedReads: true, kernelCounters: false, programs: false, postedWrites: false } },
  { name: '+ kernel counters', io: { coalescedWrites: true, cachedReads: true, kernelCounters: true, programs: false, postedWrites: false } },
  { name: '+ fast-path programs', io: { coalescedWrites: true, cachedReads: true, kernelCounters: true, programs: true, postedWrites: false } },
  { name: '+ posted writes (all)', io: { coalescedWrites: true, cachedReads: true, kernelCounters: true, programs: true, postedWrites: true } },
];

/** The starter workloads whose devices the mechanisms concern, with the parameters that make them so. */
const WORKLOADS: readonly { readonly name: string; readonly parameters?: Readonly<Record<string, string>> }[] = [
  { name: 'rtc-read' },
  { name: 'clocksource-read', parameters: { clocksource: 'acpi_pm' } },
  { name: 'clocksource-read', parameters: { clocksource: 'hpet' } },
  { name: 'clocksource-read', parameters: { clocksource: 'pit' } },
  { name: 'keyboard-typing' },
  { name: 'serial-console' },
  { name: 'vga-text-console' },
  { name: 'ata-pio-read' },
];

/** KVM with QEMU's PIT: every device but the irqchip in the device host, the 8254 too. */
const PROFILE = 'kvm-userspace-pit';

export function ioFastpaths(o: Resolved): ExperimentReport {
  const base = choosePlacement({ profile: PROFILE }).placement;
  const total = WORKLOADS.length * MECHANISMS.length;
  let done = 0;
  const rows = WORKLOADS.flatMap(({ name, parameters }) => {
    let none = 0;
    return MECHANISMS.map(({ name: mechanism, io }) => {
      const made = createWorkload(name, parameters);
      const vm = new Vm({ ...base, io, time: { kind: 'guest-cycles' } }, made.guest, { board: boardOf({}, made) });
      vm.run(o.durationNs);
      const { heavyweightExits: heavyweight, overheadCycles } = exitReport(vm.counts.rows(), vm.costModel, vm.clock.tsc());
      if (mechanism === 'none') none = heavyweight;
      void vm.close();
      o.progress?.(++done, total);
      return {
        workload: parameters === undefined ? name : `${name} ${Object.values(parameters).join(' ')}`,
        mechanisms: mechanism,
        'heavyweight exits': heavyweight,
        'saved vs none': none - heavyweight,
        'modelled cycles': overheadCycles,
      };
    });
  });
  return {
    experiment: 'io-fastpaths',
    seed: '../shared/seeds/003_87f1c3a44248d51a.txt, ../shared/seeds/002_051a8df8c5cb895f.txt',
    tables: [{
      title: `Each workload for ${o.durationNs / 1e6} ms of guest time (guest-cycles: the same work under every row) under ${PROFILE}, `
        + `the I/O fast paths added one by one; modelled cycles in ${base.costModel}.`,
      rows,
    }],
  };
}
