/**
 * A VM assembled from a placement: each device created in the domain the
 * placement names, on that domain's bus at the board's addresses, its irq
 * outputs wired to the board's lines; the device host behind a channel; the
 * run loop over all three domains.
 *
 * Two modes, one behaviour: **modelled** — the device host in this thread
 * over the `direct` transport through the codec, time purely virtual, the
 * same inputs giving byte-identical results; **live** — the device host in
 * a worker thread over the `worker` transport, every heavyweight exit's round
 * trip also timed on the wall clock. The guest sees the same in both.
 *
 * The irqchip is wired as the placement puts it: all in the kernel (KVM's
 * KVM_CREATE_IRQCHIP) or all in the monitor (plex86), where every domain's
 * lines reach it directly or by KVM_IRQ_LINE; all in the device host (no
 * in-kernel irqchip), which then injects with KVM_INTERRUPT at irq windows
 * and takes `hlt`; or split (KVM_CAP_SPLIT_IRQCHIP), the local APICs in the
 * kernel and the 8259 pair and I/O APIC in the device host, joined by
 * KVM_SIGNAL_MSI and KVM_EXIT_IOAPIC_EOI.
 *
 * Several vCPUs (the bootstrap processor and `aps`) each get a local APIC,
 * all at the one APIC page; the `Vcpus` scheduler runs them on one virtual
 * timeline and selects the running one's APIC before it runs (the device
 * host selects the APIC of the vCPU whose exit it serves). The devices
 * see one time that never goes back: the running vCPU's.
 */
import { performance } from 'node:perf_hooks';
import type { AddressSpace, Domain, Exit, Nanoseconds } from '@splitvisor/abi';
import type { IoBus } from '@splitvisor/abi';
import { ramMemory, withIrqOutputs } from '@splitvisor/abi';
import type { ChannelEnd } from '@splitvisor/channel';
import { createDirectChannel, spawnWorkerChannel } from '@splitvisor/channel';
import { GuestClock } from '@splitvisor/clock';
import { DeviceHost, FileBlockBackend } from '@splitvisor/devhost';
import { DeliveryMode, LapicReg, LocalApicWindow, Lvt, PcInterrupts, fromMsi, isaIrqOfPin } from '@splitvisor/irqchip';
import { KernelDomain } from '@splitvisor/kernel';
import type { CostModel } from '@splitvisor/metrics';
import { COST_MODELS, Histogram, TransitionCounts, costModel, crossingCycles } from '@splitvisor/metrics';
import type { GuestCpu, InterruptSource, RunLoopConfig, RunSummary } from '@splitvisor/monitor';
import { RunLoop, Vcpus } from '@splitvisor/monitor';
import type { DeviceName, Placement } from '@splitvisor/placement';
import { irqchipMode } from '@splitvisor/placement';
import { IRQCHIP_REGIONS } from './board.ts';
import { legacyReplacement } from './legacy-replacement.ts';
import type { BoardOptions, Release } from './devices.ts';
import { DEFAULT_MEMORY_BYTES, IRQCHIP_PARTS, createDevices, unmodelledDevices } from './devices.ts';
import { assembleDeviceHost } from './host-assembly.ts';

/** A placement this build cannot run, or a board mistake: one line for the user. */
export class VmError extends Error {
  override readonly name = 'VmError';
}

export type VmMode = 'modelled' | 'live';

/** A device's region on the board: `length` bytes of `space` from `base`, named as the board names the device. */
export interface DeviceWindow {
  readonly space: AddressSpace;
  readonly base: number;
  readonly length: number;
  readonly name: string;
}

export interface VmOptions {
  readonly tscHz?: number;
  /** Default modelled. Live: the device host in a worker thread. Call `close()` when done either way. */
  readonly mode?: VmMode;
  /** Media for the board's devices (a disk image). */
  readonly board?: BoardOptions;
  /**
   * The cost model the guest's clock runs on through its exits when the
   * placement's time policy is `guest-and-exits` (default: the placement's):
   * each exit takes its round trip in guest time, as on the host it describes.
   */
  readonly costModel?: string;
  /**
   * Application processors: vCPUs 1, 2, … beside the bootstrap processor,
   * each with its own local APIC (APIC ID = its index). The local APICs must
   * be in the kernel or the monitor (a split irqchip included).
   */
  readonly aps?: readonly GuestCpu[];
}

