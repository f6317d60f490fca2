// pnpm bench: modelled exits per second through the run loop, on a tight in/out loop against a device in the
// kernel domain (the 8259's IMR at 21h), as a ratio to a bare dispatch loop doing the same device accesses
// straight on the bus — both measured in this one run. The measurements alternate in rounds, so that a
// machine whose speed drifts during the run (a shared VM) moves every row alike.
import { withIrqOutputs } from '@splitvisor/abi';
import type { TransitionRecorder } from '@splitvisor/abi';
import { measureSync, report } from '@splitvisor/bench';
import { GuestClock } from '@splitvisor/clock';
import { PcInterrupts } from '@splitvisor/irqchip';
import { KernelDomain } from '@splitvisor/kernel';
import { TransitionCounts } from '@splitvisor/metrics';
import type { GuestProgram } from '../src/index.ts';
import { RunLoop, ScriptedGuest } from '../src/index.ts';

const EXITS = 100_000;
const ROUNDS = 5;

function machine() {
  const clock = new GuestClock(2_000_000_000);
  const kernel = new KernelDomain(() => clock.now());
  const monitor = new KernelDomain(() => clock.now());
  const chips = new PcInterrupts(withIrqOutputs(kernel.context('irqchip', () => 0), () => undefined));
  kernel.bus.map('pic', chips.pic, 'master', 0x20);
  return { clock, kernel, monitor };
}

/** The guest: `out 21h, v; in 21h` forever, one cycle of work between. */
function tightLoop(): ScriptedGuest {
  return new ScriptedGuest((function* io(): GuestProgram {
    for (let v = 0; ; v = (v + 1) & 0xff) {
      yield { op: 'out', port: 0x21, value: v };
      yield { op: 'in', port: 0x21 };
    }
  })());
}

function runLoopExits(recorder?: TransitionRecorder): number {
  const { clock, kernel, monitor } = machine();
  const loop = new RunLoop({
    cpu: tightLoop(), clock, monitor, kernel,
    user: { exit: () => ({ completion: new Uint8Array(0), deadline: Number.POSITIVE_INFINITY, requestInterruptWindow: false }) },
    interrupts: { pending: () => false, acknowledge: () => 0 },
    deviceAt: () => 'pic',
    ...(recorder === undefined ? {} : { recorder }),
  });
  // Each exit costs the guest 1 cycle at 2 GHz: EXITS exits take EXITS / 2 ns of guest time.
  return loop.runUntil(EXITS / 2).exits;
}

/** Four transitions counted per exit (guest → monitor → kernel and back), as a VM's run records them. */
function countedExits(): number {
  const counts = new TransitionCounts();
  const exits = runLoopExits(counts);
  if (counts.total < 4 * exits) throw new Error(`counted ${counts.total} transitions for ${exits} exits`); // and the power-on kick
  return exits;
}

/** What a minimal VMM's dispatch does for the same accesses: the bus lookup and the device call, nothing else. */
function bareDispatch(): number {
  const { kernel } = machine();
  const out = new Uint8Array(1);
  const into = new Uint8Array(1);
  for (let i = 0; i < EXITS; i += 2) {
    out[0] = i & 0xff;
    kernel.bus.write('port', 0x21, out);
    kernel.bus.read('port', 0x21, into);
  }
  return EXITS;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const exits = runLoopExits();
if (exits < EXITS * 0.9) throw new Error(`the loop made ${exits} exits, not about ${EXITS}`);
const rounds = { loop: [] as number[], counted: [] as number[], bare: [] as number[] };
for (let round = 0; round < ROUNDS; round++) {
  const options = { opsPerBatch: 1, batches: 5, warmupBatches: round === 0 ? 3 : 1 };
  rounds.loop.push(measureSync(() => runLoopExits(), options).medianNs / exits);
  rounds.counted.push(measureSync(countedExits, options).medianNs / exits);
  rounds.bare.push(measureSync(bareDispatch, options).medianNs / EXITS);
}
const perExitLoop = median(rounds.loop);
const perExitCounted = median(rounds.counted);
const perExitBare = median(rounds.bare);
report('monitor: modelled exits through the run loop (tight out/in to the 8259 IMR in the kernel domain)', [
  { name: 'bare dispatch loop (bus only)', medianNs: perExitBare, note: 'per access' },
  { name: 'run loop (guest → monitor → kernel)', medianNs: perExitLoop, note: 'per exit, null recorder' },
  { name: 'run loop, transitions counted', medianNs: perExitCounted, note: 'per exit, TransitionCounts' },
], 'bare dispatch loop (bus only)');
console.log(`run loop: ${(1e3 / perExitLoop).toFixed(2)} M exits/s (${(1e3 / perExitCounted).toFixed(2)} M/s counting transitions); bare loop ${(1e3 / perExitBare).toFixed(2)} M accesses/s; run loop at ${(perExitBare / perExitLoop).toFixed(2)}× the bare loop's rate (targets ≥ 20 M/s and ≥ 0.4×)`);
