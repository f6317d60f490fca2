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
 * The irqchip is wired as the placement puts it, by the one topology its
 * parts' places give (`irqchip-topology.ts`, with KVM's rules).
 *
 * A device is reached by name wherever it is placed: `whereIs`,
 * `deviceState` and `setDeviceState` ask the kernel's or the monitor's
 * domain directly, and the device host through the get/set device state
 * ioctls — the same call for every place.
 *
 * Several vCPUs (the bootstrap processor and `aps`) each get a local APIC,
 * all at the one APIC page; the `Vcpus` scheduler runs them on one virtual
 * timeline and selects the running one's APIC before it runs (the device
 * host selects the APIC of the vCPU whose exit it serves). The devices
 * see one time that never goes back: the running vCPU's.
 */
import type { AddressSpace, DeviceState, DeviceStates, DomainState, Exit, Nanoseconds, Place } from '@splitvisor/abi';
import { DOMAIN_STATE, layOutPages, pagesProblem, ramMemory, writtenPages } from '@splitvisor/abi';
import { GuestClock } from '@splitvisor/clock';
import type { ChannelStats, HaltPollOptions } from '@splitvisor/channel';
import type { IsaDebugconState } from '@splitvisor/debugcon';
import type { DeviceHost } from '@splitvisor/devhost';
import type { LocalApicWindow } from '@splitvisor/irqchip';
import type { IoapicState, PicPairState } from '@splitvisor/irqchip';
import { ioapicWithInputs, isaIrqOfPin, picWithInputs } from '@splitvisor/irqchip';
import type { KernelDomain } from '@splitvisor/kernel';
import type { CostModel, TimelineWindow, TransitionRow } from '@splitvisor/metrics';
import { COST_MODELS, Histogram, TimelineRecorder, TransitionCounts, costModel, crossingCyclesIn } from '@splitvisor/metrics';
import type { GuestCpu, HostClock, RunLoopConfig, RunSummary } from '@splitvisor/monitor';
import type { MonitorDomain } from '@splitvisor/monitor';
import { RunLoop, Vcpus } from '@splitvisor/monitor';
import type { DeviceName, Placement, Where } from '@splitvisor/placement';
import { IRQCHIP_PARTS, PC_BOARD } from './board.ts';
import { ChipsetWindows } from './chipset-windows.ts';
import type { BoardOptions, Release, Sinks } from './devices.ts';
import { DEFAULT_MEMORY_BYTES, createDevices, releaseDevice, unmodelledDevices } from './devices.ts';
import { DEVHOST_BUILD } from './devhost-build.ts';
import type { LiveTransport } from './device-host-link.ts';
import { DeviceHostLink } from './device-host-link.ts';
import type { VmBuild } from './domain-build.ts';
import type { IrqchipTopology } from './irqchip-topology.ts';
import { KERNEL_BUILD } from './kernel-build.ts';
import { MONITOR_BUILD } from './monitor-build.ts';
import { LAPIC_OF_CPU, checkIrqchipParts, irqchipTopology, wireVmIrqchip } from './irqchip-topology.ts';
import { MonotonicHostClock } from './monotonic-host-clock.ts';
import type { DeviceMove } from './device-move.ts';
import { moveGroup, movedPlacement } from './device-move.ts';
import { placeInHost } from './host-assembly.ts';
import type { VcpuSnapshot, VmSnapshot } from './vm-snapshot.ts';
import { CONSOLE_KEPT, IRQCHIP_STATES, SNAPSHOT_FORMAT, SNAPSHOT_VERSION } from './vm-snapshot.ts';
import { mediaName } from './memory-media.ts';
import { TYPIST } from './typist.ts';
import { VmError } from './vm-error.ts';
import type { DeviceHostLost } from './device-host-lost.ts';
import type { DeviceHostFaults } from './fault-injection.ts';

export { VmError } from './vm-error.ts';

export type VmMode = 'modelled' | 'live';

/** The CPUs' read-only memory slot the VGA's option ROM is mapped in (`GuestCpu.mapReadOnly`), and a slot's granule. */
const VGA_ROM_SLOT = 0;
const PAGE_BYTES = 4096;

/** `bytes`, then zeros to the end of their last page. */
function pagePadded(bytes: Uint8Array): Uint8Array {
  const padded = new Uint8Array(Math.ceil(bytes.length / PAGE_BYTES) * PAGE_BYTES);
  padded.set(bytes);
  return padded;
}

/** The board's devices whose `a20` and `reset` lines reach the CPUs: System Control Port A and the 8042. */
const CPU_LINE_DEVICES: ReadonlySet<string> = new Set(['port92', 'keyboard']);

/** A device's region on the board: `length` bytes of `space` from `base`, named as the board names the device. */
export interface DeviceWindow {
  readonly space: AddressSpace;
  readonly base: number;
  readonly length: number;
  readonly name: string;
}

/** A VM's counts and histograms so far (`Vm.tallies`), for a VM that continues its run (`Vm.carry`). */
export interface VmTallies {
  readonly rows: readonly TransitionRow[];
  readonly latency: Histogram;
  readonly latencyByVcpu: readonly Histogram[];
  readonly lateness: ReadonlyMap<string, readonly Histogram[]>;
  readonly wall: ReadonlyMap<Exit['kind'], Histogram>;
}

