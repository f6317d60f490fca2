// The dependency direction, proven on fixture packages: for each kind of
// arrow, a forbidden import is reported and an allowed one is not; and the
// device boundary's host-clock rules fire on a device package and nowhere else.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { APP_PACKAGES, DEVICE_PACKAGES, LAYERS, config } from '../index.js';

const fixture = (name) => fileURLToPath(new URL(`./fixtures/${name}/`, import.meta.url));

const BOUNDARY_RULES = [
  'boundaries/dependencies', 'no-restricted-imports', 'no-restricted-globals', 'no-restricted-properties', 'no-restricted-syntax',
];

/** Each fixture package is linted once, with the config its eslint.config.ts would get. */
const linted = new Map();
function lint(packageName) {
  if (!linted.has(packageName)) {
    const cwd = fixture(packageName);
    const eslint = new ESLint({
      cwd, overrideConfigFile: true, overrideConfig: config(cwd), ignore: false, errorOnUnmatchedPattern: false,
    });
    linted.set(packageName, eslint.lintFiles(['src/**/*.ts', 'test/**/*.ts']));
  }
  return linted.get(packageName);
}

async function messages(packageName, file) {
  const results = await lint(packageName);
  const result = results.find((r) => r.filePath === `${fixture(packageName)}${file}`);
  if (!result) throw new Error(`${packageName}/${file} was not linted`);
  return result.messages.filter((m) => BOUNDARY_RULES.includes(m.ruleId));
}

/** `line rule` for each boundary finding in `file` of the fixture package. */
async function findings(packageName, file) {
  return (await messages(packageName, file)).map((m) => `${m.line} ${m.ruleId}`);
}

const ARROW = 'boundaries/dependencies';
const TIMEOUT = 60_000;

