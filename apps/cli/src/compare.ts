/**
 * The main job: one workload under several placements, side by side — where
 * each device's exits land, and what the crossings cost in the profile's cost
 * model. Modelled runs only (virtual time): the same arguments give the same
 * numbers, byte for byte.
 */
import type { Domain } from '@splitvisor/abi';
import { boundaryOf } from '@splitvisor/abi';
import { costModel, modelledCycles } from '@splitvisor/metrics';
import type { Placement } from '@splitvisor/placement';
import { irqchipMode, profile, validatePlacement } from '@splitvisor/placement';
import { Vm } from '@splitvisor/vmm';
import { pitTick } from '@splitvisor/workloads';

export interface WorkloadOptions {
  readonly workload: string;
  readonly hz: number;
  readonly durationNs: number;
}

export interface ProfileRun {
  readonly profile: string;
  readonly irqchip: string;
  readonly costModel: string;
  readonly interrupts: number;
  readonly guestCycles: number;
  /** Outward crossings by boundary. */
  readonly exits: number;
  readonly lightweightExits: number;
  readonly heavyweightExits: number;
  readonly exitsByDevice: Readonly<Record<string, Partial<Record<Domain, number>>>>;
  readonly overheadCycles: number;
  readonly overheadPercent: number;
  readonly unmodelled: readonly string[];
}

export class CliError extends Error {
  override readonly name = 'CliError';
}

export function placementOf(name: string): Placement {
  const file = profile(name);
  if (file === undefined) throw new CliError(`unknown profile "${name}" (see splitvisor profiles)`);
  const result = validatePlacement(file);
  if (!result.ok) throw new CliError(`profile ${name} is invalid: ${result.problems.join('; ')}`);
  return result.placement;
}

export function runProfile(name: string, options: WorkloadOptions): ProfileRun {
  if (options.workload !== 'pit-tick') throw new CliError(`unknown workload "${options.workload}" (this build has: pit-tick)`);
  const placement = placementOf(name);
  const { guest } = pitTick({ hz: options.hz });
  const vm = new Vm(placement, guest);
  const summary = vm.run(options.durationNs);
  const rows = vm.counts.rows();
  const model = costModel(placement.costModel);
  if (model === undefined) throw new CliError(`profile ${name} names cost model "${placement.costModel}", which does not exist`);
  const overheadCycles = modelledCycles(rows, model);
  const count = (boundary: string) => rows.filter((r) => boundaryOf(r.from, r.to) === boundary).reduce((sum, r) => sum + r.count, 0);
  const guestCycles = vm.clock.tsc();
  return {
    profile: name,
    irqchip: irqchipMode(placement),
    costModel: model.name,
    interrupts: summary.interrupts,
    guestCycles,
    exits: count('exit'),
    lightweightExits: count('lightweight-exit'),
    heavyweightExits: count('heavyweight-exit'),
    exitsByDevice: Object.fromEntries([...vm.counts.exitsByDevice()].sort(([a], [b]) => a.localeCompare(b))),
    overheadCycles,
    overheadPercent: guestCycles === 0 ? 0 : (100 * overheadCycles) / guestCycles,
    unmodelled: vm.unmodelled,
  };
}

export function printComparison(runs: readonly ProfileRun[], options: WorkloadOptions): void {
  console.log(`splitvisor compare — workload ${options.workload} (HZ=${options.hz}), ${options.durationNs / 1e6} ms of guest time, modelled\n`);
  const cheapest = Math.min(...runs.map((r) => r.overheadCycles));
  const allEqual = runs.every((r) => r.overheadCycles === cheapest);
  console.table(runs.map((r) => ({
    profile: r.overheadCycles === cheapest && !allEqual ? `${r.profile} ◀ cheapest` : r.profile,
    irqchip: r.irqchip,
    interrupts: r.interrupts,
    exits: r.exits,
    'to kernel': r.lightweightExits,
    'to user': r.heavyweightExits,
    'overhead cycles': r.overheadCycles,
    'Δ vs cheapest': r.overheadCycles - cheapest,
    '% of guest time': Number(r.overheadPercent.toFixed(3)),
  })));
  const devices = [...new Set(runs.flatMap((r) => Object.keys(r.exitsByDevice)))].sort();
  console.log('Where each device\'s exits land (crossings into each domain):');
  console.table(devices.map((device) => {
    const row: Record<string, string> = { device };
    for (const r of runs) {
      const cell = r.exitsByDevice[device] ?? {};
      row[r.profile] = (['monitor', 'kernel', 'user'] as const).filter((d) => cell[d] !== undefined).map((d) => `${d} ${cell[d] ?? 0}`).join(', ');
    }
    return row;
  }));
  const unmodelled = [...new Set(runs.flatMap((r) => r.unmodelled))];
  if (unmodelled.length > 0) console.log(`Not modelled yet (absent from these runs): ${unmodelled.join(', ')}`);
}