export interface VmOptions {
  readonly tscHz?: number;
  /** Default modelled. Live: the device host in a worker thread. Call `close()` when done either way. */
  readonly mode?: VmMode;
  /** Media for the board's devices (a disk image). */
  readonly board?: BoardOptions;
  /**
   * Guest RAM the CPU already holds (an `X86Cpu` runs from the VM's RAM, so
   * it is made first): this many bytes, `board.memoryBytes` of them. Without
   * it the VM makes its own.
   */
  readonly ram?: SharedArrayBuffer;
  /**
   * The cost model the guest's clock runs on through its exits when the
   * placement's time policy is `guest-and-exits` (default: the placement's):
   * each exit takes its round trip in guest time, as on the host it describes.
   * A name of the built-in models, or a model of the user's own.
   */
  readonly costModel?: string | CostModel;
  /**
   * Application processors: vCPUs 1, 2, … beside the bootstrap processor,
   * each with its own local APIC (APIC ID = its index). The local APICs must
   * be in the kernel or the monitor (a split irqchip included).
   */
  readonly aps?: readonly GuestCpu[];
  /**
   * The host takes the vCPU off its CPU for `forNs` every `everyNs` of its
   * time, guest time running on (stolen): timers due meanwhile run late, as
   * their lost-tick policies say (one vCPU; `@splitvisor/host` models many).
   */
  readonly descheduled?: { readonly everyNs: Nanoseconds; readonly forNs: Nanoseconds };
  /**
   * The host clock a live run under the `wall` time policy follows (default:
   * the process's monotonic clock, from the vCPU's first entry). Given one,
   * a test runs `wall` live on a virtual host.
   */
  readonly hostClock?: HostClock;
  /** Live mode: how long each end of the channel to the device host spins before it sleeps (default: KVM's halt-polling defaults). */
  readonly channelSpin?: HaltPollOptions;
  /**
   * Live mode: the device host in a worker thread (default), or in a child
   * process of its own under Node's permission model — it may open only the
   * images it is given, and reaches guest RAM through the kernel's ioctls.
   */
  readonly transport?: LiveTransport;
  /** Live mode: how long the VM waits on a device host that makes no progress before it counts as lost (default 60 s). */
  readonly callTimeoutMs?: number;
  /** Live mode: make the device host die at a given message (fault-injection tests). */
  readonly faults?: DeviceHostFaults;
  /**
   * What each domain is built with (default the full PC build, which can
   * place any device anywhere): a device the placement puts in a domain
   * whose build cannot make it is not modelled — its ports answer as an
   * empty bus, and `unmodelled` lists it. A VMM built for one placement
   * (`splitvisor build`) has only that placement's.
   */
  readonly build?: VmBuild;
  /**
   * Modelled mode: time each heavyweight exit's round trip through the direct
   * transport on the wall clock too (`wallTimes`), as live mode always does.
   * What the guest sees is unchanged; the figures are this machine's.
   */
  readonly timeCrossings?: boolean;
  /** Told the bootstrap processor's guest time now and then while it runs (a progress bar's; the guest sees nothing of it). */
  readonly progress?: (nowNs: Nanoseconds) => void;
  /** Keep the bootstrap processor's crossings in this window of guest time (`timeline`), each still counted. */
  readonly timeline?: TimelineWindow;
  /**
   * The VM may be snapshotted (`snapshot`) or restored (`restore`): each
   * vCPU keeps what its snapshot needs from its first instruction (a
   * scripted guest's journal), which costs memory as the run goes on.
   */
  readonly snapshots?: boolean;
}

export class Vm {
  readonly clock: GuestClock;
  readonly counts = new TransitionCounts();
  /** The bootstrap processor's crossings in the window asked for (`VmOptions.timeline`). */
  readonly timeline: TimelineRecorder | undefined;
  /** The cost model the guest's time runs on. */
  readonly costModel: CostModel;
  /** Where each device is now (a move changes it). */
  get placement(): Placement {
    return this.where;
  }
  private where: Placement;
  /** The devices moved while the VM ran, in order. */
  readonly moves: DeviceMove[] = [];
  /** What each domain is built with. */
  private readonly build: VmBuild;
  /** The board as each domain's devices were made with (the VM's TSC rate and vCPU count in): its media, its typing. */
  private readonly madeBoard: BoardOptions;
  readonly mode: VmMode;
  readonly unmodelled: readonly DeviceName[];
  readonly irqchip: IrqchipTopology;
  /**
   * Virtual ns from a CPU's interrupt line rising to the CPU taking the
   * interrupt, every vCPU's (modelled mode, and live with the irqchip outside
   * userspace); `interruptLatencyByVcpu[i]` is vCPU i's alone.
   */
  readonly interruptLatency = new Histogram();
  readonly interruptLatencyByVcpu: readonly Histogram[];
  /**
   * Each timer device's lateness — virtual ns from a timer's deadline to the
   * moment its domain ran it and the device raised its interrupt — by the
   * vCPU running then: `timerLateness.get('pit')?.[0]`. Every domain in this
   * thread (the device host's in modelled mode).
   */
  readonly timerLateness = new Map<string, Histogram[]>();
  /** Live mode (and modelled with `timeCrossings`): wall-clock ns of each heavyweight exit's round trip to the device host, by exit kind. */
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
  private readonly kernel: KernelDomain;
  private readonly monitor: MonitorDomain;
  /** The device host across the channel, in this thread or in its worker. */
  private readonly link: DeviceHostLink;
  /** What the guest wrote to COM1 (modelled mode, or live with the UART outside the device host). */
  private readonly consoleBytes: number[] = [];
  /**
   * The named output lines of the devices in this thread's domains (port 92h's `a20` and `reset`), by
   * `device.line`: the level now and the rising edges so far. What a CPU that masks A20 or takes a reset
   * would hook; none does yet.
   */
  private readonly lines = new Map<string, { level: boolean; rises: number }>();
  /** The windows the PCI host's decode changes move (the PM timer at PMBA), for this thread's domains. */
  private readonly chipsetWindows: ChipsetWindows;
  /** Guest RAM (shared with the device host's worker in live mode). */
  readonly ram: SharedArrayBuffer;
  /** What this thread's domains opened: flushed and closed by `close()`. */
  private readonly releases: Release[] = [];
  private irqListener: ((irq: number, level: boolean) => void) | undefined;
  private readonly irqLevels = new Map<number, boolean>();
  /** When each CPU's interrupt line last rose and has not been taken since (-1: it is low or taken). */
  private readonly lineRoseAt: number[];
  private readonly lineUp: boolean[];
  /** Each vCPU's guest. */
  private readonly cpus: readonly GuestCpu[];
  /**
   * A vector each vCPU must take before anything else (-1: none): one a
   * restore brought that was queued for injection under another irqchip
   * (KVM_GET/SET_VCPU_EVENTS' injected interrupt).
   */
  private readonly carried: number[];
  /** The run loop of each vCPU. */
  private readonly loops: readonly RunLoop[];
  /** Whether the VM has run (a restore comes first). */
  private started = false;

