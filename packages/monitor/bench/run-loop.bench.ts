// pnpm bench: modelled exits per second through the run loop, on a tight in/out loop against a device in the
// kernel domain (the 8259's IMR at 21h), as a ratio to a bare dispatch loop doing the same device accesses
// straight on the bus — both measured in this one run. The guest is real machine code run by the x86
// interpreter (`out 21h, al; in al, 21h; jmp`), and again a scripted guest (a generator resumed per exit).
// Each configuration runs in a process of its own beside its own bare loop, as one VM's run loop would: V8
// tunes the loop's code to the guest backend and recorder it meets, and a process that ran them all would
// measure every row with code made for all of them. Within a process the measurements alternate in rounds,
// so that a machine whose speed drifts during the run (a shared VM) moves both rows alike.
import { withIrqOutputs } from '@splitvisor/abi';
import type { TransitionRecorder } from '@splitvisor/abi';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { measureSync, median, report } from '@splitvisor/bench';
import { GuestClock } from '@splitvisor/clock';
import { UNIT_CPI, X86Cpu } from '@splitvisor/cpu-x86';
import { PcInterrupts } from '@splitvisor/irqchip';
import { KernelDomain } from '@splitvisor/kernel';
import { TransitionCounts } from '@splitvisor/metrics';
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import type { GuestCpu } from '../src/index.ts';
import { MonitorDomain, RunLoop } from '../src/index.ts';

const EXITS = 100_000;
const ROUNDS = 5;

/** The 8259 pair in the kernel (KVM's placement); with `monitorHolds`, the slave in the monitor (a domain asked first, missed). */
function machine(monitorHolds = false) {
  const clock = new GuestClock(2_000_000_000);
  const kernel = new KernelDomain(() => clock.now());
  const monitor = new MonitorDomain(() => clock.now());
  const chips = new PcInterrupts(withIrqOutputs(kernel.context('irqchip', () => 0), () => undefined));
  kernel.bus.map('pic', chips.pic, 'master', 0x20);
  if (monitorHolds) monitor.bus.map('pic', chips.pic, 'slave', 0xa0);
  return { clock, kernel, monitor };
}

/** The same loop in machine code at 1000h: `out 21h, al; in al, 21h; jmp` — 1.5 instructions an exit. */
function x86Loop(): X86Cpu {
  const memory = new Uint8Array(0x1_0000);
  memory.set([0xe6, 0x21, 0xe4, 0x21, 0xeb, 0xfa], 0x1000);
  return new X86Cpu(memory, { cs: 0, ip: 0x1000, cpi: UNIT_CPI });
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

/** Exits the guest makes in EXITS / 2 ns of guest time (at 2 GHz, one cycle an instruction). */
function runLoopExits(recorder?: TransitionRecorder, cpu: GuestCpu = tightLoop(), monitorHolds = false): number {
  const { clock, kernel, monitor } = machine(monitorHolds);
  const loop = new RunLoop({
    cpu, clock, domains: [monitor, kernel],
    user: { exit: () => ({ completion: new Uint8Array(0), deadline: Number.POSITIVE_INFINITY, requestInterruptWindow: false }) },
    interrupts: { pending: () => false, acknowledge: () => 0 },
    deviceAt: () => 'pic',
    ...(recorder === undefined ? {} : { recorder }),
  });
  return loop.runUntil(EXITS / 2).exits;
}

/** Four transitions counted per exit (guest → monitor → kernel and back), as a VM's run records them. */
function countedExits(cpu: GuestCpu): number {
  const counts = new TransitionCounts();
  const exits = runLoopExits(counts, cpu);
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

/** The configurations, each a run of about EXITS exits, measured per exit against the bare loop. */
const configurations = {
  x86: { name: 'run loop, x86 guest', note: 'out/in/jmp machine code', run: () => runLoopExits(undefined, x86Loop()) },
  scripted: { name: 'run loop, scripted guest', note: 'a generator step an exit', run: () => runLoopExits() },
  'monitor-asked': { name: 'run loop, x86 guest, monitor asked', note: 'a device in the monitor too', run: () => runLoopExits(undefined, x86Loop(), true) },
  counted: { name: 'run loop, x86 guest, transitions counted', note: 'TransitionCounts', run: () => countedExits(x86Loop()) },
} as const;
type Configuration = keyof typeof configurations;

/** One configuration against the bare loop, alternating in rounds: ns per exit and per bare access. */
function measure(configuration: Configuration): { loop: number; bare: number } {
  const { run } = configurations[configuration];
  const exits = run();
  if (exits < EXITS * 0.6) throw new Error(`${configuration} made ${exits} exits, not about ${EXITS}`);
  const loop: number[] = [];
  const bare: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const options = { opsPerBatch: 1, batches: 5, warmupBatches: round === 0 ? 3 : 1 };
    loop.push(measureSync(run, options).medianNs / exits);
    bare.push(measureSync(bareDispatch, options).medianNs / EXITS);
  }
  return { loop: median(loop), bare: median(bare) };
}

const asked = process.argv[2];
if (asked !== undefined) {
  // A child: one configuration, its figures as JSON.
  if (!(asked in configurations)) throw new Error(`no configuration ${asked}`);
  console.log(JSON.stringify(measure(asked as Configuration)));
} else {
  const self = fileURLToPath(import.meta.url);
  const figures = (Object.keys(configurations) as Configuration[]).map((configuration) => {
    const output = execFileSync(process.execPath, [...process.execArgv, self, configuration], { encoding: 'utf8' });
    return { configuration, ...(JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as { loop: number; bare: number }) };
  });
  const bare = median(figures.map((f) => f.bare));
  report('monitor: modelled exits through the run loop (tight out/in to the 8259 IMR in the kernel domain)', [
    { name: 'bare dispatch loop (bus only)', medianNs: bare, note: 'per access (median of the processes)' },
    ...figures.map((f) => ({
      name: configurations[f.configuration].name,
      medianNs: f.loop,
      note: `per exit, ${configurations[f.configuration].note}; ${(f.bare / f.loop).toFixed(2)}× its process's bare loop (${f.bare.toFixed(1)} ns)`,
    })),
  ], 'bare dispatch loop (bus only)');
  const line = (f: (typeof figures)[number]) => `${(1e3 / f.loop).toFixed(2)} M exits/s, ${(f.bare / f.loop).toFixed(2)}× the bare loop`;
  const [x86, scripted] = figures;
  if (x86 !== undefined && scripted !== undefined) {
    console.log(`bare loop ${(1e3 / bare).toFixed(2)} M accesses/s; run loop with the x86 guest ${line(x86)}; with the scripted guest ${line(scripted)} (targets ≥ 20 M/s and ≥ 0.4×)`);
  }
}
