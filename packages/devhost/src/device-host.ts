/**
 * The device host — QEMU's role: the devices placed in userspace, on a bus of
 * their own, answering the exits the run ioctl returns. Its time is the
 * guest's time at each exit (it has no clock of its own); before it handles
 * an exit it fires its devices' timers due by then, and each reply (the next
 * `run`) carries its earliest timer deadline, so the kernel stops the guest
 * there with an `intr` exit, as QEMU's timer thread kicks a vCPU. Irq lines
 * go back to the kernel as `irq-line` ioctls, posted ahead of the reply;
 * changes made between exits (at power-on, by a restore) go when the kernel
 * sends `resume` before starting the guest (as QEMU raises its reset-time
 * lines before the first KVM_RUN), or else with the next exit — so the
 * kernel applies them at the same virtual time whichever transport carries
 * them.
 *
 * With the irqchip in userspace (KVM without KVM_CREATE_IRQCHIP, or the
 * 8259 of a split irqchip) the host also owns the CPU's interrupt line: when
 * it is up after an exit, the host acknowledges its irqchip and injects the
 * vector with an `interrupt` ioctl if the exit said the guest was ready, or
 * else asks for an irq window in the `run` reply and injects at the
 * `irq-window-open` exit that follows — QEMU's kvm_arch_pre_run.
 *
 * It is a domain like the kernel and the monitor (the abi's `DeviceDomain`:
 * a bus, timers, device states by name, one entry point for an access);
 * what its place adds is its end of the channel.
 */
import type { AddressSpace, CachedReadDescriptor, ProgramDescriptor, CoalescedWrite, CounterDescriptor, CounterView, DomainTimers, Exit, GuestMemory, IoExit, Message, MmioExit, Nanoseconds } from '@splitvisor/abi';
import { DeviceDomain, ErrorCode, decodeAccess, readLength, sameBytes } from '@splitvisor/abi';
import type { ChannelEnd, ChannelHandler } from '@splitvisor/channel';

export interface DeviceHostOptions {
  /** The timer queue the hosted devices arm their timers on (the composition root's: the clock package's `TimerQueue`). */
  readonly timers: DomainTimers;
  /** Guest RAM as this process maps it (a SharedArrayBuffer shared with the VM), for its devices' DMA. */
  readonly memory?: GuestMemory;
  /**
   * Makes `device` in this host as `placement` (JSON) configures it, and
   * offers its fast paths — a live move into the host (`place-device`).
   * Throws when it cannot; without it, the host makes no devices.
   */
  readonly place?: (host: DeviceHost, device: string, placement: string) => void;
  /** Told of a device taken out (`remove-device`), once it is: what the host opened for it is released. */
  readonly removed?: (device: string) => void;
}

const EMPTY = new Uint8Array(0);

function isWrite(exit: IoExit | MmioExit): boolean {
  return exit.kind === 'io' ? exit.direction === 'out' : exit.isWrite;
}

/** A device's counters offered to the kernel (seed 002): its views, and each one's descriptor at the board's address. */
interface OfferedCounters {
  readonly views: () => readonly CounterView[];
  readonly describe: (view: CounterView) => CounterDescriptor | undefined;
  /** What the kernel holds now, by address. */
  readonly registered: Map<number, CounterDescriptor>;
}

/** A device's reads offered to the kernel's cache (seed 003): where each is, its value now, and the value the kernel holds (undefined: none yet). */
interface OfferedReads {
  readonly reads: readonly Omit<CachedReadDescriptor, 'value'>[];
  readonly valueOf: (read: number) => number | null;
  readonly held: (number | null | undefined)[];
}

/**
 * A device's programs for the kernel (seed 002): where each runs, its
 * scratch now, how it takes back what they changed, and the scratch the
 * kernel holds (undefined: the programs are not loaded).
 */
