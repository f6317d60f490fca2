#!/usr/bin/env node
// Sums every workspace package's .vitest/results.json into the plain line
// CI reads: "N passed, N failed". A package with a test script but no
// results (its task never ran, or crashed before reporting) counts as one
// failure, named, so a broken package cannot pass by silence; so does every
// other task (lint, typecheck) that turbo's run summary (.turbo/runs, from
// --summarize) says failed.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = process.argv[2] ?? process.cwd();
let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
for (const group of ['packages', 'apps', 'tooling']) {
  const dir = join(root, group);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir).sort()) {
    const pkgFile = join(dir, name, 'package.json');
    if (!existsSync(pkgFile)) continue;
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
    if (!pkg.scripts?.test) continue;
    const results = join(dir, name, '.vitest', 'results.json');
    if (!existsSync(results)) {
      missing.push(pkg.name);
      failed++;
      continue;
    }
    const counts = JSON.parse(readFileSync(results, 'utf8'));
    passed += counts.passed;
    failed += counts.failed;
    skipped += counts.skipped;
  }
}
if (missing.length > 0) console.log(`no test results from: ${missing.join(', ')}`);
const runs = join(root, '.turbo', 'runs');
if (existsSync(runs)) {
  const latest = readdirSync(runs).filter((f) => f.endsWith('.json')).map((f) => join(runs, f)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  const tasks = latest === undefined ? [] : JSON.parse(readFileSync(latest, 'utf8')).tasks ?? [];
  const broken = tasks.filter((t) => t.task !== 'test' && t.execution?.exitCode !== undefined && t.execution.exitCode !== 0).map((t) => t.taskId);
  if (broken.length > 0) console.log(`failed tasks: ${broken.join(', ')}`);
  failed += broken.length;
}
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
