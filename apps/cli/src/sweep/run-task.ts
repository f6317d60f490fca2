/**
 * What a pool process runs for one run of a sweep: the run, as `splitvisor run
 * --json` makes it, returned as the exact text that command prints — so the
 * file a sweep writes is the same bytes, whichever process or machine
 * ran it. A run that fails (a placement whose irqchip cannot be built, …)
 * comes back as its one line, for the sweep to report.
 */
import { CliError } from '../cli-error.ts';
import { runProfile } from '../profile-run.ts';
import { asResult } from '../result-format.ts';
import type { RunSpec } from './run-spec.ts';

export type RunOutcome = { readonly result: string } | { readonly error: string };

export default async function runTask(spec: RunSpec): Promise<RunOutcome> {
  try {
    const run = await runProfile({ label: spec.label, placement: spec.placement }, spec.workload);
    return { result: `${JSON.stringify(asResult('run', { workload: spec.workload, run }), null, 2)}\n` };
  } catch (error) {
    if (error instanceof CliError) return { error: error.message };
    throw error;
  }
}
