/**
 * A cost model of the user's own (`--costs FILE`): JSON naming a built-in
 * model to start from and the entries it changes, each with its cycles and
 * where the number comes from — so a user can model their own CPU. A bad
 * file is one line naming the file, the entry and the problem.
 *
 *   { "name": "my-epyc", "base": "kvm-2020",
 *     "costs": { "exit": { "cycles": 1400, "source": "perf kvm stat on my host" } } }
 */
import { z } from 'zod';
import type { Cost, CostModel } from '@splitvisor/metrics';
import { COST_MODELS, costModel } from '@splitvisor/metrics';
import { CliError } from './cli-error.ts';
import { readJsonFile } from './json-file.ts';

const CostEntry = z.strictObject({
  cycles: z.number().int('a whole number of cycles').min(0, 'cycles cannot be negative').max(1e9, 'more than a billion cycles'),
  source: z.string().trim().min(1, 'say where the number comes from'),
});

/** The entries a file may change, as `splitvisor costs` names them. */
const ENTRIES = ['exit', 'lightweight-exit', 'heavyweight-exit', 'coalesced-append', 'coalesced-drain', 'posted-write'] as const;

const CostFile = z.strictObject({
  name: z.string().trim().min(1, 'name the model'),
  description: z.string().optional(),
  base: z.string().refine((name) => costModel(name) !== undefined, { message: `a built-in model to start from: ${COST_MODELS.map((m) => m.name).join(', ')}` }),
  costs: z.partialRecord(z.enum(ENTRIES), CostEntry),
});

/** The model `file` describes: its base with the entries it gives replaced. */
export function readCostFile(file: string): CostModel {
  const parsed = CostFile.safeParse(readJsonFile(file, 'cost file'));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(the file)'}: ${issue.message}`);
    throw new CliError(`${file}: ${problems.join('; ')}`);
  }
  const { name, description, base, costs } = parsed.data;
  const from = costModel(base);
  if (from === undefined) throw new CliError(`${file}: base: unknown model "${base}"`);
  const entry = (key: (typeof ENTRIES)[number], fallback: Cost): Cost => costs[key] ?? fallback;
  return {
    name,
    description: description ?? `${from.description}, with ${Object.keys(costs).join(', ') || 'nothing'} changed (${file})`,
    boundaries: {
      exit: entry('exit', from.boundaries.exit),
      'lightweight-exit': entry('lightweight-exit', from.boundaries['lightweight-exit']),
      'heavyweight-exit': entry('heavyweight-exit', from.boundaries['heavyweight-exit']),
    },
    coalescedAppend: entry('coalesced-append', from.coalescedAppend),
    coalescedDrain: entry('coalesced-drain', from.coalescedDrain),
    postedWrite: entry('posted-write', from.postedWrite),
  };
}
