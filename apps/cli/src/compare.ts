/**
 * The main job: one workload under several placements, side by side — where
 * each device's exits land, and what the crossings cost in each profile's
 * cost model, with the cheapest marked and every other's difference from it.
 */
import type { ProfileRun, WorkloadOptions } from './profile-run.ts';
import { describeWorkload } from './profile-run.ts';
import { workloadDefinition } from '@splitvisor/workloads';
import type { Cell } from './table.ts';
import { colour, printTable } from './table.ts';

/** What the guest's clock counts under each time policy, for the table. */
const GUEST_TIME: Readonly<Record<string, string>> = { 'guest-cycles': 'guest only', 'guest-and-exits': 'with exits', wall: 'host time', contracted: 'contracted' };

/** Cycles, shortly: 416000 → 416k, 2300000 → 2.3M. */
function cycles(n: number): string {
  if (n >= 1e6) return `${Number((n / 1e6).toPrecision(3))}M`;
  if (n >= 1e3) return `${Number((n / 1e3).toPrecision(3))}k`;
  return String(n);
}

/** One device's exits under one profile: where they were handled, the kicks, what they cost. */
function deviceCell(run: ProfileRun, device: string): string {
  const exits = run.exitsByDevice[device] ?? {};
  const kicks = run.kicksByDevice[device]?.user ?? 0;
  const where = (['monitor', 'kernel', 'user'] as const).filter((d) => exits[d] !== undefined).map((d) => `${d} ${exits[d] ?? 0}`);
  if (kicks > 0) where.push(`${kicks} kicks`);
  if (where.length === 0) return '—';
  return `${where.join(', ')} · ${cycles(run.cyclesByDevice[device] ?? 0)} cyc`;
}

/** What the runs' guests did in their own terms, when they did not do the same: per unit of it, the runs compare. */
function workDone(runs: readonly ProfileRun[]): { readonly unit: string | undefined; readonly differs: readonly string[] } {
  const units = Object.keys(runs[0]?.progress ?? {}).filter((unit) => runs.every((r) => (r.progress[unit] ?? 0) > 0));
  const differs = units.filter((unit) => {
    const counts = runs.map((r) => r.progress[unit] ?? 0);
    return Math.max(...counts) > 1.01 * Math.min(...counts);
  });
  return { unit: units[0], differs };
}

export type CompareBy = 'device' | 'reason';

/** The guest's own tick counters: a timer workload's count of the interrupts it took. */
const TICK_COUNTS = ['jiffies', 'ticks', 'interrupts'] as const;

/**
 * A periodic-timer workload's drift: the ticks its guest counted less the
 * ticks due at its rate in the guest time it ran (0: none lost, none extra).
 * Undefined for a workload without a tick rate.
 */
export function tickDrift(run: ProfileRun, options: WorkloadOptions): number | undefined {
  const rate = workloadDefinition(options.workload)?.parameters.find((p) => p.name === 'hz');
  const hz = Number(options.parameters.hz ?? rate?.default);
  const counted = TICK_COUNTS.map((key) => run.progress[key]).find((n) => n !== undefined);
  if (rate === undefined || !(hz > 0) || counted === undefined) return undefined;
  return counted - Math.floor((run.guestNs * hz) / 1e9);
}

