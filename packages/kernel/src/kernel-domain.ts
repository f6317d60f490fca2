/**
 * The kernel domain — KVM's role. It owns a bus for the devices placed in
 * the kernel and answers the exits it can on the lightweight path: accesses
 * to its devices; reads of counters the device host registered (seed 001's
 * generic counter, served from virtual time without a userspace exit); and
 * writes to ranges registered as coalesced (KVM_REGISTER_COALESCED_MMIO:
 * queued in a ring that goes to userspace ahead of the next heavyweight
 * exit). Everything else goes to userspace. It also answers the device
 * host's ioctls: irq lines, device state, coalesced ranges, fast paths.
 */
import type {
  AddressSpace, CoalescedIo, CoalescedWrite, CounterDescriptor, DeviceContext, DeviceState, Exit, GuestMemory, Message,
  Nanoseconds, Request,
} from '@splitvisor/abi';
import { ErrorCode, IoBus, MSR_BYTES, NO_MEMORY, counterValueAt, msrAddress } from '@splitvisor/abi';
import { TimerQueue } from '@splitvisor/clock';

export interface KernelDevice {
  readonly name: string;
  getState(): DeviceState;
  setState(state: DeviceState): void;
}

/** What a lightweight exit came to. */
export type KernelOutcome =
  | { readonly kind: 'handled'; readonly completion: Uint8Array; readonly device: string | null; readonly via: 'device' | 'counter' | 'coalesced' }
  | { readonly kind: 'to-user' };

interface CoalescedRange {
  readonly space: AddressSpace;
  readonly address: number;
  readonly length: number;
}

const EMPTY = new Uint8Array(0);
/** One answer for every exit that goes on to userspace: the hot path allocates nothing for it. */
const TO_USER: KernelOutcome = { kind: 'to-user' };

export class KernelDomain {
  readonly bus = new IoBus();
  readonly timers = new TimerQueue();
  private readonly now: () => Nanoseconds;
  private readonly devices = new Map<string, KernelDevice>();
  private readonly counters: { device: string; descriptor: CounterDescriptor }[] = [];
  private readonly coalescedRanges: CoalescedRange[] = [];
  private ring: CoalescedWrite[] = [];
  private irqSink: (gsi: number, level: boolean) => void = () => undefined;
  private msiSink: ((address: number, data: number) => void) | undefined;
  /** KVM_INTERRUPT's vector by vCPU, injected at its next entry. */
  private readonly queued = new Map<number, number>();
  /** Level-triggered EOIs for a userspace I/O APIC, each to leave as a KVM_EXIT_IOAPIC_EOI before the guest runs again. */
  private readonly ioapicEois: number[] = [];
  /** How `handleAccess` answered the last access it answered. */
  private answeredVia: 'device' | 'counter' | 'coalesced' = 'device';
  readonly log: string[] = [];

  private readonly memory: GuestMemory;

  /** `memory`: guest RAM, for the DMA of devices placed here. */
  constructor(now: () => Nanoseconds, memory: GuestMemory = NO_MEMORY) {
    this.now = now;
    this.memory = memory;
  }

  /** Where irq lines go: the in-kernel irqchip's inputs (GSIs). */
  setIrqSink(sink: (gsi: number, level: boolean) => void): void {
    this.irqSink = sink;
  }

  /** Where MSIs go (KVM_SIGNAL_MSI): the in-kernel local APICs; unset, the ioctl is refused (no in-kernel APICs). */
  setMsiSink(sink: (address: number, data: number) => void): void {
    this.msiSink = sink;
  }

  /** Whether a KVM_INTERRUPT vector waits to be injected into `vcpu`. */
  hasQueuedInterrupt(vcpu = 0): boolean {
    return this.queued.has(vcpu);
  }

  /** `vcpu`'s KVM_INTERRUPT vector, taken for injection (-1 if none). */
  takeQueuedInterrupt(vcpu = 0): number {
    const vector = this.queued.get(vcpu) ?? -1;
    this.queued.delete(vcpu);
    return vector;
  }

