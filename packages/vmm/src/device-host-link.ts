/**
 * The device host as the kernel reaches it: across the channel, in this
 * thread behind the direct transport through the codec (modelled), or live
 * in a worker thread (the worker transport) or in a child process of its own
 * under Node's permission model (the process transport: it may open only
 * the images it was given, and reaches guest RAM only through the kernel's
 * read-memory and write-memory ioctls). Either way it answers the
 * same calls a local domain does — an exit (the run ioctl returning), a
 * device's state by name (the get/set device state ioctls) — so the VM
 * never asks which.
 *
 * The coalesced ring the kernel filled goes ahead of the exit that flushes
 * it; in live mode every exit's round trip is also timed on the wall clock
 * (in modelled mode when asked).
 *
 * A posted write goes one way (`post`), and the host's `run` answering it
 * comes back one way: at once in this thread, whenever the worker gets to it
 * in live mode — the vCPU runs on meanwhile, and until every answer is in
 * (`postsOut`), the kernel serves nothing the host published.
 *
 * A host that dies (or stops answering) fails whatever was waiting on it
 * with a DeviceHostLost naming the accesses it had not answered; the link
 * stays lost, so the guest stays paused at that access.
 */
import { performance } from 'node:perf_hooks';
import type { DeviceState, DeviceStateReply, DeviceStates, ErrorReply, Exit, GuestMemory, IoExit, Message, MmioExit, Nanoseconds, OkReply, RunRequest } from '@splitvisor/abi';
import type { ChannelEnd, ChannelStats, HaltPollOptions } from '@splitvisor/channel';
import { ChannelError, createDirectChannel, spawnProcessChannel, spawnWorkerChannel } from '@splitvisor/channel';
import type { DeviceHost } from '@splitvisor/devhost';
import type { KernelDomain } from '@splitvisor/kernel';
import type { UserDomain } from '@splitvisor/monitor';
import type { DeviceName, Placement, Where } from '@splitvisor/placement';
import { IRQCHIP_PARTS, PC_BOARD } from './board.ts';
import type { BoardOptions, Release } from './devices.ts';
import type { DevhostBuild } from './domain-build.ts';
import type { HostObservers } from './host-assembly.ts';
import { assembleDeviceHost } from './host-assembly.ts';
import type { IrqchipTopology } from './irqchip-topology.ts';
import type { InFlight } from './device-host-lost.ts';
import type { DeviceHostFaults } from './fault-injection.ts';
import { DeviceHostLost, describeExit } from './device-host-lost.ts';
import { VmError } from './vm-error.ts';

/** The worker entry next to this module: the TypeScript source under tsx, the built file otherwise. */
const WORKER_ENTRY = new URL(import.meta.url.endsWith('.ts') ? './devhost-worker.ts' : './devhost-worker.js', import.meta.url);

export interface DeviceHostLinkOptions {
  readonly placement: Placement;
  /** The VM's irqchip topology: the host holds its userspace part, if any. */
  readonly topology: IrqchipTopology;
  readonly board: BoardOptions;
  /** Guest RAM, shared with the worker in live mode. */
  readonly ram: SharedArrayBuffer;
  readonly memory: GuestMemory;
  /** In-thread observers of the device host (modelled mode only: a worker's cannot reach this thread). */
  readonly observers: HostObservers;
  /** What the in-thread device host opened, to release when the VM stops. */
  readonly releases: Release[];
  /** Each exit's wall-clock round trip (live mode; modelled too when given, the direct transport's). */
  readonly timed?: (kind: Exit['kind'], ms: number) => void;
  /** Live mode: how long each end of the channel spins before it sleeps. */
  readonly spin?: HaltPollOptions;
  /** The device host's build (the worker has its own, and is sent the names of this one's devices). */
  readonly build: DevhostBuild;
  /** Live mode: the device host in a worker thread (default) or in a child process of its own. */
  readonly transport?: LiveTransport;
  /** Live mode: how long a call may see no progress from the device host before it counts as lost (default 60 s). */
  readonly callTimeoutMs?: number;
  /** Live mode: the host dies at a given message (fault injection). */
  readonly faults?: DeviceHostFaults;
}