interface OfferedPrograms {
  readonly programs: readonly Omit<ProgramDescriptor, 'scratch'>[];
  readonly scratch: () => Uint8Array;
  readonly adopt: (scratch: Uint8Array) => void;
  held: Uint8Array | undefined;
}

/** Each CPU's interrupt line of an irqchip hosted here, as its vCPU thread sees it. */
export interface HostedInterrupts {
  pending(vcpu: number): boolean;
  /** `vcpu`'s interrupt acknowledge cycle: the vector to inject. */
  acknowledge(vcpu: number): number;
  /** The host serves an exit of `vcpu` now: its local APIC is the one at the APIC page. */
  serving?(vcpu: number): void;
  /** KVM_EXIT_IOAPIC_EOI: the in-kernel local APIC EOIed a level-triggered vector of the I/O APIC hosted here. */
  ioapicEoi?(vector: number): void;
}

export class DeviceHost extends DeviceDomain<'user'> {
  private readonly end: ChannelEnd;
  private readonly lineLevels = new Map<number, boolean>();
  /** Line changes and MSIs made between exits (at power-on, by a restore): sent with the next exit, at its time. */
  private readonly held: Message[] = [];
  private inExit = false;
  private interrupts: HostedInterrupts | undefined;
  /**
   * vCPUs whose threads wait here after KVM_EXIT_HLT, ready for an
   * interrupt: when this host's irqchip raises one's line during another's
   * exit, QEMU kicks that thread, which queues the vector with
   * KVM_INTERRUPT before its next KVM_RUN (kvm_arch_pre_run).
   */
  private readonly waiting = new Set<number>();
  private readonly offered = new Map<string, OfferedCounters>();
  private readonly offeredReads = new Map<string, OfferedReads>();
  private readonly offeredPrograms = new Map<string, OfferedPrograms>();
  /** The coalesced and posted ranges registered for each device (by name, when the assembly named it). */
  private readonly ranges = new Map<string, Extract<Message, { kind: 'register-coalesced-range' | 'register-posted-range' }>[]>();
  /**
   * Since the last reply: the devices an exit or an ioctl reached, and
   * whether any timer here ran or the coalesced ring's writes were applied
   * (then every device may have changed) — what can have changed a
   * published value or scratch. Only those are looked at again (a status register read a
   * million times is published once).
   */
  private readonly touched = new Set<string>();
  private allTouched = false;
  /** Writes the kernel queued in its coalesced ring, delivered with the exit that flushed it. */
  private coalesced: CoalescedWrite[] = [];
  /** The time of the exit being served (or of the last one): the hosted devices' now. */
  private readonly served: { time: Nanoseconds };
  /** The time of the exit whose arrival fires the timers due by then: when the host got to them. */
  private reached: Nanoseconds = 0;
  readonly handled = { io: 0, mmio: 0, msr: 0, intr: 0, irqLines: 0, msis: 0, injected: 0, windows: 0, halts: 0, ioapicEois: 0, fastPaths: 0, coalescedWrites: 0, cachedReads: 0, programLoads: 0, programScratches: 0, posted: 0 };

  private readonly maker: DeviceHostOptions['place'];
  private readonly removed: DeviceHostOptions['removed'];

  constructor(end: ChannelEnd, options: DeviceHostOptions) {
    const served = { time: 0 };
    super('user', { now: () => served.time, timers: options.timers, ...(options.memory === undefined ? {} : { memory: options.memory }) });
    this.served = served;
    this.end = end;
    this.maker = options.place;
    this.removed = options.removed;
    end.setHandler(this.handler());
  }

  /**
   * Lets the kernel serve `name`'s counters from virtual time (seed 002's
   * generic counter): each view is registered now (sent before the guest
   * runs) and again whenever an access to the device changes it — a
   * counter stopped, restarted or rewritten — before that access's reply.
   */
  offerCounters(name: string, views: () => readonly CounterView[], describe: (view: CounterView) => CounterDescriptor | undefined): void {
    const offer: OfferedCounters = { views, describe, registered: new Map() };
    this.offered.set(name, offer);
    this.refreshCounters(name, offer);
  }

