// Every workload of the catalog under every named profile, through the same path `splitvisor run` takes: the
// workload's own board (blank media, host typing), a short run, and the guest's own count of what it did.
import { PROFILES } from '@splitvisor/placement';
import { WORKLOAD_DEFINITIONS } from '@splitvisor/workloads';
import { describe, expect, it } from 'vitest';
import { choosePlacement } from '../src/placement-file.ts';
import { runProfile } from '../src/profile-run.ts';

/** Profiles that have every device the workloads drive (firecracker has no VGA, RTC, HPET, PM timer, floppy or IDE). */
const COMPLETE = new Set(['qemu-tcg', 'kvm-irqchip', 'kvm-kernel-counters', 'kvm-userspace-pit', 'kvm-split', 'kvm-userspace-irqchip', 'plex86', 'all-kernel', 'all-monitor']);

/** Parameters that keep the heavier loops short (a read loop forever is millions of exits). */
const PARAMETERS: Readonly<Record<string, Readonly<Record<string, number>>>> = { 'clocksource-read': { reads: 300 } };

/** Guest time each workload needs to show progress with its default parameters. */
const DURATION_NS: Readonly<Record<string, number>> = {
  'rtc-read': 300e6, 'lapic-calibration': 120e6, 'keyboard-typing': 200e6,
  // Under a placement whose exits take no guest time (seed 000's) or little (TCG's 73-cycle helper calls) the PIT
  // loop turns once every few guest cycles: a fraction of a millisecond is already a hundred thousand exits.
  'pit-calibration': 0.2e6,
};

describe('the workload catalog', () => {
  for (const workload of WORKLOAD_DEFINITIONS) {
    it(`${workload.name} runs under every profile, makes progress where the board has its devices, and its report adds up`, async () => {
      const durationNs = DURATION_NS[workload.name] ?? 20e6;
      for (const { name } of PROFILES) {
        const run = await runProfile(choosePlacement(name), { workload: workload.name, parameters: PARAMETERS[workload.name] ?? {}, durationNs });
        expect(run.guestNs, `${workload.name} under ${name}`).toBeGreaterThan(0);
        // The report adds up: each exit once under one device and domain; with the kicks, the crossings; every cycle a device's.
        const total = (table: Readonly<Record<string, Readonly<Partial<Record<string, number>>>>>, domain?: string) =>
          Object.values(table).flatMap((cell) => Object.entries(cell)).filter(([d]) => domain === undefined || d === domain).reduce((n, [, v]) => n + (v ?? 0), 0);
        const where = `${workload.name} under ${name}`;
        expect(total(run.exitsByDevice), where).toBe(run.exits);
        expect(Object.values(run.exitsByReason).reduce((a, b) => a + b, 0), where).toBe(run.exits);
        expect(total(run.exitsByDevice, 'user') + total(run.kicksByDevice, 'user'), where).toBe(run.heavyweightExits);
        expect(total(run.crossingsByDevice, 'kernel'), where).toBe(run.lightweightExits);
        expect(Object.values(run.cyclesByDevice).reduce((a, b) => a + b, 0), where).toBe(run.overheadCycles);
        if (COMPLETE.has(name)) {
          const counts = Object.values(run.progress);
          expect(counts.some((n) => n > 0), `${workload.name} under ${name}: ${JSON.stringify(run.progress)}`).toBe(true);
        }
      }
    }, 180_000);
  }
});
