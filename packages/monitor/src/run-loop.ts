/**
 * The vCPU run loop: the guest runs until it does I/O, halts, or reaches the
 * next deadline; the monitor adds the cycles it ran to guest time (seed
 * 000) and dispatches each exit by placement — a device in the monitor is
 * handled inline; otherwise a lightweight exit into the kernel domain;
 * otherwise a heavyweight exit, the run ioctl returning to the device host.
 * Every hop is recorded as a transition. Interrupts are injected at
 * instruction boundaries when the guest can take them.
 *
 * The domains are given as narrow interfaces, so the monitor depends on none
 * of them (the composition root wires them).
 */
import type { Exit, IoExit, MmioExit, Nanoseconds, TransitionRecorder } from '@splitvisor/abi';
import { NEVER, nullRecorder } from '@splitvisor/abi';
import type { GuestClock } from '@splitvisor/clock';
import type { GuestCpu, GuestExit } from './guest-cpu.ts';

/** A domain that may answer an access on the way out: the monitor's own devices, or the kernel's lightweight path. */
export interface ExitHandler {
  handle(exit: Exit): { readonly kind: 'handled'; readonly completion: Uint8Array; readonly device: string | null } | { readonly kind: 'to-user' };
  /** Fires the domain's timers due by `now`. */
  runDue(now: Nanoseconds): void;
  nextDeadline(): Nanoseconds;
}

/** The device host across the boundary: the run ioctl returns with `exit`; the next `run` brings the completion and its deadline. */
export interface UserDomain {
  exit(exit: Exit): { readonly completion: Uint8Array; readonly deadline: Nanoseconds };
}

/** Wherever the irqchip is placed, what the CPU sees of it. */
export interface InterruptSource {
  pending(): boolean;
  acknowledge(): number;
}

export interface RunLoopConfig {
  readonly cpu: GuestCpu;
  readonly clock: GuestClock;
  readonly monitor: ExitHandler;
  readonly kernel: ExitHandler;
  readonly user: UserDomain;
  readonly interrupts: InterruptSource;
  /** The board's name for the device at an address, for transitions that cross to a domain without naming it. */
  readonly deviceAt: (space: 'port' | 'mmio', address: number) => string | null;
  readonly recorder?: TransitionRecorder;
  readonly vcpu?: number;
  /** The device host's earliest timer deadline before the first exit (it arms its timers at power-on). */
  readonly userDeadline?: Nanoseconds;
}

export interface RunSummary {
  readonly exits: number;
  readonly interrupts: number;
  readonly halts: number;
  readonly until: Nanoseconds;
  readonly shutdown: boolean;
}

export class RunLoop {
  private readonly c: RunLoopConfig;
  private readonly recorder: TransitionRecorder;
  private readonly vcpu: number;
  private userDeadline: Nanoseconds = 0;
  private exits = 0;
  private injected = 0;
  private halts = 0;

  constructor(config: RunLoopConfig) {
    this.c = config;
    this.recorder = config.recorder ?? nullRecorder;
    this.vcpu = config.vcpu ?? 0;
    this.userDeadline = config.userDeadline ?? 0;
  }

  /** Runs the guest until virtual time `until` (or its shutdown). */
  runUntil(until: Nanoseconds): RunSummary {
    const { cpu, clock } = this.c;
    for (;;) {
      const now = clock.now();
      this.serviceTimers(now);
      if (cpu.interruptible && this.c.interrupts.pending()) {
        cpu.inject(this.c.interrupts.acknowledge());
        this.injected++;
      }
      if (now >= until) return this.summary(until, false);
      const deadline = Math.min(until, this.c.monitor.nextDeadline(), this.c.kernel.nextDeadline(), this.userDeadline);
      const run = cpu.run(clock.cyclesUntil(deadline));
      clock.ran(run.cycles);
      const outcome = this.dispatch(run.exit);
      if (outcome === 'shutdown') return this.summary(clock.now(), true);
    }
  }

