/**
 * Report data: what a run's crossings add up to — exits by boundary, each
 * device's exits by the domain that handled them, and the modelled overhead
 * in a cost model, also as a share of guest time. Computed here once, for
 * every command that reports a run (`splitvisor run`, `compare`, `replay`).
 */
import type { Domain } from '@splitvisor/abi';
import { boundaryOf } from '@splitvisor/abi';
import type { CostModel } from './cost-model.ts';
import { modelledCycles } from './modelled-cycles.ts';
import type { TransitionRow } from './transition-counts.ts';

/** Each device's outward crossings by the domain that handled them. */
export type ExitsByDevice = Readonly<Record<string, Readonly<Partial<Record<Domain, number>>>>>;

/** The domains an exit can reach, in the order they nest (guest → monitor → kernel → user). */
const OUTWARD: readonly Domain[] = ['monitor', 'kernel', 'user'];

type Crossing = Pick<TransitionRow, 'from' | 'to' | 'device' | 'count'>;

/** Each device's outward crossings by the domain that handled them, the devices in the order the crossings name them. */
export function tallyExitsByDevice(crossings: Iterable<Crossing>): Map<string, Partial<Record<Domain, number>>> {
  const table = new Map<string, Partial<Record<Domain, number>>>();
  for (const crossing of crossings) {
    if (crossing.device === null || boundaryOf(crossing.from, crossing.to) === undefined) continue;
    const cell = table.get(crossing.device) ?? {};
    cell[crossing.to] = (cell[crossing.to] ?? 0) + crossing.count;
    table.set(crossing.device, cell);
  }
  return table;
}

export interface ExitReport {
  /** Outward crossings by boundary: guest → monitor, into the kernel (lightweight), into userspace (heavyweight). */
  readonly exits: number;
  readonly lightweightExits: number;
  readonly heavyweightExits: number;
  /** Devices by name; each one's domains in the order they nest. */
  readonly exitsByDevice: ExitsByDevice;
  /** Every outward crossing charged its boundary's round trip in the cost model. */
  readonly overheadCycles: number;
  /** overheadCycles as a percentage of the guest cycles (0 when the guest ran none). */
  readonly overheadPercent: number;
}

export interface ExitReportOptions {
  /** Round `overheadPercent` to this many decimal places; unrounded without it. */
  readonly percentDecimals?: number;
}

/**
 * What `rows` (one run's, or several runs' together) add up to, charged in
 * `model`, against `guestCycles` of guest execution.
 */
export function exitReport(rows: readonly TransitionRow[], model: CostModel, guestCycles: number, options: ExitReportOptions = {}): ExitReport {
  const overheadCycles = modelledCycles(rows, model);
  const count = (boundary: string) => rows.filter((r) => boundaryOf(r.from, r.to) === boundary).reduce((sum, r) => sum + r.count, 0);
  const byDevice = [...tallyExitsByDevice(rows)].sort(([a], [b]) => a.localeCompare(b)).map(([device, cell]) => {
    const nested: Partial<Record<Domain, number>> = {};
    for (const domain of OUTWARD) {
      const exits = cell[domain];
      if (exits !== undefined) nested[domain] = exits;
    }
    return [device, nested] as const;
  });
  return {
    exits: count('exit'),
    lightweightExits: count('lightweight-exit'),
    heavyweightExits: count('heavyweight-exit'),
    exitsByDevice: Object.fromEntries(byDevice),
    overheadCycles,
    overheadPercent: overheadPercentOf(overheadCycles, guestCycles, options.percentDecimals),
  };
}

function overheadPercentOf(overheadCycles: number, guestCycles: number, decimals: number | undefined): number {
  if (guestCycles === 0) return 0;
  if (decimals === undefined) return (100 * overheadCycles) / guestCycles;
  const scale = 10 ** decimals;
  return Math.round((100 * scale * overheadCycles) / guestCycles) / scale;
}