describe('device boundary', () => {
  it('stops a device package importing a domain, the channel, the clock, a chip it does not contain, or the host platform', async () => {
    expect(await findings('pit', 'src/counter.ts')).toEqual([
      `2 ${ARROW}`, // @splitvisor/apic-timer: the PIT does not contain a LAPIC timer
      `3 ${ARROW}`, // @splitvisor/channel
      `4 ${ARROW}`, // @splitvisor/clock/queue (a subpath: another package's internals)
      `5 ${ARROW}`, // node:fs
      `6 ${ARROW}`, // os
      '10 no-restricted-properties', // Date.now()
      '11 no-restricted-syntax', // new Date()
      '12 no-restricted-globals', // setTimeout
      '13 no-restricted-properties', // Math.random()
    ]);
  }, TIMEOUT);

  it('lets a device package import abi, and a chip it contains', async () => {
    expect(await findings('pit', 'src/counter.ts')).not.toContain(`1 ${ARROW}`);
    expect(await findings('irqchip', 'src/lapic.ts')).toEqual([]); // abi, apic-timer
  }, TIMEOUT);

  it('explains itself', async () => {
    const found = await messages('pit', 'src/counter.ts');
    const [channel, builtin] = [3, 5].map((line) => found.find((m) => m.line === line));
    expect(channel?.message).toMatch(/@splitvisor\/pit's src\/ may import @splitvisor\/abi .*not @splitvisor\/channel/);
    expect(builtin?.message).toMatch(/import no node built-in \(node:fs\).*DeviceContext/);
  }, TIMEOUT);

  it('does not apply to a device package’s tests', async () => {
    expect(await findings('pit', 'test/counter.test.ts')).toEqual([]);
  }, TIMEOUT);

  it('does not hold domain packages to the host-clock rules', async () => {
    // node:perf_hooks and performance.now() are fine in the channel; only its arrow to clock is not.
    expect(await findings('channel', 'src/ring.ts')).toEqual([`1 ${ARROW}`]);
  }, TIMEOUT);
});

describe('dependency direction', () => {
  it('abi, the boundary’s data, imports no package and no node built-in', async () => {
    expect(await findings('abi', 'src/codec.ts')).toEqual([
      `2 ${ARROW}`, // @splitvisor/clock
      `3 ${ARROW}`, // node:fs
    ]); // @msgpack/msgpack on line 1 is a third-party dependency: knip's business
  }, TIMEOUT);

  it('workloads are guests: the scripted-guest API and abi, never a device model or the monitor', async () => {
    expect(await findings('workloads', 'src/guest.ts')).toEqual([
      `3 ${ARROW}`, // @splitvisor/vga
      `4 ${ARROW}`, // @splitvisor/monitor
      `5 ${ARROW}`, // @splitvisor/abi/internal/codec
      `6 ${ARROW}`, // ../../pit/src/counter.ts: a relative path into another package
    ]); // abi, scripted-guest, ./helper.ts, zod and node:fs are allowed
    const [vga, , internals, relative] = await messages('workloads', 'src/guest.ts');
    expect(vga?.message).toMatch(/may import @splitvisor\/abi, @splitvisor\/scripted-guest .*not @splitvisor\/vga/);
    expect(internals?.message).toMatch(/never its internals \(@splitvisor\/abi\/internal\/codec\)/);
    expect(relative?.message).toMatch(/relative import must stay inside the package \(\.\.\/\.\.\/pit\/src\/counter\.ts resolves outside it/);
  }, TIMEOUT);

  it('kernel and device host meet only through the channel', async () => {
    expect(await findings('devhost', 'src/host.ts')).toEqual([
      `3 ${ARROW}`, // import from @splitvisor/kernel
      `4 ${ARROW}`, // @splitvisor/clock
      `5 ${ARROW}`, // export * from @splitvisor/kernel
      `9 ${ARROW}`, // import('@splitvisor/kernel')
    ]); // abi and channel are allowed
    expect(await findings('kernel', 'src/domain.ts')).toEqual([
      `3 ${ARROW}`, // @splitvisor/devhost
      `4 ${ARROW}`, // @splitvisor/channel: the kernel answers the run ioctl, it does not own a transport
    ]); // abi and clock are allowed
  }, TIMEOUT);

  it('a domain does not import the composition root or another domain', async () => {
    expect(await findings('monitor', 'src/run-loop.ts')).toEqual([
      `3 ${ARROW}`, // @splitvisor/vmm
      `4 ${ARROW}`, // @splitvisor/kernel
    ]); // abi, clock and node:worker_threads are allowed
  }, TIMEOUT);

  it('a guest CPU backend imports abi only', async () => {
    expect(await findings('scripted-guest', 'src/scripted-guest.ts')).toEqual([`2 ${ARROW}`]); // @splitvisor/monitor
  }, TIMEOUT);

  it('the composition root imports the domains, the devices and the clock, not the guests or the app', async () => {
    expect(await findings('vmm', 'src/vm.ts')).toEqual([
      `6 ${ARROW}`, // @splitvisor/workloads
      `7 ${ARROW}`, // @splitvisor/cli
    ]);
  }, TIMEOUT);

  it('the app goes through the composition root, not around it into a domain', async () => {
    expect(await findings('cli', 'src/main.ts')).toEqual([`4 ${ARROW}`]); // @splitvisor/kernel
  }, TIMEOUT);

  it('tooling may import any package below the apps', async () => {
    expect(await findings('device-testkit', 'src/context.ts')).toEqual([`3 ${ARROW}`]); // @splitvisor/cli
  }, TIMEOUT);

  it('tests may import more, but never a package’s internals or an app', async () => {
    expect(await findings('monitor', 'test/run-loop.test.ts')).toEqual([
      `3 ${ARROW}`, // @splitvisor/kernel/internal/ring
      `4 ${ARROW}`, // @splitvisor/cli
    ]); // kernel and vmm are fine in a test
  }, TIMEOUT);

  it('has a row for every workspace package, and refuses a package without one', () => {
    const root = new URL('../../../', import.meta.url);
    const names = ['apps', 'packages', 'tooling'].flatMap((group) =>
      readdirSync(new URL(`${group}/`, root), { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && existsSync(new URL(`${group}/${entry.name}/package.json`, root)))
        .map((entry) => JSON.parse(readFileSync(new URL(`${group}/${entry.name}/package.json`, root), 'utf8')).name));
    expect(names.filter((name) => !Object.hasOwn(LAYERS, name.slice('@splitvisor/'.length)))).toEqual([]);
    expect(() => config(fixture('unknown'))).toThrow(/@splitvisor\/unknown has no row in the dependency table/);
  });

  it('never points up: no package’s row names an app, and every name in a row is a package', () => {
    for (const [name, may] of Object.entries(LAYERS)) {
      for (const target of may) {
        expect(APP_PACKAGES, `${name} ─▶ ${target}`).not.toContain(target);
        expect(Object.keys(LAYERS), `${name} ─▶ ${target}`).toContain(target);
      }
    }
    for (const device of DEVICE_PACKAGES) {
      expect(LAYERS[device]?.includes('abi'), device).toBe(true);
      for (const target of LAYERS[device] ?? []) expect(['abi', ...DEVICE_PACKAGES], `${device} ─▶ ${target}`).toContain(target);
    }
  });
});

describe('the README', () => {
  it('shows the table the rule is built from', () => {
    const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
    const rows = Object.fromEntries(
      [...readme.matchAll(/^\| `([a-z0-9-]+)` \| ([^|]*) \|/gm)].map(([, name, may]) => [name, may.trim()]),
    );
    const everything = (name) =>
      Object.keys(LAYERS).filter((p) => p !== name && !APP_PACKAGES.includes(p)).join(', ');
    const shown = Object.fromEntries(Object.entries(LAYERS).map(([name, may]) => [
      name,
      may.length === 0 ? 'nothing'
        : may.join(', ') === everything(name) ? 'any package below the apps'
          : may.join(', '),
    ]));
    expect(rows).toEqual(shown);
  });
});
