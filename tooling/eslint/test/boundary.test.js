// The import boundary that lets a device move between domains: proven to fire
// on a device package, and proven not to fire where it does not apply.
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { config } from '../index.js';

const fixture = (name) => fileURLToPath(new URL(`./fixtures/${name}/`, import.meta.url));

async function boundaryFindings(packageName, file) {
  const cwd = fixture(packageName);
  const eslint = new ESLint({ cwd, overrideConfigFile: true, overrideConfig: config(cwd), ignore: false });
  const [result] = await eslint.lintFiles([file]);
  return result.messages
    .filter((m) => ['no-restricted-imports', 'no-restricted-globals', 'no-restricted-properties', 'no-restricted-syntax'].includes(m.ruleId))
    .map((m) => `${m.line} ${m.ruleId}`);
}

describe('device import boundary', () => {
  it('stops a device package importing a domain, the channel, the clock or the host platform', async () => {
    expect(await boundaryFindings('pit', 'src/counter.ts')).toEqual([
      '3 no-restricted-imports', // @splitvisor/channel
      '4 no-restricted-imports', // @splitvisor/clock/queue (subpaths too)
      '5 no-restricted-imports', // node:fs
      '6 no-restricted-imports', // os
      '10 no-restricted-properties', // Date.now()
      '11 no-restricted-syntax', // new Date()
      '12 no-restricted-globals', // setTimeout
      '13 no-restricted-properties', // Math.random()
    ]);
  }, 60_000);

  it('lets a device package import abi and a chip it contains', async () => {
    const findings = await boundaryFindings('pit', 'src/counter.ts');
    expect(findings.some((f) => f.startsWith('1 ') || f.startsWith('2 '))).toBe(false);
  }, 60_000);

  it('explains itself', async () => {
    const cwd = fixture('pit');
    const eslint = new ESLint({ cwd, overrideConfigFile: true, overrideConfig: config(cwd), ignore: false });
    const [result] = await eslint.lintFiles(['src/counter.ts']);
    const message = result.messages.find((m) => m.ruleId === 'no-restricted-imports' && m.line === 3)?.message;
    expect(message).toMatch(/imports only @splitvisor\/abi/);
  }, 60_000);

  it('does not apply to a device package’s tests', async () => {
    expect(await boundaryFindings('pit', 'test/counter.test.ts')).toEqual([]);
  }, 60_000);

  it('does not apply to domain packages', async () => {
    expect(await boundaryFindings('channel', 'src/ring.ts')).toEqual([]);
  }, 60_000);
});