  constructor(placement: Placement, cpu: GuestCpu, options: VmOptions = {}) {
    this.where = placement;
    this.mode = options.mode ?? 'modelled';
    this.timeline = options.timeline === undefined ? undefined : new TimelineRecorder(options.timeline, this.counts);
    const build = options.build ?? { kernel: KERNEL_BUILD, monitor: MONITOR_BUILD, devhost: DEVHOST_BUILD };
    this.build = build;
    this.unmodelled = unmodelledDevices(placement, build);
    const mode = irqchipTopology(placement, this.unmodelled);
    checkIrqchipParts(mode, build);
    this.irqchip = mode;
    const cpus = [cpu, ...(options.aps ?? [])];
    this.cpus = cpus;
    this.carried = cpus.map(() => -1);
    if (options.snapshots === true) {
      for (const [index, guest] of cpus.entries()) {
        if (guest.saveState === undefined || guest.restoreState === undefined) throw new VmError(`vCPU ${index}'s CPU cannot be snapshotted (it has no saveState)`);
        guest.recordForSnapshots?.();
      }
    }
    this.clock = new GuestClock(options.tscHz ?? 2_000_000_000);
    this.clocks = cpus.map((_, i) => (i === 0 ? this.clock : new GuestClock(this.clock.tscHz)));
    this.interruptLatencyByVcpu = cpus.map(() => new Histogram());
    // One slot a CPU, and past them (`extIntSlot`) the 8259's INTR under a split irqchip.
    const extIntSlot = cpus.length;
    this.lineRoseAt = [...cpus.map(() => -1), -1];
    this.lineUp = [...cpus.map(() => false), false];
    const now = () => this.devicesNow();
    // Guest RAM, shared with the device host's worker in live mode: DMA from any domain lands in the same bytes.
    // The guest's TSC rate travels with the board: the local APIC's TSC-deadline mode compares against it.
    const board: BoardOptions = { ...options.board, tscHz: this.clock.tscHz, cpus: cpus.length };
    this.madeBoard = board;
    const modelName = options.costModel ?? placement.costModel;
    const model = typeof modelName === 'string' ? costModel(modelName) : modelName;
    if (model === undefined) throw new VmError(`unknown cost model "${typeof modelName === 'string' ? modelName : modelName.name}" (this build has: ${COST_MODELS.map((m) => m.name).join(', ')})`);
    this.costModel = model;
    const memoryBytes = board.memoryBytes ?? DEFAULT_MEMORY_BYTES;
    if (!Number.isInteger(memoryBytes) || memoryBytes < 0 || memoryBytes > 4 * 1024 ** 3) throw new VmError(`guest memory of ${memoryBytes} bytes: expected a whole number up to 4 GiB`);
    // The caller's RAM when its CPU already runs from it (firmware: `firmwareCpu`), else this VM's own.
    if (options.ram !== undefined && options.ram.byteLength !== memoryBytes) throw new VmError(`the RAM given has ${options.ram.byteLength} bytes, the board ${memoryBytes}`);
    this.ram = options.ram ?? new SharedArrayBuffer(memoryBytes);
    const memory = ramMemory(new Uint8Array(this.ram));
    const kernel = build.kernel.create(now, { memory, hostDeadline: () => this.link.deadline, hostPending: () => this.link.postsOut > 0 });
    const monitor = build.monitor.create(now, memory);
    this.kernel = kernel;
    this.monitor = monitor;
    // The devices' named lines, where they are in this thread: the kernel's, the monitor's, the in-thread device host's,
    // routed before any device is made (a device drives its levels as it is made: the 8042's A20). (A live device
    // host's do not cross the channel yet: the device's state holds them.)
    const line = (device: string, name: string, level: boolean) => { this.outputLine(device, name, level); };
    kernel.routeLines(line);
    monitor.routeLines(line);
    // The ROM in whole pages (a slot's granule), zeros after it as in its BAR's window; the rest of the window is the device's.
    const vgaRom = board.vgaBios === undefined ? undefined : pagePadded(board.vgaBios);
    this.chipsetWindows = new ChipsetWindows(placement, vgaRom === undefined ? {} : { vgaRomSlot: { bytes: vgaRom, map: (base) => { this.mapVgaRom(base, vgaRom); } } });

    // The device host: in this thread behind the direct transport, or in its worker. The hosted chips' CPU line
    // times interrupt latency when they are the whole irqchip; under a split one the 8259's INTR only matters once
    // LVT0 accepts it, so the latency is the local APIC's.
    try {
      this.link = new DeviceHostLink(this.mode, kernel, {
        placement, topology: mode, board, ram: this.ram, memory, releases: this.releases,
        observers: {
          irq: (gsi, level) => { this.observeIrq(gsi, level); },
          console: (byte) => { this.consoleBytes.push(byte); },
          chipsetWindows: this.chipsetWindows,
          lines: line,
          // Under a split irqchip the host's one CPU line is the 8259's INTR, which reaches the bootstrap processor
          // as ExtINT: timed apart from its local APIC's line.
          ...(mode === 'userspace' ? { cpuLine: (cpu: number, level: boolean, acknowledged: boolean) => { this.cpuLine(cpu, level, acknowledged); } } : {}),
          ...(mode === 'split' ? { cpuLine: (_cpu: number, level: boolean, acknowledged: boolean) => { this.cpuLine(extIntSlot, level, acknowledged); } } : {}),
        },
        ...(this.mode === 'live' || options.timeCrossings === true ? { timed: (kind: Exit['kind'], ms: number) => { this.recordWall(kind, ms); } } : {}),
        ...(options.channelSpin === undefined ? {} : { spin: options.channelSpin }),
        ...(options.transport === undefined ? {} : { transport: options.transport }),
        ...(options.callTimeoutMs === undefined ? {} : { callTimeoutMs: options.callTimeoutMs }),
        ...(options.faults === undefined ? {} : { faults: options.faults }),
        build: build.devhost,
      });
    } catch (error) {
      throw this.failedAssembly(error);
    }

    const irqchip = wireVmIrqchip(mode, kernel, monitor, {
      tscHz: this.clock.tscHz,
      cpus: cpus.length,
      lapicLostTicks: placement.lostTicks.lapic,
      observers: { irq: (gsi, level) => { this.observeIrq(gsi, level); }, cpuLine: (cpu, level) => { this.cpuLine(cpu, level); } },
    }, build);
    const interrupts = irqchip.interrupts;
    const externalNext = irqchip.externalNext;
    this.lapicWindow = irqchip.apics;
    try {
      createDevices(placement, 'kernel', kernel, build.kernel.devices, board, this.releases, this.sinks());
      createDevices(placement, 'monitor', monitor, build.monitor.devices, board, this.releases, this.sinks());
    } catch (error) {
      throw this.failedAssembly(error);
    }
    // Timer lateness from every domain here; a local APIC's for its own vCPU, whichever one runs.
    const late = (device: string, ns: Nanoseconds) => {
      const lapic = LAPIC_OF_CPU.exec(device);
      if (lapic === null) this.recordLateness(device, ns, this.running);
      else this.recordLateness('lapic', ns, Number(lapic[1]));
    };
    kernel.watchTimers(late);
    monitor.watchTimers(late);
    this.link.host?.watchTimers(late);
    // The board's names for transitions: every device's regions, wherever it was placed.
    const names = boardWindows(placement, this.unmodelled);
    this.windows = names;

    try {
      this.link.powerOn();
    } catch (error) {
      throw this.failedAssembly(error); // a device host that could not start (a bad image in the live worker)
    }
    const user = this.link;
    const deviceAt = (space: AddressSpace, address: number) => names.find((n) => n.space === space && address >= n.base && address < n.base + n.length)?.name ?? null;
    const timeConfig = runLoopTime(placement, model, this.clock.tscHz, this.mode === 'live' ? options.hostClock ?? new MonotonicHostClock() : undefined);
    const configs: Omit<RunLoopConfig, 'peers' | 'vcpu'>[] = cpus.map((guest, index) => {
      const source = interrupts[index];
      const clock = this.clocks[index];
      if (source === undefined || clock === undefined) throw new VmError(`vCPU ${index} has no local APIC`);
      return {
        cpu: guest,
        clock,
        domains: [monitor, kernel],
        user,
        interrupts: {
          pending: () => this.carried[index] !== -1 || source.pending(),
          acknowledge: () => {
            const carried = this.carried[index] ?? -1;
            if (carried !== -1) {
              this.carried[index] = -1;
              return carried;
            }
            const line = index === 0 && externalNext?.() === true ? extIntSlot : index;
            const rose = this.lineRoseAt[line] ?? -1; // the acknowledge may lower the line
            const vector = source.acknowledge();
            const at = clock.now();
            if (rose >= 0) {
              // A vCPU behind the devices' time takes an interrupt raised ahead of it at once: no latency, not a negative one.
              const latency = Math.max(0, at - rose);
              this.interruptLatency.record(latency);
              this.interruptLatencyByVcpu[index]?.record(latency);
            }
            this.lineRoseAt[line] = this.lineUp[line] === true ? at : -1;
            return vector;
          },
        },
        deviceAt,
        recorder: index === 0 && this.timeline !== undefined ? this.timeline : this.counts,
        ...(index === 0 && options.progress !== undefined ? { progress: options.progress } : {}),
        userDeadline: this.link.deadline,
        userDeadlineOwner: this.link.deadlineOwner,
        haltIn: mode === 'userspace' ? 'user' : mode === 'monitor' ? 'monitor' : 'kernel',
        ...timeConfig,
        ...(options.descheduled === undefined ? {} : { descheduled: options.descheduled }),
        ...(cpus.length > 1 ? { timerOwner: (device: string) => { const lapic = LAPIC_OF_CPU.exec(device); return lapic === null ? undefined : Number(lapic[1]); } } : {}),
      };
    });
    try {
      if (configs.length === 1 && configs[0] !== undefined) {
        this.vcpus = undefined;
        this.loop = new RunLoop(configs[0]);
        this.loops = [this.loop];
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
        this.loops = configs.map((_, index) => vcpus.loop(index));
      }
    } catch (error) {
      // What the run loop cannot keep (a deschedule window, host-clock time for several vCPUs) is one line for the user.
      if (error instanceof RangeError) throw new VmError(error.message);
      throw error;
    }
  }

