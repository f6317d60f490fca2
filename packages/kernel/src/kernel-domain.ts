/**
 * The kernel domain — KVM's role: a domain (the abi's `DeviceDomain`: a bus,
 * timers, device states by name) whose place adds the lightweight path. It
 * answers the exits it can on the lightweight path: accesses
 * to its devices; reads of counters the device host registered (seed 002's
 * generic counter, served from virtual time without a userspace exit); and
 * writes to ranges registered as coalesced (KVM_REGISTER_COALESCED_MMIO:
 * queued in a ring that goes to userspace ahead of the next heavyweight
 * exit); and reads of status registers the device host published (seed
 * 003's coupled in-port cache), while nothing could have changed them.
 * Everything else goes to userspace — writes to ranges registered as posted
 * (KVM_IOEVENTFD, generalised) one way, without waiting (`posts`). It also
 * answers the device host's ioctls: irq lines, device state, coalesced and
 * posted ranges, fast paths — each
 * registration validated here, a bad one refused with nothing changed and
 * counted (`refused`).
 */
import type { Access, AddressRange, AddressSpace, CachedReadDescriptor, CoalescedIo, CoalescedWrite, CounterDescriptor, ErrorReply, FastPathDescriptor, GuestMemory, Message, Nanoseconds, ProgramAccess, ProgramDescriptor, ProgramOutcome, Request } from '@splitvisor/abi';
import { DeviceDomain, ErrorCode, NEVER, NO_MEMORY, counterValueAt, programRunner, verifyProgram } from '@splitvisor/abi';
import { TimerQueue } from '@splitvisor/clock';

/** Whether the whole access falls in `range`. */
function inRange(range: AddressRange, access: Access): boolean {
  return range.space === access.space && access.address >= range.address && access.address + access.width <= range.address + range.length;
}

/** Whether two ranges share a byte. */
function overlaps(a: AddressRange, b: AddressRange): boolean {
  return a.space === b.space && a.address < b.address + b.length && b.address < a.address + a.length;
}

/** The bytes of each space an access can reach: 16-bit ports, MMIO below 2^52, 32-bit MSR indices. */
const SPACE_BYTES: Readonly<Record<AddressSpace, number>> = { port: 0x1_0000, mmio: 2 ** 52, msr: 2 ** 32 };

/** Why `range` is no range of its space, or undefined. */
function badRange(range: AddressRange, what: string): string | undefined {
  const { space, address, length } = range;
  if (!(space in SPACE_BYTES)) return `${what}: no address space ${space}`;
  if (!Number.isInteger(address) || !Number.isInteger(length) || address < 0 || length < 1 || address + length > SPACE_BYTES[space]) {
    return `${what}: ${length} bytes at ${space} ${address.toString(16)}h are not within the ${space} space`;
  }
  return undefined;
}

/** What may serve a port: a program, a cached read, a counter. */
const Serves = { program: 1, cached: 2, counter: 4 } as const;

export interface KernelDomainOptions {
  /** Guest RAM, for the DMA of devices placed here. */
  readonly memory?: GuestMemory;
  /**
   * The device host's next timer deadline (its last `run` reply's): a value
   * it published is served only before then — a timer of its then may
   * change it. Default: never (no host).
   */
  readonly hostDeadline?: () => Nanoseconds;
  /**
   * Whether a posted write is still on its way through the device host (its
   * answer, with what it changed, has not come back): until it has, nothing
   * the host published is served — a counter, a cached value or a program's
   * scratch may be the one it changes. Default: never (no host).
   */
  readonly hostPending?: () => boolean;
}

