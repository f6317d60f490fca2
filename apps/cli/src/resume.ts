/**
 * `splitvisor resume DIR`: continues the VM a `run … --snapshot-at T
 * --snapshot-to DIR` saved — under its own placement, or any other
 * (`--profile`, `--placement`) that has the same devices — to the end of
 * the run it came from (or `--duration`), and reports that stretch as `run`
 * does. What the guest sees is what it would have seen had the run never
 * stopped; the exits are the new placement's, counted from the snapshot.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { validatePlacement } from '@splitvisor/placement';
import { SnapshotFileError, readSnapshot } from '@splitvisor/vmm';
import { CliError } from './cli-error.ts';
import { writeResultHtml } from './html-report.ts';
import type { ChosenPlacement } from './placement-file.ts';
import { choosePlacement, placementRef } from './placement-file.ts';
import type { SnapshotRun, WorkloadOptions } from './profile-run.ts';
import { runProfile } from './profile-run.ts';
import { progressBar } from './progress-bar.ts';
import { asResult } from './result-format.ts';
import { printRun } from './run.ts';
import { duration } from './run-flags.ts';

interface ResumeFlags {
  readonly profile?: string;
  readonly placement?: string;
  readonly duration?: number;
  readonly json?: boolean;
  readonly html?: string;
}

/** The run a snapshot's manifest describes, checked: one line naming the manifest when it is not one this splitvisor wrote. */
function runOf(dir: string, run: unknown): SnapshotRun {
  const r = run as Partial<SnapshotRun> | null;
  if (r === null || typeof r !== 'object' || typeof r.workload !== 'string' || typeof r.durationNs !== 'number' || typeof r.parameters !== 'object' || r.placement === undefined) {
    throw new CliError(`${dir}/manifest.json: its "run" does not say which workload ran how long under which placement`);
  }
  return r as SnapshotRun;
}

/** The snapshot's own placement (checked again: a manifest is a file like any other). */
function ownPlacement(dir: string, run: SnapshotRun): ChosenPlacement {
  const result = validatePlacement(run.placement);
  if (!result.ok) throw new CliError(`${dir}/manifest.json: its placement is invalid: ${result.problems.join('; ')}`);
  return { label: result.placement.name, placement: result.placement };
}

export function addResumeCommand(program: Command): void {
  program
    .command('resume')
    .description('continue a snapshot (run … --snapshot-at T --snapshot-to DIR) under its placement or any other with the same devices')
    .argument('<dir>', 'the snapshot folder')
    .option('--profile <name>', 'continue under this placement (default: the one the snapshot was taken under)')
    .option('--placement <file>', 'continue under a placement of your own, as JSON')
    .addOption(new Option('--duration <time>', 'run to this guest time (default: the end of the run the snapshot came from)').argParser(duration))
    .option('--json', 'print as JSON')
    .option('--html <file>', 'also write the report as a self-contained HTML page')
    .action(async (dir: string, flags: ResumeFlags) => {
      let read: ReturnType<typeof readSnapshot>;
      try {
        read = readSnapshot(dir);
      } catch (error) {
        if (error instanceof SnapshotFileError) throw new CliError(error.message);
        throw error;
      }
      const run = runOf(dir, read.manifest.run);
      const chosen = flags.profile === undefined && flags.placement === undefined ? ownPlacement(dir, run) : choosePlacement(placementRef(flags));
      const { placement: _placement, ...rest } = run;
      const workload: WorkloadOptions = { ...rest, durationNs: flags.duration ?? run.durationNs, mode: 'modelled' };
      if (workload.durationNs <= read.snapshot.timeNs) throw new CliError(`${dir}: the snapshot is at ${read.snapshot.timeNs / 1e6} ms; --duration must be later`);
      const bar = progressBar('resume', flags.json === true, 'ms of guest time');
      const resumed = await runProfile(chosen, workload, (done, total) => { bar.update(Math.round(done / 1e6), Math.round(total / 1e6)); }, { dir, snapshot: read.snapshot });
      bar.stop();
      const result = asResult('run', { workload, run: resumed });
      if (flags.json === true) console.log(JSON.stringify(result, null, 2));
      else printRun(resumed, workload);
      await writeResultHtml(flags, result);
    });
}