  /** A medium the board cannot take (an image of the wrong size, a file that is not there): what was opened is closed, and one line for the user. */
  private failedAssembly(error: unknown): unknown {
    for (const release of this.releases.splice(0)) release();
    return error instanceof Error && !(error instanceof VmError) ? new VmError(error.message) : error;
  }

  /** The devices' time: the running vCPU's clock, never going back. */
  private devicesNow(): Nanoseconds {
    const t = this.clocks[this.running]?.now() ?? 0;
    if (t > this.deviceTime) this.deviceTime = t;
    return this.deviceTime;
  }

  /** Line `slot` (a CPU's, or the split irqchip's INTR), for the latency from its rise to the CPU taking the interrupt (in the devices' time). */
  private cpuLine(slot: number, level: boolean, acknowledged = false): void {
    if (slot >= this.lineUp.length) return;
    if (level && this.lineUp[slot] !== true && (this.lineRoseAt[slot] ?? -1) < 0) this.lineRoseAt[slot] = this.devicesNow();
    // A userspace irqchip's line falls when the device host acknowledges it, before KVM_INTERRUPT's vector is
    // taken: that fall keeps its rise time for the injection.
    if (!level && !acknowledged) this.lineRoseAt[slot] = -1;
    this.lineUp[slot] = level;
  }

  private recordLateness(device: string, ns: Nanoseconds, vcpu: number): void {
    this.histogramOf(this.timerLateness, device, vcpu).record(ns);
  }

  private recordWall(kind: Exit['kind'], ms: number): void {
    let histogram = this.wallTimes.get(kind);
    if (histogram === undefined) {
      histogram = new Histogram();
      this.wallTimes.set(kind, histogram);
    }
    histogram.record(Math.max(0, Math.round(ms * 1e6)));
  }

  /** Level changes at the I/O APIC's inputs, numbered as QEMU's qtest numbers them (ISA irq 0 is 0, not GSI 2). */
  private observeIrq(gsi: number, level: boolean): void {
    if (this.irqListener === undefined) return;
    const irq = isaIrqOfPin(gsi) >= 0 ? isaIrqOfPin(gsi) : gsi;
    if ((this.irqLevels.get(irq) ?? false) === level) return;
    this.irqLevels.set(irq, level);
    this.irqListener(irq, level);
  }

  /**
   * Runs the guest to `until`. A device host lost on the way throws its
   * DeviceHostLost, and so does every later run: the guest stays paused at
   * the access the host never answered. Live, the run ends with a round
   * trip to the host, so one that died unneeded is found by the end of the
   * run that outlived it.
   */
  run(until: Nanoseconds): RunSummary {
    const lost = this.link.lost;
    if (lost !== undefined) throw lost;
    this.started = true;
    const summary = this.vcpus?.runUntil(until) ?? this.loop.runUntil(until);
    // A live host that died while the guest left it alone is found now, not at some later access.
    this.link.check();
    return summary;
  }

  /** Where the board's outputs go in this thread: COM1's bytes to the console. */
  private sinks(): Sinks {
    return { console: (byte: number) => { this.consoleBytes.push(byte); }, chipsetWindows: this.chipsetWindows };
  }

  // --- live moves ----------------------------------------------------------------------