  private refreshCounters(name: string, offer: OfferedCounters): void {
    for (const view of offer.views()) {
      const descriptor = offer.describe(view);
      if (descriptor === undefined) continue;
      const held = offer.registered.get(descriptor.address);
      if (held?.base === descriptor.base && held.epoch === descriptor.epoch && held.running === descriptor.running
        && held.frequencyHz === descriptor.frequencyHz && held.widthBits === descriptor.widthBits) continue;
      offer.registered.set(descriptor.address, descriptor);
      this.handled.fastPaths++;
      this.send({ kind: 'register-fast-path', device: name, descriptor });
    }
  }

  /**
   * Lets the kernel answer reads of `name`'s status registers from values
   * published here (seed 003's coupled in-port cache): each descriptor is
   * registered now and again whenever its value changes, checked after every
   * exit this host serves — so the kernel holds the values as they stand at
   * the guest's next entry. The kernel serves one only until this host's
   * next timer and while no write that could change it waits in its ring.
   */
  offerCachedReads(name: string, reads: readonly Omit<CachedReadDescriptor, 'value'>[], valueOf: (read: number) => number | null): void {
    const offer: OfferedReads = { reads, valueOf, held: reads.map(() => undefined) };
    this.offeredReads.set(name, offer);
    this.refreshCachedReads(name, offer);
  }

  private refreshCachedReads(name: string, offer: OfferedReads): void {
    const { reads, valueOf, held } = offer;
    for (let i = 0; i < reads.length; i++) {
      const value = valueOf(i);
      const read = reads[i];
      if (held[i] === value || read === undefined) continue;
      held[i] = value;
      this.handled.cachedReads++;
      this.send({ kind: 'register-fast-path', device: name, descriptor: { ...read, value } });
    }
  }

  /**
   * Loads `name`'s programs into the kernel (seed 002's bytecode: the kernel
   * verifies them) with its scratch; after an exit this host serves, sends
   * the scratch alone (`program-scratch`) whenever the device's differs from
   * the kernel's. What the programs change comes back the same way ahead of
   * the next exit, and the device takes it (`adopt`) before it sees that
   * exit — so the device and the kernel never disagree where the guest could
   * tell.
   */
  offerPrograms(name: string, programs: readonly Omit<ProgramDescriptor, 'scratch'>[], scratch: () => Uint8Array, adopt: (scratch: Uint8Array) => void): void {
    const offer: OfferedPrograms = { programs, scratch, adopt, held: undefined };
    this.offeredPrograms.set(name, offer);
    this.refreshPrograms(name, offer);
  }

  private refreshPrograms(name: string, offer: OfferedPrograms): void {
    const scratch = offer.scratch();
    if (offer.held !== undefined) {
      if (sameBytes(offer.held, scratch)) return;
      offer.held = scratch;
      this.handled.programScratches++;
      this.send({ kind: 'program-scratch', device: name, scratch });
      return;
    }
    offer.held = scratch;
    for (const program of offer.programs) {
      this.handled.programLoads++;
      this.send({ kind: 'register-fast-path', device: name, descriptor: { ...program, scratch } });
    }
  }

  /** What the kernel's programs left in `name`'s scratch: the device takes it, and the kernel holds it. */
  private programScratch(name: string, scratch: Uint8Array): void {
    const offer = this.offeredPrograms.get(name);
    if (offer === undefined) return;
    this.handled.programScratches++;
    offer.adopt(scratch);
    offer.held = scratch;
    this.touched.add(name);
  }

  /** Every offered read and program as it stands now, to the kernel if it changed. */
  private refreshAll(): void {
    for (const [name, offer] of this.offeredReads) this.refreshCachedReads(name, offer);
    for (const [name, offer] of this.offeredPrograms) this.refreshPrograms(name, offer);
  }

