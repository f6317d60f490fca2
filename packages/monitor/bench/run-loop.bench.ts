// pnpm bench: modelled exits per second through the run loop, on a tight in/out loop against a device in the
// kernel domain (the 8259's IMR at 21h), as a ratio to a bare dispatch loop doing the same device accesses
// straight on the bus — both measured in this one run.
import { withIrqOutputs } from '@splitvisor/abi';
import { measureSync, report } from '@splitvisor/bench';
import { GuestClock } from '@splitvisor/clock';
import { PcInterrupts } from '@splitvisor/irqchip';
import { KernelDomain } from '@splitvisor/kernel';
import type { GuestProgram } from '../src/index.ts';
import { RunLoop, ScriptedGuest } from '../src/index.ts';

const EXITS = 100_000;

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

function runLoopExits(): number {
  const { clock, kernel, monitor } = machine();
  const loop = new RunLoop({
    cpu: tightLoop(), clock, monitor, kernel,
    user: { exit: () => ({ completion: new Uint8Array(0), deadline: Number.POSITIVE_INFINITY }) },
    interrupts: { pending: () => false, acknowledge: () => 0 },
    deviceAt: () => 'pic',
  });
  // Each exit costs the guest 1 cycle at 2 GHz: EXITS exits take EXITS / 2 ns of guest time.
  return loop.runUntil(EXITS / 2).exits;
}

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

const exits = runLoopExits();
if (exits < EXITS * 0.9) throw new Error(`the loop made ${exits} exits, not about ${EXITS}`);
const loop = measureSync(runLoopExits, { opsPerBatch: 1, batches: 15, warmupBatches: 3 });
const bare = measureSync(bareDispatch, { opsPerBatch: 1, batches: 15, warmupBatches: 3 });
const perExitLoop = loop.medianNs / exits;
const perExitBare = bare.medianNs / EXITS;
report('monitor: modelled exits through the run loop (tight out/in to the 8259 IMR in the kernel domain)', [
  { name: 'bare dispatch loop (bus only)', medianNs: perExitBare, note: 'per access' },
  { name: 'run loop (guest → monitor → kernel, recorded)', medianNs: perExitLoop, note: 'per exit' },
], 'bare dispatch loop (bus only)');
console.log(`run loop: ${(1e3 / perExitLoop).toFixed(2)} M exits/s; bare loop ${(1e3 / perExitBare).toFixed(2)} M accesses/s; run loop at ${(perExitBare / perExitLoop).toFixed(2)}× the bare loop's rate (targets ≥ 20 M/s and ≥ 0.4×)`);
