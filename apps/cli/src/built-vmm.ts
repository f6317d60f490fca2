/**
 * The command line of a VMM built for one placement (`splitvisor build`):
 * `node vmm.js --workload W --duration D [--json]` runs exactly as
 * `splitvisor run --profile NAME` does, with the same flags and the same
 * report, on the domains its build holds.
 */
import { Command } from 'commander';
import type { Placement } from '@splitvisor/placement';
import type { RunFlags } from './run-flags.ts';
import { withRunFlags } from './run-flags.ts';
import { runCommand } from './run.ts';

/** Runs the command line in `argv` (node's) on the VMM built for `placement` (checked when it was built), whose reports name it `label`. */
export async function builtVmmMain(placement: Placement, label: string, argv: readonly string[] = process.argv): Promise<void> {
  const chosen = { label, placement };
  const program = withRunFlags(new Command()
    .name('vmm.js')
    .description(`splitvisor built for ${label}: run one workload on this placement's domains (as splitvisor run --profile ${label})`))
    .action(async (flags: RunFlags) => { await runCommand(chosen, flags); });
  try {
    await program.parseAsync(argv);
  } catch (error) {
    // A user's bad flag or file: one line naming the problem, and a non-zero exit.
    console.error(`vmm.js: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
