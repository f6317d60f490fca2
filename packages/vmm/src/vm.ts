/**
 * A VM assembled from a placement: each device created in the domain the
 * placement names, on that domain's bus at the board's addresses, its irq
 * outputs wired to the board's lines; the device host behind a channel; the
 * run loop over all three domains. Modelled mode: one thread, the `direct`
 * transport through the codec, time purely virtual.
 */
import type { Device, DeviceContext, Exit } from '@splitvisor/abi';
import { withIrqOutputs } from '@splitvisor/abi';
import { createDirectChannel } from '@splitvisor/channel';
import { GuestClock } from '@splitvisor/clock';
import { AcpiPmTimer, Hpet, LEGACY_IRQ0, LEGACY_IRQ8 } from '@splitvisor/counters';
import { DeviceHost } from '@splitvisor/devhost';
import { PcInterrupts } from '@splitvisor/irqchip';
import { KernelDomain } from '@splitvisor/kernel';
import { TransitionCounts } from '@splitvisor/metrics';
import type { GuestCpu, RunSummary } from '@splitvisor/monitor';
import { RunLoop } from '@splitvisor/monitor';
import { I8254 } from '@splitvisor/pit';
import type { DeviceName, Placement, Where } from '@splitvisor/placement';
import { IRQCHIP_REGIONS, PC_BOARD } from './board.ts';

/** A placement this build cannot run yet, or a board mistake: one line for the user. */
export class VmError extends Error {
  override readonly name = 'VmError';
}

export interface VmOptions {
  readonly tscHz?: number;
}

interface Runtime {
  bus: { map(name: string, device: Device, region: string, base: number): void };
  context(name: string, gsiOf: (output: number) => number): DeviceContext;
}

/** Devices this build models; the others a placement names are not created (their ports answer as an empty bus). */
const MODELLED: readonly DeviceName[] = ['pic', 'ioapic', 'lapic', 'pit', 'pm-timer', 'hpet'];

function create(name: DeviceName, context: DeviceContext): Device | undefined {
  switch (name) {
    case 'pit': return new I8254(context);
    case 'pm-timer': return new AcpiPmTimer(context);
    case 'hpet': return new Hpet(context);
    default: return undefined;
  }
}

export class Vm {
  readonly clock: GuestClock;
  readonly counts = new TransitionCounts();
  readonly placement: Placement;
  readonly unmodelled: readonly DeviceName[];
  private readonly loop: RunLoop;

  constructor(placement: Placement, cpu: GuestCpu, options: VmOptions = {}) {
    this.placement = placement;
    const irqchipAt = placement.devices.pic;
    if (placement.devices.ioapic !== irqchipAt || placement.devices.lapic !== irqchipAt) {
      throw new VmError(`${placement.name}: the local APIC apart from the 8259 and I/O APIC (split irqchip) is not supported yet`);
    }
    if (irqchipAt === 'user' || irqchipAt === 'absent') {
      throw new VmError(`${placement.name}: an irqchip in userspace needs the interrupt ioctl and irq-window exits, which are not implemented yet`);
    }
    this.clock = new GuestClock(options.tscHz ?? 2_000_000_000);
    const now = () => this.clock.now();
    const kernel = new KernelDomain(now);
    const monitor = new KernelDomain(now); // the monitor's devices: the same shape of runtime (a bus and timers)
    const [kernelEnd, devhostEnd] = createDirectChannel({ names: ['kernel', 'devhost'], codec: true });
    const host = new DeviceHost(devhostEnd);
    kernelEnd.setHandler({ onCall: (m) => kernel.ioctl(m as never), onPost: (m) => { kernel.ioctl(m as never); } });
    const runtimes: Record<'kernel' | 'monitor' | 'user', Runtime> = { kernel, monitor, user: host };

    // The interrupt controllers, in their domain; every domain's lines go to their inputs.
    let cpuLine = false;
    const chipRuntime = runtimes[irqchipAt];
    const chips = new PcInterrupts(withIrqOutputs(chipRuntime.context('irqchip', () => 0), (_cpu, level) => { cpuLine = level; }));
    for (const { region, base } of IRQCHIP_REGIONS.pic) chipRuntime.bus.map('pic', chips.pic, region, base);
    for (const { region, base } of IRQCHIP_REGIONS.ioapic) chipRuntime.bus.map('ioapic', chips.ioapic, region, base);
    const lapic = chips.lapics[0];
    if (lapic !== undefined) for (const { region, base } of IRQCHIP_REGIONS.lapic) chipRuntime.bus.map('lapic', lapic, region, base);
    const toChips = (gsi: number, level: boolean) => { chips.setGsi(gsi, level); };
    kernel.setIrqSink(toChips);
    monitor.setIrqSink(toChips);

    const unmodelled: DeviceName[] = [];
    for (const [name, where] of Object.entries(placement.devices) as [DeviceName, Where][]) {
      if (where === 'absent' || name === 'pic' || name === 'ioapic' || name === 'lapic') continue;
      const slot = PC_BOARD[name];
      const runtime = runtimes[where];
      if (slot === undefined || !MODELLED.includes(name)) {
        unmodelled.push(name);
        continue;
      }
      const gsiOf = (output: number) => {
        if (name === 'hpet' && output === LEGACY_IRQ0) return 2;
        if (name === 'hpet' && output === LEGACY_IRQ8) return 8;
        return slot.gsis[output] ?? output;
      };
      const device = create(name, runtime.context(name, gsiOf));
      if (device === undefined) continue;
      for (const { region, base } of slot.regions) runtime.bus.map(name, device, region, base);
    }
    this.unmodelled = unmodelled;

    // The board's names for transitions, from every domain's bus (the monitor names the device even when another domain answers).
    const names = [kernel.bus, monitor.bus, host.bus].flatMap((bus) => bus.mappings())
      .map((m) => ({ space: m.region.space, base: m.base, length: m.region.length, name: m.name }));

    // Power-on lines of the device host's devices reach the irqchip before the guest runs (QEMU's reset before KVM_RUN).
    kernelEnd.call({ kind: 'resume' });

    this.loop = new RunLoop({
      cpu,
      clock: this.clock,
      monitor,
      kernel,
      user: {
        exit: (exit: Exit) => {
          const reply = kernelEnd.call(exit);
          if (reply.kind !== 'run') throw new VmError(`the device host answered an exit with ${reply.kind}`);
          return { completion: reply.completion, deadline: reply.deadline };
        },
      },
      interrupts: { pending: () => cpuLine, acknowledge: () => chips.acknowledge(0) },
      deviceAt: (space, address) => names.find((n) => n.space === space && address >= n.base && address < n.base + n.length)?.name ?? null,
      recorder: this.counts,
      userDeadline: host.nextDeadline(),
    });
  }

  run(until: number): RunSummary {
    return this.loop.runUntil(until);
  }
}
