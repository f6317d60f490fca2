// The shared eslint flat config. A package's eslint.config.ts is two lines:
//   import { config } from '@splitvisor/eslint-config';
//   export default config(import.meta.dirname);
// The package's name decides which rules apply; nobody can forget to opt in.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import tseslint from 'typescript-eslint';

const SCOPE = '@splitvisor/';

/** Chip models. Each may run in the kernel, the monitor or the device host. */
export const DEVICE_PACKAGES = Object.freeze([
  'irqchip', 'apic-timer', 'pit', 'counters', 'rtc', 'keyboard',
  'vga', 'floppy', 'disk', 'serial', 'dma', 'debugcon', 'port92', 'fw-cfg', 'pci', 'parallel',
]);

/** The top of the graph: nothing imports an app. */
export const APP_PACKAGES = Object.freeze(['cli']);

/**
 * The dependency direction of the architecture page, as data: for each
 * package (its name without the scope), the packages its `src/` may import.
 * Every arrow rule is built from this table, and tooling/eslint/README.md
 * shows it (a test keeps the two equal).
 */
export const LAYERS = Object.freeze(Object.fromEntries(Object.entries({
  // The boundary's data depends on nothing.
  'abi': [],
  // Device models: abi, and a device package only where one chip contains or
  // is wired to another (the LAPIC contains its timer; the FDC drives an ISA
  // DMA channel).
  'irqchip': ['abi', 'apic-timer'],
  'apic-timer': ['abi'],
  'pit': ['abi'],
  'counters': ['abi'],
  'rtc': ['abi'],
  'keyboard': ['abi'],
  'vga': ['abi'],
  'floppy': ['abi', 'dma'],
  'disk': ['abi'],
  'serial': ['abi'],
  'dma': ['abi'],
  'debugcon': ['abi'],
  'port92': ['abi'],
  'fw-cfg': ['abi'],
  'pci': ['abi'],
  'parallel': ['abi'],
  // Guest CPUs, behind abi's GuestCpu.
  'cpu-x86': ['abi'],
  'scripted-guest': ['abi'],
  // Recorded guest I/O traces: data and their one reader.
  'traces': [],
  // Time, transport, policy, measurement.
  'clock': ['abi'],
  'channel': ['abi'],
  'placement': ['abi'],
  'metrics': ['abi'],
  // A host of many VMs' vCPUs, for the timer experiments (seed 004).
  'host': ['abi', 'clock', 'metrics'],
  // The three places of a domain. Kernel and device host meet only through the channel.
  'monitor': ['abi', 'clock'],
  'kernel': ['abi', 'clock'],
  'devhost': ['abi', 'channel'],
  // Guests: programs written against the scripted-guest API, never a device model.
  'workloads': ['abi', 'scripted-guest'],
  // The composition root.
  'vmm': [
    'monitor', 'kernel', 'devhost', 'channel', 'placement', 'metrics', 'clock', 'abi', 'cpu-x86',
    ...DEVICE_PACKAGES,
  ],
  // The app.
  'cli': [
    'vmm', 'placement', 'metrics', 'workloads', 'scripted-guest', 'traces', 'host',
  ],
  // Tooling: anything below the apps (filled in below).
  'device-testkit': null,
  'bench': null,
  'eslint-config': null,
  'tsconfig': null,
  'vitest-config': null,
  'release-check': null,
}).map(([name, may], _i, all) => [
  name,
  Object.freeze(may ?? all.map(([n]) => n).filter((n) => n !== name && !APP_PACKAGES.includes(n))),
])));

/**
 * Packages held to the device boundary: the device models and abi, the
 * contract they are written against. Besides their arrows, their `src/`
 * never touches the host platform: no node built-in, no host clock.
 */
export const BOUNDARY_PACKAGES = Object.freeze(['abi', ...DEVICE_PACKAGES]);

const BOUNDARY_MESSAGE =
  'A device model, and abi, import no node built-in ({{ dependency.source }}): a device must run ' +
  'unchanged in the kernel, the monitor or the device host. ' +
  'Time, timers, irq lines and memory come from its DeviceContext.';

const CLOCK_MESSAGE =
  'Devices never read the host clock or arm host timers: use ctx.now() and ctx.timer() from the DeviceContext.';

const scoped = (name) => `${SCOPE}${name}`;

/** @param {string} packageName a scoped package name */
function layerOf(packageName) {
  const short = packageName.startsWith(SCOPE) ? packageName.slice(SCOPE.length) : undefined;
  if (short === undefined || !Object.hasOwn(LAYERS, short)) {
    throw new Error(
      `${packageName} has no row in the dependency table (LAYERS in @splitvisor/eslint-config, ` +
      'shown in tooling/eslint/README.md): add the packages its src/ may import, following ' +
      'the architecture page\'s dependency direction.',
    );
  }
  return short;
}

/**
 * The arrows, as eslint-plugin-boundaries settings and its `dependencies`
 * rule, for the package `name` (unscoped) living in `packageDir`.
 *
 * - `src/` may import the `@splitvisor/*` packages of its row, and nothing else of the workspace;
 * - tests, benches and config files may import any package below the apps;
 * - nothing imports a package's internals (`@splitvisor/x/anything`), or reaches
 *   into another package's folder by a relative path;
 * - a boundary package's `src/` imports no node built-in.
 */