/** Where a live device host runs. */
export type LiveTransport = 'worker' | 'process';

/** One of the host's windows, to name the device an access in flight was for. */
interface HostWindow {
  readonly device: string;
  readonly space: 'port' | 'mmio' | 'msr';
  readonly address: number;
  readonly length: number;
}

export class DeviceHostLink implements UserDomain, DeviceStates {
  /** The device host itself when it runs in this thread (modelled mode). */
  readonly host: DeviceHost | undefined;
  /** Its earliest timer deadline, as its last `run` reply gave it. */
  deadline: Nanoseconds = 0;
  /** Whose timer that deadline is. */
  deadlineOwner = '';
  /** Posted writes whose answers have not come back. */
  postsOut = 0;
  /** The latest answer to a posted write not yet taken by the run loop. */
  private answered: RunRequest | undefined;
  /** Sends a signal to the device host's process (the process transport; fault injection): false when there is none. */
  readonly kill: (signal?: NodeJS.Signals) => boolean;
  private readonly end: ChannelEnd;
  private readonly kernel: KernelDomain;
  private readonly shutdownWorker: (() => Promise<number>) | undefined;
  private readonly windows: readonly HostWindow[];
  /** Posted writes the host has not answered, oldest first. */
  private readonly postedInFlight: (IoExit | MmioExit)[] = [];
  /** Set once the host is gone: every later use fails with it. */
  private lostWith: DeviceHostLost | undefined;
  private readonly timed: ((kind: Exit['kind'], ms: number) => void) | undefined;

  /** Starts the device host in `mode`, its ioctls served by `kernel`; the kernel's end is ready before the guest runs. */
  constructor(mode: 'modelled' | 'live', kernel: KernelDomain, options: DeviceHostLinkOptions) {
    this.kernel = kernel;
    const { placement, topology, board, build } = options;
    if (mode === 'live') {
      // The worker opens the images itself: one it cannot take is the answer to `powerOn`'s first call.
      // A generous timeout: the worker's first answer waits for it to load every device package (seconds on a loaded machine).
      const common = { name: 'kernel', peer: 'devhost', callTimeoutMs: options.callTimeoutMs ?? 60_000, ...(options.spin === undefined ? {} : { spin: options.spin }) };
      const data = { placement, topology, board, devices: Object.keys(build.devices), ...(options.faults === undefined ? {} : { faults: options.faults }) };
      if (options.transport === 'process') {
        // Its own process: no shared RAM (DMA goes through the kernel's memory ioctls), and only its images to open.
        const images = [board.diskImage, board.floppyImage, board.cdromImage].filter((image): image is string => image !== undefined);
        const readOnly = [...(board.diskReadOnly === true ? [board.diskImage] : []), board.cdromImage];
        const child = spawnProcessChannel(WORKER_ENTRY, {
          ...common, data: { ...data, memoryBytes: options.memory.size },
          allowRead: images.filter((image) => readOnly.includes(image)), allowWrite: images.filter((image) => !readOnly.includes(image)),
        });
        this.end = child.end;
        this.shutdownWorker = () => child.shutdown();
        this.kill = (signal) => child.kill(signal);
      } else {
        const worker = spawnWorkerChannel(WORKER_ENTRY, { ...common, data: { ...data, ram: options.ram } });
        this.end = worker.end;
        this.shutdownWorker = () => worker.shutdown();
        this.kill = () => false;
      }
      this.host = undefined;
      this.timed = options.timed;
    } else {
      const [end, devhostEnd] = createDirectChannel({ names: ['kernel', 'devhost'], codec: true });
      this.end = end;
      this.host = build.create(devhostEnd, options.memory);
      assembleDeviceHost(this.host, placement, topology, build, options.observers, board, options.releases);
      this.shutdownWorker = undefined;
      this.kill = () => false;
      this.timed = options.timed;
    }
    // The host's devices at their board windows: a fast path it registers must be one of theirs, where it sits.
    this.windows = (Object.entries(placement.devices) as [DeviceName, Where][])
      .filter(([name, at]) => at === 'user' && (IRQCHIP_PARTS.includes(name) || build.devices[name] !== undefined))
      .flatMap(([device]) => (PC_BOARD[device]?.regions ?? []).map((r) => ({ device, space: r.space, address: r.base, length: r.length })));
    kernel.hostDevices(this.windows);
    this.end.setHandler({
      onCall: (m) => kernel.ioctl(m),
      onPost: (m) => {
        if (m.kind === 'run') this.postAnswered(m);
        else kernel.ioctl(m);
      },
    });
  }