  /**
   * Moves `name` to the domain `to` while the guest is stopped between runs:
   * its traffic paused (`pause`: the ring's writes applied, the host at the
   * guest's time), its state — and what is kept beside it — taken from where
   * it is, the device taken out there (its regions, timers, the fast paths
   * its host registered), made anew in `to` on the board's addresses and
   * lines, given the state (its timers re-armed, its lines re-driven), and
   * the host resumed. The guest sees what it would have seen; only where
   * its exits land changes. A lost-tick policy that paces by the irqchip's
   * ack notifier cannot follow a device out of the irqchip's domain: it
   * becomes the device's default there (said in the move). Modelled or live
   * (a live host makes a device moving in with its own build, `place-device`,
   * and takes one moving out, `remove-device`); not the irqchip's chips. A
   * device moves with those that must share its domain (the floppy with its
   * 8237), and with its medium: one in memory as its state, an image file
   * flushed and closed where it was and opened where it goes.
   */
  move(name: DeviceName, to: Place): DeviceMove {
    const from = this.whereIs(name);
    if (from === undefined) throw new VmError(`this VM has no device ${name} to move`);
    if (from === to) throw new VmError(`${name} is in ${to} already`);
    if (IRQCHIP_PARTS.includes(name)) throw new VmError(`${name} is part of the irqchip, which does not move (its topology is the VM's)`);
    // The devices that share its domain go with it: the floppy controller and its 8237, made together there.
    const group = moveGroup(name).filter((device) => this.whereIs(device) === from);
    const registry = { kernel: this.build.kernel.devices, monitor: this.build.monitor.devices, user: this.build.devhost.devices }[to];
    const unmade = group.find((device) => registry[device] === undefined);
    if (unmade !== undefined) throw new VmError(`the ${to} domain's build cannot make ${unmade}`);
    const { placement: next, policy } = movedPlacement(this.where, group, to);
    if (irqchipTopology(next, this.unmodelled) !== this.irqchip) throw new VmError(`${name} in ${to} would change the irqchip topology`);
    const atNs = this.devicesNow();
    for (const loop of this.loops) loop.settle();
    return this.whilePaused(atNs, () => {
      const states = this.stateNames().filter((entry) => group.includes(entry.device as DeviceName)).map((entry) => ({ name: entry.name, device: entry.device, state: this.deviceState(entry.name, entry.device) }));
      for (const device of group) {
        // Out of its domain: regions, timers, lines, what it registered — and its medium's file flushed and closed
        // before its new domain opens it.
        if (from === 'user') {
          if (this.link.host !== undefined) this.link.host.detach(device);
          else this.link.removeDevice(device);
          this.kernel.forgetHostDevice(device);
        } else {
          (from === 'kernel' ? this.kernel : this.monitor).detach(device);
        }
        if (from !== 'user' || this.link.host !== undefined) releaseDevice(this.releases, device);
      }
      this.where = next;
      // The chips as they stand: a device made anew drives its lines at power-on and again at its state, edges the
      // running machine never had (and one whose pacing changed drives them otherwise); the chips keep their state,
      // and take the levels the wires have once it is in.
      const chips = this.irqchip === 'in-kernel' || this.irqchip === 'monitor' ? { pic: this.deviceState('pic'), ioapic: this.deviceState('ioapic') } : undefined;
      if (to === 'user') {
        // Its windows first: the fast paths it is offered as it is made are checked against them.
        this.kernel.addHostDevice(group.flatMap((device) => (PC_BOARD[device]?.regions ?? []).map((r) => ({ device, space: r.space, address: r.base, length: r.length }))));
        if (this.link.host !== undefined) placeInHost(this.link.host, next, name, registry, this.madeBoard, this.releases, this.sinks());
        else this.link.placeDevice(name, next); // the host's worker or process makes it (and its partners) with its own build
      } else {
        const devices = Object.fromEntries(group.map((device) => [device, to])) as Placement['devices'];
        createDevices({ ...next, devices }, to, to === 'kernel' ? this.kernel : this.monitor, registry, this.madeBoard, this.releases, this.sinks());
      }
      for (const { name: state, device, state: value } of states) this.setDeviceState(state, value, device);
      this.link.powerOn(); // the lines it set and what its host registered go now; the host's deadline comes back
      if (chips !== undefined) {
        this.restoreChip('pic', chips.pic);
        this.restoreChip('ioapic', chips.ioapic);
      }
      for (const loop of this.loops) loop.userResumed({ deadline: this.link.deadline, deadlineOwner: this.link.deadlineOwner });
      const moves: DeviceMove[] = group.map((device) => ({ device, from, to, atNs, ...(policy === undefined || device !== name ? {} : { lostTicks: policy }) }));
      this.moves.push(...moves);
      const [move] = moves as [DeviceMove];
      return move;
    });
  }

  /**
   * `body` with the guest stopped at `time` in every domain: the device host
   * paused (`pause`: its ring applied, `time` its devices' now) and the
   * kernel too (`pause`: its devices' now, no timer of theirs run) — resumed
   * after, the host by its next exit.
   */
  private whilePaused<T>(time: Nanoseconds, body: () => T): T {
    this.link.pause(time);
    const paused = this.kernel.ioctl({ kind: 'pause', time });
    if (paused.kind !== 'ok') throw new VmError(`the kernel would not pause at ${time} ns: ${paused.kind === 'error' ? paused.message : paused.kind}`);
    try {
      return body();
    } finally {
      this.kernel.ioctl({ kind: 'resume' });
    }
  }

  // --- snapshots -----------------------------------------------------------------------

  /**
   * The whole machine as plain data, between runs: every device's state
   * wherever it lives (each local APIC's, the irqchip's, the host's typing),
   * each vCPU (its CPU, its clock, its run loop, a vector queued for it), the
   * devices' time, guest RAM and the console so far. The device host is
   * paused at the guest's time first (`pause`): the coalesced ring's writes
   * are applied, posted writes answered, the programs' scratch folded back.
   * Needs `snapshots` at construction.
   */
  snapshot(): VmSnapshot {
    const vcpus = this.cpus.map((cpu, index): Omit<VcpuSnapshot, 'queued'> => {
      const loop = this.loops[index];
      if (cpu.saveState === undefined || loop === undefined) throw new VmError(`vCPU ${index}'s CPU cannot be snapshotted (it has no saveState)`);
      return { cpu: cpu.saveState(), tsc: this.cpuClock(index).tsc(), loop: loop.getState() };
    });
    const time = this.devicesNow();
    return this.whilePaused(time, () => {
      const devices = this.stateNames().map(({ name, device }) => ({ name, at: this.whereIs(device) ?? 'user', state: this.deviceState(name, device) }));
      const lines = this.domainStates().flatMap((domain) => {
        const reply = domain.getDeviceState(DOMAIN_STATE);
        return reply.kind === 'device-state' ? (reply.state as DomainState).raisedBy : [];
      });
      return {
        model: SNAPSHOT_FORMAT, version: SNAPSHOT_VERSION,
        placement: this.placement.name, topology: this.irqchip,
        tscHz: this.clock.tscHz, memoryBytes: this.ram.byteLength,
        timeNs: time, deviceTime: this.deviceTime,
        vcpus: vcpus.map((vcpu, index) => ({ ...vcpu, queued: this.queuedFor(index) })),
        devices,
        lines,
        console: Uint8Array.from(this.consoleBytes.slice(-CONSOLE_KEPT)),
        ram: writtenPages(new Uint8Array(this.ram)),
      };
    });
  }

