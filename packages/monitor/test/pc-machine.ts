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
import type { GuestCpu } from '../src/index.ts';
import { MonitorDomain, RunLoop } from '../src/index.ts';

export type Where = 'kernel' | 'monitor' | 'user';

/**
 * The PC's 8259s in the kernel and the 8254 in `pitIn`, run by a loop over `guest` on `clock`; transitions go to
 * `recorder` when one is given.
 */
export function machineWith(guest: GuestCpu, clock: GuestClock, pitIn: Where, recorder?: TransitionCounts): RunLoop {
  const kernel = new KernelDomain(() => clock.now());
  const monitorDomain = new MonitorDomain(() => clock.now());
  let cpuLine = false;
  const chips = new PcInterrupts(withIrqOutputs(kernel.context('irqchip', () => 0), (_cpu, level) => { cpuLine = level; }));
  kernel.routeIrqs((gsi, level) => { chips.setGsi(gsi, level); });
  monitorDomain.routeIrqs((gsi, level) => { chips.setGsi(gsi, level); });
  kernel.bus.map('pic', chips.pic, 'master', 0x20);
  kernel.bus.map('pic', chips.pic, 'slave', 0xa0);

  const [kernelEnd, devhostEnd] = createDirectChannel({ codec: true });
  kernelEnd.setHandler({ onCall: (m) => kernel.ioctl(m as never), onPost: (m) => { kernel.ioctl(m as never); } });
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
  });
}

