/**
 * `splitvisor fuzz`: hostile guest input against the board's devices, each
 * alone on a virtual clock (`loneDevice`), driven through its registers by
 * seeded random operations (`fuzz-ops.ts`) — QEMU's fuzz_registers, for
 * any device, from the command line. `fuzz` is a pure function of the
 * devices, the number of operations and the seed: the same arguments give
 * the same report, byte for byte; the command renders it.
 *
 * What it holds every device to, whatever it models:
 * - a device never throws at the guest (the Device contract): a throw is
 *   caught, counted and the first few listed with the operation that caused it;
 * - every read is a whole number that fits the access width;
 * - every irq output is driven with a boolean level;
 * - its state survives the wire and a restore into a fresh instance
 *   (`LoneDevice.checkState`), checked at power-on, every CHECK_EVERY
 *   operations (less often for a large state, and for VGA) and at the end;
 * - no timer keeps firing at one instant (re-armed for a time already reached).
 * What it counts: the device's own anomalies (ignored writes, open-bus reads,
 * …), and the DMA guest memory took and refused.
 */
import { InvalidArgumentError } from 'commander';
import type { DeviceName, Placement } from '@splitvisor/placement';
import { DEVICES, profile, validatePlacement } from '@splitvisor/placement';
import type { LoneDeviceMaker } from '@splitvisor/vmm';
import { MAX_FIRINGS_AT_ONE_INSTANT, boardDeviceMaker, loneDeviceOf } from '@splitvisor/vmm';
import type { FuzzOp } from './fuzz-ops.ts';
import { FuzzOps, WIDTH_MAX, describeOp } from './fuzz-ops.ts';
import { progressBar } from './progress-bar.ts';
import type { Row } from './table.ts';
import { colour, printTable } from './table.ts';

/** Guest RAM each device's DMA may reach: a transfer not wholly inside it is refused by the memory. */
export const FUZZ_MEMORY_BYTES = 1 << 20;

/**
 * The media the board's factories are given, held in memory (nothing touches
 * the host): a blank 1 MiB disk on the ATA primary master and a blank 1.44 MB
 * diskette in drive A, so that commands reach a drive and move data.
 */
const FUZZ_MEDIA = { diskBlankBytes: 1 << 20, floppyBlankBytes: 1_474_560 } as const;

/** The profile whose lost-tick policies the timers are built with (qtest's default machine). */
const POLICY_PROFILE = 'kvm-irqchip';

/**
 * The most timer firings one advance makes: a device whose timer the fuzzer
 * has set to a period of a few clocks (an HPET comparator period of 1, a PIT
 * count of 2) would otherwise spend millions of firings on one long advance.
 * Such an advance stops at the deadline it reached and is counted as cut short.
 */
export const FIRING_BUDGET = 1 << 16;

/** Operations between state checks, for a state up to STATE_BYTES_PER_STRETCH; a larger one is checked proportionally less often. */
export const CHECK_EVERY = 1024;
const STATE_BYTES_PER_STRETCH = 64 * 1024;

/**
 * Devices whose check costs far more than their state's size says: a fresh
 * VGA allocates its 16 MiB of video memory (the board's), some 0.2 s a check
 * on this machine however little of it the state holds.
 */
const CHECK_EVERY_BY_DEVICE: Partial<Record<DeviceName, number>> = { vga: 1 << 18 };

/** Throws and invariant violations listed per device (all are counted). */
export const FINDINGS_LISTED = 5;

/** How often the progress hook is called, in operations. */
const PROGRESS_EVERY = 1 << 14;

/** What can be fuzzed: a name, and how to make the device on a context. */
export interface FuzzTarget {
  readonly name: string;
  readonly make: LoneDeviceMaker;
  /** Operations between state checks at least (default CHECK_EVERY). */
  readonly checkEvery?: number;
}

/** One thing that went wrong, and the operation after which it did. */
export interface FuzzFinding {
  /** The operation's index (0-based): `--ops` one more than this, same seed, reproduces it. */
  readonly op: number;
  /** Virtual time when the operation began. */
  readonly atNs: number;
  readonly access: string;
  readonly what: string;
}