  /**
   * Continues the machine `snapshot` describes, in this VM — made for the
   * same guest (a fresh one: its CPUs replay to the snapshot's position),
   * board and vCPU count, under any placement that has the same devices.
   * Before the first run. Each device's state is set in whichever domain
   * this placement puts it (the irqchip's last, so the lines its devices
   * re-drive find it as it was); a vector queued for a vCPU under another
   * irqchip is carried to its next entry.
   */
  restore(snapshot: VmSnapshot): void {
    if (this.started) throw new VmError('a VM is restored before it first runs');
    // A record read from a file may claim anything its type says it holds.
    const { model, version } = snapshot as { readonly model: unknown; readonly version: unknown };
    if (model !== SNAPSHOT_FORMAT || version !== SNAPSHOT_VERSION) throw new VmError(`not a VM snapshot of version ${SNAPSHOT_VERSION} (${String(model)} version ${String(version)})`);
    if (snapshot.vcpus.length !== this.cpus.length) throw new VmError(`the snapshot has ${snapshot.vcpus.length} vCPUs, this VM ${this.cpus.length}`);
    if (snapshot.tscHz !== this.clock.tscHz) throw new VmError(`the snapshot's TSC runs at ${snapshot.tscHz} Hz, this VM's at ${this.clock.tscHz} Hz`);
    if (snapshot.memoryBytes !== this.ram.byteLength) throw new VmError(`the snapshot has ${snapshot.memoryBytes} bytes of RAM, this VM ${this.ram.byteLength}`);
    const ramProblem = pagesProblem(snapshot.ram, snapshot.memoryBytes);
    if (ramProblem !== undefined) throw new VmError(`the snapshot's RAM: ${ramProblem}`);
    const here = this.stateNames();
    const theirs = new Set(snapshot.devices.map((d) => d.name));
    const missing = here.find(({ name }) => !theirs.has(name));
    if (missing !== undefined) throw new VmError(`the snapshot has no state for ${missing.name}, which ${this.placement.name} has`);
    const extra = snapshot.devices.find((d) => !here.some(({ name }) => name === d.name));
    if (extra !== undefined) throw new VmError(`the snapshot's ${extra.name} has no place in ${this.placement.name} (it does not have that device)`);
    for (const [index, vcpu] of snapshot.vcpus.entries()) {
      const cpu = this.cpus[index];
      if (cpu?.restoreState === undefined) throw new VmError(`vCPU ${index}'s CPU cannot be restored (it has no restoreState)`);
      try {
        cpu.restoreState(vcpu.cpu);
      } catch (error) {
        throw new VmError(`vCPU ${index}: ${error instanceof Error ? error.message : String(error)}`);
      }
      const clock = this.cpuClock(index);
      if (vcpu.tsc < clock.tsc()) throw new VmError(`vCPU ${index}'s TSC ${vcpu.tsc} is behind this VM's`);
      clock.addCycles(vcpu.tsc - clock.tsc());
    }
    this.deviceTime = snapshot.deviceTime;
    layOutPages(snapshot.ram, new Uint8Array(this.ram));
    this.link.pause(snapshot.timeNs);
    const byName = new Map(here.map((entry) => [entry.name, entry.device]));
    for (const { name, state } of snapshot.devices) if (!IRQCHIP_STATES.test(name)) this.setDeviceState(name, state, byName.get(name));
    const lines: DomainState = { model: 'device-domain', version: 1, raisedBy: snapshot.lines };
    for (const domain of this.domainStates()) {
      const reply = domain.setDeviceState(DOMAIN_STATE, lines);
      if (reply.kind === 'error') throw new VmError(`the snapshot's lines: ${reply.message}`);
    }
    // The lines the devices re-drove reach the chips (the device host's go with `resume`); the chips then take their
    // saved state with the levels those wires have now.
    this.link.powerOn();
    for (const { name, state } of snapshot.devices) if (IRQCHIP_STATES.test(name)) this.restoreChip(name, state, byName.get(name));
    const same = snapshot.topology === this.irqchip;
    for (const [vcpu, { queued }] of snapshot.vcpus.entries()) {
      if (queued < 0) continue;
      if (same && (this.irqchip === 'userspace' || this.irqchip === 'split')) this.kernel.ioctl({ kind: 'interrupt', vcpu, vector: queued });
      else this.carried[vcpu] = queued;
    }
    this.consoleBytes.length = 0;
    this.consoleBytes.push(...snapshot.console);
    this.link.powerOn(); // the lines the restored devices set go now, and the host's first deadline comes back
    // Under another irqchip the host cannot know the guest was not ready for an interrupt its chips hold: it is asked
    // for a window, which the guest opens as soon as it can take one.
    const askWindow = !same && (this.irqchip === 'userspace' || this.irqchip === 'split');
    for (const [index, loop] of this.loops.entries()) {
      const state = snapshot.vcpus[index]?.loop;
      if (state === undefined) continue;
      const kept = same ? state : { ...state, windowRequested: askWindow && (this.irqchip === 'userspace' || index === 0), haltedInUser: false };
      loop.setState(kept, { deadline: this.link.deadline, deadlineOwner: this.link.deadlineOwner, requestInterruptWindow: false });
    }
  }

