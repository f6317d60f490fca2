/**
 * The committed subset of the SingleStepTests 80286 real-mode suite
 * (test/data/80286, made by scripts/subset-80286.ts): its forms, and running
 * one form's vectors through a VectorRunner.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MooTest } from './moo.ts';
import { parseRevocationList, readMooFile } from './moo.ts';
import type { Only286 } from './only-286.ts';
import type { VectorDifference, VectorRunner } from './run-vector.ts';
import { describeDifference } from './run-vector.ts';

export const DATA_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'data', '80286');
const FORMS_DIR = join(DATA_DIR, 'v1_real_mode');
const SUFFIX = '.MOO.gz';

/** The committed forms by their file names less `.MOO.gz` (`00`, `D3.4`), in file-name order. */
export function committedForms(): string[] {
  return readdirSync(FORMS_DIR).filter((name) => name.endsWith(SUFFIX)).map((name) => name.slice(0, -SUFFIX.length)).sort();
}

let revoked: ReadonlySet<string> | undefined;
const loaded = new Map<string, readonly MooTest[]>();

/** A form's vectors, less any on the suite's revocation list (read once). */
export function loadForm(form: string): readonly MooTest[] {
  let tests = loaded.get(form);
  if (tests === undefined) {
    revoked ??= parseRevocationList(readFileSync(join(DATA_DIR, 'revocation_list.txt'), 'utf8'));
    tests = readMooFile(join(FORMS_DIR, form + SUFFIX), revoked).tests;
    loaded.set(form, tests);
  }
  return tests;
}

export interface VectorFailure {
  readonly test: MooTest;
  readonly differences: readonly VectorDifference[];
}

export interface FormResult {
  readonly form: string;
  readonly tests: number;
  /** The vectors not run, by the 286-only behaviour they show. */
  readonly skipped: ReadonlyMap<Only286, number>;
  readonly failures: readonly VectorFailure[];
}

/** Runs every vector of `form` but those the runner's excused behaviours skip. */
export function runForm(runner: VectorRunner, form: string, tests: readonly MooTest[] = loadForm(form)): FormResult {
  const failures: VectorFailure[] = [];
  const skipped = new Map<Only286, number>();
  for (const test of tests) {
    const reason = runner.skipReason(test, form);
    if (reason !== undefined) {
      skipped.set(reason, (skipped.get(reason) ?? 0) + 1);
      continue;
    }
    const differences = runner.run(test, form);
    if (differences.length > 0) failures.push({ test, differences });
  }
  return { form, tests: tests.length, skipped, failures };
}

/** The number of vectors `result` skipped. */
export function skippedCount(result: FormResult): number {
  let count = 0;
  for (const n of result.skipped.values()) count += n;
  return count;
}

function hexBytes(bytes: Uint8Array): string {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join(' ');
}

/** One line naming a failing vector and its differences: `#3 add [bx+0Eh],bl (00 5f 0e f4): flags: expected …`. */
export function describeFailure(failure: VectorFailure, maxDifferences = 4): string {
  const { test, differences } = failure;
  const shown = differences.slice(0, maxDifferences).map(describeDifference);
  if (differences.length > maxDifferences) shown.push(`${differences.length - maxDifferences} more`);
  return `#${test.index} ${test.name} (${hexBytes(test.bytes)}): ${shown.join('; ')}`;
}
