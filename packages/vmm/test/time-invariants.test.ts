// The time policies' invariants over every workload and every profile that has the board's devices: under
// `guest-cycles` the guest's own account of what it did is the same whatever the placement; under `wall` its
// clock is the modelled host time, and wherever a placement's crossings cost anything the guest sees otherwise.
import { PROFILES } from '@splitvisor/placement';
import type { Placement } from '@splitvisor/placement';
import { WORKLOAD_DEFINITIONS, createWorkload } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import { Vm } from '../src/index.ts';
import { boardFor } from './workload-board.ts';
import { placement } from './profiles.ts';

const RUN_NS = 5_000_000;
/** Profiles with every device of the board (Firecracker has no VGA, IDE, floppy, RTC, HPET or PM timer). */
const WHOLE = PROFILES.filter((p) => !Object.values(p.devices).includes('absent')).map((p) => p.name);

function run(workload: string, where: Placement) {
  const made = createWorkload(workload);
  const vm = new Vm(where, made.guest, { board: boardFor(made), ...(made.aps === undefined ? {} : { aps: made.aps }) });
  const summary = vm.run(RUN_NS);
  const result = { progress: made.progress(), tsc: vm.clock.tsc(), host: summary.hostCycles, shutdown: summary.shutdown };
  void vm.close();
  return result;
}

/**
 * pit-calibration apart: its loop spins on port 61h, whose exits take no time under guest-cycles or under TCG,
 * so 5 ms is millions of turns a placement (exit-time.test.ts runs it where exits take time).
 */
const WORKLOADS = WORKLOAD_DEFINITIONS.map((w) => w.name).filter((name) => name !== 'pit-calibration');

describe.each(WORKLOADS)('%s', (workload) => {
  it('guest-cycles: the guest counts the same under every placement', () => {
    const seen = WHOLE.map((name) => ({ name, progress: run(workload, placement(name)).progress }));
    for (const { name, progress } of seen) expect(progress, name).toEqual(seen[0]?.progress);
  });

  it('wall: the guest\'s clock is the modelled host time', () => {
    for (const name of WHOLE) {
      const wall = run(workload, { ...placement(name), time: { kind: 'wall' } });
      if (!wall.shutdown) expect(wall.tsc, name).toBe(wall.host);
    }
  });
});

describe('wall against guest-cycles', () => {
  it('every placement whose crossings cost anything shows the guest a different time', () => {
    for (const name of WHOLE.filter((n) => n !== 'qemu-tcg')) {
      const differs = WORKLOADS.some((workload) => {
        const free = run(workload, placement(name));
        const wall = run(workload, { ...placement(name), time: { kind: 'wall' } });
        return JSON.stringify(free.progress) !== JSON.stringify(wall.progress);
      });
      expect(differs, name).toBe(true);
    }
  });
});