  /** The names of every state this VM holds, each with the placement's device it belongs to: each local APIC's apart, the host's typing beside the keyboard. */
  private stateNames(): { readonly name: string; readonly device: string }[] {
    const names: { name: string; device: string }[] = [];
    for (const device of Object.keys(this.placement.devices)) {
      if (this.whereIs(device) === undefined) continue;
      if (device === 'lapic') for (let cpu = 0; cpu < this.cpus.length; cpu++) names.push({ name: `lapic#${cpu}`, device });
      else names.push({ name: device, device });
      const board = this.madeBoard;
      if (device === 'keyboard' && board.typing !== undefined) names.push({ name: TYPIST, device });
      if ((device === 'disk' && board.diskImage === undefined && board.diskBlankBytes !== undefined)
        || (device === 'floppy' && board.floppyImage === undefined && board.floppyBlankBytes !== undefined)) names.push({ name: mediaName(device), device });
    }
    return names;
  }

  /**
   * Gives a chip of the irqchip its saved state, the 8259 pair and the I/O
   * APIC with the input levels the wires have now (`picWithInputs`): the
   * devices beside it were made anew or moved, and drive their lines as
   * they do, not as the saved chip last saw them.
   */
  private restoreChip(name: string, saved: DeviceState, device = name): void {
    const state = name === 'pic' ? picWithInputs(saved as PicPairState, this.deviceState(name) as PicPairState)
      : name === 'ioapic' ? ioapicWithInputs(saved as IoapicState, this.deviceState(name) as IoapicState)
        : saved;
    this.setDeviceState(name, state, device);
  }

  /** The three domains' states by name: the kernel's, the monitor's, the device host's across the channel. */
  private domainStates(): readonly DeviceStates[] {
    return [this.kernel, this.monitor, this.link];
  }

  /** The vector queued for `vcpu`'s next entry (-1: none), left queued. */
  private queuedFor(vcpu: number): number {
    const carried = this.carried[vcpu] ?? -1;
    if (carried !== -1) return carried;
    if (this.irqchip !== 'userspace' && this.irqchip !== 'split') return -1;
    if (!this.kernel.hasQueuedInterrupt(vcpu)) return -1;
    const vector = this.kernel.takeQueuedInterrupt(vcpu);
    this.kernel.ioctl({ kind: 'interrupt', vcpu, vector });
    return vector;
  }

  /** vCPU `index`'s clock: the cycles it ran (its guest time), and the TSC it reads. */
  cpuClock(index: number): GuestClock {
    const clock = this.clocks[index];
    if (clock === undefined) throw new RangeError(`no vCPU ${index}`);
    return clock;
  }

  /** What this VM has counted so far, copied: a checkpoint's, for a VM that continues from it (`carry`). */
  tallies(): VmTallies {
    const copy = (h: Histogram) => {
      const c = new Histogram();
      c.merge(h);
      return c;
    };
    return {
      rows: this.counts.rows(),
      latency: copy(this.interruptLatency),
      latencyByVcpu: this.interruptLatencyByVcpu.map(copy),
      lateness: new Map([...this.timerLateness].map(([device, byVcpu]) => [device, byVcpu.map(copy)])),
      wall: new Map([...this.wallTimes].map(([kind, h]) => [kind, copy(h)])),
    };
  }

  /**
   * Adds what another VM counted — the one whose checkpoint this VM was
   * restored from, before its device host was lost — so this VM's counts
   * and histograms are the whole run's.
   */
  carry(tallies: VmTallies): void {
    this.counts.carry(tallies.rows);
    this.interruptLatency.merge(tallies.latency);
    tallies.latencyByVcpu.forEach((h, vcpu) => { this.interruptLatencyByVcpu[vcpu]?.merge(h); });
    for (const [device, byVcpu] of tallies.lateness) {
      byVcpu.forEach((h, vcpu) => { this.histogramOf(this.timerLateness, device, vcpu).merge(h); });
    }
    for (const [kind, h] of tallies.wall) {
      let mine = this.wallTimes.get(kind);
      if (mine === undefined) {
        mine = new Histogram();
        this.wallTimes.set(kind, mine); // its own: a checkpoint's tallies may be carried again
      }
      mine.merge(h);
    }
  }

  private histogramOf(map: Map<string, Histogram[]>, device: string, vcpu: number): Histogram {
    let byVcpu = map.get(device);
    if (byVcpu === undefined) {
      byVcpu = [];
      map.set(device, byVcpu);
    }
    return (byVcpu[vcpu] ??= new Histogram());
  }

  /** The device host died or stopped answering (live mode): what it left unanswered, and why; undefined while it serves. */
  get deviceHostLost(): DeviceHostLost | undefined {
    return this.link.lost;
  }

  /** The kernel's end of the channel to the device host: the calls and posts it sent, the bytes. */
  get deviceHostChannel(): Readonly<ChannelStats> {
    return this.link.stats;
  }

  /** Kills the live device host's process with `signal` (the process transport; fault injection). False when there is none. */
  killDeviceHost(signal: NodeJS.Signals = 'SIGKILL'): boolean {
    return this.link.kill(signal);
  }

  /** Flushes write caches and closes image files (in live mode, the worker does so for its own as it stops). */
  async close(): Promise<void> {
    for (const release of this.releases.splice(0)) release();
    await this.link.close();
  }

  // --- the machine as QEMU's qtest drives it ---------------------------------------------

  now(): Nanoseconds {
    return this.clock.now();
  }