  /** The in-kernel local APIC EOIed a level-triggered vector that a userspace I/O APIC delivered. */
  ioapicEoi(vector: number): void {
    this.ioapicEois.push(vector);
  }

  /** Whether a KVM_EXIT_IOAPIC_EOI is owed (what the run loop looks at after each access, instead of a take). */
  get ioapicEoiOwed(): boolean {
    return this.ioapicEois.length > 0;
  }

  /** The next KVM_EXIT_IOAPIC_EOI owed to userspace (-1 if none). */
  takeIoapicEoi(): number {
    return this.ioapicEois.shift() ?? -1;
  }

  /** A context for a device placed here: the monitor's virtual time, this domain's timers, output n on GSI gsiOf(n). */
  context(name: string, gsiOf: (output: number) => number): DeviceContext {
    return {
      now: () => this.now(),
      timer: (callback) => this.timers.timer(callback),
      setIrq: (output, level) => { this.irqSink(gsiOf(output), level); },
      memory: this.memory,
      log: { debug: () => undefined, warn: (message) => { this.log.push(`${name}: ${message}`); } },
    };
  }

  host(device: KernelDevice): void {
    this.devices.set(device.name, device);
  }

  /** Drives a GSI (the device host's KVM_IRQ_LINE, or a kernel device's line). */
  setIrq(gsi: number, level: boolean): void {
    this.irqSink(gsi, level);
  }

  // --- the lightweight path ---------------------------------------------------------

  /** Answers an I/O, MMIO or MSR exit here if it can. */
  handle(exit: Exit): KernelOutcome {
    if (exit.kind !== 'io' && exit.kind !== 'mmio' && exit.kind !== 'msr') return TO_USER;
    const isIo = exit.kind === 'io';
    const width = isIo ? exit.size : exit.kind === 'mmio' ? exit.length : MSR_BYTES;
    const count = isIo ? exit.count : 1;
    const isWrite = isIo ? exit.direction === 'out' : exit.isWrite;
    const completion = isWrite ? EMPTY : new Uint8Array(width * count);
    const address = isIo ? exit.port : exit.kind === 'mmio' ? exit.address : msrAddress(exit.index);
    const device = this.handleAccess(isIo ? 'port' : exit.kind, address, width, count, isWrite, exit.data, completion);
    if (device === undefined) return TO_USER;
    return { kind: 'handled', completion, device, via: this.answeredVia };
  }

  /** Whether this domain answers no access at all (nothing placed here, no counters or coalesced ranges registered). */
  get holdsNothing(): boolean {
    return this.bus.empty && this.counters.length === 0 && this.coalescedRanges.length === 0;
  }

  /**
   * `handle` for the run loop's hot path, the access given field by field
   * and nothing allocated: `count` elements of `width` bytes at `address`
   * (string I/O when count > 1); a write's bytes come from `data`, a read's
   * go into the caller's `into` (`width × count` bytes). Returns the name of
   * the device that answered, null when it was answered without one (a
   * coalesced write), or undefined when it goes on to userspace. Neither
   * buffer is kept.
   */
  handleAccess(space: AddressSpace, address: number, width: number, count: number, isWrite: boolean, data: Uint8Array, into: Uint8Array): string | null | undefined {
    const mapping = this.bus.accessInto(space, address, width, count, isWrite, data, into);
    if (mapping === undefined) return this.handleUnmapped(space, address, width, count, isWrite, data, into);
    this.answeredVia = 'device';
    return mapping.name;
  }

  /** An access no device here holds: a registered counter's read or a coalesced write, or on to userspace. */
  private handleUnmapped(space: AddressSpace, address: number, width: number, count: number, isWrite: boolean, data: Uint8Array, into: Uint8Array): string | null | undefined {
    if (isWrite) return this.coalescedRanges.length === 0 ? undefined : this.coalesce(space, address, width, count, data);
    return this.counters.length === 0 || count !== 1 ? undefined : this.readCounter(space, address, width, into);
  }

