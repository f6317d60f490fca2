// Writes this package's test counts to .vitest/results.json, a turbo output,
// so the root test command can sum every package (cached or not) into the
// one plain line CI reads.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const RESULTS_FILE = join('.vitest', 'results.json');

export class CountsReporter {
  /** @type {string} */
  root = process.cwd();

  /** @param {import('vitest/node').Vitest} vitest */
  onInit(vitest) {
    this.root = vitest.config.root;
  }

  /**
   * @param {ReadonlyArray<import('vitest/node').TestModule>} testModules
   * @param {ReadonlyArray<unknown>} unhandledErrors
   */
  onTestRunEnd(testModules, unhandledErrors) {
    const counts = { passed: 0, failed: 0, skipped: 0, errors: unhandledErrors.length };
    for (const module of testModules) {
      let failedHere = 0;
      for (const test of module.children.allTests()) {
        const { state } = test.result();
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') failedHere++;
        else counts.skipped++;
      }
      // A file that failed to load, or whose beforeAll failed (its tests then all skipped), failed no test of
      // its own, but it is a failure.
      counts.failed += failedHere === 0 && module.state() === 'failed' ? 1 : failedHere;
    }
    counts.failed += unhandledErrors.length;
    mkdirSync(join(this.root, '.vitest'), { recursive: true });
    writeFileSync(join(this.root, RESULTS_FILE), `${JSON.stringify(counts)}\n`);
  }
}
