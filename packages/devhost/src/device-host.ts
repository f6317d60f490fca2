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
 */
import type { AddressSpace, CoalescedWrite, CounterDescriptor, CounterView, DeviceContext, DeviceLogger, DeviceState, Exit, GuestMemory, Message, Nanoseconds, Timer } from '@splitvisor/abi';
import { ErrorCode, IoBus, NEVER, NO_MEMORY } from '@splitvisor/abi';
import type { ChannelEnd, ChannelHandler } from '@splitvisor/channel';
import { TimerQueue } from '@splitvisor/clock';

export interface HostedDevice {
  readonly name: string;
  getState(): DeviceState;
  setState(state: DeviceState): void;
}


const EMPTY = new Uint8Array(0);

/** A device's counters offered to the kernel (seed 001): its views, and each one's descriptor at the board's address. */
interface OfferedCounters {
  readonly views: () => readonly CounterView[];
  readonly describe: (view: CounterView) => CounterDescriptor | undefined;
  /** What the kernel holds now, by address. */
  readonly registered: Map<number, CounterDescriptor>;
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

export class DeviceHost {
  readonly bus = new IoBus();
  private readonly timers = new TimerQueue();
  private readonly end: ChannelEnd;
  private readonly devices = new Map<string, HostedDevice>();
  private readonly lineLevels = new Map<number, boolean>();
  /** Line changes and MSIs made between exits (at power-on, by a restore): sent with the next exit, at its time. */
  private readonly held: Message[] = [];
  /** An irqchip hosted here takes this host's lines itself. */
  private localIrqs: ((gsi: number, level: boolean) => void) | undefined;
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
  /** Writes the kernel queued in its coalesced ring, delivered with the exit that flushed it. */
  private coalesced: CoalescedWrite[] = [];
  private time: Nanoseconds = 0;
  readonly log: string[] = [];
  readonly handled = { io: 0, mmio: 0, msr: 0, intr: 0, irqLines: 0, msis: 0, injected: 0, windows: 0, halts: 0, ioapicEois: 0, fastPaths: 0, coalescedWrites: 0 };

  private readonly memory: GuestMemory;

  /** `memory`: guest RAM as this process maps it (a SharedArrayBuffer shared with the VM), for its devices' DMA. */
  constructor(end: ChannelEnd, memory: GuestMemory = NO_MEMORY) {
    this.end = end;
    this.memory = memory;
    end.setHandler(this.handler());
  }

  /**
   * The context for a device hosted here: virtual time from the exits, timers
   * on this host's queue, irq output n driving GSI `gsiOf(n)` in the kernel.
   */
  context(name: string, gsiOf: (output: number) => number): DeviceContext {
    const log: DeviceLogger = {
      debug: () => undefined,
      warn: (message) => { this.log.push(`${name}: ${message}`); },
    };
    return {
      now: () => this.time,
      timer: (callback): Timer => this.timers.timer(callback),
      setIrq: (output, level) => { this.setLine(gsiOf(output), level); },
      memory: this.memory,
      log,
    };
  }

  /**
   * Lets the kernel serve `name`'s counters from virtual time (seed 001's
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
   * Asks the kernel to queue writes to a range in its coalesced ring instead
   * of exiting on them (KVM_REGISTER_COALESCED_MMIO / _PIO, as QEMU does for
   * the RTC's index port): they arrive here, in order, ahead of the next
   * heavyweight exit, and are applied at that exit's time.
   */
  coalesce(space: AddressSpace, address: number, length: number): void {
    this.send({ kind: 'register-coalesced-range', space, address, length, enable: true });
  }

  /** The CPU line of an irqchip hosted here, injected through the kernel (see above). */
  hostInterrupts(interrupts: HostedInterrupts): void {
    this.interrupts = interrupts;
  }

  /** Makes `device`'s state reachable by name (get/set device state ioctls). */
  host(device: HostedDevice): void {
    this.devices.set(device.name, device);
  }