export class KernelDomain extends DeviceDomain<'kernel'> {
  private readonly counters: { device: string; descriptor: CounterDescriptor }[] = [];
  /** The values the device host published for reads (null values withdrawn, kept for their device's claim). */
  private readonly cached: { device: string; descriptor: CachedReadDescriptor }[] = [];
  private readonly hostDeadline: () => Nanoseconds;
  private readonly coalescedRanges: AddressRange[] = [];
  /** Ranges whose writes go on to the device host one way (KVM_IOEVENTFD, generalised). */
  private readonly postedRanges: AddressRange[] = [];
  private readonly hostPending: () => boolean;
  /** Verified programs the device host loaded (seed 002's bytecode), each for a range of its device. */
  private readonly programs: { device: string; range: AddressRange; run: (scratch: Uint8Array, access: ProgramAccess, now: Nanoseconds) => ProgramOutcome }[] = [];
  /** Each device's scratch, shared by its programs; and the devices whose scratch a program changed since the last exit. */
  private readonly scratchOf = new Map<string, Uint8Array>();
  private readonly dirtyScratch = new Set<string>();
  /** Accesses a program answered, ones it sent on (`exit`), and ones that could not run it (a host timer due, a write pending). */
  readonly programRuns = { answered: 0, exited: 0, passed: 0 };
  /**
   * Per port, which fast paths may serve it (`Serves` bits): a port access
   * no fast path covers is passed on without a search (an ATA data port read
   * a million times a second never looks at the status programs).
   */
  private readonly servedPorts = new Uint8Array(0x1_0000);
  /** Registrations refused at the boundary, by kind: nothing of them was kept. */
  readonly refused = { coalescedRanges: 0, postedRanges: 0, fastPaths: 0 };
  /** Counter reads answered from virtual time (seed 002's generic counter). */
  readonly counterReads = { served: 0 };
  /** Reads answered from a published value (seed 003's cache), and reads of one that had to go on (stale, or a write pending). */
  readonly cachedReads = { served: 0, passed: 0 };
  private ring: CoalescedWrite[] = [];
  private msiSink: ((address: number, data: number) => void) | undefined;
  /** KVM_INTERRUPT's vector by vCPU, injected at its next entry. */
  private readonly queued = new Map<number, number>();
  /** Level-triggered EOIs for a userspace I/O APIC, each to leave as a KVM_EXIT_IOAPIC_EOI before the guest runs again. */
  private readonly ioapicEois: number[] = [];

  constructor(now: () => Nanoseconds, options: KernelDomainOptions = {}) {
    super('kernel', { now, timers: new TimerQueue(), memory: options.memory ?? NO_MEMORY });
    this.hostDeadline = options.hostDeadline ?? (() => NEVER);
    this.hostPending = options.hostPending ?? (() => false);
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
    if (this.hostPending()) return access.isWrite && this.coalescedRanges.length > 0 ? this.coalesce(access) : undefined;
    const serves = access.space === 'port' ? this.servedPorts[access.address] ?? 0 : Serves.program | Serves.cached | Serves.counter;
    if ((serves & Serves.program) !== 0 && this.programs.length > 0) {
      const ran = this.runProgram(access, into);
      if (ran !== undefined) return ran;
    }
    if (access.isWrite) return this.coalescedRanges.length === 0 ? undefined : this.coalesce(access);
    if (access.count !== 1) return undefined;
    const counted = (serves & Serves.counter) === 0 || this.counters.length === 0 ? undefined : this.readCounter(access, into);
    return counted ?? ((serves & Serves.cached) === 0 || this.cached.length === 0 ? undefined : this.readCached(access, into));
  }

  /** Marks the ports of `range` as served by `what` (other spaces are searched as they come). */
  private markPorts(range: AddressRange, what: number): void {
    if (range.space !== 'port') return;
    for (let port = range.address; port < Math.min(range.address + range.length, 0x1_0000); port++) this.servedPorts[port] = (this.servedPorts[port] ?? 0) | what;
  }

  /** The marks again, from what is registered now (after something was taken away). */
  private remarkPorts(): void {
    this.servedPorts.fill(0);
    for (const { range } of this.programs) this.markPorts(range, Serves.program);
    for (const { descriptor: d } of this.cached) this.markPorts({ space: d.space, address: d.address, length: d.size }, Serves.cached);
    for (const { descriptor: d } of this.counters) this.markPorts({ space: d.space, address: d.address, length: d.size }, Serves.counter);
  }

