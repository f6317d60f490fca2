// The PC machine the run loop's tests drive: the 8259s in the kernel, the 8254 in the domain a test names, the
// device host over a direct channel (through the codec) — whatever GuestCpu runs on it.
import type { Exit } from '@splitvisor/abi';
import { withIrqOutputs } from '@splitvisor/abi';
import { createDirectChannel } from '@splitvisor/channel';
import type { GuestClock } from '@splitvisor/clock';
import { TimerQueue } from '@splitvisor/clock';
import { DeviceHost } from '@splitvisor/devhost';
import { PcInterrupts } from '@splitvisor/irqchip';
import { KernelDomain } from '@splitvisor/kernel';
import type { TransitionCounts } from '@splitvisor/metrics';
import { I8254 } from '@splitvisor/pit';
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import type { GuestCpu, RunLoopConfig } from '../src/index.ts';
import { MonitorDomain, RunLoop } from '../src/index.ts';

export type Where = 'kernel' | 'monitor' | 'user';

/**
 * Linux's periodic tick at HZ=1000 as a scripted guest: init_8259A with irq 0 unmasked, the 8254's counter 0
 * in mode 2 (LATCH 1193), then `idleCycles` of work before each `hlt`; each tick's handler works
 * `handlerCycles` and EOIs the 8259. `jiffies` counts the ticks; with `timestamps`, `seen` holds the TSC at each.
 */
export function scriptedTick(options: { idleCycles?: number; handlerCycles?: number; timestamps?: boolean } = {}) {
  const { idleCycles = 0, handlerCycles = 0, timestamps = false } = options;
  let jiffies = 0;
  const seen: number[] = [];
  const guest = new ScriptedGuest((function* main(): GuestProgram {
    for (const [port, value] of [[0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, 0x01], [0x21, 0xfe]] as const) yield { op: 'out', port, value };
    for (const [port, value] of [[0x43, 0x34], [0x40, 1193 & 0xff], [0x40, 1193 >> 8]] as const) yield { op: 'out', port, value };
    yield { op: 'sti' };
    for (;;) {
      if (idleCycles > 0) yield { op: 'compute', cycles: idleCycles };
      yield { op: 'hlt' };
    }
  })()).on(0x20, function* timerInterrupt(): GuestProgram {
    jiffies++;
    if (timestamps) seen.push(yield { op: 'rdtsc' });
    if (handlerCycles > 0) yield { op: 'compute', cycles: handlerCycles };
    yield { op: 'out', port: 0x20, value: 0x20 }; // EOI
  });
  return { guest, jiffies: () => jiffies, seen };
}

/**
 * The PC's 8259s in the kernel and the 8254 in `pitIn`, run by a loop over `guest` on `clock`; transitions go to
 * `recorder` when one is given, and the guest's time is charged as `time` says (default: the cycles it runs).
 */
export function machineWith(guest: GuestCpu, clock: GuestClock, pitIn: Where, recorder?: TransitionCounts, time: Pick<RunLoopConfig, 'charge'> = {}): RunLoop {
  const kernel = new KernelDomain(() => clock.now());
  const monitorDomain = new MonitorDomain(() => clock.now());
  let cpuLine = false;
  const chips = new PcInterrupts(withIrqOutputs(kernel.context('irqchip', () => 0), (_cpu, level) => { cpuLine = level; }));
  kernel.routeIrqs((gsi, level) => { chips.setGsi(gsi, level); });
  monitorDomain.routeIrqs((gsi, level) => { chips.setGsi(gsi, level); });
  kernel.bus.map('pic', chips.pic, 'master', 0x20);
  kernel.bus.map('pic', chips.pic, 'slave', 0xa0);

  const [kernelEnd, devhostEnd] = createDirectChannel({ codec: true });
  kernelEnd.setHandler({ onCall: (m) => kernel.ioctl(m), onPost: (m) => { kernel.ioctl(m); } });
  const host = new DeviceHost(devhostEnd, { timers: new TimerQueue() });
  const GSI_IRQ0 = 2; // ISA irq 0 arrives on GSI 2 (the MADT override)
  const pitContext = pitIn === 'kernel' ? kernel.context('pit', () => GSI_IRQ0)
    : pitIn === 'monitor' ? monitorDomain.context('pit', () => GSI_IRQ0) : host.context('pit', () => GSI_IRQ0);
  const pit = new I8254(pitContext);
  const bus = pitIn === 'kernel' ? kernel.bus : pitIn === 'monitor' ? monitorDomain.bus : host.bus;
  bus.map('pit', pit, 'counters', 0x40);
  bus.map('pit', pit, 'nmisc', 0x61);

  return new RunLoop({
    cpu: guest,
    clock,
    domains: [monitorDomain, kernel],
    user: {
      exit: (exit: Exit) => {
        const reply = kernelEnd.call(exit);
        if (reply.kind !== 'run') throw new Error(`device host answered ${reply.kind}`);
        return reply;
      },
    },
    interrupts: { pending: () => cpuLine, acknowledge: () => chips.acknowledge(0) },
    deviceAt: (space, address) => (space === 'port' && address >= 0x40 && address <= 0x43 ? 'pit' : space === 'port' && (address & ~1) === 0x20 ? 'pic' : null),
    ...(recorder === undefined ? {} : { recorder }),
    ...time,
  });
}

