// pnpm bench: seed 004's host at scale — 1,024 vCPUs, each with a 1 kHz periodic guest timer, one guest-second
// modelled — as a ratio to a bare timer-heap loop firing the same number of events (1,024 timers re-armed every
// millisecond for a second, on the clock package's TimerQueue), both measured in this run; with the process's
// resident memory after them.
import { measureSync, report } from '@splitvisor/bench';
import { TimerQueue } from '@splitvisor/clock';
import type { HostTimerStrategy } from '../src/index.ts';
import { runHostModel } from '../src/index.ts';

const VCPUS = 1024;
const PERIOD = 1_000_000;
const SECOND = 1_000_000_000;
const TIMING = { opsPerBatch: 1, batches: 5, warmupBatches: 1 };

/** The bare loop: VCPUS timers at their own phases, each re-armed a period on as it fires, for a second. */
function bareHeap(): number {
  const queue = new TimerQueue();
  let fired = 0;
  for (let i = 0; i < VCPUS; i++) {
    let next = Math.floor(((i * 0.618_033_988_749_895) % 1) * PERIOD) + PERIOD;
    const timer = queue.timer(() => {
      fired++;
      next += PERIOD;
      timer.arm(next);
    });
    timer.arm(next);
  }
  queue.advanceTo(SECOND, () => undefined);
  return fired;
}

/** 16 VMs × 64 vCPUs on 64 physical CPUs (16 each), a 10 ms slice, the lost ticks re-delivered. */
const model = (strategy: HostTimerStrategy) => () => runHostModel({ pcpus: 64, vms: 16, vcpusPerVm: 64, strategy, lostTicks: 'delay', durationNs: SECOND });

const rows = [
  { name: 'bare timer heap', medianNs: measureSync(bareHeap, TIMING).medianNs, note: `${bareHeap()} timer events` },
  ...(['nearest-deadline', 'soft-timers'] as const).map((strategy) => {
    const result = model(strategy)();
    return {
      name: `host model, ${strategy}`,
      medianNs: measureSync(model(strategy), TIMING).medianNs,
      note: `${result.hostTimerInterrupts} host timer interrupts, ${result.ticksTaken} ticks taken, ${result.contextSwitches} switches`,
    };
  }),
];
report(`1,024 vCPUs × 1 kHz guest timer, one guest-second modelled (target ≤ 1 s wall, ≤ 200 MB resident)`, rows, 'bare timer heap');
console.log(`wall per modelled run: ${rows.slice(1).map((r) => `${r.name} ${(r.medianNs / 1e6).toFixed(0)} ms`).join('; ')}`);
console.log(`resident memory after the runs: ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB`);