  /** A read of a counter the device host registered (seed 001), served from virtual time. */
  private readCounter(space: AddressSpace, address: number, width: number, into: Uint8Array): string | undefined {
    for (const counter of this.counters) {
      const { descriptor } = counter;
      if (descriptor.space !== space || descriptor.address !== address || descriptor.size !== width) continue;
      const value = counterValueAt(descriptor, this.now());
      for (let i = 0; i < width; i++) into[i] = Number((value >> BigInt(8 * i)) & 0xffn);
      this.answeredVia = 'counter';
      return counter.device;
    }
    return undefined;
  }

  /** A write to a coalesced range: queued in the ring, answered here (null: no device named). */
  private coalesce(space: AddressSpace, address: number, width: number, count: number, data: Uint8Array): null | undefined {
    if (width > 8) return undefined;
    for (const r of this.coalescedRanges) {
      if (r.space !== space || address < r.address || address + width > r.address + r.length) continue;
      for (let i = 0; i < count; i++) this.ring.push({ space, address, data: data.slice(i * width, (i + 1) * width) });
      this.answeredVia = 'coalesced';
      return null;
    }
    return undefined;
  }

  /** The coalesced ring's contents, emptied: what goes to userspace ahead of the next heavyweight exit. */
  takeCoalesced(): CoalescedIo | undefined {
    if (this.ring.length === 0) return undefined;
    const writes = this.ring;
    this.ring = [];
    return { kind: 'coalesced-io', writes };
  }

  /** Fires the kernel's device timers due by `now`. */
  runDue(now: Nanoseconds): number {
    return this.timers.runDue(now);
  }

  /** The earliest deadline of the kernel's device timers (NEVER if none). */
  nextDeadline(): Nanoseconds {
    return this.timers.nextDeadline();
  }

  // --- ioctls from the device host --------------------------------------------------

  ioctl(request: Request): Message {
    switch (request.kind) {
      case 'irq-line':
        this.irqSink(request.gsi, request.level);
        return { kind: 'ok' };
      case 'interrupt':
        // KVM_INTERRUPT: userspace acknowledged its irqchip because the last exit said the guest was ready.
        // A vCPU ioctl: each vCPU has its own queued vector.
        if (this.queued.has(request.vcpu)) return { kind: 'error', code: ErrorCode.Invalid, message: `vector ${this.queued.get(request.vcpu)} is already queued for injection into vCPU ${request.vcpu}` };
        this.queued.set(request.vcpu, request.vector);
        return { kind: 'ok' };
      case 'msi':
        if (this.msiSink === undefined) return { kind: 'error', code: ErrorCode.Unsupported, message: 'no local APICs in the kernel to signal' };
        this.msiSink(request.address, request.data);
        return { kind: 'ok' };
      case 'get-device-state': {
        const device = this.devices.get(request.device);
        return device === undefined
          ? { kind: 'error', code: ErrorCode.NoDevice, message: `no device ${request.device} in the kernel` }
          : { kind: 'device-state', device: request.device, state: device.getState() };
      }
      case 'set-device-state': {
        const device = this.devices.get(request.device);
        if (device === undefined) return { kind: 'error', code: ErrorCode.NoDevice, message: `no device ${request.device} in the kernel` };
        try {
          device.setState(request.state);
        } catch (error) {
          return { kind: 'error', code: ErrorCode.Invalid, message: error instanceof Error ? error.message : String(error) };
        }
        return { kind: 'ok' };
      }
      case 'register-coalesced-range': {
        const index = this.coalescedRanges.findIndex((r) => r.space === request.space && r.address === request.address && r.length === request.length);
        if (request.enable && index < 0) this.coalescedRanges.push({ space: request.space, address: request.address, length: request.length });
        if (!request.enable && index >= 0) this.coalescedRanges.splice(index, 1);
        return { kind: 'ok' };
      }
      case 'register-fast-path': {
        const { descriptor } = request;
        const existing = this.counters.findIndex((c) => c.descriptor.space === descriptor.space && c.descriptor.address === descriptor.address);
        if (existing >= 0) this.counters.splice(existing, 1);
        this.counters.push({ device: request.device, descriptor });
        return { kind: 'ok' };
      }
      default:
        return { kind: 'error', code: ErrorCode.Unsupported, message: `${request.kind} is not a kernel ioctl` };
    }
  }
}