  /** What the kernel holds for the devices that may have changed since the last reply: all of them after a timer ran here. */
  private refreshTouched(): void {
    if (this.allTouched) this.refreshAll();
    else {
      for (const name of this.touched) {
        const reads = this.offeredReads.get(name);
        if (reads !== undefined) this.refreshCachedReads(name, reads);
        const programs = this.offeredPrograms.get(name);
        if (programs !== undefined) this.refreshPrograms(name, programs);
      }
    }
    this.touched.clear();
    this.allTouched = false;
  }

  /**
   * Asks the kernel to queue writes to a range in its coalesced ring instead
   * of exiting on them (KVM_REGISTER_COALESCED_MMIO / _PIO, as QEMU does for
   * the RTC's index port): they arrive here, in order, ahead of the next
   * heavyweight exit, and are applied at that exit's time.
   */
  coalesce(space: AddressSpace, address: number, length: number, device?: string): void {
    this.rangeOf(device, { kind: 'register-coalesced-range', space, address, length, enable: true });
  }

  /** Sends a range's registration, kept by `device` (when named) to be taken back if the device leaves. */
  private rangeOf(device: string | undefined, registration: Extract<Message, { kind: 'register-coalesced-range' | 'register-posted-range' }>): void {
    if (device !== undefined) this.ranges.set(device, [...this.ranges.get(device) ?? [], registration]);
    this.send(registration);
  }

  /**
   * A device left this host (a move): the ranges registered for it are
   * unregistered, and what this host offered the kernel for it is forgotten
   * here (the kernel forgets its side: `forgetHostDevice`).
   */
  protected override detached(name: string, lines: readonly number[]): void {
    for (const range of this.ranges.get(name) ?? []) this.send({ ...range, enable: false });
    for (const line of lines) this.lineLevels.delete(line); // the level it set is its new domain's to drive
    this.ranges.delete(name);
    this.offered.delete(name);
    this.offeredReads.delete(name);
    this.offeredPrograms.delete(name);
    this.touched.delete(name);
  }

  /**
   * Asks the kernel to send writes to a range on one way (KVM_IOEVENTFD,
   * generalised; crosvm's one-way proxied writes): the guest resumes without
   * waiting, and the host answers each with a posted `run` — its deadline,
   * and an irq window if its irqchip has an interrupt (a posted write says
   * the guest is not ready: its vCPU has moved on, so nothing is injected
   * then).
   */
  postWrites(space: AddressSpace, address: number, length: number, device?: string): void {
    this.rangeOf(device, { kind: 'register-posted-range', space, address, length, enable: true });
  }

  /** The CPU line of an irqchip hosted here, injected through the kernel (see above). */
  hostInterrupts(interrupts: HostedInterrupts): void {
    this.interrupts = interrupts;
  }

  /** KVM_SIGNAL_MSI: an interrupt message for the kernel's local APICs (from an I/O APIC hosted here). */
  signalMsi(address: number, data: number): void {
    this.handled.msis++;
    this.send({ kind: 'msi', address, data });
  }

  /**
   * A line with no irqchip hosted here to take it (with a userspace or split
   * irqchip, `routeIrqs` gives the 8259 and I/O APIC hosted here): KVM_IRQ_LINE
   * into the kernel's irqchip, sent only when its level changes.
   */
  protected override unroutedIrq(gsi: number, level: boolean): void {
    if (this.lineLevels.get(gsi) === level) return;
    this.lineLevels.set(gsi, level);
    this.handled.irqLines++;
    this.send({ kind: 'irq-line', gsi, level });
  }

  /** An ioctl to the kernel: now, during an exit; else held for the next one. */
  private send(message: Message): void {
    if (this.inExit) this.end.post(message);
    else this.held.push(message);
  }

  /** Brings device time to `time`, firing every timer due on the way at its deadline. */
  private advanceTo(time: Nanoseconds): void {
    const { served } = this;
    this.reached = Math.max(this.reached, time);
    if (this.timers.advanceTo(time, (due) => { served.time = Math.max(served.time, due); }) > 0) this.allTouched = true;
    served.time = Math.max(served.time, time);
  }

