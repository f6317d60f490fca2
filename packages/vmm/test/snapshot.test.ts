// A VM snapshot restored into any placement continues as the machine would have: what the guest sees (its own
// account of what it did, its console and debug console, its clock) is the same as an uninterrupted run's.
import { PROFILES } from '@splitvisor/placement';
import type { Placement } from '@splitvisor/placement';
import { createWorkload } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import type { VmSnapshot } from '../src/index.ts';
import { Vm } from '../src/index.ts';
import { boardFor } from './workload-board.ts';
import { placement } from './profiles.ts';

const AT_NS = 3_000_000;
const END_NS = 6_000_000;
/** Profiles with every device of the board. */
const WHOLE = PROFILES.filter((p) => !Object.values(p.devices).includes('absent')).map((p) => p.name);

function machine(workload: string, where: Placement) {
  const made = createWorkload(workload);
  const vm = new Vm(where, made.guest, { board: boardFor(made), snapshots: true, ...(made.aps === undefined ? {} : { aps: made.aps }) });
  return { made, vm };
}

function seen(made: ReturnType<typeof createWorkload>, vm: Vm) {
  return { progress: made.progress(), console: vm.console(), debugConsole: vm.debugConsole(), tsc: vm.clock.tsc() };
}

function uninterrupted(workload: string, where: Placement) {
  const { made, vm } = machine(workload, where);
  vm.run(END_NS);
  const result = seen(made, vm);
  void vm.close();
  return result;
}

function snapshotOf(workload: string, where: Placement): VmSnapshot {
  const { vm } = machine(workload, where);
  vm.run(AT_NS);
  const snapshot = vm.snapshot();
  void vm.close();
  return snapshot;
}

function resumed(workload: string, snapshot: VmSnapshot, where: Placement) {
  const { made, vm } = machine(workload, where);
  vm.restore(snapshot);
  vm.run(END_NS);
  const result = seen(made, vm);
  void vm.close();
  return result;
}

const WORKLOADS = (process.env.SNAP_WORKLOADS ?? 'pit-tick,rtc-periodic,serial-console,lapic-tick,keyboard-typing,ata-pio-write,firmware-probe').split(',');

describe.each(WORKLOADS)('%s', (workload) => {
  const expected = () => uninterrupted(workload, placement(WHOLE[0] ?? 'qemu-tcg'));
  it.each(WHOLE)('from %s into every placement: the guest sees what the uninterrupted run showed it', (from) => {
    const want = expected();
    const snapshot = snapshotOf(workload, placement(from));
    for (const to of WHOLE) expect(resumed(workload, snapshot, placement(to)), `${from} → ${to}`).toEqual(want);
  }, 120_000);
});