/** The worker entry next to this module: the TypeScript source under tsx, the built file otherwise. */
const WORKER_ENTRY = new URL(import.meta.url.endsWith('.ts') ? './devhost-worker.ts' : './devhost-worker.js', import.meta.url);

export class Vm {
  readonly clock: GuestClock;
  readonly counts = new TransitionCounts();
  /** The cost model the guest's time runs on. */
  readonly costModel: CostModel;
  readonly placement: Placement;
  readonly mode: VmMode;
  readonly unmodelled: readonly DeviceName[];
  readonly irqchip: 'in-kernel' | 'monitor' | 'userspace' | 'split';
  /** Virtual ns from the CPU's interrupt line rising to the CPU taking the interrupt (modelled mode, and live with the irqchip outside userspace). */
  readonly interruptLatency = new Histogram();
  /** Live mode: wall-clock ns of each heavyweight exit's round trip to the device host, by exit kind. */
  readonly wallTimes = new Map<Exit['kind'], Histogram>();
  /** The bootstrap processor's run loop (qtest's accesses go through it). */
  private readonly loop: RunLoop;
  /** With application processors: the scheduler of every vCPU. */
  private readonly vcpus: Vcpus | undefined;
  /** Each vCPU's clock, the bootstrap processor's first. */
  private readonly clocks: readonly GuestClock[];
  /** The vCPU running now, whose clock is the devices' time and whose APIC the APIC page reaches. */
  private running = 0;
  /** The devices' time so far (never goes back when the running vCPU changes). */
  private deviceTime = 0;
  private lapicWindow: LocalApicWindow | undefined;
  /** Every device's regions at the board's addresses, wherever each was created. */
  private readonly windows: readonly DeviceWindow[];
  private readonly domains: readonly { nextDeadline(): Nanoseconds }[];
  private readonly host: DeviceHost | undefined;
  private readonly shutdownWorker: (() => Promise<number>) | undefined;
  /** What the guest wrote to COM1 (modelled mode, or live with the UART outside the device host). */
  private readonly consoleBytes: number[] = [];
  /** Guest RAM (shared with the device host's worker in live mode). */
  readonly ram: SharedArrayBuffer;
  /** What this thread's domains opened: flushed and closed by `close()`. */
  private readonly releases: Release[] = [];
  private userDeadline: Nanoseconds;
  private irqListener: ((irq: number, level: boolean) => void) | undefined;
  private readonly irqLevels = new Map<number, boolean>();
  /** When the CPU's interrupt line last rose and has not been taken since (-1: it is low or taken). */
  private lineRoseAt = -1;
  private lineUp = false;