  /**
   * A timer here fires at its deadline in the devices' time, but the host
   * only got to it at the exit that brought time past it — the kernel's kick
   * at the deadline, or a later exit when delivery waits for a host tick or
   * a descheduled vCPU: that is its lateness.
   */
  protected override ranAt(due: Nanoseconds): Nanoseconds {
    return Math.max(due, this.reached);
  }

  /** The `run` that resumes the vCPU after `exit`, injecting or asking for a window if this host's irqchip has an interrupt for it. */
  private resume(exit: Exit, completion: Uint8Array): Message {
    let requestInterruptWindow = false;
    const { vcpu } = exit;
    // A kick (the host's timers) is not the vCPU's own exit: a thread waiting in `hlt` still waits.
    if (exit.kind === 'hlt' && exit.readyForInterruptInjection) this.waiting.add(vcpu);
    else if (exit.kind !== 'intr') this.waiting.delete(vcpu);
    if (this.interrupts?.pending(vcpu) === true) {
      if (exit.readyForInterruptInjection) {
        this.inject(vcpu);
      } else {
        requestInterruptWindow = true;
      }
    }
    for (const other of this.waiting) if (other !== vcpu && this.interrupts?.pending(other) === true) this.inject(other);
    if (this.offeredReads.size > 0 || this.offeredPrograms.size > 0) this.refreshTouched();
    return { kind: 'run', vcpu: exit.vcpu, completion, requestInterruptWindow, immediateExit: false, ...this.nextTimer() };
  }

  /** KVM_INTERRUPT for `vcpu`: the vector its thread acknowledged, injected at its next entry. */
  private inject(vcpu: number): void {
    if (this.interrupts === undefined) return;
    this.waiting.delete(vcpu);
    this.handled.injected++;
    this.end.post({ kind: 'interrupt', vcpu, vector: this.interrupts.acknowledge(vcpu) });
  }

  /**
   * The guest stopped at `time` (a snapshot, a restore, a device moving
   * out): the coalesced ring's writes are applied now, and `time` is the
   * devices' now from here — no timer runs (one due and not yet delivered,
   * as under host-tick delivery, stays due and fires when the guest runs
   * again). The device states answered next are whole; states set next are
   * set at the guest's time.
   */
  private pause(time: Nanoseconds): void {
    this.served.time = Math.max(this.served.time, time);
    if (this.coalesced.length > 0) this.applyCoalesced();
  }

  /** Answers one exit: the `run` that resumes the vCPU. */
  handleExit(exit: Exit): Message {
    this.inExit = true;
    try {
      if (this.held.length > 0) for (const message of this.held.splice(0)) this.end.post(message);
      this.advanceTo(exit.time);
      if (this.coalesced.length > 0) this.applyCoalesced();
      return this.dispatch(exit);
    } finally {
      this.inExit = false;
    }
  }

  private dispatch(exit: Exit): Message {
    this.interrupts?.serving?.(exit.vcpu);
    switch (exit.kind) {
      case 'io':
      case 'mmio':
      case 'msr': {
        this.handled[exit.kind]++;
        const access = decodeAccess(exit);
        const completion = access.isWrite ? EMPTY : new Uint8Array(readLength(access));
        const name = this.access(access, completion);
        if (name != null) this.touched.add(name);
        if (name === undefined) this.bus.openBus(access, completion);
        if (this.offered.size > 0 && access.space !== 'msr') {
          const offer = name == null ? undefined : this.offered.get(name);
          if (name != null && offer !== undefined) this.refreshCounters(name, offer);
        }
        return this.resume(exit, completion);
      }
      case 'intr':
        this.handled.intr++;
        return this.resume(exit, EMPTY);
      case 'irq-window-open':
        this.handled.windows++;
        return this.resume(exit, EMPTY);
      case 'hlt':
        this.handled.halts++;
        return this.resume(exit, EMPTY);
      case 'ioapic-eoi':
        this.handled.ioapicEois++;
        this.interrupts?.ioapicEoi?.(exit.vector);
        return this.resume(exit, EMPTY);
      default:
        // shutdown, internal-error: nothing for the devices here to do.
        return this.resume(exit, EMPTY);
    }
  }

