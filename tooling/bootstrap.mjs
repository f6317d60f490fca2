#!/usr/bin/env node
// The README's two commands start here, on a machine that has only node and
// npm: find (or fetch through npm) the pinned pnpm, install the workspace from
// its lockfile, then run the job.
//   node tooling/bootstrap.mjs start [args...]   build the CLI and run the main job
//   node tooling/bootstrap.mjs test              lint, typecheck and test everything,
//                                                ending with "N passed, N failed"
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const PNPM_VERSION = '12.21.0';
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', TURBO_NO_UPDATE_NOTIFIER: '1' };

function pnpm() {
  try {
    const found = execFileSync('pnpm', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (found === PNPM_VERSION) return ['pnpm'];
  } catch {
    // not installed: fall through to npm exec
  }
  return ['npm', 'exec', '--yes', `pnpm@${PNPM_VERSION}`, '--'];
}

function run(argv, { allowFailure = false } = {}) {
  const [command, ...args] = argv;
  const result = spawnSync(command, args, { cwd: root, env, stdio: 'inherit' });
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
run([...pm, 'install', '--frozen-lockfile']);

if (job === 'test') {
  clearTestResults();
  const status = run([...pm, 'exec', 'turbo', 'run', 'lint', 'typecheck', 'test', '--continue', '--output-logs=new-only'], { allowFailure: true });
  run(['node', join(root, 'tooling', 'vitest', 'summary.js'), root], { allowFailure: true });
  process.exit(status);
} else if (job === 'start') {
  run([...pm, 'exec', 'turbo', 'run', 'build', '--filter=@splitvisor/cli...', '--output-logs=errors-only']);
  process.exit(run(['node', join(root, 'apps', 'cli', 'dist', 'main.js'), ...(rest.length > 0 ? rest : ['compare'])], { allowFailure: true }));
} else {
  console.error(`splitvisor bootstrap: unknown job "${job}" (expected start or test)`);
  process.exit(2);
}
