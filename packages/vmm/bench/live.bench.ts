// pnpm bench: what the live VM's crossings cost on this machine, each figure beside its baseline from this one run.
//
// 1. Posted writes (issue 15 §5): the serial-console and vga-text-console workloads run live — the device
//    host in its worker — for the same guest work (guest time is the cycles the guest runs and its exits' modelled
//    costs, so both variants do exactly the same), writes to the device host waited for (the baseline) or posted
//    one way. Rounds alternate the two, so a machine whose speed drifts moves both alike; the wall time is the
//    run's own (the worker is up before the clock starts).
// 2. An idle live VM (§6): a guest that halts between the ticks of the 8254 (100 Hz), on the host clock (`wall`)
//    for a second: the process's CPU time (both threads) over that second — the PIT in the kernel (no crossing: the
//    VM's own cost of a tick), and in the device host (every tick a heavyweight `intr` exit) with the channel's
//    waits never spinning and spinning first (KVM's halt polling).
// 4. The device host in a process of its own (issue 18): the same live runs with the host in a worker and in a
//    child process under the permission model — serial-console (port I/O) and floppy-read (its DMA through the
//    kernel's memory ioctls in a process, the shared RAM in a worker) — rounds alternating.
// 3. Modelled heavyweight exits per second (§6): clocksource-read (the ACPI PM timer) under qemu-tcg, every read
//    a heavyweight exit through the codec — against a direct call through the codec, its floor.
import { performance } from 'node:perf_hooks';
import { measureSync, report } from '@splitvisor/bench';
import { createDirectChannel } from '@splitvisor/channel';
import type { Placement } from '@splitvisor/placement';
import { profile, validatePlacement } from '@splitvisor/placement';
import { createWorkload, tickCount } from '@splitvisor/workloads';
import type { LiveTransport } from '../src/index.ts';
import { Vm } from '../src/index.ts';

const ROUNDS = 5;
const GUEST_NS = 200e6;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] ?? Number.NaN;
}

function placementOf(name: string, changes: { io?: Partial<Placement['io']>; time?: Placement['time'] } = {}): Placement {
  const base = profile(name);
  if (base === undefined) throw new Error(`no profile ${name}`);
  const checked = validatePlacement({ ...base, io: { ...base.io, ...changes.io }, ...(changes.time === undefined ? {} : { time: changes.time }) });
  if (!checked.ok) throw new Error(checked.problems.join('; '));
  return checked.placement;
}

/** Wall ms of one live run of `workload` for `guestNs`, the device host already up; and what it did. */
async function liveRun(workload: string, posted: boolean, transport: LiveTransport = 'worker', guestNs = GUEST_NS): Promise<{ ms: number; posted: number; heavyweight: number }> {
  const made = createWorkload(workload);
  const board = made.board?.floppyBytes === undefined ? {} : { floppyBlankBytes: made.board.floppyBytes };
  const vm = new Vm(placementOf('kvm-irqchip', { io: { postedWrites: posted } }), made.guest, { mode: 'live', transport, board });
  try {
    const start = performance.now();
    vm.run(guestNs);
    const ms = performance.now() - start;
    const rows = vm.counts.rows();
    const count = (test: (r: (typeof rows)[number]) => boolean) => rows.filter(test).reduce((n, r) => n + r.count, 0);
    return { ms, posted: count((r) => r.reason === 'posted'), heavyweight: count((r) => r.from !== 'user' && r.to === 'user') };
  } finally {
    await vm.close();
  }
}

for (const workload of ['serial-console', 'vga-text-console']) {
  const waited: number[] = [];
  const postedMs: number[] = [];
  let counts = { waited: 0, posted: 0, sent: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    const a = await liveRun(workload, false);
    const b = await liveRun(workload, true);
    waited.push(a.ms);
    postedMs.push(b.ms);
    counts = { waited: a.heavyweight, posted: b.heavyweight, sent: b.posted };
  }
  report(`live ${workload}, ${GUEST_NS / 1e6} ms of guest time under kvm-irqchip (wall time of the run, median of ${ROUNDS})`, [
    { name: 'writes waited for', medianNs: median(waited) * 1e6, note: `${counts.waited} heavyweight exits` },
    { name: 'writes posted', medianNs: median(postedMs) * 1e6, note: `${counts.posted} heavyweight exits, ${counts.sent} writes posted` },
  ], 'writes waited for');
}