  private handler(): ChannelHandler {
    return {
      onCall: (message) => {
        switch (message.kind) {
          case 'io':
          case 'mmio':
          case 'msr':
          case 'hlt':
          case 'irq-window-open':
          case 'shutdown':
          case 'intr':
          case 'ioapic-eoi':
          case 'internal-error':
            return this.handleExit(message);
          case 'get-device-state':
            return this.getDeviceState(message.device);
          case 'set-device-state': {
            // The kernel forgets what it cached of a device given a new state; its next refresh sends it all again.
            this.offeredReads.get(message.device)?.held.fill(undefined);
            const programs = this.offeredPrograms.get(message.device);
            if (programs !== undefined) programs.held = undefined;
            this.touched.add(message.device);
            return this.setDeviceState(message.device, message.state);
          }
          case 'pause':
            this.pause(message.time);
            return { kind: 'ok' };
          case 'remove-device':
            if (this.getDeviceState(message.device).kind === 'error') return { kind: 'error', code: ErrorCode.NoDevice, message: `no device ${message.device} in the device host to remove` };
            this.detach(message.device);
            this.removed?.(message.device);
            return { kind: 'ok' };
          case 'place-device':
            return this.placeDevice(message.device, message.placement);
          case 'resume':
            this.refreshAll();
            // The kernel starts (or resumes) the guest: lines set meanwhile — at power-on, by a restore — go now,
            // and the answer is the first KVM_RUN, with this host's earliest deadline.
            for (const message of this.held.splice(0)) this.end.post(message);
            return { kind: 'run', vcpu: 0, completion: EMPTY, requestInterruptWindow: false, immediateExit: false, ...this.nextTimer() };
          default:
            return { kind: 'error', code: ErrorCode.Unsupported, message: `${message.kind} is not served by the device host` };
        }
      },
      onPost: (message) => {
        if (message.kind === 'coalesced-io') this.coalesced.push(...message.writes);
        else if (message.kind === 'program-scratch') this.programScratch(message.device, message.scratch);
        else if ((message.kind === 'io' || message.kind === 'mmio') && isWrite(message)) {
          // A posted write: served like any exit, its answer sent back one way.
          this.handled.posted++;
          this.end.post(this.handleExit(message));
        }
      },
    };
  }

  /** `place-device`: the device made here by the hook the host was given, or why not. */
  private placeDevice(device: string, placement: string): Message {
    if (this.maker === undefined) return { kind: 'error', code: ErrorCode.Unsupported, message: 'this device host makes no devices' };
    if (this.getDeviceState(device).kind !== 'error') return { kind: 'error', code: ErrorCode.Invalid, message: `${device} is in the device host already` };
    try {
      this.maker(this, device, placement);
    } catch (error) {
      return { kind: 'error', code: ErrorCode.Invalid, message: `${device} cannot be made in the device host: ${error instanceof Error ? error.message : String(error)}` };
    }
    return { kind: 'ok' };
  }

  /** The ring's writes, in the order the guest made them, at the time of the exit that brought them. */
  private applyCoalesced(): void {
    const writes = this.coalesced;
    this.coalesced = [];
    this.allTouched = true; // writes from the ring reached devices: look at every published value again
    for (const write of writes) {
      this.handled.coalescedWrites++;
      this.bus.write(write.space, write.address, write.data);
    }
  }

  /** A restore moves a device's counters: the kernel is told before it serves them again. */
  protected override restored(name: string): void {
    const offer = this.offered.get(name);
    if (offer !== undefined) this.refreshCounters(name, offer);
  }

}
