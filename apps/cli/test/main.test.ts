import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const cwd = fileURLToPath(new URL('..', import.meta.url));

function splitvisor(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the splitvisor command', () => {
  it('answers a missing trace with one line naming it, and a non-zero exit', () => {
    const { status, stdout, stderr } = splitvisor('replay', 'no/such/trace.jsonl.gz', '--profile', 'kvm-irqchip');
    expect(status).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^splitvisor: cannot read trace no\/such\/trace\.jsonl\.gz: ENOENT/)]);
  }, 30_000);

  it('answers a bad flag value with one line and a non-zero exit', () => {
    const { status, stderr } = splitvisor('run', '--profile', 'kvm-irqchip', '--duration', 'forever');
    expect(status).not.toBe(0);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/expected a duration such as 50ms, 1s or 250us/);
  }, 30_000);
});