function layerConfig(name, packageDir) {
  const may = LAYERS[name];
  const src = { file: { categories: 'src' } };
  const workspace = { module: { source: `${SCOPE}*` } };
  const row = may.length > 0 ? may.map(scoped).join(', ') : 'no package';
  const policies = [
    {
      from: src,
      disallow: { to: workspace },
      message:
        `${scoped(name)}'s src/ may import ${row} (the dependency direction in ` +
        'tooling/eslint/README.md and the architecture page), not {{ to.module.source }}.',
    },
    ...(may.length > 0 ? [{ from: src, allow: { to: { module: { source: may.map(scoped) } } } }] : []),
    {
      disallow: { to: { module: { source: APP_PACKAGES.map(scoped) } } },
      message: 'Nothing imports an app: {{ to.module.source }} is the top of the dependency graph.',
    },
    {
      disallow: { to: { module: { source: `${SCOPE}*`, internalPath: '**' } } },
      message:
        'Import a package by its name ({{ to.module.source }}), never its internals ' +
        '({{ dependency.source }}): only what its index exports is its API.',
    },
    {
      // A relative path that resolves outside the package is an external module named '..'.
      disallow: { to: { module: { origin: 'external', source: ['.', '..'] } } },
      message:
        'A relative import must stay inside the package ({{ dependency.source }} resolves outside it, ' +
        'or nowhere): import another package by its @splitvisor/ name, where the dependency direction allows it.',
    },
    ...(BOUNDARY_PACKAGES.includes(name)
      ? [{ from: src, disallow: { to: { module: { origin: 'core' } } }, message: BOUNDARY_MESSAGE }]
      : []),
  ];
  return {
    plugins: { boundaries },
    settings: {
      'boundaries/root-path': packageDir,
      'boundaries/files': [
        { category: 'src', pattern: 'src/**' },
        { category: 'support', pattern: '**' },
      ],
      'boundaries/files-single-match': true,
      'boundaries/dependency-nodes': ['import', 'export', 'dynamic-import'],
      'boundaries/flag-as-external': {
        // Workspace packages are judged by name, built or not; anything that
        // resolves outside the package is not the package's own code.
        customSourcePatterns: [`${SCOPE}**`],
        outsideRootPath: true,
        inNodeModules: true,
        unresolvableAlias: true,
      },
      'boundaries/legacy-templates': false,
      'boundaries/legacy-warnings': false,
    },
    rules: {
      'boundaries/dependencies': ['error', {
        default: 'allow',
        checkAllOrigins: true,
        checkUnknownLocals: true,
        policies,
      }],
    },
  };
}

/** The host-clock rules that, with the arrows, make a package placeable in any domain. */
export function deviceBoundaryRules() {
  return {
    'no-restricted-globals': ['error',
      ...['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'performance', 'process', 'Buffer']
        .map((name) => ({ name, message: CLOCK_MESSAGE })),
    ],
    'no-restricted-properties': ['error',
      { object: 'Date', property: 'now', message: CLOCK_MESSAGE },
      { object: 'Math', property: 'random', message: 'Modelled runs are deterministic: take randomness from configuration.' },
    ],
    'no-restricted-syntax': ['error',
      { selector: 'NewExpression[callee.name="Date"]', message: CLOCK_MESSAGE },
    ],
  };
}

/** @param {string} packageName */
export function isBoundaryPackage(packageName) {
  return packageName.startsWith(SCOPE) && BOUNDARY_PACKAGES.includes(packageName.slice(SCOPE.length));
}

/**
 * @param {string} packageDir the directory holding the package's package.json
 * @returns {import('eslint').Linter.Config[]}
 */
export function config(packageDir) {
  const { name } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  const layer = layerOf(name);
  return [
    { ignores: ['dist/**', '.vitest/**', '.turbo/**', 'test/fixtures/**'] },
    js.configs.recommended,
    ...tseslint.configs.strictTypeChecked,
    ...tseslint.configs.stylisticTypeChecked,
    {
      languageOptions: {
        parserOptions: {
          // Config files sit outside the package's tsconfig; lint them in the default project.
          projectService: { allowDefaultProject: ['*.config.ts'] },
          tsconfigRootDir: packageDir,
        },
      },
      rules: {
        // Register values and exit codes are numbers; templates of them are how a VMM logs.
        '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
        // Bit arithmetic on register values reads best unparenthesised by a linter's taste.
        '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: true }],
        '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
        // A device's state is a plain record: `type` reads as data, `interface` as a contract.
        '@typescript-eslint/consistent-type-definitions': 'off',
        '@typescript-eslint/consistent-type-imports': 'error',
      },
    },
    {
      files: ['test/**/*.ts'],
      // vitest's asymmetric matchers (expect.objectContaining, …) are typed `any`.
      rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
    },
    layerConfig(layer, packageDir),
    ...(isBoundaryPackage(name) ? [{ files: ['src/**/*.ts'], rules: deviceBoundaryRules() }] : []),
    { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  ];
}
