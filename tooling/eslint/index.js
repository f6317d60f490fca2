// The shared eslint flat config. A package's eslint.config.ts is two lines:
//   import { config } from '@splitvisor/eslint-config';
//   export default config(import.meta.dirname);
// The package's name decides which rules apply; nobody can forget to opt in.
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const SCOPE = '@splitvisor/';

/** Chip models. Each may run in the kernel, the monitor or the device host. */
export const DEVICE_PACKAGES = Object.freeze([
  'irqchip', 'apic-timer', 'pit', 'counters', 'rtc', 'keyboard',
  'vga', 'floppy', 'disk', 'serial', 'dma',
]);

/**
 * Packages held to the device boundary: the device models and abi, the
 * contract they are written against. They may import abi and, where one chip
 * contains another (the LAPIC contains the APIC timer), a device package —
 * never a domain, the channel, the clock, an app, or the host platform.
 */
export const BOUNDARY_PACKAGES = Object.freeze(['abi', ...DEVICE_PACKAGES]);

const BOUNDARY_MESSAGE =
  'A device model imports only @splitvisor/abi (and a device package it contains): ' +
  'it must run unchanged in the kernel, the monitor or the device host. ' +
  'Time, timers, irq lines and memory come from its DeviceContext.';

const CLOCK_MESSAGE =
  'Devices never read the host clock or arm host timers: use ctx.now() and ctx.timer() from the DeviceContext.';

/** The rules that make a package placeable in any domain. */
export function deviceBoundaryRules() {
  const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
  return {
    'no-restricted-imports': ['error', {
      patterns: [
        {
          group: [`${SCOPE}*`, ...BOUNDARY_PACKAGES.map((p) => `!${SCOPE}${p}`)],
          message: BOUNDARY_MESSAGE,
        },
        { group: nodeBuiltins, message: BOUNDARY_MESSAGE },
      ],
    }],
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
    ...(isBoundaryPackage(name) ? [{ files: ['src/**/*.ts'], rules: deviceBoundaryRules() }] : []),
    { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  ];
}