export interface DeviceFuzz {
  readonly device: string;
  readonly model: string;
  readonly ops: number;
  readonly reads: number;
  readonly writes: number;
  readonly advances: number;
  readonly virtualTimeNs: number;
  readonly timersFired: number;
  /** Advances stopped short of their target at FIRING_BUDGET timer firings. */
  readonly advancesCutShort: number;
  /** The device's own counts of odd guest input, as `anomalies()` gives them. */
  readonly anomalies: Readonly<Record<string, number>>;
  /** `anomalies.ignoredWrites` and `anomalies.openBusReads`; null when the device does not count them. */
  readonly ignoredWrites: number | null;
  readonly openBusReads: number | null;
  /** The rest of the anomalies, added up: the three add up to every anomaly counted. */
  readonly otherAnomalies: number;
  /** Lines the device logged about guest input. */
  readonly warnings: number;
  readonly dma: { readonly transfers: number; readonly bytes: number; readonly refused: number };
  readonly stateChecks: number;
  readonly invariantViolations: number;
  readonly violations: readonly FuzzFinding[];
  readonly throws: number;
  readonly firstThrows: readonly FuzzFinding[];
}

export interface FuzzReport {
  readonly seed: number;
  readonly opsPerDevice: number;
  readonly memoryBytes: number;
  readonly devices: readonly DeviceFuzz[];
  readonly throws: number;
  readonly invariantViolations: number;
  /** No device threw or broke an invariant. */
  readonly passed: boolean;
}

export interface FuzzOptions {
  readonly ops: number;
  readonly seed: number;
  /** `done` of `total` operations, across the devices. */
  readonly progress?: (done: number, total: number) => void;
}

const describe = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

let policies: Placement | undefined;
function policyPlacement(): Placement {
  if (policies === undefined) {
    const checked = validatePlacement(profile(POLICY_PROFILE));
    if (!checked.ok) throw new Error(`profile ${POLICY_PROFILE} does not validate: ${checked.problems.join('; ')}`);
    policies = checked.placement;
  }
  return policies;
}

/** The board's device `name`, as a fuzz target. */
export function boardTarget(name: DeviceName): FuzzTarget {
  const checkEvery = CHECK_EVERY_BY_DEVICE[name];
  return { name, make: boardDeviceMaker(name, policyPlacement(), FUZZ_MEDIA), ...(checkEvery === undefined ? {} : { checkEvery }) };
}

/** `--device`: one of the board's devices, several separated by commas, or `all`. */
export function deviceList(value: string): DeviceName[] {
  const names = value.split(',').map((name) => name.trim());
  if (names.includes('all')) return [...DEVICES];
  const known: readonly string[] = DEVICES;
  for (const name of names) if (!known.includes(name)) throw new InvalidArgumentError(`unknown device "${name}" (known: ${DEVICES.join(', ')}, or all)`);
  return [...new Set(names as DeviceName[])];
}

/** `--ops`: a whole number of operations, at least 1. */
export function opCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of operations, at least 1');
  return n;
}

/** `--seed`: a whole number from 0 to 2^53 − 1. */
export function seedValue(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number from 0 to 2^53 − 1');
  return n;
}

/** Fuzzes each of `targets` in turn, `ops` operations each, each from its own stream of `seed`. */
export function fuzz(targets: readonly FuzzTarget[], options: FuzzOptions): FuzzReport {
  const total = targets.length * options.ops;
  const devices = targets.map((target, i) => fuzzDevice(target, options.ops, options.seed, (done) => { options.progress?.(i * options.ops + done, total); }));
  options.progress?.(total, total);
  const throws = devices.reduce((sum, d) => sum + d.throws, 0);
  const invariantViolations = devices.reduce((sum, d) => sum + d.invariantViolations, 0);
  return { seed: options.seed, opsPerDevice: options.ops, memoryBytes: FUZZ_MEMORY_BYTES, devices, throws, invariantViolations, passed: throws === 0 && invariantViolations === 0 };
}

