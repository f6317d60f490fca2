/**
 * `splitvisor build`: a VMM for one placement, the way a kernel is built
 * with only the drivers it is configured for. Each domain is a bundle of its
 * own — `kernel.js`, `monitor.js`, `devhost.js` — whose entry is generated
 * from the placement: it makes that domain and only the devices and irqchip
 * parts placed there, so the others are not reachable from it and the
 * bundler leaves them out. `vmm.js` is the monitor's process (the run loop,
 * the CLI) with the three domain builds of `@splitvisor/vmm` replaced by
 * those bundles; `devhost-worker.js` runs the device host's bundle in a
 * worker for live runs. A manifest names the placement, the devices per
 * domain, the packages and their versions, and each bundle's size and
 * SHA-256.
 *
 * esbuild bundles: it runs on node 20 (tsdown's current major needs 22),
 * is already in the toolchain (tsx, vitest), tree-shakes packages that
 * declare `sideEffects: false`, writes byte-identical output for the same
 * input, and reports what each output holds (its metafile), which the tests
 * read to prove a bundle's contents.
 *
 * Nothing partial is left behind: the build goes to a temporary folder
 * beside the target and is moved into place at the end.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Metafile, Plugin } from 'esbuild';
import { build, version as esbuildVersion } from 'esbuild';
import type { DeviceName, Where } from '@splitvisor/placement';
import { IdleCpu } from '@splitvisor/scripted-guest';
import type { IrqchipTopology } from '@splitvisor/vmm';
import { IRQCHIP_PARTS, PC_DEVICES, Vm, VmError } from '@splitvisor/vmm';
import { CliError } from './cli-error.ts';
import type { ChosenPlacement } from './placement-file.ts';
import { printTable } from './table.ts';

export type Domain = 'kernel' | 'monitor' | 'devhost';
export const BUILT_DOMAINS: readonly Domain[] = ['kernel', 'monitor', 'devhost'];

/** The bundles of a built VMM, in the order the manifest lists them. */
export const BUNDLES = ['vmm.js', 'kernel.js', 'monitor.js', 'devhost.js', 'devhost-worker.js'] as const;
export type Bundle = (typeof BUNDLES)[number];

export interface BundleEntry {
  readonly file: Bundle;
  /** The domain whose code it is (`vmm.js`: the monitor's process, which runs the others). */
  readonly domain: Domain | 'vmm';
  readonly bytes: number;
  readonly sha256: string;
  /** The packages whose code is in it. */
  readonly packages: readonly string[];
}

export interface VmmManifest {
  readonly name: string;
  readonly irqchip: IrqchipTopology;
  readonly bundler: string;
  /** What each domain holds: its devices, the interrupt controllers among them. */
  readonly devices: Readonly<Record<Domain, readonly DeviceName[]>>;
  /** Devices the placement names that no factory makes yet (their ports answer as an empty bus). */
  readonly unmodelled: readonly DeviceName[];
  readonly bundles: readonly BundleEntry[];
  /** Every package in any bundle, with its version. */
  readonly packages: Readonly<Record<string, string>>;
}

export interface BuiltVmm {
  /** The folder the VMM was moved into: `<out>/<name>`. */
  readonly dir: string;
  readonly manifest: VmmManifest;
  /** What the bundler put in each bundle. */
  readonly metafiles: Readonly<Record<Bundle, Metafile>>;
}

const WHERE_OF: Record<Domain, Where> = { kernel: 'kernel', monitor: 'monitor', devhost: 'user' };
const BUILD_EXPORT: Record<Domain, string> = { kernel: 'KERNEL_BUILD', monitor: 'MONITOR_BUILD', devhost: 'DEVHOST_BUILD' };

/** The maker of each domain, as `@splitvisor/vmm`'s `domain-build.js` exports it. */
const DOMAIN_MAKER: Record<Domain, string> = { kernel: 'makeKernel', monitor: 'makeMonitor', devhost: 'makeDeviceHost' };

/** The irqchip parts each topology puts in each domain: [the part, the function of `@splitvisor/vmm` that wires it, its module]. */
const IRQCHIP_PARTS_OF: Record<IrqchipTopology, Partial<Record<Domain, readonly [string, string, string]>>> = {
  'in-kernel': { kernel: ['whole', 'wholeIrqchip', 'irqchip-whole.js'] },
  'monitor': { monitor: ['whole', 'wholeIrqchip', 'irqchip-whole.js'] },
  'userspace': { devhost: ['whole', 'hostWholeIrqchip', 'irqchip-whole.js'] },
  'split': { kernel: ['apics', 'splitApics', 'irqchip-split.js'], devhost: ['legacy', 'splitLegacy', 'irqchip-split.js'] },
};

