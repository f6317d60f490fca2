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
import { ErrorCode, IoBus, counterValueAt } from '@splitvisor/abi';
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
const NO_MEMORY: GuestMemory = { size: 0, read: () => false, write: () => false };

export class KernelDomain {
  readonly bus = new IoBus();
  readonly timers = new TimerQueue();
  private readonly now: () => Nanoseconds;
  private readonly devices = new Map<string, KernelDevice>();
  private readonly counters: { device: string; descriptor: CounterDescriptor }[] = [];
  private readonly coalescedRanges: CoalescedRange[] = [];
  private ring: CoalescedWrite[] = [];
  private irqSink: (gsi: number, level: boolean) => void = () => undefined;
  readonly log: string[] = [];

  constructor(now: () => Nanoseconds) {
    this.now = now;
  }

  /** Where irq lines go: the in-kernel irqchip's inputs (GSIs). */
  setIrqSink(sink: (gsi: number, level: boolean) => void): void {
    this.irqSink = sink;
  }

  /** A context for a device placed here: the monitor's virtual time, this domain's timers, output n on GSI gsiOf(n). */
  context(name: string, gsiOf: (output: number) => number): DeviceContext {
    return {
      now: () => this.now(),
      timer: (callback) => this.timers.timer(callback),
      setIrq: (output, level) => { this.irqSink(gsiOf(output), level); },
      memory: NO_MEMORY,
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

  /** Answers an I/O or MMIO exit here if it can. */
  handle(exit: Exit): KernelOutcome {
    if (exit.kind !== 'io' && exit.kind !== 'mmio') return TO_USER;
    const space: AddressSpace = exit.kind === 'io' ? 'port' : 'mmio';
    const address = exit.kind === 'io' ? exit.port : exit.address;
    const width = exit.kind === 'io' ? exit.size : exit.length;
    const count = exit.kind === 'io' ? exit.count : 1;
    const isWrite = exit.kind === 'io' ? exit.direction === 'out' : exit.isWrite;
    const mapping = this.bus.find(space, address);
    if (mapping !== undefined) return { kind: 'handled', completion: this.bus.answer(exit), device: mapping.name, via: 'device' };
    if (!isWrite && count === 1) {
      const counter = this.counters.find((c) => c.descriptor.space === space && c.descriptor.address === address && c.descriptor.size === width);
      if (counter !== undefined) {
        const value = counterValueAt(counter.descriptor, this.now());
        const completion = new Uint8Array(width);
        for (let i = 0; i < width; i++) completion[i] = Number((value >> BigInt(8 * i)) & 0xffn);
        return { kind: 'handled', completion, device: counter.device, via: 'counter' };
      }
    }
    if (isWrite && width <= 8 && this.coalescedRanges.some((r) => r.space === space && address >= r.address && address + width <= r.address + r.length)) {
      for (let i = 0; i < count; i++) this.ring.push({ space, address, data: exit.data.slice(i * width, (i + 1) * width) });
      return { kind: 'handled', completion: EMPTY, device: null, via: 'coalesced' };
    }
    return TO_USER;
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