  constructor(placement: Placement, cpu: GuestCpu, options: VmOptions = {}) {
    this.placement = placement;
    this.mode = options.mode ?? 'modelled';
    const mode = irqchipMode(placement);
    if (mode === 'mixed') {
      throw new VmError(`${placement.name}: the 8259, I/O APIC and local APIC must share a domain, or be split with the local APIC in the kernel and the others in userspace`);
    }
    if (mode === 'userspace' || mode === 'split') {
      const stray = (Object.entries(placement.devices) as [DeviceName, string][])
        .find(([name, at]) => (at === 'kernel' || at === 'monitor') && !IRQCHIP_PARTS.includes(name) && unmodelledDevices(placement).every((u) => u !== name));
      if (stray !== undefined) throw new VmError(`${placement.name}: ${stray[0]} in the ${stray[1]} cannot raise its irq line into an 8259 and I/O APIC in userspace`);
    }
    this.irqchip = mode;
    this.unmodelled = unmodelledDevices(placement);
    const cpus = [cpu, ...(options.aps ?? [])];
    this.clock = new GuestClock(options.tscHz ?? 2_000_000_000);
    this.clocks = cpus.map((_, i) => (i === 0 ? this.clock : new GuestClock(this.clock.tscHz)));
    const now = () => {
      const t = this.clocks[this.running]?.now() ?? 0;
      if (t > this.deviceTime) this.deviceTime = t;
      return this.deviceTime;
    };
    // Guest RAM, shared with the device host's worker in live mode: DMA from any domain lands in the same bytes.
    // The guest's TSC rate travels with the board: the local APIC's TSC-deadline mode compares against it.
    const board: BoardOptions = { ...options.board, tscHz: this.clock.tscHz, cpus: cpus.length };
    const modelName = options.costModel ?? placement.costModel;
    const model = costModel(modelName);
    if (model === undefined) throw new VmError(`unknown cost model "${modelName}" (this build has: ${COST_MODELS.map((m) => m.name).join(', ')})`);
    this.costModel = model;
    const memoryBytes = board.memoryBytes ?? DEFAULT_MEMORY_BYTES;
    if (!Number.isInteger(memoryBytes) || memoryBytes < 0 || memoryBytes > 4 * 1024 ** 3) throw new VmError(`guest memory of ${memoryBytes} bytes: expected a whole number up to 4 GiB`);
    this.ram = new SharedArrayBuffer(memoryBytes);
    const memory = ramMemory(new Uint8Array(this.ram));
    const kernel = new KernelDomain(now, memory);
    const monitor = new KernelDomain(now, memory); // the monitor's devices: the same shape of runtime (a bus and timers)

    // The device host: in this thread behind the direct transport, or in its worker.
    let kernelEnd: ChannelEnd;
    if (this.mode === 'live') {
      // The worker opens the image itself; a bad one is found here first, to be reported in one line.
      if (board.diskImage !== undefined) FileBlockBackend.open(board.diskImage, { readOnly: true }).close();
      // A generous timeout: the worker's first answer waits for it to load every device package (seconds on a loaded machine).
      const worker = spawnWorkerChannel(WORKER_ENTRY, { name: 'kernel', peer: 'devhost', callTimeoutMs: 60_000, data: { placement, board, ram: this.ram } });
      kernelEnd = worker.end;
      this.shutdownWorker = () => worker.shutdown();
      this.host = undefined;
    } else {
      const [end, devhostEnd] = createDirectChannel({ names: ['kernel', 'devhost'], codec: true });
      kernelEnd = end;
      this.host = new DeviceHost(devhostEnd, memory);
      // The hosted chips' CPU line times interrupt latency when they are the whole irqchip; under a split one the
      // 8259's INTR only matters once LVT0 accepts it, so the latency is the local APIC's.
      try {
        assembleDeviceHost(this.host, placement, {
        irq: (gsi, level) => { this.observeIrq(gsi, level); },
        console: (byte) => { this.consoleBytes.push(byte); },
        ...(mode === 'userspace' ? { cpuLine: (level: boolean, acknowledged: boolean) => { this.cpuLine(level, acknowledged); } } : {}),
        }, board, this.releases);
      } catch (error) {
        throw this.failedAssembly(error);
      }
      this.shutdownWorker = undefined;
    }
    kernelEnd.setHandler({ onCall: (m) => kernel.ioctl(m as never), onPost: (m) => { kernel.ioctl(m as never); } });

    const interrupts = this.wireIrqchip(mode, kernel, monitor, this.clock.tscHz, cpus.length);
    try {
      const sinks = { console: (byte: number) => { this.consoleBytes.push(byte); } };
      createDevices(placement, 'kernel', kernel, board, this.releases, sinks);
      createDevices(placement, 'monitor', monitor, board, this.releases, sinks);
    } catch (error) {
      throw this.failedAssembly(error);
    }
    this.domains = [kernel, monitor, { nextDeadline: () => this.userDeadline }];

    // The board's names for transitions: every device's regions, wherever it was created.
    const names = deviceNames(placement, [kernel.bus, monitor.bus], this.host);
    this.windows = names;

    // Power-on lines of the device host's devices reach the irqchip before the guest runs (QEMU's reset before
    // the first KVM_RUN), whose answer carries the host's first deadline.
    const first = kernelEnd.call({ kind: 'resume' });
    if (first.kind !== 'run') throw new VmError(`the device host answered resume with ${first.kind}`);
    this.userDeadline = first.deadline;

    const timed = this.mode === 'live';
    const user = {
      exit: (exit: Exit) => {
        const start = timed ? performance.now() : 0;
        const ring = kernel.takeCoalesced(); // the coalesced ring goes ahead of the exit that flushes it
        if (ring !== undefined) kernelEnd.post(ring);
        const reply = kernelEnd.call(exit);
        if (timed) this.recordWall(exit.kind, performance.now() - start);
        if (reply.kind !== 'run') throw new VmError(`the device host answered an exit with ${reply.kind}${reply.kind === 'error' ? `: ${reply.message}` : ''}`);
        this.userDeadline = reply.deadline;
        return reply;
      },
    };
    const deviceAt = (space: AddressSpace, address: number) => names.find((n) => n.space === space && address >= n.base && address < n.base + n.length)?.name ?? null;
    const configs: Omit<RunLoopConfig, 'peers' | 'vcpu'>[] = cpus.map((guest, index) => {
      const source = interrupts[index];
      const clock = this.clocks[index];
      if (source === undefined || clock === undefined) throw new VmError(`vCPU ${index} has no local APIC`);
      return {
        cpu: guest,
        clock,
        monitor,
        kernel,
        user,
        // The interrupt latency is the bootstrap processor's (its line is the one the legacy devices reach).
        interrupts: index > 0 ? source : {
          pending: () => source.pending(),
          acknowledge: () => {
            const rose = this.lineRoseAt; // the acknowledge may lower the line
            const vector = source.acknowledge();
            if (rose >= 0) this.interruptLatency.record(this.clock.now() - rose);
            this.lineRoseAt = this.lineUp ? this.clock.now() : -1;
            return vector;
          },
        },
        deviceAt,
        recorder: this.counts,
        userDeadline: this.userDeadline,
        haltIn: mode === 'userspace' ? 'user' : mode === 'monitor' ? 'monitor' : 'kernel',
        // The placement's time policy: under KVM the guest's clock runs on through its exits.
        ...(placement.time.kind === 'guest-and-exits' ? { crossingCycles: (from: Domain, to: Domain) => crossingCycles(model, from, to) } : {}),
      };
    });
    if (configs.length === 1 && configs[0] !== undefined) {
      this.vcpus = undefined;
      this.loop = new RunLoop(configs[0]);
    } else {
      const vcpus = new Vcpus({
        vcpus: configs,
        eventTime: now,
        select: (index) => {
          this.running = index;
          this.lapicWindow?.select(index);
        },
      });
      this.vcpus = vcpus;
      this.loop = vcpus.loop(0);
    }
  }