/** `pm-timer` → `pmTimerFactory`: the name `@splitvisor/vmm` gives a device's factory. */
function factoryExport(device: DeviceName): string {
  return `${device.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase())}Factory`;
}

/** A domain's build module, generated from the placement: the domain, its placed devices' factories, its irqchip part. */
function domainEntry(domain: Domain, devices: readonly DeviceName[], topology: IrqchipTopology): string {
  const maker = DOMAIN_MAKER[domain];
  const part = IRQCHIP_PARTS_OF[topology][domain];
  const lines = [
    `// ${domain}: generated by splitvisor build — only what the placement puts here.`,
    `import { ${maker} } from './domain-build.js';`,
    ...(devices.length === 0 ? [] : [`import { ${devices.map(factoryExport).join(', ')} } from './device-factories.js';`]),
    ...(part === undefined ? [] : [`import { ${part[1]} } from './${part[2]}';`]),
    `export const ${BUILD_EXPORT[domain]} = {`,
    `  create: ${maker},`,
    `  devices: { ${devices.map((d) => `${JSON.stringify(d)}: ${factoryExport(d)}`).join(', ')} },`,
    `  irqchip: { ${part === undefined ? '' : `${part[0]}: ${part[1]}`} },`,
    '};',
  ];
  return `${lines.join('\n')}\n`;
}

/** The folder of `@splitvisor/vmm`'s built modules, which the generated entries import from. */
function vmmDist(): string {
  return dirname(createRequire(import.meta.url).resolve('@splitvisor/vmm'));
}

/** Generated entries, by name, in a namespace of their own (their names, not a temporary path, are what the bundles record). */
function generated(entries: Readonly<Record<string, { readonly contents: string; readonly resolveDir: string }>>): Plugin {
  return {
    name: 'splitvisor-generated',
    setup(bundler) {
      bundler.onResolve({ filter: /^splitvisor-build:/ }, (args) => ({ path: args.path.slice('splitvisor-build:'.length), namespace: 'splitvisor-build' }));
      bundler.onLoad({ filter: /.*/, namespace: 'splitvisor-build' }, (args) => {
        const entry = entries[args.path];
        return entry === undefined ? { errors: [{ text: `no generated entry ${args.path}` }] } : { contents: entry.contents, resolveDir: entry.resolveDir, loader: 'js' };
      });
    },
  };
}

/** `@splitvisor/vmm`'s three domain builds, replaced by the domain bundles beside the one being built. */
function domainsBeside(dist: string): Plugin {
  return {
    name: 'splitvisor-domains',
    setup(bundler) {
      bundler.onResolve({ filter: /^\.\/(kernel|monitor|devhost)-build\.js$/ }, (args) => {
        if (dirname(args.importer) !== dist) return undefined;
        const domain = /^\.\/(\w+)-build\.js$/.exec(args.path)?.[1] ?? '';
        return { path: `./${domain}.js`, external: true };
      });
    },
  };
}

/** The package (name and version) a bundled file belongs to: the nearest package.json above it that has a name. */
function packageOf(file: string, cache: Map<string, { name: string; version: string } | null>): { name: string; version: string } | null {
  let dir = dirname(file);
  const seen: string[] = [];
  for (;;) {
    const known = cache.get(dir);
    if (known !== undefined) return remember(known);
    seen.push(dir);
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name, version } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (name !== undefined) return remember({ name, version: version ?? '0.0.0' });
    }
    const parent = dirname(dir);
    if (parent === dir) return remember(null);
    dir = parent;
  }
  function remember(found: { name: string; version: string } | null) {
    for (const d of seen) cache.set(d, found);
    return found;
  }
}

/** The inputs whose code is in `output` (the bundler keeps none of a file it shook out entirely). */
export function inputsOf(metafile: Metafile): string[] {
  return Object.values(metafile.outputs).flatMap((output) => Object.entries(output.inputs).filter(([, input]) => input.bytesInOutput > 0).map(([path]) => path));
}

export interface BuildOptions {
  /** The folder the VMM goes in, as `<out>/<name>` (default `dist/vmm`). */
  readonly out?: string;
}

