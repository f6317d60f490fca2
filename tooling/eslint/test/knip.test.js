// Declared dependencies kept honest across the workspace (knip.jsonc at the
// repository root): run in `npm test`, so a package.json that lists what its
// code does not use, or misses what it does, fails the suite.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
// knip's command line, beside its main module (dist/index.js).
const knip = join(dirname(createRequire(import.meta.url).resolve('knip')), '..', 'bin', 'knip.js');

/** Runs knip over the workspace; resolves to its exit code and report. */
async function run(...args) {
  try {
    await promisify(execFile)(process.execPath, [knip, '--no-progress', '--no-config-hints', ...args], {
      cwd: root, encoding: 'utf8', env: { ...process.env, CI: 'true' },
    });
    return { code: 0, report: '' };
  } catch (error) {
    const { code, stdout, stderr } = /** @type {{ code: number, stdout: string, stderr: string }} */ (error);
    return { code, report: `${stdout}${stderr}` };
  }
}

describe('declared dependencies (knip)', () => {
  it('lists every dependency a package imports, and imports every one it lists', async () => {
    expect(await run()).toEqual({ code: 0, report: '' });
  }, 120_000);

  it('serves src/ from `dependencies` alone, and lists there nothing only tests use', async () => {
    expect(await run('--production', '--strict')).toEqual({ code: 0, report: '' });
  }, 120_000);
});