  /** A medium the board cannot take (an image of the wrong size, a file that is not there): what was opened is closed, and one line for the user. */
  private failedAssembly(error: unknown): unknown {
    for (const release of this.releases.splice(0)) release();
    return error instanceof Error && !(error instanceof VmError) ? new VmError(error.message) : error;
  }

  /** The CPU's interrupt line, for the latency from its rise to the CPU taking the interrupt. */
  private cpuLine(level: boolean, acknowledged = false): void {
    if (level && !this.lineUp && this.lineRoseAt < 0) this.lineRoseAt = this.clock.now();
    // A userspace irqchip's line falls when the device host acknowledges it, before KVM_INTERRUPT's vector is
    // taken: that fall keeps its rise time for the injection.
    if (!level && !acknowledged) this.lineRoseAt = -1;
    this.lineUp = level;
  }

  private recordWall(kind: Exit['kind'], ms: number): void {
    let histogram = this.wallTimes.get(kind);
    if (histogram === undefined) {
      histogram = new Histogram();
      this.wallTimes.set(kind, histogram);
    }
    histogram.record(Math.max(0, Math.round(ms * 1e6)));
  }

  /** Creates the kernel's or monitor's interrupt controllers where the placement puts them; returns what each CPU sees. */
  private wireIrqchip(mode: Vm['irqchip'], kernel: KernelDomain, monitor: KernelDomain, tscHz: number, cpus: number): InterruptSource[] {
    // The board's lines reach the irqchip through the legacy replacement select (one per irqchip: every domain's
    // devices feed the same one).
    const toChips = (chips: PcInterrupts) => legacyReplacement((gsi, level) => {
      this.observeIrq(gsi, level);
      chips.setGsi(gsi, level);
    });
    // Each CPU's interrupt line; the bootstrap processor's times interrupt latency.
    const lines = new Array<boolean>(cpus).fill(false);
    const cpuLines = (runtime: KernelDomain) => withIrqOutputs(runtime.context('irqchip', () => 0), (cpu, level) => {
      lines[cpu] = level;
      if (cpu === 0) this.cpuLine(level);
    });
    // Every CPU's local APIC at the one APIC page (and MSR): the running vCPU's answers.
    const mapApics = (runtime: KernelDomain, chips: PcInterrupts) => {
      const window = new LocalApicWindow(chips.lapics);
      this.lapicWindow = window;
      for (const { region, base } of IRQCHIP_REGIONS.lapic) runtime.bus.map('lapic', window, region, base);
    };
    if (mode === 'userspace') {
      // Everything in the device host: the kernel only holds the vector KVM_INTERRUPT queued for each vCPU.
      return lines.map((_, cpu) => ({ pending: () => kernel.hasQueuedInterrupt(cpu), acknowledge: () => kernel.takeQueuedInterrupt(cpu) }));
    }
    if (mode === 'split') {
      // The local APICs in the kernel; level-triggered EOIs owed to the I/O APIC leave as KVM_EXIT_IOAPIC_EOI.
      const apics = new PcInterrupts(cpuLines(kernel), {
        tscHz, cpus, split: { half: 'apics', ioapicEoi: (vector) => { kernel.ioapicEoi(vector); } },
      });
      mapApics(kernel, apics);
      const bsp = apics.lapics[0];
      kernel.setMsiSink((address, data) => {
        const message = fromMsi({ address, data });
        if (message !== undefined) apics.deliver(message); // outside the FEEx_xxxxh window no APIC decodes it
      });
      // KVM holds the 8259's vector until the local APIC accepts ExtINT (LVT0 unmasked in ExtINT mode:
      // kvm_apic_accept_pic_intr), and then takes it before the APIC's own (kvm_cpu_get_interrupt). The 8259's
      // INTR reaches the bootstrap processor only.
      const acceptsPic = () => {
        const lint0 = bsp?.read('registers', LapicReg.LVT_LINT0, 4) ?? Lvt.MASKED;
        return (lint0 & Lvt.MASKED) === 0 && ((lint0 >> Lvt.DELIVERY_MODE_SHIFT) & Lvt.DELIVERY_MODE_MASK) === DeliveryMode.extInt;
      };
      const external = () => kernel.hasQueuedInterrupt() && acceptsPic();
      return lines.map((_, cpu) => (cpu > 0
        ? { pending: () => lines[cpu] === true, acknowledge: () => apics.acknowledge(cpu) }
        : { pending: () => external() || lines[0] === true, acknowledge: () => (external() ? kernel.takeQueuedInterrupt() : apics.acknowledge(0)) }));
    }
    const runtime = mode === 'monitor' ? monitor : kernel;
    const chips = new PcInterrupts(cpuLines(runtime), { tscHz, cpus });
    for (const part of ['pic', 'ioapic'] as const) {
      const device = part === 'pic' ? chips.pic : chips.ioapic;
      for (const { region, base } of IRQCHIP_REGIONS[part]) runtime.bus.map(part, device, region, base);
    }
    mapApics(runtime, chips);
    const gsis = toChips(chips);
    kernel.setIrqSink(gsis);
    monitor.setIrqSink(gsis);
    return lines.map((_, cpu) => ({ pending: () => lines[cpu] === true, acknowledge: () => chips.acknowledge(cpu) }));
  }

