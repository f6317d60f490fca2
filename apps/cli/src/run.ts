/**
 * `splitvisor run`: one workload under one placement, reported in full —
 * each exit once by device and the domain that handled it, the kicks apart,
 * modelled overhead, interrupts and their
 * latency percentiles, and in live mode the wall time of each heavyweight
 * exit kind.
 */
import type { ChosenPlacement } from './placement-file.ts';
import type { ProfileRun, WorkloadOptions } from './profile-run.ts';
import { describeWorkload, runProfile } from './profile-run.ts';
import { asResult } from './result-format.ts';
import type { RunFlags } from './run-flags.ts';
import { workloadOptions } from './run-flags.ts';
import type { Cell, Row } from './table.ts';
import type { RunTimeline } from './timeline.ts';
import { renderTimeline } from './timeline.ts';
import { printTable } from './table.ts';

/** A count that was measured, or `n/a` when nothing was (no interrupt taken, no timer run). */
export function measured(count: number, value: number): Cell {
  return count === 0 ? 'n/a' : value;
}

/** The exits table: each exit once by device and the domain that handled it, the kicks, the crossings and what they cost; a total row. */
export function exitRows(run: ProfileRun): Row[] {
  const devices = [...new Set([...Object.keys(run.exitsByDevice), ...Object.keys(run.kicksByDevice)])].sort();
  const rows: Row[] = devices.map((device) => {
    const exits = run.exitsByDevice[device] ?? {};
    const kicks = run.kicksByDevice[device] ?? {};
    return {
      device,
      exits: (exits.monitor ?? 0) + (exits.kernel ?? 0) + (exits.user ?? 0),
      'handled in monitor': exits.monitor ?? 0,
      kernel: exits.kernel ?? 0,
      user: exits.user ?? 0,
      'kicks to user': kicks.user ?? 0,
      'modelled cycles': run.cyclesByDevice[device] ?? 0,
    };
  });
  const sum = (column: string) => rows.reduce((n, row) => n + Number(row[column] ?? 0), 0);
  rows.push({
    device: 'total', exits: sum('exits'), 'handled in monitor': sum('handled in monitor'), kernel: sum('kernel'), user: sum('user'),
    'kicks to user': sum('kicks to user'), 'modelled cycles': sum('modelled cycles'),
  });
  return rows;
}

export function printRun(run: ProfileRun, options: WorkloadOptions): void {
  console.log(`splitvisor run — profile ${run.profile} (${run.irqchip} irqchip, cost model ${run.costModel}), ${describeWorkload(options)}\n`);
  if (run.resumedFrom !== undefined) {
    const from = run.resumedFrom;
    console.log(`Resumed from ${from.dir}, taken at ${from.atNs / 1e6} ms under ${from.placement}: what follows counts from there.\n`);
  }
  console.log('Exits by device, each once, by the domain that handled it (cpu: the CPU\'s own, hlt and irq windows); kicks: crossings into');
  console.log('the device host with no exit of their own (its timers\' while the guest waits, an EOI sent on):');
  printTable(exitRows(run));
  console.log(`Exits by reason: ${Object.entries(run.exitsByReason).map(([reason, n]) => `${reason} ${n}`).join(', ') || 'none'}`);
  printTable([{
    'guest ms': run.guestNs / 1e6,
    'guest cycles': run.guestCycles,
    exits: run.exits,
    'crossings to kernel': run.lightweightExits,
    'crossings to user': run.heavyweightExits,
    'overhead cycles': run.overheadCycles,
    '% of guest time': Number(run.overheadPercent.toFixed(3)),
    interrupts: run.interrupts,
    'irq windows': run.irqWindows,
  }]);
  const latency = run.interruptLatencyNs;
  const progress = Object.entries(run.progress);
  if (progress.length > 0) console.log(`The guest's own count: ${progress.map(([what, n]) => `${what} ${n}`).join(', ')}`);
  if (run.mode === 'live' && run.irqchip === 'userspace') console.log('Interrupt latency: not measured live with the irqchip in the device host\'s worker (run modelled for it)');
  else if (latency.count === 0) console.log('Interrupt latency (line rise → CPU takes it, guest ns): n/a (no interrupt taken)');
  else console.log(`Interrupt latency (line rise → CPU takes it, guest ns): p50 ${latency.p50}, p90 ${latency.p90}, p99 ${latency.p99}, max ${latency.max} over ${latency.count}`);
  const lateness = Object.entries(run.timerLatenessNs);
  if (run.mode === 'live') console.log('Timer lateness: measured for the timers in this thread (the device host\'s worker keeps its own)');
  if (lateness.length > 0) {
    console.log('Timer lateness (deadline → its domain runs the timer, guest ns):');
    printTable(lateness.map(([device, p]) => ({ device, count: p.count, p50: measured(p.count, p.p50), p99: measured(p.count, p.p99), max: measured(p.count, p.max) })));
  }
  if (run.wallNs !== undefined && Object.keys(run.wallNs).length === 0) console.log('Wall time per heavyweight exit round trip to the device host (live): none made');
  else if (run.wallNs !== undefined) {
    console.log('Wall time per heavyweight exit round trip to the device host (live), ns:');
    printTable(Object.entries(run.wallNs).map(([kind, p]) => ({ exit: kind, count: p.count, p50: p.p50, p90: p.p90, p99: p.p99, max: p.max })));
  }
  if (run.timeline !== undefined) {
    console.log(`\nTimeline of the bootstrap processor, ${describeWindow(run.timeline)} (seed 001's picture):`);
    for (const line of renderTimeline(run.timeline)) console.log(line);
  }
  if (run.moves !== undefined) {
    console.log('\nDevices moved while the guest ran (what follows each move counts in its new domain):');
    printTable(run.moves.map((m) => ({ 'guest ms': m.atNs / 1e6, device: m.device, from: m.from, to: m.to, 'lost-tick policy': m.lostTicks ?? 'kept' })));
  }
  if (run.snapshot !== undefined) printSnapshot(run.snapshot);
  if (run.recovery !== undefined) printRecovery(run.recovery);
  if (run.unmodelled.length > 0) console.log(`Not modelled yet (absent from this run): ${run.unmodelled.join(', ')}`);
  if (run.console !== '') {
    const lines = run.console.split(/\r?\n/);
    console.log(`\nGuest console (COM1${lines.length > 40 ? `, last 40 of ${lines.length} lines` : ''}):`);
    console.log(lines.slice(-40).join('\n'));
  }
  if (run.debugConsole !== '') {
    const lines = run.debugConsole.split(/\r?\n/);
    console.log(`\nDebug console (port 402h${lines.length > 40 ? `, last 40 of ${lines.length} lines` : ''}):`);
    console.log(lines.slice(-40).join('\n'));
  }
}