  /** Timers of every domain due by now; the device host's by a kick (an `intr` exit), as QEMU's timer thread. */
  private serviceTimers(now: Nanoseconds): void {
    this.c.monitor.runDue(now);
    this.c.kernel.runDue(now);
    if (this.userDeadline <= now) {
      const time = now;
      this.recorder.record('kernel', 'user', 'intr', null, time);
      const reply = this.c.user.exit({ kind: 'intr', vcpu: this.vcpu, time, ifFlag: this.c.cpu.interruptible, readyForInterruptInjection: this.c.cpu.interruptible });
      this.userDeadline = reply.deadline;
      this.recorder.record('user', 'kernel', 'resume', null, time);
    }
  }

  private dispatch(exit: GuestExit): 'continue' | 'shutdown' {
    const { cpu, clock } = this.c;
    switch (exit.kind) {
      case 'budget':
        return 'continue';
      case 'shutdown':
        return 'shutdown';
      case 'hlt': {
        this.halts++;
        // Nothing to run until the next event: time jumps to it (the CPU is idle).
        const now = clock.now();
        if (this.c.interrupts.pending() && cpu.interruptible) return 'continue';
        const next = Math.min(this.c.monitor.nextDeadline(), this.c.kernel.nextDeadline(), this.userDeadline);
        if (next === NEVER) return 'shutdown'; // halted with nothing ever to wake it
        clock.advanceTo(Math.max(now, next));
        return 'continue';
      }
      default:
        this.exits++;
        this.access(exit);
        return 'continue';
    }
  }

  /** One access, outward until a domain answers it, and back. */
  private access(exit: Extract<GuestExit, { kind: 'io' | 'mmio' }>): void {
    const { cpu, clock } = this.c;
    const time = clock.now();
    const ready = cpu.interruptible;
    // Built field by field: object spread here costs more than the rest of the exit.
    const full: IoExit | MmioExit = exit.kind === 'io'
      ? { kind: 'io', vcpu: this.vcpu, time, ifFlag: ready, readyForInterruptInjection: ready, direction: exit.direction, port: exit.port, size: exit.size, count: exit.count, data: exit.data }
      : { kind: 'mmio', vcpu: this.vcpu, time, ifFlag: ready, readyForInterruptInjection: ready, address: exit.address, length: exit.length, isWrite: exit.isWrite, data: exit.data };
    const space = exit.kind === 'io' ? 'port' : 'mmio';
    const address = exit.kind === 'io' ? exit.port : exit.address;
    const reads = exit.kind === 'io' ? exit.direction === 'in' : !exit.isWrite;
    const reason = exit.kind;
    let device = this.c.deviceAt(space, address);
    this.recorder.record('guest', 'monitor', reason, device, time);
    let completion: Uint8Array;
    const inMonitor = this.c.monitor.handle(full);
    if (inMonitor.kind === 'handled') {
      completion = inMonitor.completion;
    } else {
      this.recorder.record('monitor', 'kernel', reason, device, time);
      const inKernel = this.c.kernel.handle(full);
      if (inKernel.kind === 'handled') {
        completion = inKernel.completion;
        device = inKernel.device ?? device;
      } else {
        this.recorder.record('kernel', 'user', reason, device, time);
        const reply = this.c.user.exit(full);
        completion = reply.completion;
        this.userDeadline = reply.deadline;
        this.recorder.record('user', 'kernel', 'resume', device, time);
      }
      this.recorder.record('kernel', 'monitor', 'resume', device, time);
    }
    this.recorder.record('monitor', 'guest', 'resume', device, time);
    if (reads) cpu.complete(completion);
  }

  private summary(until: Nanoseconds, shutdown: boolean): RunSummary {
    return { exits: this.exits, interrupts: this.injected, halts: this.halts, until, shutdown };
  }
}