  /**
   * Whether `access` — one no domain answered — is a write to a posted
   * range: sent on to the device host one way, not a heavyweight exit.
   */
  posts(access: Access): boolean {
    if (!access.isWrite || this.postedRanges.length === 0) return false;
    for (const r of this.postedRanges) if (inRange(r, access)) return true;
    return false;
  }

  override get holdsNothing(): boolean {
    return this.bus.empty && this.counters.length === 0 && this.coalescedRanges.length === 0 && this.cached.length === 0 && this.programs.length === 0;
  }

  /**
   * An access a device's program covers, run by it while its scratch holds —
   * before the host's next timer, with no write to its range waiting in the
   * coalesced ring: answered (a read's value into `into`), or on to
   * userspace when the program exits or cannot run.
   */
  private runProgram(access: Access, into: Uint8Array): string | undefined {
    if (access.count !== 1 || access.width > 4) return undefined;
    for (const { device, range, run } of this.programs) {
      if (!inRange(range, access)) continue;
      const scratch = this.scratchOf.get(device);
      if (scratch === undefined || this.unsettled([range])) {
        this.programRuns.passed++;
        return undefined;
      }
      let value = 0;
      if (access.isWrite) for (let i = access.width - 1; i >= 0; i--) value = value * 256 + (access.data[i] ?? 0);
      const outcome = run(scratch, { offset: access.address - range.address, isWrite: access.isWrite, value, width: access.width }, this.now());
      if (outcome.kind === 'exit') {
        this.programRuns.exited++;
        return undefined;
      }
      this.programRuns.answered++;
      this.dirtyScratch.add(device);
      if (!access.isWrite) for (let i = 0; i < access.width; i++) into[i] = Math.floor(outcome.value / 256 ** i) & 0xff;
      return device;
    }
    return undefined;
  }

  /**
   * Whether what the device host published may no longer hold: a timer of
   * the host has come due since, or a write to one of `ranges` waits in the
   * coalesced ring (the access's exit drains it; the device answers after).
   */
  private unsettled(ranges: readonly AddressRange[]): boolean {
    if (this.now() >= this.hostDeadline()) return true;
    return this.ring.some((w) => ranges.some((r) => overlaps(r, { space: w.space, address: w.address, length: w.data.length })));
  }

  /** What the programs changed in their devices' scratch since the last call, to go to the device host ahead of the next heavyweight exit. */
  takeProgramScratch(): { device: string; scratch: Uint8Array }[] {
    if (this.dirtyScratch.size === 0) return [];
    const taken = [...this.dirtyScratch].flatMap((device) => {
      const scratch = this.scratchOf.get(device);
      return scratch === undefined ? [] : [{ device, scratch: scratch.slice() }];
    });
    this.dirtyScratch.clear();
    return taken;
  }

  /** Unloads `device`'s programs (it is given a new state; its host loads them again at the next exit). Take its scratch first. */
  forgetPrograms(device: string): void {
    const held = this.holdsNothing;
    for (let i = this.programs.length - 1; i >= 0; i--) if (this.programs[i]?.device === device) this.programs.splice(i, 1);
    this.scratchOf.delete(device);
    this.dirtyScratch.delete(device);
    this.remarkPorts();
    if (this.holdsNothing !== held) this.changed();
  }

  /**
   * A read of a value the device host published: answered while it holds —
   * before the host's next timer, and with no write that could change it
   * waiting in the coalesced ring (the read's exit drains the ring, and the
   * device answers after it).
   */
  private readCached(access: Access, into: Uint8Array): string | undefined {
    for (const { device, descriptor } of this.cached) {
      if (descriptor.value === null || descriptor.space !== access.space || descriptor.address !== access.address || descriptor.size !== access.width) continue;
      if (this.unsettled(descriptor.invalidatedBy)) {
        this.cachedReads.passed++;
        return undefined;
      }
      for (let i = 0; i < access.width; i++) into[i] = (descriptor.value >>> (8 * i)) & 0xff;
      this.cachedReads.served++;
      return device;
    }
    return undefined;
  }

