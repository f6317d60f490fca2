/**
 * A sweep's `--out` folder: `sweep.json` (the plan: which runs, which file
 * each goes to), one result file per finished run, and `summary.json` once
 * the sweep ends. Every file is written to a temporary name and renamed into
 * place, so a run's file is there whole or not at all — a sweep killed at
 * any moment leaves nothing half-written to be read when it resumes, and the
 * temporaries of a process that is gone are removed. A folder that holds
 * anything else — another sweep's results, other files — is refused, and
 * nothing in it is touched.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../cli-error.ts';
import { readJsonFile } from '../json-file.ts';
import type { SweepPlan } from './sweep-plan.ts';

export const SWEEP_FILE = 'sweep.json';
export const SUMMARY_FILE = 'summary.json';
const SWEEP_FORMAT = 'splitvisor-sweep';
const SWEEP_VERSION = 1;

/** What `sweep.json` says of each run: its file and what it runs. */
export interface SweepManifestRun {
  readonly file: string;
  readonly profile: string;
  readonly workload: string;
  readonly parameters: Readonly<Record<string, string | number>>;
  readonly durationNs: number;
  readonly costModel?: string;
}

export interface SweepManifest {
  readonly format: typeof SWEEP_FORMAT;
  readonly version: typeof SWEEP_VERSION;
  readonly id: string;
  readonly runs: readonly SweepManifestRun[];
}

/** A temporary is `.NAME.PID.tmp`: whose it is, so a later sweep knows one left by a process that is gone. */
const TEMPORARY = /^\.(.+)\.(\d+)\.tmp$/;

/** `text` into `dir/name`, whole or not at all. */
export function writeWhole(dir: string, name: string, text: string): void {
  const temporary = join(dir, `.${name}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, join(dir, name));
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function manifestOf(plan: SweepPlan): SweepManifest {
  return {
    format: SWEEP_FORMAT, version: SWEEP_VERSION, id: plan.id,
    runs: plan.runs.map(({ file, spec }) => ({
      file, profile: spec.label, workload: spec.workload.workload, parameters: spec.workload.parameters, durationNs: spec.workload.durationNs,
      ...(spec.workload.costModel === undefined ? {} : { costModel: spec.workload.costModel }),
    })),
  };
}

/** `dir`'s sweep.json, when it has one; one line naming the file when it is not one. */
export function readManifest(dir: string): SweepManifest | undefined {
  const file = join(dir, SWEEP_FILE);
  if (!existsSync(file)) return undefined;
  const manifest = readJsonFile(file, 'sweep manifest') as Partial<SweepManifest> | null;
  if (manifest?.format !== SWEEP_FORMAT || manifest.version !== SWEEP_VERSION || typeof manifest.id !== 'string' || !Array.isArray(manifest.runs)) {
    throw new CliError(`${file}: not a splitvisor sweep manifest of version ${SWEEP_VERSION}`);
  }
  return manifest as SweepManifest;
}

/** A short account of a sweep, to tell the user which one a folder holds. */
function describeManifest(manifest: SweepManifest): string {
  const list = (values: readonly string[]) => {
    const unique = [...new Set(values)];
    return unique.length > 3 ? `${unique.slice(0, 3).join(', ')} and ${unique.length - 3} more` : unique.join(', ');
  };
  return `${manifest.runs.length} run${manifest.runs.length === 1 ? '' : 's'} of ${list(manifest.runs.map((r) => r.profile))} × ${list(manifest.runs.map((r) => r.workload))}`;
}

/**
 * `dir` made ready for `plan`: created with its manifest when new or empty,
 * or found to hold this very sweep (to resume). Returns the keys of the runs
 * already finished there.
 */
export function openSweepFolder(dir: string, plan: SweepPlan): Set<string> {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new CliError(`--out ${dir} is a file, not a folder`);
  mkdirSync(dir, { recursive: true });
  const manifest = readManifest(dir);
  if (manifest === undefined) {
    // A sweep killed as it wrote its manifest leaves only that temporary: the folder is still new.
    const entries = readdirSync(dir).filter((entry) => !TEMPORARY.test(entry));
    if (entries.length > 0) throw new CliError(`--out ${dir} is not empty and holds no sweep (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, e.g. ${entries[0]}): give a new or empty folder`);
    removeStaleTemporaries(dir);
    writeWhole(dir, SWEEP_FILE, `${JSON.stringify(manifestOf(plan), null, 2)}\n`);
    return new Set();
  }
  if (manifest.id !== plan.id) {
    throw new CliError(`--out ${dir} holds another sweep's results (${describeManifest(manifest)}; this one is ${describeManifest(manifestOf(plan))}): give another folder, or that sweep's own flags to resume it`);
  }
  removeStaleTemporaries(dir);
  const present = new Set(readdirSync(dir));
  return new Set(plan.runs.filter((r) => present.has(r.file)).map((r) => r.key));
}

/** Temporaries whose writer is gone (killed mid-write): never renamed, never to be. */
function removeStaleTemporaries(dir: string): void {
  for (const entry of readdirSync(dir)) {
    const match = TEMPORARY.exec(entry);
    if (match !== null && !alive(Number(match[2]))) rmSync(join(dir, entry), { force: true });
  }
}
