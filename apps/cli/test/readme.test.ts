// The READMEs' commands, as a user with only node and npm types them: each
// `npm run splitvisor -- …` and `npm start -- …` they show runs through the
// root package.json's scripts to this command, and parses and runs.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, normalize } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const READMES = ['README.md', 'apps/cli/README.md'];

const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** Every command a README shows in code (inline or a block), with its whitespace as one space. */
function codeOf(text: string): string[] {
  const blocks = [...text.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].flatMap((m) => (m[1] ?? '').split('\n').map((line) => line.replace(/\s+#.*$/, '')));
  const inline = [...text.replace(/```[\s\S]*?```/g, '').matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');
  return [...blocks, ...inline].map((code) => code.replace(/\s+/g, ' ').trim());
}

/** `npm run splitvisor -- ARGS` and `npm start -- ARGS`: the arguments the command receives. */
const NPM = /^npm (?:run splitvisor|start) -- (.+)$/;
const documented = [...new Set(READMES.flatMap((readme) => codeOf(read(readme)).map((code) => NPM.exec(code)?.[1])))]
  // `npm run splitvisor -- COMMAND …` is a synopsis; the placement round trip writes a file of the user's and reads it
  // back (`> my-placement.json`, `--placement my-placement.json`): placement-file.test.ts runs it in a folder of its own.
  .filter((args): args is string => args !== undefined && !args.includes('…') && !args.includes('>') && !args.includes('--placement'));

describe("the READMEs' commands", () => {
  it('use npm, which every user has, and never pnpm to run the command', () => {
    for (const readme of READMES) expect(read(readme), readme).not.toMatch(/pnpm (-s )?splitvisor/);
    expect(documented).toContain('--help');
    expect(documented).toContain('run --profile kvm-split --workload lapic-tick');
  });

  it('reach this command through the root scripts: start through the bootstrap, splitvisor directly', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    const { bin } = JSON.parse(read('apps/cli/package.json')) as { bin: Record<string, string> };
    expect(scripts.splitvisor).toBe(`node ${normalize(join('apps/cli', bin.splitvisor ?? ''))}`);
    expect(scripts.start).toBe('node tooling/bootstrap.mjs start');
    expect(scripts['build:vmm']).toBe('node tooling/bootstrap.mjs build-vmm');
    // The bootstrap hands its arguments on to the built command (`compare` when there are none; `build` first for build-vmm).
    expect(read('tooling/bootstrap.mjs')).toMatch(/const args = job === 'build-vmm' \? \['build', \.\.\.rest\] : rest\.length > 0 \? rest : \['compare', '--html', join\('reports', 'compare\.html'\)\];/);
    expect(read('tooling/bootstrap.mjs')).toMatch(/join\(root, 'apps', 'cli', 'dist', 'main\.js'\), \.\.\.args\]/);
  });

  it.each(documented)('`%s` runs, printing only its output on stdout', (args) => {
    // From the repository root, as the READMEs' relative paths are.
    const result = spawnSync(process.execPath, ['--import', tsx, main, ...args.split(' ')], { cwd: root, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.length).toBeGreaterThan(0);
    if (args.split(' ').includes('--json')) expect(() => JSON.parse(result.stdout) as unknown).not.toThrow();
  }, 180_000); // experiment io-fastpaths runs every workload under every mechanism: half a minute alone, longer on a loaded CI
});

describe("the README's figures", () => {
  /** 416000 → "416 000", as the README writes numbers. */
  const spaced = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');

  it('are what the main job prints at this commit', () => {
    const result = spawnSync(process.execPath, ['--import', tsx, main, 'compare', '--json'], { cwd: root, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    type Run = { profile: string; exits: number; heavyweightExits: number; overheadCycles: number; guestCycles: number; interrupts: number; kicksByDevice: Record<string, { user?: number }> };
    const runs = Object.fromEntries((JSON.parse(result.stdout) as { runs: Run[] }).runs.map((r) => [r.profile, r]));
    const [tcg, kvm, userPit, split, plex86] = ['qemu-tcg', 'kvm-irqchip', 'kvm-userspace-pit', 'kvm-split', 'plex86'].map((name) => runs[name] ?? expect.unreachable(name));
    const readme = read('README.md').replace(/\s+/g, ' ');
    for (const run of [tcg, kvm, userPit, split, plex86]) expect(run?.interrupts).toBe(100);
    for (const run of [tcg, kvm, userPit, plex86]) expect(readme).toContain(`the same ${spaced(run?.guestCycles ?? 0)} guest cycles`);
    // The split irqchip's run ends a little past the duration (its last exit's); the README gives its own count.
    expect(readme).toContain(`ends ${((split?.guestCycles ?? 0) - (kvm?.guestCycles ?? 0)) / 2} ns past the 100 ms: ${spaced(split?.guestCycles ?? 0)} guest cycles`);
    expect(readme).toContain(`makes ${kvm?.exits ?? 0} exits`);
    expect(readme).toContain(`${split?.exits ?? 0} under the split irqchip`);
    expect(readme).toContain(`kvm-irqchip costs ${spaced(kvm?.overheadCycles ?? 0)} cycles per 100 ms, as plex86 does`);
    expect(plex86?.overheadCycles).toBe(kvm?.overheadCycles);
    expect(readme).toContain(`adds ${userPit?.heavyweightExits ?? 0} heavyweight exits`);
    expect(readme).toContain(`and ${spaced((userPit?.overheadCycles ?? 0) - (kvm?.overheadCycles ?? 0))} cycles`);
    expect(readme).toContain(`has ${split?.heavyweightExits ?? 0} heavyweight exits and costs ${spaced((split?.overheadCycles ?? 0) - (kvm?.overheadCycles ?? 0))} cycles more than kvm-irqchip`);
    expect(readme).toContain(`(${userPit?.kicksByDevice.pit?.user ?? 0} of those heavyweight crossings)`);
  }, 60_000);
});