export function printComparison(runs: readonly ProfileRun[], options: WorkloadOptions, by: CompareBy = 'device'): void {
  console.log(`splitvisor compare — ${describeWorkload(options)}\n`);
  // Cycles compare only within one cost model: the reference is the model most runs are charged in.
  const models = runs.map((r) => r.costModel);
  const reference = [...new Set(models)].sort((a, b) => models.filter((m) => m === b).length - models.filter((m) => m === a).length)[0];
  const comparable = runs.filter((r) => r.costModel === reference);
  const cheapest = Math.min(...comparable.map((r) => r.overheadCycles));
  const allEqual = comparable.every((r) => r.overheadCycles === cheapest);
  const { unit, differs } = workDone(runs);
  const drift = runs.map((r) => tickDrift(r, options));
  const drifts = drift.some((d) => d !== undefined);
  console.log(`Exits, each once; crossings into the kernel and into the device host; modelled overhead cycles, per guest second and per unit of the guest's work${drifts ? '; tick drift: the ticks the guest counted less those due at its rate in the guest time it ran' : ''}:`);
  printTable(runs.map((r, i) => ({
    profile: r.costModel === reference && r.overheadCycles === cheapest && !allEqual ? `${r.profile} ◀ cheapest` : r.profile,
    model: r.costModel,
    irqchip: r.irqchip,
    'guest time': GUEST_TIME[r.time] ?? r.time,
    exits: r.exits,
    'into kernel': r.lightweightExits,
    'into user': r.heavyweightExits,
    cycles: r.overheadCycles,
    'Δ vs cheapest': r.costModel !== reference ? `n/a (${r.costModel})` : r.overheadCycles === cheapest ? '—' : `+${cycles(r.overheadCycles - cheapest)} (${cheapest === 0 ? '∞' : `${(r.overheadCycles / cheapest).toFixed(2)}×`})`,
    '% guest': Number(r.overheadPercent.toFixed(3)),
    'exits/s': r.guestNs === 0 ? 'n/a' : Math.round((r.exits * 1e9) / r.guestNs),
    ...(unit === undefined ? {} : { [`cyc/${singular(unit)}`]: Math.round(r.overheadCycles / (r.progress[unit] ?? 1)) }),
    'irq p50/p99 ns': r.interruptLatencyNs.count === 0 ? 'n/a' : `${r.interruptLatencyNs.p50} / ${r.interruptLatencyNs.p99}`,
    ...(drift[i] === undefined ? {} : { 'tick drift': drift[i] }),
  })));
  if (differs.length > 0) {
    const counts = differs.map((u) => `${u}: ${runs.map((r) => `${r.profile} ${r.progress[u] ?? 0}`).join(', ')}`).join('; ');
    console.log(colour.yellow(`The runs did different amounts of guest work (${counts}) — compare them per unit of work${unit === undefined ? '' : ` (cycles / ${singular(unit)})`} or per guest second, not by their totals.`));
  }
  if (by === 'reason') {
    const reasons = [...new Set(runs.flatMap((r) => Object.keys(r.exitsByReason)))].sort();
    console.log('Exits by reason, each once:');
    printTable([...reasons.map((reason) => {
      const row: Record<string, Cell> = { reason };
      for (const r of runs) row[r.profile] = r.exitsByReason[reason] ?? 0;
      return row;
    }), Object.fromEntries([['reason', 'total'], ...runs.map((r) => [r.profile, r.exits])])]);
  } else {
    const devices = [...new Set(runs.flatMap((r) => [...Object.keys(r.exitsByDevice), ...Object.keys(r.kicksByDevice)]))].sort();
    console.log('Exits by device, each once, by the domain that handled it, with the device host\'s kicks and what they cost (◀ cheapest for the device):');
    printTable([...devices.map((device) => {
      const costs = comparable.map((r) => r.cyclesByDevice[device] ?? 0);
      const least = Math.min(...costs);
      const marked = costs.some((c) => c !== least);
      const row: Record<string, Cell> = { device };
      for (const r of runs) {
        const mark = marked && r.costModel === reference && (r.cyclesByDevice[device] ?? 0) === least ? ' ◀' : '';
        row[r.profile] = `${deviceCell(r, device)}${mark}`;
      }
      return row;
    }), Object.fromEntries([['device', 'total'], ...runs.map((r) => [r.profile, `${r.exits} exits · ${cycles(r.overheadCycles)} cyc (${r.overheadPercent.toFixed(3)} %)`])])]);
  }
  const timers = [...new Set(runs.flatMap((r) => Object.keys(r.timerLatenessNs)))].sort();
  if (timers.length > 0) {
    console.log('Timer lateness, deadline → its domain runs the timer (guest ns, p50 / p99 / max):');
    printTable(timers.map((device) => {
      const row: Record<string, string> = { device };
      for (const r of runs) {
        const p = r.timerLatenessNs[device];
        row[r.profile] = p === undefined ? '—' : p.count === 0 ? 'n/a' : `${p.p50} / ${p.p99} / ${p.max}`;
      }
      return row;
    }));
  }
  const mechanisms: [keyof ProfileRun['savedByFastPath'], string][] = [['coalescing', 'coalesced writes'], ['cachedReads', 'cached reads'], ['kernelCounters', 'kernel counters'], ['programs', 'fast-path programs'], ['postedWrites', 'posted writes']];
  if (runs.some((r) => Object.values(r.savedByFastPath).some((n) => n > 0))) {
    console.log('Heavyweight exits each I/O fast path took in the kernel instead (seeds 002, 003; posted writes: sent one way, not waited for):');
    printTable(mechanisms.map(([key, name]) => {
      const row: Record<string, Cell> = { 'fast path': name };
      for (const r of runs) row[r.profile] = r.savedByFastPath[key];
      return row;
    }));
  }
  const apart = runs.filter((r) => r.costModel !== reference).map((r) => `${r.profile} (${r.costModel})`);
  if (apart.length > 0) console.log(`Charged in another cost model than ${reference ?? 'the others'}, so not ranked: ${apart.join(', ')} — rerun with --cost-model ${reference ?? 'kvm-2020'} to rank every placement in one model.`);
  const unmodelled = [...new Set(runs.flatMap((r) => r.unmodelled))];
  if (unmodelled.length > 0) console.log(`Not modelled yet (absent from these runs): ${unmodelled.join(', ')}`);
}

/** `ticks` → `tick`: a unit of the guest's work, one of it. */
function singular(unit: string): string {
  return unit.endsWith('ies') ? `${unit.slice(0, -3)}y` : unit.endsWith('s') ? unit.slice(0, -1) : unit;
}