/** `ops` operations on `target` alone, from stream `target.name` of `seed`. */
export function fuzzDevice(target: FuzzTarget, ops: number, seed: number, progress?: (done: number) => void): DeviceFuzz {
  const lone = loneDeviceOf(target.make, { memoryBytes: FUZZ_MEMORY_BYTES, firingBudget: FIRING_BUDGET });
  const { device, counts } = lone;
  const generator = new FuzzOps(device.regions, seed, target.name);
  let reads = 0;
  let writes = 0;
  let advances = 0;
  let throws = 0;
  let invariantViolations = 0;
  let stateChecks = 0;
  const firstThrows: FuzzFinding[] = [];
  const violations: FuzzFinding[] = [];
  const violated = (op: number, atNs: number, access: string, what: string) => {
    invariantViolations++;
    if (violations.length < FINDINGS_LISTED) violations.push({ op, atNs, access, what });
  };
  /** Checks the state; returns how many operations until the next check. */
  const checkState = (op: number, atNs: number, access: string): number => {
    stateChecks++;
    const check = lone.checkState();
    if (check.problem !== undefined) violated(op, atNs, access, check.problem);
    return Math.max(target.checkEvery ?? CHECK_EVERY, CHECK_EVERY * Math.ceil(check.bytes / STATE_BYTES_PER_STRETCH));
  };
  let badIrqCalls = counts.badIrqCalls; // what the constructor drove
  let stuckTimers = 0;
  const badIrq = (calls: number) => `irq ${counts.lastBadIrqCall ?? ''}: a level is a boolean, on a whole-numbered output${calls > 1 ? ` (${calls} such calls)` : ''}`;
  if (badIrqCalls > 0) violated(-1, 0, 'power-on', badIrq(badIrqCalls));
  let nextCheck = checkState(-1, 0, 'power-on');

  for (let i = 0; i < ops; i++) {
    const op: FuzzOp = generator.next();
    const atNs = lone.now();
    try {
      switch (op.kind) {
        case 'read': {
          reads++;
          const value = device.read(op.region, op.offset, op.size);
          if (!Number.isInteger(value) || value < 0 || value > WIDTH_MAX[op.size]) violated(i, atNs, describeOp(op), `read ${String(value)}: not a whole number that fits ${op.size} byte${op.size === 1 ? '' : 's'}`);
          break;
        }
        case 'write':
          writes++;
          device.write(op.region, op.offset, op.size, op.value);
          break;
        case 'advance':
          advances++;
          lone.advance(op.ns);
          break;
      }
    } catch (error) {
      throws++;
      if (firstThrows.length < FINDINGS_LISTED) firstThrows.push({ op: i, atNs, access: describeOp(op), what: describe(error) });
    }
    if (counts.badIrqCalls !== badIrqCalls) {
      violated(i, atNs, describeOp(op), badIrq(counts.badIrqCalls - badIrqCalls));
      badIrqCalls = counts.badIrqCalls;
    }
    if (counts.stuckTimers !== stuckTimers) {
      violated(i, atNs, describeOp(op), `${MAX_FIRINGS_AT_ONE_INSTANT} timer firings at one instant: a timer re-arms itself at a time already reached`);
      stuckTimers = counts.stuckTimers;
    }
    if (--nextCheck === 0 || i === ops - 1) nextCheck = checkState(i, atNs, describeOp(op));
    if ((i + 1) % PROGRESS_EVERY === 0) progress?.(i + 1);
  }

  const anomalies = { ...device.anomalies() };
  const counted = (key: string) => (Object.hasOwn(anomalies, key) ? anomalies[key] ?? 0 : null);
  const ignoredWrites = counted('ignoredWrites');
  const openBusReads = counted('openBusReads');
  const allAnomalies = Object.values(anomalies).reduce((sum, n) => sum + n, 0);
  return {
    device: target.name, model: device.model, ops, reads, writes, advances,
    virtualTimeNs: lone.now(), timersFired: counts.timersFired, advancesCutShort: counts.advancesCutShort,
    anomalies, ignoredWrites, openBusReads, otherAnomalies: allAnomalies - (ignoredWrites ?? 0) - (openBusReads ?? 0),
    warnings: counts.warnings,
    dma: { transfers: counts.dmaTransfers, bytes: counts.dmaBytes, refused: counts.dmaRefused },
    stateChecks, invariantViolations, violations, throws, firstThrows,
  };
}

const orNa = (n: number | null): number | string => n ?? 'n/a';