  /** A read of a counter the device host registered (seed 002's generic counter), served from virtual time. */
  private readCounter(access: Access, into: Uint8Array): string | undefined {
    for (const counter of this.counters) {
      const { descriptor } = counter;
      if (descriptor.space !== access.space || descriptor.address !== access.address || descriptor.size !== access.width) continue;
      const value = counterValueAt(descriptor, this.now());
      for (let i = 0; i < access.width; i++) into[i] = Number((value >> BigInt(8 * i)) & 0xffn);
      this.counterReads.served++;
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

  /**
   * Forgets the values published for `device`'s reads: it is being given a
   * new state (a restore, a move), and the host publishes them again at the
   * next exit; until then its reads go to it.
   */
  forgetCachedReads(device: string): void {
    const held = this.holdsNothing;
    for (let i = this.cached.length - 1; i >= 0; i--) if (this.cached[i]?.device === device) this.cached.splice(i, 1);
    this.remarkPorts();
    if (this.holdsNothing !== held) this.changed();
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
      case 'register-coalesced-range':
        return this.registerRange(request, this.coalescedRanges, 'coalescedRanges', 'coalesced range');
      case 'register-posted-range':
        return this.registerRange(request, this.postedRanges, 'postedRanges', 'posted range');
      case 'register-fast-path': {
        const { descriptor, device } = request;
        const problem = this.badFastPath(device, descriptor);
        if (problem !== undefined) return this.refuse('fastPaths', problem);
        const held = this.holdsNothing;
        if (descriptor.kind === 'program') {
          this.loadProgram(device, descriptor);
          if (this.holdsNothing !== held) this.changed();
          return { kind: 'ok' };
        }
        const list: { device: string; descriptor: CounterDescriptor | CachedReadDescriptor }[] = descriptor.kind === 'counter' ? this.counters : this.cached;
        const existing = list.findIndex((c) => c.descriptor.space === descriptor.space && c.descriptor.address === descriptor.address);
        if (existing >= 0) list.splice(existing, 1);
        if (descriptor.kind === 'counter') this.counters.push({ device, descriptor });
        else this.cached.push({ device, descriptor });
        this.markPorts({ space: descriptor.space, address: descriptor.address, length: descriptor.size }, descriptor.kind === 'counter' ? Serves.counter : Serves.cached);
        if (this.holdsNothing !== held) this.changed();
        return { kind: 'ok' };
      }
      case 'program-scratch': {
        // The device's scratch after an exit its host served: its loaded programs run on it from now.
        const held = this.scratchOf.get(request.device);
        if (held === undefined) return this.refuse('fastPaths', `program scratch for ${request.device}: it has no programs loaded`);
        if (held.length !== request.scratch.length) return this.refuse('fastPaths', `program scratch for ${request.device}: ${request.scratch.length} bytes where its programs share ${held.length}`);
        this.scratchOf.set(request.device, request.scratch.slice());
        this.dirtyScratch.delete(request.device);
        return { kind: 'ok' };
      }
      default:
        return { kind: 'error', code: ErrorCode.Unsupported, message: `${request.kind} is not a kernel ioctl` };
    }
  }

  /** A verified program for `device` (replacing one at the same range), its scratch the device's as sent. */
  private loadProgram(device: string, descriptor: ProgramDescriptor): void {
    const range = { space: descriptor.space, address: descriptor.address, length: descriptor.length };
    const existing = this.programs.findIndex((p) => p.device === device && p.range.space === range.space && p.range.address === range.address);
    if (existing >= 0) this.programs.splice(existing, 1);
    this.programs.push({ device, range, run: programRunner(descriptor.program) });
    this.markPorts(range, Serves.program);
    this.scratchOf.set(device, descriptor.scratch.slice());
    this.dirtyScratch.delete(device);
  }

  /** The device other than `device` whose fast path serves part of `range`, if any (a host re-registering its own is the common case: no copies). */
  private servedByOther(device: string, range: AddressRange): string | undefined {
    for (const list of [this.counters, this.cached]) {
      for (const o of list) if (o.device !== device && overlaps(range, { space: o.descriptor.space, address: o.descriptor.address, length: o.descriptor.size })) return o.device;
    }
    for (const p of this.programs) if (p.device !== device && overlaps(range, p.range)) return p.device;
    return undefined;
  }

  /** Why a fast path may not be served as asked, or undefined. */
  private badFastPath(device: string, descriptor: FastPathDescriptor): string | undefined {
    const what = `${descriptor.kind} for ${device}`;
    if (device === '') return `${what}: no device named`;
    const range = { space: descriptor.space, address: descriptor.address, length: descriptor.kind === 'program' ? descriptor.length : descriptor.size };
    const problem = badRange(range, what) ?? this.claimed(range, what);
    if (problem !== undefined) return problem;
    // One device's address: another device's fast path there is a host that lost track of its board.
    const other = this.servedByOther(device, range);
    if (other !== undefined) return `${what}: ${range.space} ${range.address.toString(16)}h is served for ${other}`;
    if (descriptor.kind === 'counter') return undefined;
    if (descriptor.kind === 'program') {
      const refused = verifyProgram(descriptor.program);
      if (refused !== undefined) return `${what}: the verifier refuses it: ${refused}`;
      if (descriptor.scratch.length !== descriptor.program.scratchBytes) return `${what}: ${descriptor.scratch.length} bytes of scratch for a program of ${descriptor.program.scratchBytes}`;
      const shared = this.scratchOf.get(device);
      if (shared !== undefined && shared.length !== descriptor.scratch.length && this.programs.some((p) => p.device === device && !(p.range.space === range.space && p.range.address === range.address))) {
        return `${what}: ${descriptor.scratch.length} bytes of scratch where ${device}'s other programs share ${shared.length}`;
      }
      return undefined;
    }
    if (descriptor.value !== null && !(Number.isInteger(descriptor.value) && descriptor.value >= 0 && descriptor.value < 2 ** (8 * descriptor.size))) {
      return `${what}: value ${descriptor.value} does not fit ${descriptor.size} bytes`;
    }
    for (const r of descriptor.invalidatedBy) {
      const bad = badRange(r, `${what}, invalidated by`);
      if (bad !== undefined) return bad;
    }
    return undefined;
  }

  /** Why `range` is not the device host's to register (a device placed here answers there), or undefined. */
  private claimed(range: AddressRange, what: string): string | undefined {
    const mapping = this.bus.mappings().find((m) => overlaps(range, { space: m.region.space, address: m.base, length: m.region.length }));
    return mapping === undefined ? undefined : `${what}: ${range.space} ${range.address.toString(16)}h is ${mapping.name}'s, placed in the kernel`;
  }

  /**
   * (Un)registers a coalesced or posted range: within its space, clear of
   * the kernel's own devices, and overlapping no range of either kind
   * (a write is queued or posted, never both).
   */
  private registerRange(request: { readonly space: AddressSpace; readonly address: number; readonly length: number; readonly enable: boolean }, list: AddressRange[], kind: 'coalescedRanges' | 'postedRanges', what: string): Message {
    const range = { space: request.space, address: request.address, length: request.length };
    const index = list.findIndex((r) => r.space === range.space && r.address === range.address && r.length === range.length);
    const taken = request.enable && index < 0 ? [...this.coalescedRanges, ...this.postedRanges].find((r) => overlaps(r, range)) : undefined;
    const problem = badRange(range, what) ?? this.claimed(range, what)
      ?? (taken === undefined ? undefined : `${what}: ${range.space} ${range.address.toString(16)}h overlaps a range already ${this.coalescedRanges.includes(taken) ? 'coalesced' : 'posted'}`);
    if (problem !== undefined) return this.refuse(kind, problem);
    const held = this.holdsNothing;
    if (request.enable && index < 0) list.push(range);
    if (!request.enable && index >= 0) list.splice(index, 1);
    if (this.holdsNothing !== held) this.changed();
    return { kind: 'ok' };
  }

  private refuse(kind: keyof KernelDomain['refused'], message: string): ErrorReply {
    this.refused[kind]++;
    return { kind: 'error', code: ErrorCode.Invalid, message };
  }
}