/** `run`'s action, given its placement: the report as tables, or `{ workload, run }` as JSON. */
export async function runCommand(chosen: ChosenPlacement, flags: RunFlags, extra: Pick<WorkloadOptions, 'costModel' | 'timeline'> = {}, progress?: (doneNs: number, totalNs: number) => void): Promise<ReturnType<typeof asResult<{ workload: WorkloadOptions; run: ProfileRun }>>> {
  const workload = { ...workloadOptions(flags), ...extra };
  const run = await runProfile(chosen, workload, progress);
  const result = asResult('run', { workload, run });
  if (flags.json === true) console.log(JSON.stringify(result, null, 2));
  else printRun(run, workload);
  return result;
}

/** `--recover`: the checkpoints, and each loss of the device host with the way back. */
function printRecovery(recovery: NonNullable<ProfileRun['recovery']>): void {
  const { recoveries } = recovery;
  console.log(`\nCheckpoints: ${recovery.checkpoints}, every ${recovery.checkpointEveryNs / 1e6} ms of guest time. Device host lost ${recoveries.length} time${recoveries.length === 1 ? '' : 's'}${recoveries.length === 0 ? '.' : ', each time the VM made again from the last checkpoint (the counts above are the whole run\'s):'}`);
  if (recoveries.length === 0) return;
  printTable(recoveries.map((r) => ({
    'lost at guest ms': r.atNs / 1e6, 'access in flight': r.inFlight, why: r.reason, 'found after wall ms': r.detectedMs,
    'from checkpoint ms': r.fromNs / 1e6, 'guest ms replayed': r.replayedNs / 1e6,
  })));
}

/** Where the snapshot went and what each part of it takes. */
function printSnapshot(snapshot: NonNullable<ProfileRun['snapshot']>): void {
  const { sizes } = snapshot;
  console.log(`\nSnapshot at ${snapshot.atNs / 1e6} ms of guest time: ${snapshot.dir} (${sizes.total} bytes; splitvisor resume ${snapshot.dir} continues it)`);
  printTable([
    ...Object.entries(sizes.devices).map(([part, bytes]) => ({ part, bytes })),
    ...sizes.vcpus.map((bytes, i) => ({ part: `vCPU ${i}`, bytes })),
    { part: 'RAM (pages written)', bytes: sizes.ram },
    { part: 'console', bytes: sizes.console },
  ]);
}

function describeWindow(timeline: RunTimeline): string {
  return `${timeline.fromNs / 1e6} ms to ${timeline.toNs / 1e6} ms of guest time`;
}