for (const [workload, guestNs] of [['serial-console', 50e6], ['floppy-read', 1e6]] as const) {
  const inWorker: number[] = [];
  const inProcess: number[] = [];
  let heavyweight = 0;
  for (let round = 0; round < ROUNDS; round++) {
    inWorker.push((await liveRun(workload, false, 'worker', guestNs)).ms);
    const run = await liveRun(workload, false, 'process', guestNs);
    inProcess.push(run.ms);
    heavyweight = run.heavyweight;
  }
  report(`live ${workload}, ${guestNs / 1e6} ms of guest time under kvm-irqchip: the device host in a worker or a process (wall time of the run, median of ${ROUNDS})`, [
    { name: 'device host in a worker thread', medianNs: median(inWorker) * 1e6, note: `${heavyweight} heavyweight exits` },
    { name: 'device host in a child process', medianNs: median(inProcess) * 1e6, note: workload === 'floppy-read' ? 'DMA through read/write-memory ioctls' : '' },
  ], 'device host in a worker thread');
}

/** CPU time (both threads) over wall time of a live idle second, in percent: the guest halts between PIT ticks at 100 Hz. */
async function idleCpu(profileName: string, spin: boolean): Promise<number> {
  const run = tickCount({ timer: 'pit', hz: 100 });
  const vm = new Vm(placementOf(profileName, { time: { kind: 'wall' } }), run.guest, { mode: 'live', ...(spin ? {} : { channelSpin: { maxSpinNs: 0 } }) });
  try {
    vm.run(50e6); // the guest programs its timer and settles into its idle loop
    const cpu = process.cpuUsage();
    const start = performance.now();
    vm.run(1.05e9);
    const used = process.cpuUsage(cpu);
    return (100 * (used.user + used.system)) / ((performance.now() - start) * 1e3);
  } finally {
    await vm.close();
  }
}

const IDLE = [
  { name: 'PIT in the kernel (kvm-irqchip): no crossing, the VM\'s own tick', profile: 'kvm-irqchip', spin: true },
  { name: 'PIT in the device host (kvm-userspace-pit), waits never spin', profile: 'kvm-userspace-pit', spin: false },
  { name: 'PIT in the device host (kvm-userspace-pit), waits spin first (halt polling)', profile: 'kvm-userspace-pit', spin: true },
] as const;
const idle = IDLE.map(() => [] as number[]);
for (let round = 0; round < 3; round++) {
  for (const [i, c] of IDLE.entries()) idle[i]?.push(await idleCpu(c.profile, c.spin));
}
console.log('\nidle live VM: a guest halting between PIT ticks at 100 Hz, on the host clock (wall), CPU time of both threads over an idle second (median of 3):');
console.table(IDLE.map((c, i) => ({ VM: c.name, 'CPU %': median(idle[i] ?? []).toFixed(2) })));
const spinningIdle = median(idle[2] ?? []);
console.log(`idle VM CPU with halt polling ${spinningIdle.toFixed(2)} % (target ≤ 5 %): ${spinningIdle <= 5 ? 'met' : 'NOT met'}`);

// Modelled: heavyweight exits per wall second on clocksource-read under qemu-tcg, and the codec's floor.
const [coded, peer] = createDirectChannel({ codec: true });
const completion = { kind: 'run', vcpu: 0, completion: Uint8Array.of(0, 0, 0, 0), requestInterruptWindow: false, immediateExit: false, deadline: Number.POSITIVE_INFINITY, deadlineOwner: '' } as const;
peer.setHandler({ onCall: () => completion, onPost: () => undefined });
const pmRead = { kind: 'io', vcpu: 0, time: 1e6, ifFlag: true, readyForInterruptInjection: true, direction: 'in', port: 0x608, size: 4, count: 1, data: new Uint8Array(0) } as const;
const perExit: number[] = [];
let exits = 0;
for (let round = 0; round < 3; round++) {
  const made = createWorkload('clocksource-read', { clocksource: 'acpi_pm' });
  const vm = new Vm(placementOf('qemu-tcg'), made.guest);
  vm.run(10e6); // warm
  const before = vm.counts.rows().filter((r) => r.to === 'user' && r.from !== 'user').reduce((n, r) => n + r.count, 0);
  const start = performance.now();
  vm.run(310e6);
  const ms = performance.now() - start;
  exits = vm.counts.rows().filter((r) => r.to === 'user' && r.from !== 'user').reduce((n, r) => n + r.count, 0) - before;
  perExit.push((ms * 1e6) / exits);
  await vm.close();
}
const codec = measureSync(() => coded.call(pmRead), { opsPerBatch: 20_000, batches: 9 });
report('modelled: one heavyweight exit of clocksource-read (acpi_pm) under qemu-tcg, through the whole VM', [
  { name: 'direct call through the codec', medianNs: codec.medianNs },
  { name: 'heavyweight exit, whole VM', medianNs: median(perExit), note: `${exits} exits in 300 ms of guest time` },
], 'direct call through the codec');
const rate = 1e3 / median(perExit);
console.log(`heavyweight exits/s: ${rate.toFixed(2)} M (target ≥ 2 M): ${rate >= 2 ? 'met' : 'NOT met'}`);
