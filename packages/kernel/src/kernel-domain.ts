/**
 * The kernel domain — KVM's role: a domain (the abi's `DeviceDomain`: a bus,
 * timers, device states by name) whose place adds the lightweight path. It
 * answers the exits it can on the lightweight path: accesses
 * to its devices; reads of counters the device host registered (seed 002's
 * generic counter, served from virtual time without a userspace exit); and
 * writes to ranges registered as coalesced (KVM_REGISTER_COALESCED_MMIO:
 * queued in a ring that goes to userspace ahead of the next heavyweight
 * exit). Everything else goes to userspace. It also answers the device
 * host's ioctls: irq lines, device state, coalesced ranges, fast paths.
 */
import type { Access, AddressSpace, CoalescedIo, CoalescedWrite, CounterDescriptor, GuestMemory, Message, Nanoseconds, Request } from '@splitvisor/abi';
import { DeviceDomain, ErrorCode, NO_MEMORY, counterValueAt } from '@splitvisor/abi';
import { TimerQueue } from '@splitvisor/clock';

interface CoalescedRange {
  readonly space: AddressSpace;
  readonly address: number;
  readonly length: number;
}

/** Whether the whole access falls in a coalesced range. */
function inRange(range: CoalescedRange, access: Access): boolean {
  return range.space === access.space && access.address >= range.address && access.address + access.width <= range.address + range.length;
}

export class KernelDomain extends DeviceDomain<'kernel'> {
  private readonly counters: { device: string; descriptor: CounterDescriptor }[] = [];
  private readonly coalescedRanges: CoalescedRange[] = [];
  private ring: CoalescedWrite[] = [];
  private msiSink: ((address: number, data: number) => void) | undefined;
  /** KVM_INTERRUPT's vector by vCPU, injected at its next entry. */
  private readonly queued = new Map<number, number>();
  /** Level-triggered EOIs for a userspace I/O APIC, each to leave as a KVM_EXIT_IOAPIC_EOI before the guest runs again. */
  private readonly ioapicEois: number[] = [];

  /** `memory`: guest RAM, for the DMA of devices placed here. */
  constructor(now: () => Nanoseconds, memory: GuestMemory = NO_MEMORY) {
    super('kernel', { now, timers: new TimerQueue(), memory });
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

  /** The next KVM_EXIT_IOAPIC_EOI owed to userspace (-1 if none). */
  takeIoapicEoi(): number {
    return this.ioapicEois.length === 0 ? -1 : this.ioapicEois.shift() ?? -1;
  }

  // --- the lightweight path ---------------------------------------------------------

  /**
   * What the kernel answers without a device placed here: a read of a counter
   * the device host registered, or a write to a coalesced range (answered with
   * no device named: null). Anything else goes on to userspace (undefined).
   */
  protected override unmapped(access: Access, into: Uint8Array): string | null | undefined {
    if (access.isWrite) return this.coalescedRanges.length === 0 ? undefined : this.coalesce(access);
    return this.counters.length === 0 || access.count !== 1 ? undefined : this.readCounter(access, into);
  }

  override get holdsNothing(): boolean {
    return this.bus.empty && this.counters.length === 0 && this.coalescedRanges.length === 0;
  }

  /** A read of a counter the device host registered (seed 002's generic counter), served from virtual time. */
  private readCounter(access: Access, into: Uint8Array): string | undefined {
    for (const counter of this.counters) {
      const { descriptor } = counter;
      if (descriptor.space !== access.space || descriptor.address !== access.address || descriptor.size !== access.width) continue;
      const value = counterValueAt(descriptor, this.now());
      for (let i = 0; i < access.width; i++) into[i] = Number((value >> BigInt(8 * i)) & 0xffn);
      return counter.device;
    }
    return undefined;
  }

  /** A write to a coalesced range: queued in the ring, answered here (null: no device named). */
  private coalesce(access: Access): null | undefined {
    const { space, address, width, count, data } = access;
    if (width > 8) return undefined;
    for (const r of this.coalescedRanges) {
      if (!inRange(r, access)) continue;
      for (let i = 0; i < count; i++) this.ring.push({ space, address, data: data.slice(i * width, (i + 1) * width) });
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

  // --- ioctls from the device host --------------------------------------------------

  ioctl(request: Request): Message {
    switch (request.kind) {
      case 'irq-line':
        this.setIrq(request.gsi, request.level);
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
      case 'get-device-state':
        return this.getDeviceState(request.device);
      case 'set-device-state':
        return this.setDeviceState(request.device, request.state);
      case 'register-coalesced-range': {
        const held = this.holdsNothing;
        const index = this.coalescedRanges.findIndex((r) => r.space === request.space && r.address === request.address && r.length === request.length);
        if (request.enable && index < 0) this.coalescedRanges.push({ space: request.space, address: request.address, length: request.length });
        if (!request.enable && index >= 0) this.coalescedRanges.splice(index, 1);
        if (this.holdsNothing !== held) this.changed();
        return { kind: 'ok' };
      }
      case 'register-fast-path': {
        const held = this.holdsNothing;
        const { descriptor } = request;
        const existing = this.counters.findIndex((c) => c.descriptor.space === descriptor.space && c.descriptor.address === descriptor.address);
        if (existing >= 0) this.counters.splice(existing, 1);
        this.counters.push({ device: request.device, descriptor });
        if (this.holdsNothing !== held) this.changed();
        return { kind: 'ok' };
      }
      default:
        return { kind: 'error', code: ErrorCode.Unsupported, message: `${request.kind} is not a kernel ioctl` };
    }
  }
}