/** Builds the VMM for `chosen` into `<out>/<name>`, replacing what was there only once the whole build has succeeded. */
export async function buildVmm(chosen: ChosenPlacement, options: BuildOptions = {}): Promise<BuiltVmm> {
  const { label: name, placement } = chosen;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new CliError(`cannot build "${name}": a built VMM's folder is named after its placement, which must be letters, digits, '.', '_' and '-'`);
  // The placement is assembled once before anything is built: what cannot be wired is refused here, in one line.
  let topology: IrqchipTopology;
  let unmodelled: readonly DeviceName[];
  try {
    const vm = new Vm(placement, new IdleCpu());
    topology = vm.irqchip;
    unmodelled = vm.unmodelled;
    await vm.close();
  } catch (error) {
    if (error instanceof VmError) throw new CliError(error.message);
    throw error;
  }
  const placed = (domain: Domain) => (Object.entries(placement.devices) as [DeviceName, Where][])
    .filter(([device, at]) => at === WHERE_OF[domain] && !unmodelled.includes(device))
    .map(([device]) => device);
  const devices = Object.fromEntries(BUILT_DOMAINS.map((d) => [d, placed(d)])) as Record<Domain, DeviceName[]>;
  const factories = (domain: Domain) => devices[domain].filter((d) => !IRQCHIP_PARTS.includes(d) && PC_DEVICES[d] !== undefined);

  const dist = vmmDist();
  const here = dirname(fileURLToPath(import.meta.url));
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  const entries: Record<string, { contents: string; resolveDir: string }> = {
    ...Object.fromEntries(BUILT_DOMAINS.map((d) => [d, { contents: domainEntry(d, factories(d), topology), resolveDir: dist }])),
    vmm: {
      contents: `import { builtVmmMain } from './built-vmm.${ext}';\nawait builtVmmMain(${JSON.stringify(placement)}, ${JSON.stringify(name)});\n`,
      resolveDir: here,
    },
    'devhost-worker': { contents: "import './devhost-worker.js';\n", resolveDir: dist },
  };

  const out = resolve(options.out ?? join('dist', 'vmm'));
  mkdirSync(out, { recursive: true });
  const staging = mkdtempSync(join(out, `.${name}-`));
  try {
    const metafiles = {} as Record<Bundle, Metafile>;
    for (const file of BUNDLES) {
      const entry = file.slice(0, -'.js'.length);
      const result = await build({
        entryPoints: [`splitvisor-build:${entry}`],
        outfile: join(staging, file),
        absWorkingDir: dirname(dist),
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        minify: true,
        keepNames: true, // errors and states name their classes as in the sources
        metafile: true,
        logLevel: 'silent',
        plugins: [generated(entries), ...(file === 'vmm.js' || file === 'devhost-worker.js' ? [domainsBeside(dist)] : [])],
        // CommonJS dependencies (commander) require node's built-ins: an ES module has no `require` of its own.
        ...(file === 'vmm.js' ? { banner: { js: "import{createRequire as __splitvisorRequire}from'node:module';const require=__splitvisorRequire(import.meta.url);" } } : {}),
      });
      metafiles[file] = result.metafile;
    }
    const cache = new Map<string, { name: string; version: string } | null>();
    const versions: Record<string, string> = {};
    const bundles = BUNDLES.map((file): BundleEntry => {
      const bytes = readFileSync(join(staging, file));
      const packages = new Set<string>();
      for (const input of inputsOf(metafiles[file])) {
        if (input.startsWith('splitvisor-build:')) continue;
        const found = packageOf(resolve(dirname(dist), input), cache);
        if (found === null) continue;
        packages.add(found.name);
        versions[found.name] = found.version;
      }
      const domain = file === 'vmm.js' ? 'vmm' : file === 'devhost-worker.js' ? 'devhost' : (file.slice(0, -'.js'.length) as Domain);
      return { file, domain, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), packages: [...packages].sort() };
    });
    const manifest: VmmManifest = {
      name, irqchip: topology, bundler: `esbuild ${esbuildVersion}`, devices, unmodelled, bundles,
      packages: Object.fromEntries(Object.entries(versions).sort(([a], [b]) => a.localeCompare(b))),
    };
    writeFileSync(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(join(staging, 'metafile.json'), `${JSON.stringify(metafiles, null, 2)}\n`);
    const dir = join(out, name);
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
    return { dir, manifest, metafiles };
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

/** The built VMM as a person reads it: each bundle's size, what it holds, and where it went. */
export function printBuild(built: BuiltVmm): void {
  const { manifest } = built;
  console.log(`splitvisor build — ${manifest.name} (${manifest.irqchip} irqchip), ${manifest.bundler}: ${built.dir}\n`);
  printTable(manifest.bundles.map((b) => ({
    bundle: b.file,
    devices: b.file === 'vmm.js' ? '(the run loop; loads the domains)' : b.file === 'devhost-worker.js' ? '(runs devhost.js in a worker: live runs)' : manifest.devices[b.domain === 'vmm' ? 'kernel' : b.domain].join(', ') || '(none)',
    'KiB': Number((b.bytes / 1024).toFixed(1)),
    sha256: b.sha256.slice(0, 16),
  })));
  if (manifest.unmodelled.length > 0) console.log(`Not modelled yet (left out): ${manifest.unmodelled.join(', ')}`);
  console.log(`Run it: node ${join(built.dir, 'vmm.js')} --workload linux-idle-pit --duration 100ms`);
}