  /** Level changes at the I/O APIC's inputs, numbered as QEMU's qtest numbers them (ISA irq 0 is 0, not GSI 2). */
  private observeIrq(gsi: number, level: boolean): void {
    if (this.irqListener === undefined) return;
    const irq = isaIrqOfPin(gsi) >= 0 ? isaIrqOfPin(gsi) : gsi;
    if ((this.irqLevels.get(irq) ?? false) === level) return;
    this.irqLevels.set(irq, level);
    this.irqListener(irq, level);
  }

  run(until: Nanoseconds): RunSummary {
    return this.vcpus?.runUntil(until) ?? this.loop.runUntil(until);
  }

  /** vCPU `index`'s clock: the cycles it ran (its guest time), and the TSC it reads. */
  cpuClock(index: number): GuestClock {
    const clock = this.clocks[index];
    if (clock === undefined) throw new RangeError(`no vCPU ${index}`);
    return clock;
  }

  /** Flushes write caches and closes image files (in live mode, the worker does so for its own as it stops). */
  async close(): Promise<void> {
    for (const release of this.releases.splice(0)) release();
    await this.shutdownWorker?.();
  }

  // --- the machine as QEMU's qtest drives it ---------------------------------------------

  now(): Nanoseconds {
    return this.clock.now();
  }

