// The shared vitest preset. Every package's vitest.config.ts is
//   export { default } from '@splitvisor/vitest-config';
// Tests are black-box, on a virtual clock; none sleeps, none reads the wall clock.
import { availableParallelism } from 'node:os';
import { CountsReporter } from './counts-reporter.js';

export { CountsReporter, RESULTS_FILE } from './counts-reporter.js';

/** @type {import('vitest/config').UserConfig} */
const preset = {
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.js'],
    exclude: ['**/node_modules/**', 'test/fixtures/**'],
    reporters: ['default', new CountsReporter()],
    // Test files in child processes, one per two cores (at least one): `npm test` runs two
    // packages' suites at once (turbo --concurrency=2 in tooling/bootstrap.mjs), so a 2-core
    // machine runs two test files in all rather than every package's, one per core, at once.
    pool: 'forks',
    maxWorkers: Math.max(1, Math.floor(availableParallelism() / 2)),
    testTimeout: 60_000, // a loaded 2-core CI machine runs two packages' suites at once
  },
};

export default preset;
