/**
 * `splitvisor compare --workload vmexit`: kvm-unit-tests' exit
 * microbenchmarks under each placement, reported as x86/vmexit.c reports
 * them — one `name cycles` line per test, cycles per iteration — and side by
 * side. Each test runs twice per profile, with the iterations asked and with
 * none, so the setup cancels out: what is left of the guest's TSC, divided
 * by the iterations, is what x86/vmexit measures with RDTSC around its loop —
 * the guest's own cycles and, since the guest's clock runs on through its
 * exits, the modelled cost of every crossing one iteration makes.
 */
import { VMEXIT_TESTS } from '@splitvisor/workloads';
import type { ProfileRun, WorkloadOptions } from './profile-run.ts';
import { CliError } from './cli-error.ts';
import type { PlacementChoice } from './placement-file.ts';
import { choosePlacement } from './placement-file.ts';
import { printTable } from './table.ts';
import { runProfile } from './profile-run.ts';

export interface VmexitResult {
  readonly test: string;
  /** Guest TSC cycles per iteration (its own and its crossings'), rounded down as vmexit.c's integer division does. */
  readonly cyclesPerIteration: number;
  /** Outward crossings (exits) per iteration, by boundary. */
  readonly exitsPerIteration: number;
  readonly heavyweightExitsPerIteration: number;
}

export interface VmexitProfile {
  readonly profile: string;
  readonly irqchip: string;
  readonly costModel: string;
  readonly results: readonly VmexitResult[];
}

/** The guest's TSC at the end, its exits' time in it: as it runs under `guest-and-exits`, added under `guest-cycles`. */
// Under guest-cycles the guest's clock leaves its exits out; under the other policies they are in it already.
const total = (run: ProfileRun) => run.guestCycles + (run.time === 'guest-cycles' ? run.overheadCycles : 0);
/** Per-iteration counts to two places: a crossing made once per run (a timer kick) shows as a fraction. */
const round = (n: number) => Math.round(n * 100) / 100;

export async function vmexitProfile(choice: PlacementChoice, options: WorkloadOptions, tests: readonly string[], iterations: number): Promise<VmexitProfile> {
  const chosen = choosePlacement(choice); // read and checked once, for every run below
  const results: VmexitResult[] = [];
  let first: ProfileRun | undefined;
  for (const test of tests) {
    const runWith = (n: number) => runProfile(chosen, { ...options, parameters: { ...options.parameters, test, iterations: n } });
    const loop = await runWith(iterations);
    const setup = await runWith(0);
    first ??= loop;
    if (loop.progress.iterations !== iterations) {
      throw new CliError(`vmexit ${test} under ${loop.profile} ran ${loop.progress.iterations ?? 0} of ${iterations} iterations in ${options.durationNs / 1e6} ms of guest time: give a longer --duration`);
    }
    results.push({
      test,
      cyclesPerIteration: Math.floor((total(loop) - total(setup)) / iterations),
      exitsPerIteration: (loop.exits - setup.exits) / iterations,
      heavyweightExitsPerIteration: (loop.heavyweightExits - setup.heavyweightExits) / iterations,
    });
  }
  return { profile: chosen.label, irqchip: first?.irqchip ?? '', costModel: first?.costModel ?? '', results };
}

/** The tests the options name (`--param test=…`), else all of them; and the iterations. */
export function vmexitPlan(options: WorkloadOptions): { tests: readonly string[]; iterations: number } {
  const test = options.parameters.test;
  const iterations = Number(options.parameters.iterations ?? 1024);
  if (!Number.isInteger(iterations) || iterations <= 0) throw new CliError(`vmexit needs a positive whole number of iterations to divide by, not ${String(options.parameters.iterations)}`);
  return { tests: test === undefined ? VMEXIT_TESTS.map((t) => t.name) : [String(test)], iterations };
}

export function printVmexit(profiles: readonly VmexitProfile[], iterations: number, durationNs: number): void {
  console.log(`splitvisor compare — kvm-unit-tests x86/vmexit, ${iterations} iterations per test, modelled guest TSC cycles per iteration (its own and its exits'), up to ${durationNs / 1e6} ms of guest time each\n`);
  for (const p of profiles) {
    console.log(`${p.profile} (${p.irqchip} irqchip, cost model ${p.costModel}):`);
    for (const r of p.results) console.log(`${r.test} ${r.cyclesPerIteration}`);
    console.log('');
  }
  const tests = profiles[0]?.results.map((r) => r.test) ?? [];
  console.log('Side by side, cycles per iteration (exits per iteration, of them to userspace):');
  printTable(tests.map((test) => {
    const row: Record<string, string> = { test };
    for (const p of profiles) {
      const r = p.results.find((x) => x.test === test);
      row[p.profile] = r === undefined ? '' : `${r.cyclesPerIteration} (${round(r.exitsPerIteration)}, ${round(r.heavyweightExitsPerIteration)})`;
    }
    return row;
  }));
  const models = [...new Set(profiles.map((p) => p.costModel))];
  if (models.length > 1) console.log(`Charged in different cost models (${models.join(', ')}): rerun with --cost-model to compare like with like.`);
}
