// The bench harness. Figures are medians of timed batches, and every figure
// is printed as a ratio to a baseline measured in the same process, on the
// same machine, in the same run — absolute numbers from different runs or
// machines are never compared. Benchmarks never run in the test suite.
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';

/** A one-line description of where the numbers came from. */
export function machine() {
  const cores = cpus();
  const model = cores[0]?.model.trim() ?? 'unknown CPU';
  return `${model}, ${cores.length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, ${process.platform}/${process.arch}`;
}

/** The middle of `values` (the mean of the two middles of an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Times `batches` batches of `opsPerBatch` calls to `op` (after `warmupBatches`
 * untimed ones) and returns the median time per op in nanoseconds.
 */
export function measureSync(op, { opsPerBatch = 1000, batches = 25, warmupBatches = 3 } = {}) {
  const perOp = [];
  for (let b = 0; b < warmupBatches + batches; b++) {
    const start = performance.now();
    for (let i = 0; i < opsPerBatch; i++) op();
    const elapsed = performance.now() - start;
    if (b >= warmupBatches) perOp.push((elapsed * 1e6) / opsPerBatch);
  }
  return { medianNs: median(perOp), samples: perOp.length, opsPerBatch };
}

/** As measureSync, for an op that returns a promise (e.g. a postMessage round trip). */
export async function measureAsync(op, { opsPerBatch = 1000, batches = 25, warmupBatches = 3 } = {}) {
  const perOp = [];
  for (let b = 0; b < warmupBatches + batches; b++) {
    const start = performance.now();
    for (let i = 0; i < opsPerBatch; i++) await op();
    const elapsed = performance.now() - start;
    if (b >= warmupBatches) perOp.push((elapsed * 1e6) / opsPerBatch);
  }
  return { medianNs: median(perOp), samples: perOp.length, opsPerBatch };
}

function formatNs(ns) {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(1)} ns`;
}

/**
 * Prints `rows` ({ name, medianNs, note? }) as a table with each median as a
 * ratio to the row named `baseline`. Returns the ratios by name.
 */
export function report(title, rows, baseline) {
  const base = rows.find((row) => row.name === baseline);
  if (base === undefined) throw new Error(`baseline ${baseline} is not among the rows`);
  console.log(`\n${title}`);
  console.log(`machine: ${machine()}`);
  console.log(`baseline: ${baseline} (ratios are median / baseline median, same run)\n`);
  const ratios = {};
  console.table(rows.map((row) => {
    const ratio = row.medianNs / base.medianNs;
    ratios[row.name] = ratio;
    return { benchmark: row.name, median: formatNs(row.medianNs), 'ratio to baseline': `${ratio.toFixed(2)}×`, note: row.note ?? '' };
  }));
  return ratios;
}
