/**
 * Runs the committed 80286 vectors (test/data/80286) on a CPU and prints one
 * row per form: its vectors, how many pass, and the first failure. A
 * developer's view while the CPU grows; the test that holds the line is
 * test/single-step/vectors-80286.test.ts.
 *
 *   node --import tsx scripts/vector-report.ts [--strict] [--failing] [FORM…]
 *
 * X86Cpu is excused every 286-only behaviour (only-286.ts) unless
 * --strict. FORMs (file names less .MOO.gz: `00`, `D3.4`) pick forms;
 * --failing prints only the forms with a failure.
 */
import { parseArgs } from 'node:util';
import type { Only286 } from '../test/single-step/only-286.ts';
import { ONLY_286 } from '../test/single-step/only-286.ts';
import { VectorRunner } from '../test/single-step/run-vector.ts';
import { x86Subject } from '../test/single-step/subjects.ts';
import { committedForms, describeFailure, runForm, skippedCount } from '../test/single-step/suite-80286.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    strict: { type: 'boolean', default: false },
    failing: { type: 'boolean', default: false },
  },
});

const subject = { name: 'X86Cpu', factory: x86Subject };

const all = committedForms();
const unknown = positionals.filter((form) => !all.includes(form));
if (unknown.length > 0) throw new Error(`no committed form ${unknown.join(', ')}`);
const forms = positionals.length > 0 ? positionals : all;

const excused = new Set<Only286>(values.strict ? [] : ONLY_286);
const runner = new VectorRunner(subject.factory, excused);
const rows: string[][] = [];
let tests = 0;
let skipped = 0;
let failed = 0;
let formsPassing = 0;
for (const form of forms) {
  const result = runForm(runner, form);
  const skips = skippedCount(result);
  tests += result.tests;
  skipped += skips;
  failed += result.failures.length;
  const first = result.failures[0];
  if (first === undefined) {
    formsPassing++;
    if (values.failing) continue;
  }
  const reasons = [...result.skipped].map(([reason, n]) => `${n} ${reason}`).join(', ');
  rows.push([form, String(result.tests), String(skips), String(result.tests - skips - result.failures.length), first === undefined ? '' : describeFailure(first, 2), reasons]);
}

/** Right-aligned numbers; the last column unpadded. */
const header = ['form', 'tests', 'skipped', 'passed', 'first failure', 'skipped as 286-only'];
const numeric = new Set([1, 2, 3]);
const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
const line = (cells: readonly string[]): string => cells
  .map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column] ?? 0) : column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
  .join('  ');
console.log(`${subject.name} on the committed 80286 vectors, ${excused.size === 0 ? 'strict' : `excused: ${[...excused].join(' ')}`}`);
console.log(line(header));
for (const row of rows) console.log(line(row));
console.log(`${forms.length} forms, ${formsPassing} with no failure; ${tests} vectors: ${tests - skipped - failed} passed, ${failed} failed, ${skipped} skipped`);