  /** With the 8259 and I/O APIC hosted here (a userspace or split irqchip), this host's lines go to them, not to the kernel. */
  routeIrqs(sink: (gsi: number, level: boolean) => void): void {
    this.localIrqs = sink;
  }

  /** KVM_SIGNAL_MSI: an interrupt message for the kernel's local APICs (from an I/O APIC hosted here). */
  signalMsi(address: number, data: number): void {
    this.handled.msis++;
    this.send({ kind: 'msi', address, data });
  }

  private setLine(gsi: number, level: boolean): void {
    if (this.localIrqs !== undefined) {
      this.localIrqs(gsi, level);
      return;
    }
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
    this.timers.advanceTo(time, (due) => { this.time = Math.max(this.time, due); });
    this.time = Math.max(this.time, time);
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
    return { kind: 'run', vcpu: exit.vcpu, completion, requestInterruptWindow, immediateExit: false, deadline: this.timers.nextDeadline() };
  }

  /** KVM_INTERRUPT for `vcpu`: the vector its thread acknowledged, injected at its next entry. */
  private inject(vcpu: number): void {
    if (this.interrupts === undefined) return;
    this.waiting.delete(vcpu);
    this.handled.injected++;
    this.end.post({ kind: 'interrupt', vcpu, vector: this.interrupts.acknowledge(vcpu) });
  }

  /** Answers one exit: the `run` that resumes the vCPU. */
  handleExit(exit: Exit): Message {
    this.inExit = true;
    try {
      for (const message of this.held.splice(0)) this.end.post(message);
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
        const completion = this.bus.answer(exit);
        if (this.offered.size > 0 && exit.kind !== 'msr') {
          const name = this.bus.find(exit.kind === 'io' ? 'port' : 'mmio', exit.kind === 'io' ? exit.port : exit.address)?.name;
          const offer = name === undefined ? undefined : this.offered.get(name);
          if (name !== undefined && offer !== undefined) this.refreshCounters(name, offer);
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
          case 'get-device-state': {
            const device = this.devices.get(message.device);
            if (device === undefined) return { kind: 'error', code: ErrorCode.NoDevice, message: `no device ${message.device} in the device host` };
            return { kind: 'device-state', device: message.device, state: device.getState() };
          }
          case 'set-device-state': {
            const device = this.devices.get(message.device);
            if (device === undefined) return { kind: 'error', code: ErrorCode.NoDevice, message: `no device ${message.device} in the device host` };
            try {
              device.setState(message.state);
            } catch (error) {
              return { kind: 'error', code: ErrorCode.Invalid, message: error instanceof Error ? error.message : String(error) };
            }
            const offer = this.offered.get(message.device);
            if (offer !== undefined) this.refreshCounters(message.device, offer); // a restore moves its counters
            return { kind: 'ok' };
          }
          case 'resume':
            // The kernel starts (or resumes) the guest: lines set meanwhile — at power-on, by a restore — go now,
            // and the answer is the first KVM_RUN, with this host's earliest deadline.
            for (const message of this.held.splice(0)) this.end.post(message);
            return { kind: 'run', vcpu: 0, completion: EMPTY, requestInterruptWindow: false, immediateExit: false, deadline: this.timers.nextDeadline() };
          default:
            return { kind: 'error', code: ErrorCode.Unsupported, message: `${message.kind} is not served by the device host` };
        }
      },
      onPost: (message) => {
        if (message.kind === 'coalesced-io') this.coalesced.push(...message.writes);
      },
    };
  }

  /** The ring's writes, in the order the guest made them, at the time of the exit that brought them. */
  private applyCoalesced(): void {
    const writes = this.coalesced;
    this.coalesced = [];
    for (const write of writes) {
      this.handled.coalescedWrites++;
      this.bus.write(write.space, write.address, write.data);
    }
  }

  /** The device host's earliest timer deadline (NEVER if none). */
  nextDeadline(): Nanoseconds {
    return this.timers.size === 0 ? NEVER : this.timers.nextDeadline();
  }
}
