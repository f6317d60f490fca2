// Every package under packages/ as it would be published, one by one: packed with pnpm (which turns
// `workspace:` and `catalog:` specifiers into versions), its manifest and files checked, linted by publint
// and @arethetypeswrong/core, installed from the tarballs alone into a scratch project outside the workspace
// with npm (no workspace links), and imported there. A missing file, a wrong export, a dependency declared in
// the wrong block or a specifier left unresolved fails here, not for the first user. And each published README's
// first example runs as printed, there, against the installed packages (tsx strips its types).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { publint } from 'publint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PACKAGES = readdirSync(join(root, 'packages')).filter((d) => existsSync(join(root, 'packages', d, 'package.json'))).sort();
const DEPENDENCY_BLOCKS = ['dependencies', 'peerDependencies', 'optionalDependencies'];
/** ESM-only packages: the CommonJS resolutions (node10, node16 from CommonJS) are not offered, so not checked (attw's esm-only profile). */
const ESM_ONLY_IGNORED = new Set(['node10', 'node16-cjs']);

/** tsx's ESM loader, for `node --import`: README examples are TypeScript. */
const TSX = new URL('dist/esm/index.mjs', new URL(`file://${createRequire(import.meta.url).resolve('tsx/package.json')}`)).href;

/** The first TypeScript example of a README, or undefined. */
function firstExample(readme) {
  return /```ts\n([\s\S]*?)\n```/.exec(readme)?.[1];
}

/** pnpm as turbo started it (`npm_execpath`: a script for node, or pnpm's own executable), or the one on the PATH. */
function pnpm(args, cwd) {
  const execPath = process.env.npm_execpath;
  const ours = execPath !== undefined && /pnpm/.test(execPath);
  const [command, ...rest] = !ours ? ['pnpm', ...args] : /\.[cm]?js$/.test(execPath) ? [process.execPath, execPath, ...args] : [execPath, ...args];
  return execFileSync(command, rest, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir) {
  return readdirSync(dir, { recursive: true }).map(String).filter((f) => statSync(join(dir, f)).isFile());
}

/** Every target an `exports` map names, by condition. */
function targets(exports, condition = '.') {
  if (exports === null) return [];
  if (typeof exports === 'string') return [{ condition, path: exports }];
  return Object.entries(exports).flatMap(([key, value]) => targets(value, key));
}

let work = '';
/** By directory name: the tarball, its unpacked folder, its manifest. */
const packed = new Map();

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'splitvisor-release-'));
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  for (const dir of PACKAGES) {
    const before = new Set(readdirSync(tarballs));
    pnpm(['pack', '--pack-destination', tarballs], join(root, 'packages', dir));
    const tarball = readdirSync(tarballs).find((f) => !before.has(f));
    if (tarball === undefined) throw new Error(`pnpm pack wrote no tarball for packages/${dir}`);
    const unpacked = join(work, 'unpacked', dir);
    mkdirSync(unpacked, { recursive: true });
    execFileSync('tar', ['-xzf', join(tarballs, tarball), '-C', unpacked]);
    const folder = join(unpacked, 'package');
    packed.set(dir, { tarball: join(tarballs, tarball), folder, manifest: JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) });
  }
  // Installed from the tarballs alone, with npm, outside the workspace: each package's own dependencies come
  // from the registry, its @splitvisor ones from the tarballs beside it.
  const scratch = join(work, 'scratch');
  mkdirSync(scratch);
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', ...[...packed.values()].map((p) => p.tarball)], { cwd: scratch, stdio: ['ignore', 'ignore', 'pipe'] });
}, 600_000);

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

describe.each(PACKAGES)('packages/%s as published', (dir) => {
  const of = () => {
    const p = packed.get(dir);
    if (p === undefined) throw new Error(`packages/${dir} was not packed`);
    return p;
  };

  it('has a manifest a registry takes: scoped name, licence, engines, files, sideEffects, exports, no workspace or catalog specifier', () => {
    const { folder, manifest } = of();
    expect(manifest.name).toMatch(/^@splitvisor\/[a-z0-9-]+$/);
    expect(manifest.private).toBeUndefined();
    expect(manifest.license).toBe('MIT');
    expect(manifest.engines?.node).toMatch(/^>=20/);
    expect(manifest.files).toEqual(expect.arrayContaining(['dist']));
    // Said, either way: none, or the modules that have them (a worker entry), each shipped.
    if (Array.isArray(manifest.sideEffects)) for (const file of manifest.sideEffects) expect(existsSync(join(folder, file)), `sideEffects names ${file}`).toBe(true);
    else expect(typeof manifest.sideEffects).toBe('boolean');
    expect(manifest.exports).toBeDefined();
    for (const block of DEPENDENCY_BLOCKS) {
      for (const [name, spec] of Object.entries(manifest[block] ?? {})) expect(`${block}.${name}: ${spec}`).not.toMatch(/workspace:|catalog:/);
    }
  });

  it('ships built JavaScript and declarations only, and every file its exports name', () => {
    const { folder, manifest } = of();
    const files = filesUnder(folder);
    expect(files.filter((f) => /\.[mc]?ts$/.test(f) && !/\.d\.[mc]?ts$/.test(f))).toEqual([]);
    for (const { condition, path } of targets(manifest.exports)) {
      if (path.includes('*')) continue;
      expect(existsSync(join(folder, path)), `exports ${condition} → ${path}`).toBe(true);
      if (condition === 'types') expect(path).toMatch(/\.d\.ts$/);
    }
    expect(files).toContain('README.md');
  });

  it('passes publint with no errors or warnings', async () => {
    const { folder } = of();
    const { messages } = await publint({ pkgDir: folder, pack: false, level: 'warning' });
    expect(messages.map((m) => `${m.type} ${m.code} at ${m.path.join('.')}`)).toEqual([]);
  });

  it('resolves its types and code alike for node16 ESM and bundlers (@arethetypeswrong/core, esm-only)', async () => {
    const { tarball } = of();
    const result = await checkPackage(createPackageFromTarballData(new Uint8Array(readFileSync(tarball))));
    const problems = 'problems' in result ? result.problems.filter((p) => !('resolutionKind' in p) || !ESM_ONLY_IGNORED.has(p.resolutionKind)) : [];
    expect(problems.map((p) => `${p.kind} ${'entrypoint' in p ? p.entrypoint : ''} ${'resolutionKind' in p ? p.resolutionKind : ''}`)).toEqual([]);
  });

  it('imports from a project outside the workspace that installed the tarballs with npm', () => {
    const { manifest } = of();
    const scratch = join(work, 'scratch');
    const installed = join(scratch, 'node_modules', ...manifest.name.split('/'));
    expect(relative(scratch, installed)).not.toMatch(/^\.\./);
    expect(existsSync(join(installed, 'package.json'))).toBe(true);
    if (manifest.exports?.['.'] === undefined) return; // a package of subpaths only
    const loaded = execFileSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(manifest.name)}); console.log(Object.keys(m).length);`], { cwd: scratch, encoding: 'utf8' });
    expect(Number(loaded)).toBeGreaterThan(0);
  });

  it('runs the first example of its published README as printed', () => {
    const { folder } = of();
    const example = firstExample(readFileSync(join(folder, 'README.md'), 'utf8'));
    expect(example, 'a README with a ```ts example').toBeDefined();
    const file = join(work, 'scratch', 'examples', `${dir}.ts`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, example ?? '');
    // From the repository root, where an example's paths (../shared/traces) are; its imports resolve from the scratch project.
    execFileSync(process.execPath, ['--import', TSX, file], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  });
});