  /** The host's `run` for a posted write: its deadline holds from now; the run loop takes the rest. */
  private postAnswered(reply: RunRequest): void {
    this.postsOut--;
    this.postedInFlight.shift();
    this.deadline = reply.deadline;
    this.deadlineOwner = reply.deadlineOwner;
    this.answered = reply;
  }

  /** A posted write, one way, after the ring's writes and the programs' scratch; its answer if it is back already. */
  post(exit: IoExit | MmioExit): RunRequest | undefined {
    this.postsOut++;
    this.postedInFlight.push(exit);
    this.guarded(undefined, () => {
      this.sendAhead();
      this.end.post(exit);
    });
    return this.take();
  }

  /** What has come back of posted writes, without waiting. */
  poll(): RunRequest | undefined {
    if (this.postsOut > 0) this.guarded(undefined, () => this.end.poll());
    return this.take();
  }

  /**
   * Live mode: a round trip to the host, which finds it lost if it died
   * since the VM last needed it (a guest that did not touch its devices
   * meanwhile would not have noticed). In this thread there is nothing to lose.
   */
  check(): void {
    if (this.host === undefined) this.guarded(undefined, () => { this.end.flush(); });
  }

  /** Waits until every posted write's answer is in. */
  settle(): RunRequest | undefined {
    if (this.postsOut > 0) this.guarded(undefined, () => { this.end.flush(); });
    return this.take();
  }

  private take(): RunRequest | undefined {
    const answered = this.answered;
    this.answered = undefined;
    return answered;
  }

  /**
   * Power-on: lines the host's devices raised reach the irqchip before the
   * guest runs (QEMU's reset before the first KVM_RUN), and the answer
   * carries the host's first deadline. A worker that could not assemble its
   * devices (an image it cannot take) answers with its error: one VmError
   * saying what, as the in-thread assembly gives, and the worker is let go.
   */
  powerOn(): void {
    const reply = this.guarded(undefined, () => this.end.call({ kind: 'resume' }));
    if (reply.kind === 'error' && this.shutdownWorker !== undefined) {
      void this.shutdownWorker();
      throw new VmError(reply.message);
    }
    this.run(reply, 'resume');
  }

  /**
   * The guest stopped at `time` (a snapshot, a restore): what the kernel
   * holds for the host — the programs' scratch, the coalesced ring — goes
   * to it, and the host applies it and takes `time` as its devices' now.
   */
  pause(time: Nanoseconds): void {
    const reply = this.guarded(undefined, () => {
      this.sendAhead();
      return this.end.call({ kind: 'pause', time });
    });
    if (reply.kind !== 'ok') unexpected(reply, 'pause');
  }

  /** The run ioctl returns with `exit`; the next `run` brings its completion, the host's deadline, and whether it wants an irq window. */
  exit(exit: Exit): RunRequest {
    const start = this.timed === undefined ? 0 : performance.now();
    const reply = this.guarded(exit, () => {
      this.sendAhead();
      return this.end.call(exit);
    });
    this.timed?.(exit.kind, performance.now() - start);
    this.answered = undefined; // every posted write was answered before this reply, which is newer
    return this.run(reply, 'an exit');
  }

  /** What must reach the host before an exit or a posted write: the programs' scratch, then the coalesced ring's writes. */
  private sendAhead(): void {
    this.flushProgramScratch();
    const ring = this.kernel.takeCoalesced();
    if (ring !== undefined) this.end.post(ring);
  }

  /** What the kernel's fast-path programs changed in their devices' scratch goes to the host ahead of anything that reads those devices. */
  private flushProgramScratch(): void {
    for (const { device, scratch } of this.kernel.takeProgramScratch()) this.end.post({ kind: 'program-scratch', device, scratch });
  }