  /** The earliest timer deadline of any domain (NEVER if none). */
  nextDeadline(): Nanoseconds {
    return Math.min(this.monitor.nextDeadline(), this.kernel.nextDeadline(), this.link.deadline);
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

  /**
   * What the guest wrote to the ISA debug console at 402h (SeaBIOS's log), as Latin-1 text: its last 64 KiB,
   * which are the device's state, read from whichever domain holds it (live too); '' when the VM has none.
   */
  debugConsole(): string {
    if (this.whereIs('debugcon') === undefined) return '';
    // Decoded here rather than by the device's package, which stays out of the monitor's process (a built VMM's vmm.js).
    const { log } = this.deviceState('debugcon') as IsaDebugconState;
    let text = '';
    for (let at = 0; at < log.length; at += 8192) text += String.fromCharCode(...log.subarray(at, at + 8192));
    return text;
  }

  /**
   * The named output lines of the board's devices as they reached the board in this thread, by `device.line`
   * (`port92.a20`, `port92.reset`): each one's level now and its rising edges so far (a reset request is one). A
   * device in a live device host is not seen here: its state has the level and the count (`deviceState('port92')`).
   */
  outputLines(): ReadonlyMap<string, { readonly level: boolean; readonly rises: number }> {
    return new Map([...this.lines].map(([key, { level, rises }]) => [key, { level, rises }]));
  }

  /**
   * A device's named line reaches the board: recorded, and wired to the CPUs as the PC's chipset wires them. The A20
   * gate is open while either port 92h's or the 8042's `a20` is high (PIIX4 datasheet: A20M# is asserted when both
   * are low); a rising `reset` of either is INIT to every CPU (port 92h's fast reset and the 8042's reset pulse reach
   * the processors as INIT#, their RAM and the devices untouched). The PCI host's `reset` (CF9h) is recorded only:
   * this board has no machine reset.
   */
  private outputLine(device: string, line: string, level: boolean): void {
    const key = `${device}.${line}`;
    const was = this.lines.get(key) ?? { level: false, rises: 0 };
    this.lines.set(key, { level, rises: was.rises + (level && !was.level ? 1 : 0) });
    if (!CPU_LINE_DEVICES.has(device)) return;
    if (line === 'a20') {
      const open = [...CPU_LINE_DEVICES].some((source) => this.lines.get(`${source}.a20`)?.level === true);
      for (const cpu of this.cpus) cpu.setA20?.(open);
    } else if (line === 'reset' && level && !was.level) {
      for (const cpu of this.cpus) cpu.init?.();
    }
  }

  /**
   * The VGA's option ROM as a read-only slot of every CPU's at `base` (none: off), as KVM maps QEMU's ROMs: only a
   * page-aligned place above RAM can be one — elsewhere the guest reads it through the device's region, as MMIO.
   */
  private mapVgaRom(base: number | null, bytes: Uint8Array): void {
    const region = base !== null && base % PAGE_BYTES === 0 && base >= this.ram.byteLength && base + bytes.length <= 2 ** 32 ? { base, bytes } : undefined;
    for (const cpu of this.cpus) cpu.mapReadOnly?.(VGA_ROM_SLOT, region);
  }

  /** Every device's regions at the board's addresses (the devices this placement has, in whichever domain). */
  deviceWindows(): readonly DeviceWindow[] {
    return this.windows;
  }

  // --- devices by name, wherever they are placed --------------------------------------

  /** The domain `name` is placed in, or undefined when this VM has no such device (absent, or not modelled). */
  whereIs(name: string): Exclude<Where, 'absent'> | undefined {
    const at = (this.placement.devices as Partial<Record<string, Where>>)[name];
    if (at === undefined || at === 'absent' || this.unmodelled.includes(name as DeviceName)) return undefined;
    return at;
  }

  /**
   * `name`'s whole state, from whichever domain holds it (the device host's
   * through KVM_GET_*-style ioctls); a state beside a device (`lapic#1`, the
   * keyboard's typist) is found where `device` is.
   */
  deviceState(name: string, device = name): DeviceState {
    const reply = this.statesOf(device).getDeviceState(name);
    if (reply.kind === 'error') throw new VmError(`${name}: ${reply.message}`);
    return reply.state;
  }

  /** Restores `name`'s state in whichever domain holds it; a state of another model or version is refused with a VmError. */
  setDeviceState(name: string, state: DeviceState, device = name): void {
    const reply = this.statesOf(device).setDeviceState(name, state);
    if (reply.kind === 'error') throw new VmError(`${name}: ${reply.message}`);
  }

  /** The domain holding `name`: the kernel's, the monitor's, or the device host across the channel. */
  private statesOf(name: string): DeviceStates {
    switch (this.whereIs(name)) {
      case 'kernel': return this.kernel;
      case 'monitor': return this.monitor;
      case 'user': return this.link;
      case undefined: throw new VmError(`this VM has no device ${name} (${this.placement.name} places ${Object.keys(this.placement.devices).join(', ')})`);
    }
  }

  /** What the in-thread device host did (exits served, interrupts injected, irq windows, MSIs); undefined when it runs live. */
  hostActivity(): DeviceHost['handled'] | undefined {
    return this.link.host?.handled;
  }

  /**
   * What the kernel answered on the device host's behalf — each a heavyweight
   * exit it took instead: reads from published values (`io.cachedReads`),
   * counter reads (`io.kernelCounters`), accesses its programs answered
   * (`io.programs`) — and the registrations it refused at the boundary.
   */
  kernelActivity(): {
    readonly cachedReads: KernelDomain['cachedReads']; readonly counterReads: KernelDomain['counterReads'];
    readonly programRuns: KernelDomain['programRuns']; readonly refused: KernelDomain['refused'];
  } {
    const { cachedReads, counterReads, programRuns, refused } = this.kernel;
    return { cachedReads, counterReads, programRuns, refused };
  }
}

/**
 * What the placement's time and delivery policies ask of each run loop: which
 * crossings the guest's clock pays for (none under `guest-cycles`; the
 * running guest's under `guest-and-exits`, as KVM's TSC runs on through an
 * exit; all under `wall`; a bounded catch-up under `contracted`), and
 * whether events wait for the host's tick. Live (given the `host` clock),
 * `wall` is that clock: the exits' real cost, not the model's.
 */
function runLoopTime(placement: Placement, model: CostModel, tscHz: number, host: HostClock | undefined): Pick<RunLoopConfig, 'crossingCycles' | 'charge' | 'hostTickHz'> {
  const { time, delivery } = placement;
  const tick = delivery.kind === 'host-tick' ? { hostTickHz: delivery.hz } : {};
  const crossings = { crossingCycles: crossingCyclesIn(model) };
  if (time.kind === 'contracted' && host !== undefined) {
    // Live, a compressed halt leaves guest time ahead of the host clock, and a modelled CPU cannot be slowed to repay it.
    throw new VmError('time policy contracted runs modelled only (live, its compressed halts would leave guest time ahead of the host clock for good)');
  }
  switch (time.kind) {
    case 'guest-cycles': return tick;
    case 'guest-and-exits': return { ...tick, ...crossings, charge: { kind: 'running' } };
    case 'wall': return host === undefined ? { ...tick, ...crossings, charge: { kind: 'always' } } : { ...tick, charge: { kind: 'host', clock: host } };
    case 'contracted': return { ...tick, ...crossings, charge: { kind: 'bounded', haltFactor: time.factor, maxStepCycles: Math.round((time.maxStepUs * tscHz) / 1e6) } };
  }
}

/** Every device the placement has and the build models, at the board's addresses (the board owns them all, the irqchip's included). */
function boardWindows(placement: Placement, unmodelled: readonly DeviceName[]): DeviceWindow[] {
  return (Object.entries(placement.devices) as [DeviceName, Where][])
    .filter(([name, at]) => at !== 'absent' && !unmodelled.includes(name))
    .flatMap(([name]) => (PC_BOARD[name]?.regions ?? []).map((r) => ({ space: r.space, base: r.base, length: r.length, name })));
}