  /** The earliest timer deadline of any domain (NEVER if none). */
  nextDeadline(): Nanoseconds {
    return Math.min(...this.domains.map((d) => d.nextDeadline()));
  }

  /** Runs virtual time to `time`, firing every domain's timers on the way (the CPU runs what it runs: idle under qtest). */
  advanceTo(time: Nanoseconds): void {
    if (time > this.clock.now()) this.run(time);
  }

  /** A port access at the current time, through the domains as the guest's would go. */
  io(direction: 'in' | 'out', port: number, size: 1 | 2 | 4, value: number): number {
    const data = new Uint8Array(direction === 'out' ? size : 0);
    for (let i = 0; i < data.length; i++) data[i] = (value >>> (8 * i)) & 0xff;
    const completion = this.loop.issue({ kind: 'io', direction, port, size, count: 1, data });
    let result = 0;
    for (let i = completion.length - 1; i >= 0; i--) result = result * 256 + (completion[i] ?? 0);
    return direction === 'in' ? result : 0;
  }

  /** An MMIO access at the current time. */
  mmio(isWrite: boolean, address: number, length: 1 | 2 | 4 | 8, value: bigint): bigint {
    const data = new Uint8Array(isWrite ? length : 0);
    for (let i = 0; i < data.length; i++) data[i] = Number((value >> BigInt(8 * i)) & 0xffn);
    const completion = this.loop.issue({ kind: 'mmio', isWrite, address, length, data });
    let result = 0n;
    for (let i = completion.length - 1; i >= 0; i--) result = (result << 8n) | BigInt(completion[i] ?? 0);
    return isWrite ? 0n : result;
  }

  /** Reports every level change at the I/O APIC's inputs from now on (qtest's `irq_intercept_in ioapic`); modelled mode. */
  interceptIrqs(listener: (irq: number, level: boolean) => void): void {
    if (this.mode === 'live') throw new VmError('irq interception needs the device host in this thread (modelled mode)');
    this.irqListener = listener;
  }

  /** The guest's console: what it wrote to COM1 so far, as Latin-1 text. */
  console(): string {
    return String.fromCharCode(...this.consoleBytes.slice(-65_536));
  }

  /** Every device's regions at the board's addresses (the devices this placement has, in whichever domain). */
  deviceWindows(): readonly DeviceWindow[] {
    return this.windows;
  }

  /** What the in-thread device host did (exits served, interrupts injected, irq windows, MSIs); undefined when it runs live. */
  hostActivity(): DeviceHost['handled'] | undefined {
    return this.host?.handled;
  }
}

/**
 * Every device's regions at the board's addresses, for naming transitions: from the domains' buses, and in live
 * mode (the host's bus is in its worker) from a device host assembled the same way.
 */
function deviceNames(placement: Placement, buses: readonly IoBus[], host: DeviceHost | undefined): DeviceWindow[] {
  let hostBus = host?.bus;
  if (hostBus === undefined) {
    const [, spare] = createDirectChannel();
    const twin = new DeviceHost(spare);
    assembleDeviceHost(twin, placement);
    hostBus = twin.bus;
  }
  return [...buses, hostBus].flatMap((bus) => bus.mappings())
    .map((m) => ({ space: m.region.space, base: m.base, length: m.region.length, name: m.name }));
}
