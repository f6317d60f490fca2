/**
 * Report data: what a run's crossings add up to — exits by boundary, each
 * device's exits by the domain that handled them, and the modelled overhead
 * in a cost model, also as a share of guest time. Computed here once, for
 * every command that reports a run (`splitvisor run`, `compare`, `replay`).
 */
import type { Domain, TransitionReason } from '@splitvisor/abi';
import { boundaryOf } from '@splitvisor/abi';
import type { CostModel } from './cost-model.ts';
import { crossingCycles, modelledCycles } from './modelled-cycles.ts';
import type { TransitionRow } from './transition-counts.ts';

/** A count by device and domain. */
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

/** The device named for crossings no device caused: the CPU's own exits (`hlt`, irq windows). */
export const CPU_EXITS = 'cpu';

/**
 * The reason an exit's hops share. A timer's exit that goes on to the device
 * host crosses the last boundary as a kick (`intr`): the same exit.
 */
function chainReason(reason: TransitionReason): TransitionReason {
  return reason === 'intr' ? 'timer' : reason;
}

export interface ExitAttribution {
  /** Each guest exit once, by its device and the domain that handled it (the innermost it reached). */
  readonly exits: Map<string, Partial<Record<Domain, number>>>;
  /** Crossings with no guest exit of their own (a device host timer's kick, an EOI sent on), by device and the domain they entered. */
  readonly kicks: Map<string, Partial<Record<Domain, number>>>;
  /** Each guest exit once, by its reason. */
  readonly reasons: Map<TransitionReason, number>;
}

/**
 * Each exit once, from counts of crossings: the exits of one device for one
 * reason leave the guest, some go on into the kernel, some of those into
 * userspace — each is handled where it stopped. Crossings beyond those
 * (into the device host with the guest halted, an EOI sent on) are kicks.
 */
export function attributeExits(crossings: Iterable<Pick<TransitionRow, 'from' | 'to' | 'reason' | 'device' | 'count'>>): ExitAttribution {
  const chains = new Map<string, { device: string; reason: TransitionReason; out: number; kernel: number; user: number }>();
  for (const c of crossings) {
    const boundary = boundaryOf(c.from, c.to);
    if (boundary === undefined) continue;
    const device = c.device ?? CPU_EXITS;
    const reason = chainReason(c.reason);
    const key = `${device}\u0000${reason}`;
    const chain = chains.get(key) ?? { device, reason, out: 0, kernel: 0, user: 0 };
    if (c.from === 'guest') chain.out += c.count;
    else if (c.to === 'kernel') chain.kernel += c.count;
    else if (c.to === 'user') chain.user += c.count;
    chains.set(key, chain);
  }
  const exits = new Map<string, Partial<Record<Domain, number>>>();
  const kicks = new Map<string, Partial<Record<Domain, number>>>();
  const reasons = new Map<TransitionReason, number>();
  const add = (table: Map<string, Partial<Record<Domain, number>>>, device: string, domain: Domain, n: number) => {
    if (n <= 0) return;
    const cell = table.get(device) ?? {};
    cell[domain] = (cell[domain] ?? 0) + n;
    table.set(device, cell);
  };
  for (const { device, reason, out, kernel, user } of chains.values()) {
    const toKernel = Math.min(kernel, out);
    const toUser = Math.min(user, toKernel);
    add(exits, device, 'monitor', out - toKernel);
    add(exits, device, 'kernel', toKernel - toUser);
    add(exits, device, 'user', toUser);
    add(kicks, device, 'kernel', kernel - toKernel);
    add(kicks, device, 'user', user - toUser);
    if (out > 0) reasons.set(reason, (reasons.get(reason) ?? 0) + out);
  }
  return { exits, kicks, reasons };
}

