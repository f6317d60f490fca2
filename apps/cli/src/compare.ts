/**
 * The main job: one workload under several placements, side by side — where
 * each device's exits land, and what the crossings cost in each profile's
 * cost model, with the cheapest marked and every other's difference from it.
 */
import type { ProfileRun, WorkloadOptions } from './profile-run.ts';
import { deviceCell, describeWorkload } from './profile-run.ts';

/** What the guest's clock counts under each time policy, for the table. */
const GUEST_TIME: Readonly<Record<string, string>> = { 'guest-cycles': 'guest only', 'guest-and-exits': 'with exits', wall: 'host time', contracted: 'contracted' };

export function printComparison(runs: readonly ProfileRun[], options: WorkloadOptions): void {
  console.log(`splitvisor compare — ${describeWorkload(options)}\n`);
  // Cycles compare only within one cost model: the reference is the model most runs are charged in.
  const models = runs.map((r) => r.costModel);
  const reference = [...new Set(models)].sort((a, b) => models.filter((m) => m === b).length - models.filter((m) => m === a).length)[0];
  const comparable = runs.filter((r) => r.costModel === reference);
  const cheapest = Math.min(...comparable.map((r) => r.overheadCycles));
  const allEqual = comparable.every((r) => r.overheadCycles === cheapest);
  console.table(runs.map((r) => ({
    profile: r.costModel === reference && r.overheadCycles === cheapest && !allEqual ? `${r.profile} ◀ cheapest` : r.profile,
    'cost model': r.costModel,
    irqchip: r.irqchip,
    'guest time': GUEST_TIME[r.time] ?? r.time,
    interrupts: r.interrupts,
    exits: r.exits,
    'to kernel': r.lightweightExits,
    'to user': r.heavyweightExits,
    'overhead cycles': r.overheadCycles,
    'Δ vs cheapest': r.costModel !== reference ? `n/a (${r.costModel})` : r.overheadCycles === cheapest ? '—' : `+${r.overheadCycles - cheapest} (${cheapest === 0 ? '∞' : `${(r.overheadCycles / cheapest).toFixed(2)}×`})`,
    '% of guest time': Number(r.overheadPercent.toFixed(3)),
    'irq latency p99 ns': r.interruptLatencyNs.p99,
  })));
  const devices = [...new Set(runs.flatMap((r) => Object.keys(r.exitsByDevice)))].sort();
  console.log('Where each device\'s exits land (crossings into each domain):');
  console.table(devices.map((device) => {
    const row: Record<string, string> = { device };
    for (const r of runs) row[r.profile] = deviceCell(r, device);
    return row;
  }));
  const timers = [...new Set(runs.flatMap((r) => Object.keys(r.timerLatenessNs)))].sort();
  if (timers.length > 0) {
    console.log('Timer lateness, deadline → its domain runs the timer (guest ns, p50 / p99 / max):');
    console.table(timers.map((device) => {
      const row: Record<string, string> = { device };
      for (const r of runs) {
        const p = r.timerLatenessNs[device];
        row[r.profile] = p === undefined ? '—' : `${p.p50} / ${p.p99} / ${p.max}`;
      }
      return row;
    }));
  }
  const mechanisms: [keyof ProfileRun['savedByFastPath'], string][] = [['coalescing', 'coalesced writes'], ['cachedReads', 'cached reads'], ['kernelCounters', 'kernel counters'], ['programs', 'fast-path programs'], ['postedWrites', 'posted writes']];
  if (runs.some((r) => Object.values(r.savedByFastPath).some((n) => n > 0))) {
    console.log('Heavyweight exits each I/O fast path took in the kernel instead (seeds 002, 003; posted writes: sent one way, not waited for):');
    console.table(mechanisms.map(([key, name]) => {
      const row: Record<string, string | number> = { 'fast path': name };
      for (const r of runs) row[r.profile] = r.savedByFastPath[key];
      return row;
    }));
  }
  const apart = runs.filter((r) => r.costModel !== reference).map((r) => `${r.profile} (${r.costModel})`);
  if (apart.length > 0) console.log(`Charged in another cost model than ${reference ?? 'the others'}, so not ranked: ${apart.join(', ')} — rerun with --cost-model ${reference ?? 'kvm-2020'} to rank every placement in one model.`);
  const unmodelled = [...new Set(runs.flatMap((r) => r.unmodelled))];
  if (unmodelled.length > 0) console.log(`Not modelled yet (absent from these runs): ${unmodelled.join(', ')}`);
}
