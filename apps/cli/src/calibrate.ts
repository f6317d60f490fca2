/**
 * `splitvisor calibrate`: what the transitions cost on this machine, beside
 * what the cost model says. kvm-unit-tests' vmexit loops run under
 * kvm-irqchip: `inl_from_kernel` (an exit the kernel answers) and
 * `inl_from_pmtimer` (an exit to the device host, the PM timer being there),
 * each for the same number of iterations — modelled, with the device host
 * in this thread behind the direct transport (wall time of the whole run,
 * the difference of the two loops per iteration being the heavyweight
 * exit's), and live, with the device host in its worker (each round trip
 * timed). The bare SharedArrayBuffer ping-pong between two threads, the
 * floor any worker transport stands on, is measured in the same run.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { CostModel } from '@splitvisor/metrics';
import type { ChosenPlacement } from './placement-file.ts';
import { modelOf, runProfile } from './profile-run.ts';
import type { Row } from './table.ts';

export interface Calibration {
  readonly iterations: number;
  /** The host's clock rate (from /proc/cpuinfo), to turn ns into cycles; undefined where it cannot be read. */
  readonly mhz: number | undefined;
  readonly model: string;
  readonly rows: readonly CalibrationRow[];
}

export interface CalibrationRow {
  readonly transition: string;
  readonly modelCycles: number | undefined;
  readonly measuredNs: number;
  readonly how: string;
}

/** The other thread of the ping-pong: it answers each 1 with a 0, spinning, until told -1. */
const PONG = `
const { workerData } = require('node:worker_threads');
const cell = new Int32Array(workerData);
for (;;) {
  const v = Atomics.load(cell, 0);
  if (v === 1) Atomics.store(cell, 0, 0);
  else if (v === -1) break;
}`;

/** The median ns of a spinning SharedArrayBuffer round trip between this thread and a worker. */
async function pingPongFloor(rounds = 200_000): Promise<number> {
  const buffer = new SharedArrayBuffer(4);
  const cell = new Int32Array(buffer);
  const worker = new Worker(PONG, { eval: true, workerData: buffer });
  try {
    // The worker is spinning once it answers the first ping.
    Atomics.store(cell, 0, 1);
    while (Atomics.load(cell, 0) !== 0);
    const batches: number[] = [];
    for (let batch = 0; batch < 7; batch++) {
      const start = performance.now();
      for (let i = 0; i < rounds / 7; i++) {
        Atomics.store(cell, 0, 1);
        while (Atomics.load(cell, 0) !== 0);
      }
      batches.push(((performance.now() - start) * 1e6) / (rounds / 7));
    }
    return batches.sort((a, b) => a - b)[3] ?? Number.NaN;
  } finally {
    Atomics.store(cell, 0, -1);
    await worker.terminate();
  }
}

function hostMhz(): number | undefined {
  try {
    const mhz = Number(/cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]);
    return Number.isFinite(mhz) && mhz > 0 ? mhz : undefined;
  } catch {
    return undefined;
  }
}

export async function calibrate(chosen: ChosenPlacement, options: { readonly iterations: number; readonly costModel?: string | CostModel; readonly progress?: (done: number, total: number) => void }): Promise<Calibration> {
  const { iterations } = options;
  const model = modelOf(options.costModel ?? chosen.placement.costModel);
  const steps = 4;
  let done = 0;
  const step = async <T>(work: () => Promise<T>): Promise<T> => {
    const result = await work();
    options.progress?.(++done, steps);
    return result;
  };
  // Modelled runs time the guest's run and each direct round trip on the wall clock (timeCrossings); live, each worker round trip.
  const loop = (test: string, mode: 'modelled' | 'live') => runProfile(chosen, { workload: 'vmexit', parameters: { test, iterations }, durationNs: 10e9, mode, costModel: model, timeCrossings: true });
  const kernel = await step(() => loop('inl_from_kernel', 'modelled'));
  const direct = await step(() => loop('inl_from_pmtimer', 'modelled'));
  const live = await step(() => loop('inl_from_pmtimer', 'live'));
  const floor = await step(() => pingPongFloor());
  const { exit, 'heavyweight-exit': toUser } = model.boundaries;
  return {
    iterations,
    mhz: hostMhz(),
    model: model.name,
    rows: [
      { transition: 'exit answered in the kernel (the run loop and the kernel\'s dispatch, modelled)', modelCycles: exit.cycles + model.boundaries['lightweight-exit'].cycles, measuredNs: (kernel.runWallNs ?? Number.NaN) / Math.max(1, kernel.exits), how: 'wall time of the inl_from_kernel run over its exits (the guest\'s own steps in it)' },
      { transition: 'heavyweight exit, direct transport (the codec in this thread)', modelCycles: toUser.cycles, measuredNs: direct.wallNs?.io?.p50 ?? Number.NaN, how: 'p50 of each io round trip through the codec, timed' },
      { transition: 'heavyweight exit, worker transport (the device host\'s thread)', modelCycles: toUser.cycles, measuredNs: live.wallNs?.io?.p50 ?? Number.NaN, how: 'p50 of each io round trip, timed live' },
      { transition: 'SharedArrayBuffer ping-pong between two threads (the floor)', modelCycles: undefined, measuredNs: floor, how: 'median of 7 batches of spinning round trips' },
    ],
  };
}

export function calibrationRows(calibration: Calibration): Row[] {
  const { mhz } = calibration;
  return calibration.rows.map((r) => ({
    transition: r.transition,
    [`${calibration.model} cycles`]: r.modelCycles ?? '—',
    'here ns': Math.round(r.measuredNs),
    ...(mhz === undefined ? {} : { [`here cycles at ${Math.round(mhz)} MHz`]: Math.round((r.measuredNs * mhz) / 1000) }),
    how: r.how,
  }));
}
