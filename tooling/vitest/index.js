// The shared vitest preset. Every package's vitest.config.ts is
//   export { default } from '@splitvisor/vitest-config';
// Tests are black-box, on a virtual clock; none sleeps, none reads the wall clock.
import { CountsReporter } from './counts-reporter.js';

export { CountsReporter, RESULTS_FILE } from './counts-reporter.js';

/** @type {import('vitest/config').UserConfig} */
const preset = {
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.js'],
    exclude: ['**/node_modules/**', 'test/fixtures/**'],
    reporters: ['default', new CountsReporter()],
    testTimeout: 60_000, // a loaded 2-core CI machine runs two packages' suites at once
  },
};

export default preset;