export interface ExitReport {
  /** Outward crossings by boundary: guest → monitor (each exit), into the kernel (lightweight), into userspace (heavyweight). */
  readonly exits: number;
  readonly lightweightExits: number;
  readonly heavyweightExits: number;
  /** Each exit once, by device (`cpu`: the CPU's own) and the domain that handled it; they add up to `exits`. */
  readonly exitsByDevice: ExitsByDevice;
  /**
   * Crossings with no guest exit of their own, by device and the domain
   * entered: a device host timer's kick while the guest waits, an EOI sent
   * on. With the exits they add up to the crossings into each domain.
   */
  readonly kicksByDevice: ExitsByDevice;
  /** Every outward crossing by device and the domain it entered (an exit handled in userspace crossed into the monitor and the kernel on its way). */
  readonly crossingsByDevice: ExitsByDevice;
  /** Each exit once, by its reason (`io`, `mmio`, `hlt`, `timer`, …). */
  readonly exitsByReason: Readonly<Record<string, number>>;
  /** The modelled cycles of each device's crossings (its exits', its kicks', its ring appends and posted writes'); they add up to `overheadCycles`. */
  readonly cyclesByDevice: Readonly<Record<string, number>>;
  /** Every outward crossing charged its boundary's round trip in the cost model. */
  readonly overheadCycles: number;
  /** overheadCycles as a percentage of the guest cycles (0 when the guest ran none). */
  readonly overheadPercent: number;
}

export interface ExitReportOptions {
  /** Round `overheadPercent` to this many decimal places; unrounded without it. */
  readonly percentDecimals?: number;
}

/** A device × domain table as report data: devices by name, each one's domains in the order they nest. */
function nested(table: ReadonlyMap<string, Partial<Record<Domain, number>>>): ExitsByDevice {
  return Object.fromEntries([...table].sort(([a], [b]) => a.localeCompare(b)).map(([device, cell]) => {
    const ordered: Partial<Record<Domain, number>> = {};
    for (const domain of OUTWARD) {
      const n = cell[domain];
      if (n !== undefined) ordered[domain] = n;
    }
    return [device, ordered] as const;
  }));
}

/**
 * What `rows` (one run's, or several runs' together) add up to, charged in
 * `model`, against `guestCycles` of guest execution.
 */
export function exitReport(rows: readonly TransitionRow[], model: CostModel, guestCycles: number, options: ExitReportOptions = {}): ExitReport {
  const overheadCycles = modelledCycles(rows, model);
  const count = (boundary: string) => rows.filter((r) => boundaryOf(r.from, r.to) === boundary).reduce((sum, r) => sum + r.count, 0);
  const { exits, kicks, reasons } = attributeExits(rows);
  const crossings = tallyExitsByDevice(rows.map((r) => (r.device === null ? { ...r, device: CPU_EXITS } : r)));
  return {
    exits: count('exit'),
    lightweightExits: count('lightweight-exit'),
    heavyweightExits: count('heavyweight-exit'),
    exitsByDevice: nested(exits),
    kicksByDevice: nested(kicks),
    crossingsByDevice: nested(crossings),
    exitsByReason: Object.fromEntries([...reasons].sort(([a], [b]) => a.localeCompare(b))),
    cyclesByDevice: cyclesByDevice(rows, model),
    overheadCycles,
    overheadPercent: overheadPercentOf(overheadCycles, guestCycles, options.percentDecimals),
  };
}

/** Each device's crossings charged in `model` (the CPU's own as `cpu`), devices by name, those that cost nothing left out. */
function cyclesByDevice(rows: readonly TransitionRow[], model: CostModel): Record<string, number> {
  const cycles = new Map<string, number>();
  for (const row of rows) {
    const charged = row.count * crossingCycles(model, row.from, row.to, row.reason);
    if (charged === 0) continue;
    const device = row.device ?? CPU_EXITS;
    cycles.set(device, (cycles.get(device) ?? 0) + charged);
  }
  return Object.fromEntries([...cycles].sort(([a], [b]) => a.localeCompare(b)));
}

function overheadPercentOf(overheadCycles: number, guestCycles: number, decimals: number | undefined): number {
  if (guestCycles === 0) return 0;
  if (decimals === undefined) return (100 * overheadCycles) / guestCycles;
  const scale = 10 ** decimals;
  return Math.round((100 * scale * overheadCycles) / guestCycles) / scale;
}