/** The report as a person reads it: one row per device, then what each counted and what went wrong. */
export function printFuzz(report: FuzzReport): void {
  console.log(`splitvisor fuzz — ${report.opsPerDevice.toLocaleString('en-US')} operations per device, seed ${report.seed}; each device alone on a virtual clock with ${report.memoryBytes / 2 ** 20} MiB of guest RAM for its DMA\n`);
  const rows: Row[] = report.devices.map((d) => ({
    device: d.device, ops: d.ops, reads: d.reads, writes: d.writes, advances: d.advances,
    'ignored writes': orNa(d.ignoredWrites), 'open-bus reads': orNa(d.openBusReads), 'other anomalies': d.otherAnomalies,
    'DMA moved': d.dma.transfers, 'DMA refused': d.dma.refused, 'invariant violations': d.invariantViolations, throws: d.throws,
  }));
  printTable(rows);
  console.log(`State round trips checked at power-on, every ${CHECK_EVERY.toLocaleString('en-US')} operations (less often for a state over ${STATE_BYTES_PER_STRETCH / 1024} KiB, and for VGA) and at the end: ${report.devices.map((d) => `${d.device} ${d.stateChecks.toLocaleString('en-US')}`).join(', ')}.`);
  const cut = report.devices.filter((d) => d.advancesCutShort > 0);
  if (cut.length > 0) console.log(`Advances cut short at ${FIRING_BUDGET.toLocaleString('en-US')} timer firings (a timer set to a period of a few clocks): ${cut.map((d) => `${d.device} ${d.advancesCutShort.toLocaleString('en-US')}`).join(', ')}.`);
  const counted = report.devices.filter((d) => d.otherAnomalies > 0);
  if (counted.length > 0) {
    console.log('\nOther anomalies, as each device counts them:');
    for (const d of counted) {
      const named = Object.entries(d.anomalies).filter(([key, n]) => n > 0 && key !== 'ignoredWrites' && key !== 'openBusReads');
      console.log(`  ${d.device}: ${named.map(([key, n]) => `${key} ${n.toLocaleString('en-US')}`).join(' · ')}`);
    }
  }
  for (const d of report.devices) {
    const list = (title: string, count: number, findings: readonly FuzzFinding[]) => {
      if (count === 0) return;
      console.log(colour.red(`\n${d.device}: ${count.toLocaleString('en-US')} ${title}${count > findings.length ? ` (the first ${findings.length})` : ''}:`));
      for (const f of findings) console.log(`  op ${f.op < 0 ? '—' : f.op} at ${f.atNs} ns, ${f.access}: ${f.what}`);
    };
    list('throws', d.throws, d.firstThrows);
    list('invariant violations', d.invariantViolations, d.violations);
  }
  console.log(report.passed
    ? '\nNo device threw or broke an invariant.'
    : `\n${report.throws.toLocaleString('en-US')} throws and ${report.invariantViolations.toLocaleString('en-US')} invariant violations: the same --device and --seed with --ops set to an op's index + 1 stop right after it.`);
}

export interface FuzzFlags {
  readonly device: readonly DeviceName[];
  readonly ops: number;
  readonly seed: number;
  readonly json?: boolean;
}

/**
 * The command: fuzzes, prints the report (a table, or `--json`) and, when a
 * device threw or broke an invariant, says so in one line on stderr and
 * sets a non-zero exit status. The wall time is printed under the table
 * only: it is this machine's, and the JSON stays the same bytes on any.
 */
export function fuzzCommand(flags: FuzzFlags): FuzzReport {
  const bar = progressBar('fuzz', flags.json === true, 'operations');
  const started = performance.now();
  const report = fuzz(flags.device.map(boardTarget), { ops: flags.ops, seed: flags.seed, progress: bar.update });
  const seconds = (performance.now() - started) / 1000;
  bar.stop();
  if (flags.json === true) console.log(JSON.stringify(report, null, 2));
  else {
    printFuzz(report);
    const perSecond = Math.round((report.opsPerDevice * report.devices.length) / seconds);
    console.log(`${seconds.toFixed(1)} s of wall time on this machine (${perSecond.toLocaleString('en-US')} operations a second).`);
  }
  if (!report.passed) {
    console.error(`splitvisor: fuzz found ${report.throws} throws and ${report.invariantViolations} invariant violations (seed ${report.seed})`);
    process.exitCode = 1;
  }
  return report;
}