  getDeviceState(name: string): DeviceStateReply | ErrorReply {
    const reply = this.guarded(undefined, () => {
      this.flushProgramScratch(); // a snapshot holds what the programs did
      return this.end.call({ kind: 'get-device-state', device: name });
    });
    return reply.kind === 'device-state' || reply.kind === 'error' ? reply : unexpected(reply, 'get-device-state');
  }

  setDeviceState(name: string, state: DeviceState): OkReply | ErrorReply {
    const reply = this.guarded(undefined, () => {
      this.flushProgramScratch();
      this.kernel.forgetCachedReads(name); // what it published of the old state no longer holds
      this.kernel.forgetPrograms(name);
      return this.end.call({ kind: 'set-device-state', device: name, state });
    });
    return reply.kind === 'ok' || reply.kind === 'error' ? reply : unexpected(reply, 'set-device-state');
  }

  /** A device moving in: the host makes it as `placement` (the VM's, after the move) configures it. */
  placeDevice(name: string, placement: Placement): void {
    const reply = this.guarded(undefined, () => this.end.call({ kind: 'place-device', device: name, placement: JSON.stringify(placement) }));
    if (reply.kind === 'error') throw new VmError(reply.message);
    if (reply.kind !== 'ok') unexpected(reply, 'place-device');
  }

  /** A device moving out: the host takes it out (its state was read first). */
  removeDevice(name: string): void {
    const reply = this.guarded(undefined, () => this.end.call({ kind: 'remove-device', device: name }));
    if (reply.kind === 'error') throw new VmError(reply.message);
    if (reply.kind !== 'ok') unexpected(reply, 'remove-device');
  }

  /** Stops the worker (it flushes and closes what it opened); in-thread, nothing to stop. */
  async close(): Promise<void> {
    await this.shutdownWorker?.();
  }

  /**
   * `use` of the channel to a live host; one found gone (dead, closed, or
   * silent for the call timeout) makes this link lost for good, naming what
   * it had been given and not answered: the posted writes still out, then
   * `exit`.
   */
  private guarded<T>(exit: Exit | undefined, use: () => T): T {
    if (this.lostWith !== undefined) throw this.lostWith;
    if (this.host !== undefined) return use(); // in this thread: nothing to lose, nothing to time on the hot path
    const began = performance.now();
    try {
      return use();
    } catch (error) {
      if (!(error instanceof ChannelError)) throw error;
      const accesses: Exit[] = [...this.postedInFlight, ...(exit === undefined ? [] : [exit])];
      const inFlight: InFlight[] = accesses.map((access) => ({ device: this.deviceOf(access), access: describeExit(access), timeNs: access.time }));
      const reason = error.message.replace(/^channel to devhost: /, '');
      this.lostWith = new DeviceHostLost(reason, inFlight, performance.now() - began);
      throw this.lostWith;
    }
  }

  /** The host's device whose window `exit` falls in. */
  private deviceOf(exit: Exit): string | undefined {
    const at = exit.kind === 'io' ? { space: 'port', address: exit.port } : exit.kind === 'mmio' ? { space: 'mmio', address: exit.address } : exit.kind === 'msr' ? { space: 'msr', address: exit.index } : undefined;
    if (at === undefined) return undefined;
    return this.windows.find((w) => w.space === at.space && at.address >= w.address && at.address < w.address + w.length)?.device;
  }

  /** What crossed to the device host and back: calls, posts, bytes. */
  get stats(): Readonly<ChannelStats> {
    return this.end.stats;
  }

  /** The host is gone: the VM can only report it. */
  get lost(): DeviceHostLost | undefined {
    return this.lostWith;
  }

  private run(reply: Message, what: string): RunRequest {
    if (reply.kind !== 'run') throw new VmError(`the device host answered ${what} with ${reply.kind}${reply.kind === 'error' ? `: ${reply.message}` : ''}`);
    this.deadline = reply.deadline;
    this.deadlineOwner = reply.deadlineOwner;
    return reply;
  }
}

function unexpected(reply: Message, request: string): never {
  throw new VmError(`the device host answered ${request} with ${reply.kind}`);
}
