/**
 * The vCPU run loop: the guest runs until it does I/O, halts, or reaches the
 * next deadline; the monitor adds the cycles it ran to guest time (seed
 * 000) and dispatches each exit by placement — a device in the monitor is
 * handled inline; otherwise a lightweight exit into the kernel domain;
 * otherwise a heavyweight exit, the run ioctl returning to the device host.
 * Every hop is recorded as a transition. Interrupts are injected at
 * instruction boundaries when the guest can take them.
 *
 * Wherever the irqchip is, the loop injects what the `InterruptSource`
 * says is pending. With the irqchip in userspace that is the vector the
 * device host queued with KVM_INTERRUPT after an exit that said the guest
 * was ready; when it was not, the host's `run` asks for an irq window and
 * the loop runs the guest with interrupt-window exiting, returning to the
 * host with `irq-window-open` as soon as the guest can take one. `hlt` goes
 * to userspace too when the local APIC is not in the kernel (KVM_EXIT_HLT).
 * Level-triggered EOIs that a userspace I/O APIC must see leave as
 * `ioapic-eoi` exits before the guest runs again (the split irqchip).
 *
 * The domains are an ordered list of one interface, innermost first (the
 * monitor's, then the kernel's), followed by the device host across the
 * channel; the monitor depends on none of them (the composition root wires
 * them). Each exit is decoded once into an `Access` record, which every
 * domain is handed as it is.
 *
 * An access that the monitor or the kernel answers costs no allocation and
 * no derivation of the time: the loop tests deadlines against the TSC, hands
 * each domain the one reused access record with a reused buffer for the
 * bytes read, and builds an exit record only for what reaches the device
 * host — or when a transition recorder wants the time.
 */
import type { Access, AddressSpace, Domain, Exit, GuestCpu, GuestExit, IoExit, MmioExit, MsrExit, Nanoseconds, TransitionReason, TransitionRecorder } from '@splitvisor/abi';
import { NEVER, blankAccess, decodeAccess, nullRecorder } from '@splitvisor/abi';
import type { GuestClock } from '@splitvisor/clock';

/**
 * A domain in this thread that may answer an access on the way out: the
 * monitor's devices, or the kernel's lightweight path (the abi's
 * `DeviceDomain` and what each place adds).
 */
export interface LocalDomain {
  readonly place: 'monitor' | 'kernel';
  /**
   * The one entry point: the name of the device that answered `access` (null
   * when answered without one), or undefined when it goes on outward. A
   * read's bytes go into `into`. The record and both buffers are the loop's,
   * reused: keep none of them (copy what is kept, as the kernel's coalesced
   * ring does).
   */
  access(access: Access, into: Uint8Array): string | null | undefined;
  /** Fires the domain's timers due by `now`. */
  runDue(now: Nanoseconds): void;
  /** The names of the devices whose timers are due by `now`, none fired (needed with `timerOwner`). */
  dueTimerNames?(now: Nanoseconds): readonly string[];
  nextDeadline(): Nanoseconds;
  /** The earliest deadline and whose timer it is ('' when none): a timer exit is its device's. */
  nextTimer?(): { readonly deadline: Nanoseconds; readonly deadlineOwner: string };
  /** Whether it answers no access at all: the loop passes it by without asking (read again when `watch` says it changed). */
  readonly holdsNothing: boolean;
  /** Tells `watcher` whenever what it answers may have changed. */
  watch(watcher: () => void): void;
  /**
   * Whether `access`, which no domain answered, is a write it sends on to the
   * device host one way (a posted range: KVM_IOEVENTFD, generalised) rather
   * than a heavyweight exit. Only the kernel posts.
   */
  posts?(access: Access): boolean;
  /**
   * The next level-triggered EOI its local APICs owe a userspace I/O APIC,
   * taken (-1: none): it leaves as KVM_EXIT_IOAPIC_EOI before the guest
   * runs again. Only the kernel of a split irqchip owes any.
   */
  takeIoapicEoi?(): number;
}

/** What the device host's `run` tells the loop: the bytes read, its next deadline, whether it wants an irq window. */
export interface UserReply {
  readonly completion: Uint8Array;
  readonly deadline: Nanoseconds;
  /** Whose timer the deadline is (its timer's name; '' or unset: unknown): the kick it brings is that device's. */
  readonly deadlineOwner?: string;
  readonly requestInterruptWindow: boolean;
}

