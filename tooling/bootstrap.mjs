#!/usr/bin/env node
// The README's two commands start here, on a machine that has only node and
// npm: find (or fetch through npm) the pinned pnpm, install the workspace from
// its lockfile, then run the job.
//   node tooling/bootstrap.mjs start [args...]   build the CLI and run it (the main job, `compare`
//                                                with its HTML report in reports/, without args)
//   node tooling/bootstrap.mjs test              lint, typecheck and test everything,
//                                                ending with "N passed, N failed"
//   node tooling/bootstrap.mjs build-vmm [args]  build the CLI, then a VMM for one placement
//                                                (splitvisor build --profile NAME: dist/vmm/NAME)
// Set-up (pnpm install, the build before `start`) writes to stderr: stdout is
// the job's own, so `npm start -- compare --json` prints only JSON there.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const PNPM_VERSION = '12.21.0';
/**
 * Tasks turbo runs at once. Each test task's vitest runs one worker per two
 * cores (tooling/vitest), so on a 2-core machine two at once keep it busy
 * without the overload (every package's suites at once, a load of 13) under
 * which time-bounded tests fail.
 */
const TURBO_CONCURRENCY = '2';
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', TURBO_NO_UPDATE_NOTIFIER: '1' };

function pnpm() {
  try {
    const found = execFileSync('pnpm', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (found === PNPM_VERSION) return ['pnpm'];
  } catch {
    // not installed: fall through to npm exec
  }
  // The project's .npmrc silences npm (its script banner would land on stdout); this npm may say why it failed.
  return ['npm', 'exec', '--yes', '--loglevel=warn', `pnpm@${PNPM_VERSION}`, '--'];
}

/** Runs a step; a set-up step's stdout goes to our stderr, so that stdout carries only the job's output. */
function run(argv, { allowFailure = false, setUp = false } = {}) {
  const [command, ...args] = argv;
  const result = spawnSync(command, args, { cwd: root, env, stdio: setUp ? ['inherit', 2, 'inherit'] : 'inherit' });
  if (result.error) {
    console.error(`splitvisor: could not run ${command}: ${result.error.message}`);
    process.exit(1);
  }
  if (result.status !== 0 && !allowFailure) process.exit(result.status ?? 1);
  return result.status ?? 1;
}

function clearTestResults() {
  for (const group of ['packages', 'apps', 'tooling']) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) rmSync(join(dir, entry.name, '.vitest'), { recursive: true, force: true });
    }
  }
}

const [job = 'test', ...rest] = process.argv.slice(2);
const pm = pnpm();
run([...pm, 'install', '--frozen-lockfile'], { setUp: true });

if (job === 'test') {
  clearTestResults();
  // The run's summary (--summarize) says which tasks failed: the closing line counts a failed lint or typecheck too.
  rmSync(join(root, '.turbo', 'runs'), { recursive: true, force: true });
  const status = run([...pm, 'exec', 'turbo', 'run', 'lint', 'typecheck', 'test', '--continue', '--summarize', '--output-logs=new-only', `--concurrency=${TURBO_CONCURRENCY}`], { allowFailure: true });
  run(['node', join(root, 'tooling', 'vitest', 'summary.js'), root], { allowFailure: true });
  process.exit(status);
} else if (job === 'start' || job === 'build-vmm') {
  run([...pm, 'exec', 'turbo', 'run', 'build', '--filter=@splitvisor/cli...', '--output-logs=errors-only', `--concurrency=${TURBO_CONCURRENCY}`], { setUp: true });
  // The main job ends with the comparison's tables and the path of its HTML report (reports/, git-ignored).
  const args = job === 'build-vmm' ? ['build', ...rest] : rest.length > 0 ? rest : ['compare', '--html', join('reports', 'compare.html')];
  process.exit(run(['node', join(root, 'apps', 'cli', 'dist', 'main.js'), ...args], { allowFailure: true }));
} else {
  console.error(`splitvisor bootstrap: unknown job "${job}" (expected start, test or build-vmm)`);
  process.exit(2);
}
