/**
 * `splitvisor run`: one workload under one placement, reported in full —
 * exits per device × domain, modelled overhead, interrupts and their
 * latency percentiles, and in live mode the wall time of each heavyweight
 * exit kind.
 */
import type { ChosenPlacement } from './placement-file.ts';
import type { ProfileRun, WorkloadOptions } from './profile-run.ts';
import { describeWorkload, runProfile } from './profile-run.ts';
import type { RunFlags } from './run-flags.ts';
import { workloadOptions } from './run-flags.ts';

export function printRun(run: ProfileRun, options: WorkloadOptions): void {
  console.log(`splitvisor run — profile ${run.profile} (${run.irqchip} irqchip, cost model ${run.costModel}), ${describeWorkload(options)}\n`);
  const domains = ['monitor', 'kernel', 'user'] as const;
  console.log('Exits by device, and how far each went (crossings into each domain):');
  console.table(Object.entries(run.exitsByDevice).map(([device, cell]) => {
    const row: Record<string, string | number> = { device };
    for (const d of domains) row[d] = cell[d] ?? 0;
    return row;
  }));
  const latency = run.interruptLatencyNs;
  console.table([{
    'guest ms': run.guestNs / 1e6,
    'guest cycles': run.guestCycles,
    exits: run.exits,
    'to kernel': run.lightweightExits,
    'to user': run.heavyweightExits,
    'overhead cycles': run.overheadCycles,
    '% of guest time': Number(run.overheadPercent.toFixed(3)),
    interrupts: run.interrupts,
    'irq windows': run.irqWindows,
  }]);
  const progress = Object.entries(run.progress);
  if (progress.length > 0) console.log(`The guest's own count: ${progress.map(([what, n]) => `${what} ${n}`).join(', ')}`);
  if (run.mode === 'live' && run.irqchip === 'userspace') console.log('Interrupt latency: not measured live with the irqchip in the device host\'s worker (run modelled for it)');
  else console.log(`Interrupt latency (line rise → CPU takes it, guest ns): p50 ${latency.p50}, p90 ${latency.p90}, p99 ${latency.p99}, max ${latency.max} over ${latency.count}`);
  const lateness = Object.entries(run.timerLatenessNs);
  if (run.mode === 'live') console.log('Timer lateness: measured for the timers in this thread (the device host\'s worker keeps its own)');
  if (lateness.length > 0) {
    console.log('Timer lateness (deadline → its domain runs the timer, guest ns):');
    console.table(lateness.map(([device, p]) => ({ device, count: p.count, p50: p.p50, p99: p.p99, max: p.max })));
  }
  if (run.wallNs !== undefined && Object.keys(run.wallNs).length === 0) console.log('Wall time per heavyweight exit round trip to the device host (live): none made');
  else if (run.wallNs !== undefined) {
    console.log('Wall time per heavyweight exit round trip to the device host (live), ns:');
    console.table(Object.entries(run.wallNs).map(([kind, p]) => ({ exit: kind, count: p.count, p50: p.p50, p90: p.p90, p99: p.p99, max: p.max })));
  }
  if (run.unmodelled.length > 0) console.log(`Not modelled yet (absent from this run): ${run.unmodelled.join(', ')}`);
  if (run.console !== '') {
    const lines = run.console.split(/\r?\n/);
    console.log(`\nGuest console (COM1${lines.length > 40 ? `, last 40 of ${lines.length} lines` : ''}):`);
    console.log(lines.slice(-40).join('\n'));
  }
}

/** `run`'s action, given its placement: the report as tables, or `{ workload, run }` as JSON. */
export async function runCommand(chosen: ChosenPlacement, flags: RunFlags): Promise<void> {
  const workload = workloadOptions(flags);
  const run = await runProfile(chosen, workload);
  if (flags.json === true) console.log(JSON.stringify({ workload, run }, null, 2));
  else printRun(run, workload);
}