/** The device a timer belongs to: its name, less the `#n` that tells one of several apart (each CPU's local APIC). */
function deviceOfTimer(name: string | undefined): string | null {
  return name === undefined || name === '' ? null : name.replace(/#\d+$/, '');
}

/**
 * The device host across the boundary: the run ioctl returns with `exit`;
 * the next `run` brings the completion and its deadline. A posted write
 * goes one way and its answer comes back one way, when it comes: `post`
 * returns it if it is back already (a device host in this thread), `poll`
 * what has come back since, without waiting, `settle` after waiting for
 * every one still out (the latest answer, or undefined when none came).
 */
export interface UserDomain {
  exit(exit: Exit): UserReply;
  post?(exit: IoExit | MmioExit): UserReply | undefined;
  poll?(): UserReply | undefined;
  settle?(): UserReply | undefined;
}

/** Wherever the irqchip is placed, what the CPU sees of it. */
export interface InterruptSource {
  pending(): boolean;
  acknowledge(): number;
}

export interface RunLoopConfig {
  readonly cpu: GuestCpu;
  readonly clock: GuestClock;
  /** The domains an access is offered to before the device host, innermost first: the monitor's, then the kernel's. */
  readonly domains: readonly LocalDomain[];
  readonly user: UserDomain;
  readonly interrupts: InterruptSource;
  /** The board's name for the device at an address, for transitions that cross to a domain without naming it. */
  readonly deviceAt: (space: AddressSpace, address: number) => string | null;
  readonly recorder?: TransitionRecorder;
  readonly vcpu?: number;
  /** The device host's earliest timer deadline before the first exit (it arms its timers at power-on). */
  readonly userDeadline?: Nanoseconds;
  /** Whose timer that deadline is (the device host's `run` says). */
  readonly userDeadlineOwner?: string;
  /** Told the guest's time every 65 536 turns of the loop (a progress bar's; it changes nothing the guest sees). */
  readonly progress?: (now: Nanoseconds) => void;
  /**
   * Where `hlt` exits to, recorded as such: the monitor (an irqchip there, as plex86), the kernel (KVM with its
   * local APIC: the VM exit blocks in the kernel until an interrupt), or userspace (no local APIC in the kernel:
   * KVM_EXIT_HLT, after which the host's timers fire without kicking the vCPU). Unset: halts are not recorded.
   */
  readonly haltIn?: 'monitor' | 'kernel' | 'user';
  /**
   * Guest cycles one crossing outward from `from` to `to` takes, there and
   * back (a cost model's round trip for its boundary), or the coalesced
   * ring's work within a domain (`reason` 'coalesced'). Given, every crossing
   * the guest makes is charged to guest time when it resumes: the guest's
   * clock runs on while it is out, as a real guest's TSC does, so loops
   * around exits run as often as they would, a `hlt`'s wake-up is late by its
   * exit, and interrupts are taken that much later. Unset: exits take no
   * guest time.
   */
  readonly crossingCycles?: (from: Domain, to: Domain, reason: TransitionReason) => number;
  /**
   * Which crossings the guest's clock pays for (given `crossingCycles`),
   * the placement's time policy: `running` — those the running guest makes
   * (its TSC runs on while it is out; the device host's work beside a
   * halted guest is not its time: `guest-and-exits`); `always` — every one,
   * so guest time is the modelled host time (`wall`); `bounded` — none
   * directly, but whenever the guest resumes behind the modelled host time
   * it steps toward it by at most `maxStepCycles`, and a halt takes host
   * time divided by `haltFactor` (`contracted`); `host` — the guest's time
   * is the host clock's (`wall` run live): whenever the guest resumes, its
   * time moves up to the host's — the exits' real cost and any time the
   * thread was off its CPU appear to it as stolen time; a halt sleeps on
   * the host clock until the next event and wakes when the host wakes it,
   * late by the host's wake-up slack. A guest that never halts runs ahead
   * of the host by its cycles (a modelled CPU's take no real time). Default
   * `running`.
   */
  readonly charge?: TimeCharge;
  /**
   * Event delivery at the host's timer tick (seed 001): the guest is stopped,
   * and a halted one woken, only at the first tick of a `hostTickHz` clock at
   * or after the deadline — ticks at ceil(k × 10^9 / hz) ns. Unset: exactly
   * at the deadline.
   */
  readonly hostTickHz?: number;
  /**
   * The host deschedules this vCPU for `forNs` at every multiple of `everyNs`
   * of its time, its guest time running on meanwhile (the time is stolen):
   * the timers due in the window run at its end, late, and their lost-tick
   * policies decide what the guest gets. A halted vCPU whose wake-up falls
   * in a window wakes at its end. One vCPU (without `peers`).
   */
  readonly descheduled?: { readonly everyNs: Nanoseconds; readonly forNs: Nanoseconds };
  /**
   * The vCPU a device timer (by its device's name) is for — a local APIC's —
   * or undefined for the machine's. A deadline that stops this vCPU only for
   * other vCPUs' timers is no exit of its own: the scheduler runs the vCPU
   * furthest behind, so those others are halted, and the host wakes them
   * without an exit (kvm_vcpu_kick of a blocked vCPU).
   */
  readonly timerOwner?: (device: string) => number | undefined;
  /**
   * Set when this vCPU is one of several (a `Vcpus` scheduler drives them):
   * the device host's next deadline, which every vCPU's `run` replies move,
   * is kept in the scheduler's one cell; `runUntil` returns as soon as
   * `yieldNow` says another vCPU must run (a halted one an interrupt now
   * wakes); and a halt waits only to the end of the slice it was given —
   * another vCPU may wake it before the next deadline.
   */
  readonly peers?: {
    readonly shared: { userDeadline: Nanoseconds; userDeadlineOwner: string | undefined };
    readonly yieldNow: () => boolean;
  };
}

export type TimeCharge =
  | { readonly kind: 'running' }
  | { readonly kind: 'always' }
  | { readonly kind: 'bounded'; readonly maxStepCycles: number; readonly haltFactor: number }
  | { readonly kind: 'host'; readonly clock: HostClock };

/**
 * The host's monotonic clock, for a live run whose guest time is host time
 * (the `host` charge, the `wall` policy run live): ns since the guest's time
 * 0, and a wait on it — the vCPU thread asleep in the host until then (a
 * real clock wakes it a little late; how late is the run's timer lateness).
 */
export interface HostClock {
  now(): Nanoseconds;
  /** Blocks until `time` on this clock, or a little after; returns at once when it has passed. */
  waitUntil(time: Nanoseconds): void;
}

export interface RunSummary {
  /**
   * Modelled host time, in guest cycles: what the guest ran, every crossing's
   * cost, and the halts' waits as the policy takes them — or, on the host
   * clock, the host time measured since guest time 0.
   */
  readonly hostCycles: number;
  /** Times the host took the vCPU off its CPU (`RunLoopConfig.descheduled`). */
  readonly descheduled: number;
  readonly exits: number;
  readonly interrupts: number;
  /** Interrupt-window exits: times the guest could not take an interrupt its userspace irqchip had for it. */
  readonly windows: number;
  readonly halts: number;
  readonly until: Nanoseconds;
  readonly shutdown: boolean;
}

/**
 * What a run loop carries from one `runUntil` to the next beyond the CPU,
 * the clock and the domains, as plain data for a snapshot: crossings owed
 * to guest time, the modelled host time, the host's deschedule windows, and
 * where the vCPU is in a halt or an irq window. Its counts are the run's
 * report, not the machine's, and start again in a restored loop.
 */
export type RunLoopState = {
  readonly owed: number;
  readonly hostCycles: number;
  readonly nextDeschedule: Nanoseconds;
  readonly windowRequested: boolean;
  readonly haltedInUser: boolean;
  readonly haltRecorded: boolean;
  readonly inHalt: boolean;
  readonly stoppedByDeadline: boolean;
};

type GuestAccess = Extract<GuestExit, { kind: 'io' | 'mmio' | 'msr' }>;

const NO_DATA = new Uint8Array(0);

export class RunLoop {
  private readonly c: RunLoopConfig;
  private readonly cpu: GuestCpu;
  private readonly clock: GuestClock;
  private readonly domains: readonly LocalDomain[];
  /** The domains that answer anything, in order: the ones asked (a domain that holds nothing is passed by). */
  private asked: readonly LocalDomain[] = [];
  /** The domain that owes KVM_EXIT_IOAPIC_EOIs, if any does. */
  private readonly eoiOwer: LocalDomain | undefined;
  /** The domain that sends posted writes on (the kernel), if the device host can take them. */
  private readonly poster: LocalDomain | undefined;
  /** A posted write's answer may still be on its way: the loop looks for it before each entry, and waits for it before a halt. */
  private posting = false;
  /** The access in progress, decoded once from the CPU's exit. */
  private readonly current: Access = blankAccess();
  private readonly interrupts: InterruptSource;
  private readonly peers: RunLoopConfig['peers'];
  private readonly recorder: TransitionRecorder;
  /** Whether anything listens to transitions: with the null recorder the loop neither names devices nor records. */
  private readonly recording: boolean;
  private readonly vcpu: number;
  /** The device host's next deadline (the scheduler's cell when there are several vCPUs). */
  private readonly shared: { userDeadline: Nanoseconds; userDeadlineOwner: string | undefined };
  /** The device host asked to be told when the guest can take an interrupt. */
  private windowRequested = false;
  /** The vCPU thread waits in userspace after KVM_EXIT_HLT: the host's timers fire without kicking it. */
  private haltedInUser = false;
  /** The devices of the writes the kernel queued in its coalesced ring since the last heavyweight exit (recorded runs). */
  private readonly ring: (string | null)[] = [];
  /** Cycles of crossings made since the guest last resumed, charged to guest time before it runs again. */
  private owed = 0;
  private readonly charge: TimeCharge;
  /** Modelled host time, in cycles. */
  private hostCycles = 0;
  /** Host tick delivery: the tick clock's rate (0: exact delivery), and the last deadline quantized and its tick. */
  private readonly hostTickHz: number;
  private lastDeadline = Number.NaN;
  private lastTick = 0;
  /** The host's deschedule windows: the next one's start (NEVER: none), their period and length. */
  private nextDeschedule: Nanoseconds = NEVER;
  private readonly deschedule: { readonly everyNs: Nanoseconds; readonly forNs: Nanoseconds } | undefined;
  private descheduledCount = 0;
  /** The guest's last run ended at a deadline, still running: the timer due then takes it out. */
  private stoppedByDeadline = false;
  /** This halt's exit is recorded (until an interrupt wakes the CPU). */
  private haltRecorded = false;
  /** In a halt not yet ended by an interrupt (counted once, however many slices it spans). */
  private inHalt = false;
  private exits = 0;
  private injected = 0;
  private halts = 0;
  private windows = 0;
  /** Buffers for the bytes a read returns, by length, reused: the CPU takes the value at once. */
  private readonly readBuffers: Uint8Array[] = [];
  /** The bytes read by the access in progress, when they are not in the loop's buffer (a reply of the device host). */
  private completion: Uint8Array = NO_DATA;

  constructor(config: RunLoopConfig) {
    this.c = config;
    this.cpu = config.cpu;
    this.clock = config.clock;
    if (config.domains.length === 0) throw new RangeError('a run loop needs at least one domain before the device host');
    this.domains = config.domains;
    for (const domain of config.domains) domain.watch(() => { this.askAgain(); });
    this.askAgain();
    this.eoiOwer = config.domains.find((d) => d.takeIoapicEoi !== undefined);
    this.poster = config.user.post === undefined ? undefined : config.domains.find((d) => d.posts !== undefined);
    this.interrupts = config.interrupts;
    this.peers = config.peers;
    const recorder = config.recorder ?? nullRecorder;
    const crossingCycles = config.crossingCycles;
    const charge = config.charge ?? { kind: 'running' };
    this.charge = charge;
    this.hostTickHz = config.hostTickHz ?? 0;
    if (this.hostTickHz !== 0 && !(Number.isInteger(this.hostTickHz) && this.hostTickHz > 0 && this.hostTickHz <= 1e9)) {
      throw new RangeError(`a host tick is a whole rate from 1 Hz to 1 GHz, not ${this.hostTickHz}`);
    }
    this.recorder = crossingCycles === undefined ? recorder : {
      record: (from, to, reason, device, time) => {
        recorder.record(from, to, reason, device, time);
        const cost = crossingCycles(from, to, reason);
        this.hostCycles += cost;
        // A halted vCPU is not out of the guest for a crossing made while it waits (the device host's timers run
        // beside it, as QEMU's I/O thread does): only its own `hlt` and what it runs into are charged — unless
        // guest time is host time.
        if (charge.kind === 'always' || (charge.kind === 'running' && (!this.cpu.halted || reason === 'hlt'))) this.owed += cost;
      },
    };
    this.recording = this.recorder !== nullRecorder;
    this.deschedule = config.descheduled;
    if (this.deschedule !== undefined) {
      const { everyNs, forNs } = this.deschedule;
      if (!(everyNs > 0 && forNs > 0 && forNs < everyNs)) throw new RangeError(`a vCPU is descheduled for less than the period it is descheduled in, not ${forNs} ns of every ${everyNs} ns`);
      if (config.peers !== undefined) throw new RangeError('descheduling is modelled for one vCPU (the host model schedules many)');
      this.nextDeschedule = everyNs;
    }
    if (charge.kind === 'host' && (config.peers !== undefined || config.descheduled !== undefined)) {
      throw new RangeError('guest time on the host clock is kept for one vCPU in its own thread, never descheduled by the model (the host does that)');
    }
    this.vcpu = config.vcpu ?? 0;
    this.shared = config.peers?.shared ?? { userDeadline: config.userDeadline ?? 0, userDeadlineOwner: config.userDeadlineOwner };
  }

  /** Runs the guest until virtual time `until` (or its shutdown). */
  runUntil(until: Nanoseconds): RunSummary {
    const { cpu, clock, interrupts, peers } = this;
    // Deadlines are tested against the TSC, not the time: for whole nanoseconds, now() >= t exactly when
    // tsc() >= tscAt(t) (rounding t up keeps that so for any other t).
    const untilTsc = clock.tscAt(Math.ceil(until));
    const progress = this.c.progress;
    let turns = 0;
    for (;;) {
      if (progress !== undefined && (++turns & 0xffff) === 0) progress(clock.now());
      if (this.posting) this.collectPosted(this.c.user.poll?.());
      let nextTsc = clock.tscAt(this.deliveryTime(this.nextDeadline()));
      let moved = false;
      if (clock.tsc() >= nextTsc) {
        this.serviceTimers(clock.now());
        if (peers?.yieldNow() === true) return this.summary(clock.now(), false);
        moved = true;
      }
      // The guest resumes once its exits are done: an interrupt a timer exit brought is taken after them.
      if (this.pay()) moved = true;
      let pending = interrupts.pending();
      if (pending && cpu.interruptible) {
        cpu.inject(interrupts.acknowledge());
        this.injected++;
        this.haltedInUser = false;
        this.haltRecorded = false;
        this.inHalt = false;
        moved = true; // the acknowledge may have armed a timer (a PIT pacing its re-injection)
        pending = interrupts.pending();
      } else if (this.windowRequested && !pending && cpu.interruptible) {
        this.toUser({ kind: 'irq-window-open', vcpu: this.vcpu, time: clock.now(), ifFlag: true, readyForInterruptInjection: true }, 'irq-window-open');
        this.windows++;
        continue;
      }
      const tsc = clock.tsc();
      if (tsc >= untilTsc) return this.summary(until, false);
      const descheduleTsc = clock.tscAt(this.nextDeschedule);
      if (tsc >= descheduleTsc) {
        this.descheduleNow();
        continue;
      }
      if (moved) nextTsc = clock.tscAt(this.deliveryTime(this.nextDeadline()));
      const budget = Math.max(0, Math.min(untilTsc, nextTsc, descheduleTsc) - tsc);
      // Interrupt-window exiting when an interrupt waits for IF (the kernel's own enable_irq_window) or userspace asked.
      const run = cpu.run(budget, this.windowRequested || pending, tsc);
      clock.addCycles(run.cycles);
      this.hostCycles += run.cycles;
      const exit = run.exit;
      this.stoppedByDeadline = exit.kind === 'budget';
      if (exit.kind === 'io' || exit.kind === 'mmio' || exit.kind === 'msr') {
        this.exits++;
        const access = decodeAccess(exit, this.current);
        if (access.isWrite) this.access(exit, access, NO_DATA);
        else cpu.complete(this.access(exit, access, this.readBuffer(access.width * access.count)));
      } else if (this.dispatch(exit, until) === 'shutdown') {
        return this.summary(clock.now(), true);
      }
      if (peers?.yieldNow() === true) return this.summary(clock.now(), false);
    }
  }

  /** Waits until every posted write's answer is in (a pause: the device host's state is then whole). */
  settle(): void {
    this.settlePosted();
  }

  /** What this loop carries between runs (see `RunLoopState`), taken between runs with every posted write answered. */
  getState(): RunLoopState {
    this.settlePosted();
    return {
      owed: this.owed, hostCycles: this.hostCycles, nextDeschedule: this.nextDeschedule, windowRequested: this.windowRequested,
      haltedInUser: this.haltedInUser, haltRecorded: this.haltRecorded, inHalt: this.inHalt, stoppedByDeadline: this.stoppedByDeadline,
    };
  }

  /**
   * Restores what a loop carried between runs, before this one first runs;
   * `user` is the device host's `run` as it resumes (its deadline and
   * whether it wants an irq window, which `state` may ask too).
   */
  setState(state: RunLoopState, user: Pick<UserReply, 'deadline' | 'deadlineOwner' | 'requestInterruptWindow'>): void {
    this.owed = state.owed;
    this.hostCycles = state.hostCycles;
    if (this.deschedule !== undefined) this.nextDeschedule = state.nextDeschedule;
    this.haltedInUser = state.haltedInUser;
    this.haltRecorded = state.haltRecorded;
    this.inHalt = state.inHalt;
    this.stoppedByDeadline = state.stoppedByDeadline;
    this.reply(user);
    this.windowRequested ||= state.windowRequested;
  }

  /** The device host resumed after a pause (a device moved in or out): its deadline holds from now; an irq window asked stays asked. */
  userResumed(user: Pick<UserReply, 'deadline' | 'deadlineOwner'>): void {
    this.shared.userDeadline = user.deadline;
    this.shared.userDeadlineOwner = user.deadlineOwner;
  }

  /** Looks again at which domains hold anything to ask. */
  private askAgain(): void {
    this.asked = this.domains.filter((d) => !d.holdsNothing);
  }

  /**
   * Charges the crossings made since the guest last ran to its time (its
   * clock ran on while it was out), or under a bounded policy one step of
   * its lag behind host time. Returns whether its time moved.
   */
  private pay(): boolean {
    if (this.charge.kind === 'host') return this.followHost(this.charge.clock);
    if (this.charge.kind === 'bounded') {
      const lag = this.hostCycles - this.clock.tsc();
      if (lag <= 0) return false;
      this.clock.addCycles(Math.min(lag, this.charge.maxStepCycles));
      return true;
    }
    if (this.owed === 0) return false;
    this.clock.addCycles(this.owed);
    this.owed = 0;
    return true;
  }

  /**
   * Guest time follows the host clock: a guest behind it moves up to it.
   * One ahead of it (a modelled CPU's cycles take no real time) runs on: the
   * next halt sleeps until its event on the host clock, which its lead is
   * part of — sleeping away a lead of a few instructions would add the
   * host's wake-up slack to each of them. Returns whether its time moved.
   */
  private followHost(host: HostClock): boolean {
    const at = host.now();
    if (at <= this.clock.now()) return false;
    this.clock.advanceTo(at);
    return true;
  }

  /**
   * When the guest learns of an event due at `deadline`: then (rounded up to
   * a whole nanosecond), or at the next host tick (ticks at ceil(k × 10^9 / hz)).
   */
  private deliveryTime(deadline: Nanoseconds): Nanoseconds {
    if (this.hostTickHz === 0 || deadline === NEVER) return Math.ceil(deadline);
    if (deadline !== this.lastDeadline) {
      const hz = BigInt(this.hostTickHz);
      const second = 1_000_000_000n;
      const at = BigInt(Math.ceil(deadline));
      const tick = (at * hz + second - 1n) / second;
      this.lastTick = Number((tick * second + hz - 1n) / hz);
      this.lastDeadline = deadline;
    }
    return this.lastTick;
  }

  /** Off the CPU for a deschedule window: guest time runs on through it, nothing of the guest runs. */
  private descheduleNow(): void {
    const window = this.deschedule;
    if (window === undefined) return;
    const from = this.clock.tsc();
    this.clock.advanceTo(this.nextDeschedule + window.forNs);
    this.hostCycles += this.clock.tsc() - from;
    this.nextDeschedule += window.everyNs;
    this.descheduledCount++;
  }

  /** When a halted vCPU waiting for `wake` runs again: later, if the host has it descheduled then. */
  private wakeAfterDeschedules(wake: Nanoseconds): Nanoseconds {
    const window = this.deschedule;
    if (window === undefined || wake === NEVER) return wake;
    // Windows over before the wake-up pass unseen by a halted vCPU; one the wake-up falls in delays it to its end.
    while (this.nextDeschedule + window.forNs <= wake) this.nextDeschedule += window.everyNs;
    if (wake < this.nextDeschedule) return wake;
    const end = this.nextDeschedule + window.forNs;
    this.nextDeschedule += window.everyNs;
    this.descheduledCount++;
    return end;
  }

  /** A halt waited from `from` to `to` cycles: host time passes as the policy says (a contracted one compresses it). */
  private waited(from: number, to: number): void {
    const wait = Math.max(0, to - from);
    this.hostCycles += this.charge.kind === 'bounded' ? Math.floor(wait / this.charge.haltFactor) : wait;
  }

  /** The earliest timer deadline of any domain, the device host's included. */
  private nextDeadline(): Nanoseconds {
    let next = this.shared.userDeadline;
    for (const domain of this.domains) next = Math.min(next, domain.nextDeadline());
    return next;
  }

  /**
   * Timers of every domain due by now; the device host's by a kick (an `intr`
   * exit), as QEMU's timer thread. A timer that comes due while the guest
   * runs takes it out first — the host timer interrupt, or the VMX
   * preemption timer KVM arms for the LAPIC timer, is an exit to the kernel;
   * a monitor's timer stops the guest in the monitor — recorded as `timer`
   * exits. A CPU that is already out (halted, or exited for I/O at that
   * time, or not yet entered) crosses nothing more.
   */
  private serviceTimers(now: Nanoseconds): void {
    const userDue = this.shared.userDeadline <= now;
    const outward = this.recording && this.stoppedByDeadline && !this.cpu.halted && !this.onlyOthersDue(now, userDue);
    this.stoppedByDeadline = false;
    const toKernel = outward && (userDue || this.dueBeyondMonitor(now));
    // The exit and the kick are the device's whose timer is due first (a host timer interrupt is its timer's).
    const device = outward ? this.dueTimerDevice(now, userDue) : null;
    if (outward) {
      this.recorder.record('guest', 'monitor', 'timer', device, now);
      if (toKernel) this.recorder.record('monitor', 'kernel', 'timer', device, now);
    }
    const kicker = userDue ? deviceOfTimer(this.shared.userDeadlineOwner) : null;
    for (const domain of this.domains) domain.runDue(now);
    if (userDue) {
      const ready = this.ready();
      const kick: Exit = { kind: 'intr', vcpu: this.vcpu, time: now, ifFlag: this.cpu.interruptible, readyForInterruptInjection: ready };
      if (this.haltedInUser) this.reply(this.userExit(kick)); // the vCPU thread is already out: no kick, no exit
      else this.toUser(kick, 'intr', kicker);
    }
    if (outward) {
      if (toKernel) this.recorder.record('kernel', 'monitor', 'resume', device, now);
      this.recorder.record('monitor', 'guest', 'resume', device, now);
    }
  }

  /** The device whose timer, due by `now`, is the earliest: a domain's here, or the device host's when `userDue`. */
  private dueTimerDevice(now: Nanoseconds, userDue: boolean): string | null {
    let deadline = userDue ? this.shared.userDeadline : NEVER;
    let owner = userDue ? this.shared.userDeadlineOwner : undefined;
    for (const domain of this.domains) {
      const next = domain.nextTimer?.();
      if (next !== undefined && next.deadline <= now && next.deadline < deadline) {
        deadline = next.deadline;
        owner = next.deadlineOwner;
      }
    }
    return deviceOfTimer(owner);
  }

  /** Whether every timer due now is another vCPU's (and none of the device host's). */
  private onlyOthersDue(now: Nanoseconds, userDue: boolean): boolean {
    const owner = this.c.timerOwner;
    if (owner === undefined || userDue) return false;
    let others = false;
    for (const domain of this.domains) {
      for (const name of domain.dueTimerNames?.(now) ?? []) {
        const vcpu = owner(name);
        if (vcpu === undefined || vcpu === this.vcpu) return false;
        others = true;
      }
    }
    return others;
  }

  /** Whether a timer of a domain past the monitor is due: the guest's exit for it goes on to the kernel. */
  private dueBeyondMonitor(now: Nanoseconds): boolean {
    for (const domain of this.domains) if (domain.place !== 'monitor' && domain.nextDeadline() <= now) return true;
    return false;
  }

  /** kvm_run.ready_for_interrupt_injection: the guest can take one and none is queued. */
  private ready(): boolean {
    return this.cpu.interruptible && !this.interrupts.pending();
  }

  /** A heavyweight exit that is no access (a kick — the device's whose timer it is —, a halt, a window, an EOI): out to the device host and back. */
  private toUser(exit: Exit, reason: 'intr' | 'hlt' | 'irq-window-open' | 'ioapic-eoi', device: string | null = null): void {
    const time = exit.time;
    this.recorder.record('kernel', 'user', reason, device, time);
    this.reply(this.userExit(exit));
    this.recorder.record('user', 'kernel', 'resume', device, time);
  }

  private reply(reply: Pick<UserReply, 'deadline' | 'deadlineOwner' | 'requestInterruptWindow'>): void {
    this.shared.userDeadline = reply.deadline;
    this.shared.userDeadlineOwner = reply.deadlineOwner;
    this.windowRequested = reply.requestInterruptWindow;
  }

  /** Every exit but an access. */
  private dispatch(exit: Exclude<GuestExit, GuestAccess>, until: Nanoseconds): 'continue' | 'shutdown' {
    const { cpu, clock } = this;
    switch (exit.kind) {
      case 'budget':
      case 'irq-window':
        return 'continue';
      case 'shutdown':
        return 'shutdown';
      case 'hlt': {
        if (!this.inHalt) this.halts++;
        this.inHalt = true;
        // Nothing runs until the next event: the host's answers to posted writes (its deadline, an irq window) are in first.
        this.settlePosted();
        // Nothing to run until the next event: time jumps to it (the CPU is idle).
        const now = clock.now();
        // HLT exits even with an interrupt already waiting (KVM intercepts it; kvm_vcpu_halt then finds the
        // interrupt and resumes at once): the crossing is recorded before the wake-up is looked at.
        if (this.c.haltIn !== undefined && !this.haltRecorded) {
          this.haltRecorded = true;
          this.recorder.record('guest', 'monitor', 'hlt', null, now);
          if (this.c.haltIn !== 'monitor') {
            this.recorder.record('monitor', 'kernel', 'hlt', null, now);
            if (this.c.haltIn === 'user') {
              this.toUser({ kind: 'hlt', vcpu: this.vcpu, time: now, ifFlag: cpu.interruptible, readyForInterruptInjection: this.ready() }, 'hlt');
              this.haltedInUser = true;
            }
            this.recorder.record('kernel', 'monitor', 'resume', null, now);
          }
          this.recorder.record('monitor', 'guest', 'resume', null, now);
        }
        // An interrupt window userspace asked for is open now: KVM finds it before blocking the halted vCPU and
        // exits with IRQ_WINDOW_OPEN (after KVM_EXIT_HLT, userspace has already injected: nothing is asked then).
        if (cpu.interruptible && (this.windowRequested || this.interrupts.pending())) return 'continue';
        this.pay(); // the halt's own exit is over before the wait begins
        const next = this.wakeAfterDeschedules(this.deliveryTime(this.nextDeadline()));
        const from = clock.tsc();
        if (this.charge.kind === 'host') {
          // The vCPU thread sleeps in the host until the event; it runs on when the host wakes it, however late.
          if (next === NEVER) return 'shutdown';
          const host = this.charge.clock;
          host.waitUntil(next);
          clock.advanceTo(Math.max(next, host.now()));
        } else if (this.c.peers === undefined) {
          if (next === NEVER) return 'shutdown'; // halted with nothing ever to wake it
          clock.advanceTo(Math.max(clock.now(), next));
        } else {
          // Another vCPU may wake this one before then: wait to the end of the slice at most.
          clock.advanceTo(Math.max(clock.now(), Math.min(next, until)));
        }
        this.waited(from, clock.tsc());
        return 'continue';
      }
    }
  }

  /**
   * One access made from outside the guest at the current virtual time
   * (QEMU's qtest `outb`, `readl`, …), through the same domains as the
   * guest's own; returns the bytes read.
   */
  issue(exit: GuestAccess): Uint8Array {
    this.exits++;
    const access = decodeAccess(exit, this.current);
    // The caller keeps what it is given: a buffer of its own. No guest is out for it: nothing is owed.
    const owed = this.owed;
    const data = this.access(exit, access, access.isWrite ? NO_DATA : new Uint8Array(access.width * access.count));
    this.owed = owed;
    return data;
  }

  /** The reused buffer for a read of `length` bytes. */
  private readBuffer(length: number): Uint8Array {
    let buffer = this.readBuffers[length];
    if (buffer === undefined) {
      buffer = new Uint8Array(length);
      this.readBuffers[length] = buffer;
    }
    return buffer;
  }

  /** The access as the exit record kvm_run would hold, at the current time, for the device host (`ready`: false for a posted write). */
  private exitRecord(exit: GuestAccess, data: Uint8Array, ready = true): IoExit | MmioExit | MsrExit {
    const time = this.clock.now();
    const ifFlag = this.cpu.interruptible;
    ready &&= ifFlag && !this.interrupts.pending();
    // Built field by field: object spread here costs more than the rest of the exit.
    switch (exit.kind) {
      case 'io': return { kind: 'io', vcpu: this.vcpu, time, ifFlag, readyForInterruptInjection: ready, direction: exit.direction, port: exit.port, size: exit.size, count: exit.count, data };
      case 'mmio': return { kind: 'mmio', vcpu: this.vcpu, time, ifFlag, readyForInterruptInjection: ready, address: exit.address, length: exit.length, isWrite: exit.isWrite, data };
      case 'msr': return { kind: 'msr', vcpu: this.vcpu, time, ifFlag, readyForInterruptInjection: ready, index: exit.index, isWrite: exit.isWrite, data };
    }
  }

  /**
   * One access, outward until a domain answers it, and back; returns the
   * bytes read (`into`, unless the device host's reply brought them).
   */
  private access(exit: GuestAccess, access: Access, into: Uint8Array): Uint8Array {
    this.completion = into;
    if (this.recording) return this.accessRecorded(exit, access, into);
    const { asked } = this;
    let answered = false;
    for (let i = 0; i < asked.length && !answered; i++) answered = asked[i]?.access(access, into) !== undefined;
    if (!answered) {
      if (this.poster?.posts?.(access) === true) this.post(exit);
      else this.heavyweight(exit);
    }
    this.ioapicEois();
    return this.completion;
  }

  /** `access`, each hop recorded as a transition at the time of the exit. */
  private accessRecorded(exit: GuestAccess, access: Access, into: Uint8Array): Uint8Array {
    const { recorder, domains } = this;
    const time = this.clock.now();
    const reason = exit.kind;
    let device = this.c.deviceAt(access.space, access.address);
    let from: Domain = 'guest';
    let depth = 0;
    let answered: string | null | undefined;
    for (; depth < domains.length; depth++) {
      const domain = domains[depth];
      if (domain === undefined) break;
      recorder.record(from, domain.place, reason, device, time);
      from = domain.place;
      answered = domain.holdsNothing ? undefined : domain.access(access, into);
      if (answered !== undefined) break;
    }
    if (answered === undefined && from === 'kernel' && this.poster?.posts?.(access) === true) {
      // Sent on one way: the kernel's send, then the guest resumes.
      recorder.record('kernel', 'kernel', 'posted', device, time);
      this.post(exit);
    } else if (answered === undefined) {
      recorder.record(from, 'user', reason, device, time);
      this.heavyweight(exit);
      recorder.record('user', from, 'resume', device, time);
    } else if (answered !== null) {
      device = answered; // the kernel names a counter it served for a device it does not hold
    } else if (from === 'kernel') {
      // A write the kernel queued in its coalesced ring: its append now, its drain at the next heavyweight exit.
      recorder.record('kernel', 'kernel', 'coalesced', device, time);
      this.ring.push(device);
    }
    this.ioapicEois();
    for (let i = Math.min(depth, domains.length - 1); i >= 0; i--) recorder.record(domains[i]?.place ?? 'monitor', domains[i - 1]?.place ?? 'guest', 'resume', device, time);
    return this.completion;
  }

  /** The run ioctl returns to the device host with the access; its next `run` brings the completion. */
  private heavyweight(exit: GuestAccess): void {
    // The device host may keep what it is sent: a record and data of its own.
    const reply = this.userExit(this.exitRecord(exit, exit.data.length === 0 ? NO_DATA : exit.data.slice()));
    this.completion = reply.completion;
    this.reply(reply);
  }

  /**
   * A posted write: sent on to the device host one way, the guest not
   * waiting. The record says the guest is not ready for an interrupt (its
   * vCPU has moved on: the host asks for a window instead of injecting).
   */
  private post(exit: GuestAccess): void {
    const record = this.exitRecord(exit, exit.data.slice(), false);
    if (record.kind === 'msr') throw new RangeError('an MSR write is never posted');
    this.drainRing(record.time);
    this.completion = NO_DATA;
    this.posting = true;
    this.collectPosted(this.c.user.post?.(record));
  }

  /** An answer to posted writes, if one came: its deadline and window request hold from now. */
  private collectPosted(reply: UserReply | undefined): void {
    if (reply !== undefined) this.reply(reply);
  }

  /** Waits for the answers to every posted write still out (a device host in another thread). */
  private settlePosted(): void {
    if (!this.posting) return;
    this.collectPosted(this.c.user.settle?.());
    this.posting = false;
  }

  /**
   * The run ioctl returns to the device host with `exit`; the writes queued
   * in the coalesced ring go first, each applied there (its drain recorded).
   * Its answer comes after every posted write's.
   */
  private userExit(exit: Exit): UserReply {
    this.drainRing(exit.time);
    this.posting = false;
    return this.c.user.exit(exit);
  }

  /** The coalesced ring's writes go to the device host ahead of what is sent now: each one's drain recorded. */
  private drainRing(time: Nanoseconds): void {
    if (this.ring.length === 0) return;
    for (const device of this.ring) this.recorder.record('user', 'user', 'coalesced', device, time);
    this.ring.length = 0;
  }

  /** KVM_EXIT_IOAPIC_EOI: the EOIs the kernel owes a userspace I/O APIC leave before the guest runs again. */
  private ioapicEois(): void {
    const owes = this.eoiOwer;
    if (owes?.takeIoapicEoi === undefined) return;
    for (let vector = owes.takeIoapicEoi(); vector >= 0; vector = owes.takeIoapicEoi()) {
      this.toUser({ kind: 'ioapic-eoi', vcpu: this.vcpu, time: this.clock.now(), ifFlag: this.cpu.interruptible, readyForInterruptInjection: this.ready(), vector }, 'ioapic-eoi');
    }
  }

  private summary(until: Nanoseconds, shutdown: boolean): RunSummary {
    this.settlePosted(); // a slice ends with the device host caught up
    const hostCycles = this.charge.kind === 'host' ? this.clock.tscAt(Math.floor(this.charge.clock.now())) : this.hostCycles;
    return { hostCycles, descheduled: this.descheduledCount, exits: this.exits, interrupts: this.injected, halts: this.halts, windows: this.windows, until, shutdown };
  }
}
