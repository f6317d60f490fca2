/**
 * `sweep --param KEY=V1,V2,…`: the axes a sweep varies besides placement and
 * workload. A key is one of the things a run takes that changes what it
 * measures — its guest time (`duration`), the cost model its crossings are
 * charged in (`cost-model`), or a parameter of a workload (`hz`, `sectors`,
 * `timer`, … as `splitvisor workloads` lists them) — and each key acts on
 * every run it is part of: a workload parameter varies the workloads that take
 * it and leaves the others one run each. A key nothing in the sweep takes is
 * refused, never carried along unused.
 */
import { InvalidArgumentError } from 'commander';
import { COST_MODELS } from '@splitvisor/metrics';
import type { WorkloadDefinition } from '@splitvisor/workloads';
import { CliError } from '../cli-error.ts';
import { duration } from '../run-flags.ts';

export interface SweepAxis {
  readonly key: string;
  /** The values as given, in order. */
  readonly values: readonly string[];
}

/** The keys every run takes, whatever its workload: what each sets, and how a value is checked. */
export const RUN_KEYS = {
  duration: { what: 'guest time to run, e.g. 10ms or 1s', check: (value: string): void => { duration(value); } },
  'cost-model': {
    what: `the cost model every crossing is charged in (${COST_MODELS.map((m) => m.name).join(', ')}), instead of each profile's own`,
    check: (value: string): void => {
      if (!COST_MODELS.some((m) => m.name === value)) throw new InvalidArgumentError(`unknown cost model "${value}" (this build has: ${COST_MODELS.map((m) => m.name).join(', ')})`);
    },
  },
} as const;

export type RunKey = keyof typeof RUN_KEYS;

export function isRunKey(key: string): key is RunKey {
  return Object.hasOwn(RUN_KEYS, key);
}

/** `--param KEY=V1,V2,…`, repeatable, into the axes commander accumulates (the syntax only; `checkAxes` checks the keys). */
export function parameterAxis(value: string, previous: readonly SweepAxis[] = []): SweepAxis[] {
  const match = /^([a-z][a-z0-9-]*)=(.*)$/.exec(value);
  if (match === null) throw new InvalidArgumentError('expected KEY=V1,V2,…, e.g. --param hz=100,250,1000');
  const [, key = '', list = ''] = match;
  if (previous.some((axis) => axis.key === key)) throw new InvalidArgumentError(`--param ${key} is given twice: list its values once, separated by commas`);
  const values = list.split(',').map((v) => v.trim());
  if (values.some((v) => v === '')) throw new InvalidArgumentError(`--param ${key}=${list}: an empty value (the values are separated by commas)`);
  const twice = values.find((v, i) => values.indexOf(v) !== i);
  if (twice !== undefined) throw new InvalidArgumentError(`--param ${key} lists ${twice} twice`);
  if (isRunKey(key)) for (const v of values) RUN_KEYS[key].check(v);
  return [...previous, { key, values }];
}

/** Each axis a key something in the sweep takes: a run's own, or a parameter of one of `workloads` (mixes take none). */
export function checkAxes(axes: readonly SweepAxis[], workloads: readonly (WorkloadDefinition | undefined)[]): void {
  const taken = new Set(workloads.flatMap((w) => w?.parameters.map((p) => p.name) ?? []));
  for (const { key } of axes) {
    if (isRunKey(key) || taken.has(key)) continue;
    const theirs = [...taken].sort().join(', ');
    throw new CliError(`unknown parameter "${key}": no run of this sweep takes it (every run takes ${Object.keys(RUN_KEYS).join(' and ')}; its workloads take ${theirs === '' ? 'none' : theirs}; see splitvisor workloads)`);
  }
}

/** Which axes act on a run of `workload` (undefined: a mix, which takes no parameters of its own). */
export function axesFor(axes: readonly SweepAxis[], workload: WorkloadDefinition | undefined): SweepAxis[] {
  return axes.filter((axis) => isRunKey(axis.key) || (workload?.parameters.some((p) => p.name === axis.key) ?? false));
}
