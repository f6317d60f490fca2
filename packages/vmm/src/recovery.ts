/**
 * A live run that survives its device host: the whole VM is checkpointed
 * every so often of guest time (a snapshot held in memory), and when the
 * device host dies or stops answering, the VM — guest, kernel, monitor and
 * a fresh device host — is made again from the last checkpoint and runs on.
 * The guest replays the time since that checkpoint; because a run's guest
 * view is deterministic, what it sees is what an undisturbed run shows.
 *
 * Why the whole VM, not the device host alone: the guest has seen what the
 * lost host's devices answered since the checkpoint, and restoring only
 * them would rewind the devices under a guest that remembers — the guest
 * must rewind with them. What cannot rewind is outside the VM: a writable
 * image file already holds the writes made since the checkpoint, so a run
 * with one is refused (the snapshot holds in-memory media).
 */
import type { Nanoseconds } from '@splitvisor/abi';
import { DeviceHostLost } from './device-host-lost.ts';
import type { VmSnapshot } from './vm-snapshot.ts';
import type { Vm, VmTallies } from './vm.ts';
import { VmError } from './vm-error.ts';

export interface RecoveryOptions {
  /** Guest time between checkpoints. */
  readonly checkpointEveryNs: Nanoseconds;
  /** How many times the host may be lost in one run before the loss is final (default 10). */
  readonly maxRecoveries?: number;
  /** Told of each checkpoint taken (guest time). */
  readonly onCheckpoint?: (atNs: Nanoseconds) => void;
  /** Told of each recovery as it is made. */
  readonly onRecovery?: (recovery: Recovery) => void;
}

/** One loss of the device host and the way back. */
export interface Recovery {
  /** What was lost, where the guest was paused. */
  readonly lost: DeviceHostLost;
  /** The guest time the VM had reached when the loss was found. */
  readonly atNs: Nanoseconds;
  /** The checkpoint the VM was made again from (0: the start, before any checkpoint). */
  readonly fromNs: Nanoseconds;
  /** Guest time run again: `atNs - fromNs`. */
  readonly replayedNs: Nanoseconds;
}

/** Interrupts injected and interrupt-window exits, over the whole run (a restored VM's loop counts from its restore). */
export interface RunTotals {
  readonly interrupts: number;
  readonly windows: number;
}

export interface RecoveredRun<T> {
  /** What `start` made last: the VM that finished the run, carrying the counts of those before it. */
  readonly run: T;
  readonly recoveries: readonly Recovery[];
  readonly checkpoints: number;
  readonly totals: RunTotals;
}

interface Checkpoint {
  readonly atNs: Nanoseconds;
  readonly snapshot: VmSnapshot;
  readonly tallies: VmTallies;
  readonly totals: RunTotals;
}

const add = (a: RunTotals, b: RunTotals): RunTotals => ({ interrupts: a.interrupts + b.interrupts, windows: a.windows + b.windows });
const NONE: RunTotals = { interrupts: 0, windows: 0 };

/**
 * Runs what `start` makes to `untilNs` of guest time, checkpointing and
 * recovering as above. `start` makes a fresh VM (with `snapshots: true`)
 * and its guest, as at power-on; a recovery makes another and restores the
 * checkpoint into it. A VM that is replaced is closed.
 */
export async function runRecovering<T extends { readonly vm: Vm }>(start: () => T, untilNs: Nanoseconds, options: RecoveryOptions): Promise<RecoveredRun<T>> {
  const every = options.checkpointEveryNs;
  if (!(every > 0)) throw new VmError(`a checkpoint every ${every} ns is no period`);
  const maxRecoveries = options.maxRecoveries ?? 10;
  const recoveries: Recovery[] = [];
  let checkpoint: Checkpoint | undefined;
  let checkpoints = 0;
  let run: T | undefined;
  /** What the VMs before this one counted, to the checkpoint it was restored from; and what this one's runs count. */
  let before = NONE;
  let mine = NONE;
  for (;;) {
    try {
      // A host lost while the VM is made (its first answers) is recovered like any other.
      run ??= start();
      if (checkpoint !== undefined && run.vm.now() < checkpoint.atNs) {
        run.vm.restore(checkpoint.snapshot);
        run.vm.carry(checkpoint.tallies);
        before = checkpoint.totals;
      }
      for (let now = run.vm.now(); now < untilNs; now = run.vm.now()) {
        const next = Math.min(untilNs, (Math.floor(now / every) + 1) * every);
        mine = run.vm.run(next);
        if (run.vm.now() <= now) break; // the guest stopped (a shutdown): nothing more runs
        if (run.vm.now() < untilNs) {
          checkpoint = { atNs: run.vm.now(), snapshot: run.vm.snapshot(), tallies: run.vm.tallies(), totals: add(before, mine) };
          checkpoints++;
          options.onCheckpoint?.(checkpoint.atNs);
        }
      }
      return { run, recoveries, checkpoints, totals: add(before, mine) };
    } catch (error) {
      if (!(error instanceof DeviceHostLost)) throw error;
      const atNs = run?.vm.now() ?? 0;
      await run?.vm.close();
      run = undefined;
      before = NONE;
      mine = NONE;
      if (recoveries.length >= maxRecoveries) throw error;
      const fromNs = checkpoint?.atNs ?? 0;
      const recovery: Recovery = { lost: error, atNs, fromNs, replayedNs: atNs - fromNs };
      recoveries.push(recovery);
      options.onRecovery?.(recovery);
    }
  }
}
