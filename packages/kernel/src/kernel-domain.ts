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
 * answers the device host's ioctls: irq lines, interrupts, MSIs, device
 * state, coalesced and posted ranges, fast paths, programs' scratch, and
 * reads and writes of guest memory (Xen's grant copy: the DMA of a device
 * host that shares no RAM with the guest). The device host is not trusted:
 * every request is checked before it acts, and one that fails is answered
 * with a typed error, counted (`refused`), and changes nothing.
 */
import type {
  Access, AddressRange, AddressSpace, CachedReadDescriptor, CoalescedIo, CoalescedWrite, CounterDescriptor, DeviceState, ErrorCode as ErrorCodeType,
  ErrorReply, FastPathDescriptor, FastPathProgram, GuestMemory, Instruction, Message, Nanoseconds, OkReply, ProgramAccess, ProgramDescriptor, ProgramOutcome, StatefulDevice,
} from '@splitvisor/abi';
import { DeviceDomain, ErrorCode, NEVER, NO_MEMORY, counterValueAt, programRunner } from '@splitvisor/abi';
import { TimerQueue } from '@splitvisor/clock';
import type { IrqchipInputs } from './request-checks.ts';
import {
  KVM_IRQCHIP_INPUTS, badDescriptor, badLine, badMemoryRead, badMemoryWrite, badMsi, badName, badRange, badVector, hex, isRecord, isUint, shown,
} from './request-checks.ts';
import { unlikeState } from './state-shape.ts';

/** Whether the whole access falls in `range`. */
function inRange(range: AddressRange, access: Access): boolean {
  return range.space === access.space && access.address >= range.address && access.address + access.width <= range.address + range.length;
}

/** Whether two ranges share a byte. */
function overlaps(a: AddressRange, b: AddressRange): boolean {
  return a.space === b.space && a.address < b.address + b.length && b.address < a.address + a.length;
}

/** Whether `windows` (of one device) cover every byte of `range`, joined end to end. */
function covers(windows: readonly AddressRange[], range: AddressRange): boolean {
  let from = range.address;
  const end = range.address + range.length;
  for (let moved = true; from < end && moved;) {
    moved = false;
    for (const w of windows) {
      if (w.space === range.space && w.address <= from && from < w.address + w.length) {
        from = w.address + w.length;
        moved = true;
      }
    }
  }
  return from >= end;
}

/** A device the device host holds, at one of its board windows. */
export interface HostWindow extends AddressRange {
  readonly device: string;
}

/** Everything the kernel holds for the device host, as plain data (a copy): what it registered, and what waits to go back to it. */
export interface KernelHoldings {
  readonly coalescedRanges: readonly AddressRange[];
  readonly postedRanges: readonly AddressRange[];
  readonly counters: readonly { readonly device: string; readonly descriptor: CounterDescriptor }[];
  readonly cachedReads: readonly { readonly device: string; readonly descriptor: CachedReadDescriptor }[];
  readonly programs: readonly { readonly device: string; readonly range: AddressRange; readonly program: FastPathProgram }[];
  /** Each device's programs' scratch, and whether a program changed it since it was last taken. */
  readonly scratch: readonly { readonly device: string; readonly bytes: Uint8Array; readonly dirty: boolean }[];
  /** KVM_INTERRUPT vectors waiting for their vCPU's next entry. */
  readonly queuedInterrupts: readonly { readonly vcpu: number; readonly vector: number }[];
  readonly coalescedRing: readonly CoalescedWrite[];
  readonly ioapicEois: readonly number[];
}

const OK: OkReply = { kind: 'ok' };

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
  private readonly programs: { device: string; range: AddressRange; program: FastPathProgram; run: (scratch: Uint8Array, access: ProgramAccess, now: Nanoseconds) => ProgramOutcome }[] = [];
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
  /**
   * Requests from the device host refused at the boundary, by the kind of
   * request — `unsupported`: a kind the kernel does not serve (an exit, a
   * reply, `pause`, none at all); `undecodable`: bytes that are no message,
   * or a request that is no record. Each was answered with an error reply,
   * and nothing of it was kept.
   */
  readonly refused = {
    irqLines: 0, interrupts: 0, msis: 0, deviceStates: 0, coalescedRanges: 0, postedRanges: 0, fastPaths: 0, programScratch: 0,
    memoryReads: 0, memoryWrites: 0, pauses: 0, unsupported: 0, undecodable: 0,
  };
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
  /** The inputs of the irqchip this kernel's lines go to; undefined while none takes them (its 8259 is in userspace, or absent). */
  private irqInputs: IrqchipInputs | undefined;
  /** The VM's vCPUs: a vCPU ioctl for another index is refused. */
  private vcpus = 1;
  /** The device host's devices at their board windows, by name; undefined until told (then any name is taken at its word). */
  private hostWindows: Map<string, AddressRange[]> | undefined;
  /** The names of the devices whose state is held here, in the order they came. */
  private readonly names: string[] = [];
  /** `pause`: the guest's stop, its devices' now until `resume`; undefined while the guest may run. */
  private readonly stop: { at: Nanoseconds | undefined };
  private readonly guestNow: () => Nanoseconds;

  constructor(now: () => Nanoseconds, options: KernelDomainOptions = {}) {
    const stop: { at: Nanoseconds | undefined } = { at: undefined };
    super('kernel', { now: () => stop.at ?? now(), timers: new TimerQueue(), memory: options.memory ?? NO_MEMORY });
    this.stop = stop;
    this.guestNow = now;
    this.hostDeadline = options.hostDeadline ?? (() => NEVER);
    this.hostPending = options.hostPending ?? (() => false);
  }

  /** Paused (`pause` until `resume`): no timer of the in-kernel devices runs, whatever time the caller names. */
  override runDue(now: Nanoseconds): void {
    if (this.stop.at === undefined) super.runDue(now);
  }

  /** Where MSIs go (KVM_SIGNAL_MSI): the in-kernel local APICs; unset, the ioctl is refused (no in-kernel APICs). */
  setMsiSink(sink: (address: number, data: number) => void): void {
    this.msiSink = sink;
  }

  /**
   * An irqchip here (or in the monitor) takes this domain's lines, and the
   * device host's KVM_IRQ_LINE, on `inputs` (default: the 24 GSIs of KVM's
   * in-kernel irqchip); an irq line for another input is refused. With an
   * irqchip taking lines here, KVM_INTERRUPT is refused (KVM's ENXIO: its
   * vectors come from that irqchip, not from userspace).
   */
  override routeIrqs(sink: (gsi: number, level: boolean) => void, inputs: IrqchipInputs = KVM_IRQCHIP_INPUTS): void {
    super.routeIrqs(sink);
    this.irqInputs = inputs;
  }

  /** The VM has `count` vCPUs (KVM_CREATE_VCPU, indices 0 to count - 1; default 1): a vCPU ioctl for another is refused. */
  setVcpus(count: number): void {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`${count} vCPUs: expected a whole number from 1`);
    this.vcpus = count;
  }

  /**
   * The device host's devices, each at its board windows: a fast path it
   * registers must be for one of them and lie within that device's
   * windows. Until told, any device name is taken at its word.
   */
  hostDevices(windows: readonly HostWindow[]): void {
    const byDevice = new Map<string, AddressRange[]>();
    for (const { device, space, address, length } of windows) {
      const held = byDevice.get(device) ?? [];
      held.push({ space, address, length });
      byDevice.set(device, held);
    }
    this.hostWindows = byDevice;
  }

  /**
   * A device left the device host (a move): the counters, published reads
   * and programs it registered here go (its ranges go by their own
   * unregistrations), and so does its place among the host's devices.
   */
  forgetHostDevice(device: string): void {
    const held = this.holdsNothing;
    for (let i = this.counters.length - 1; i >= 0; i--) if (this.counters[i]?.device === device) this.counters.splice(i, 1);
    this.hostWindows?.delete(device);
    this.forgetCachedReads(device);
    this.forgetPrograms(device);
    this.remarkPorts();
    if (this.holdsNothing !== held) this.changed();
  }

  /** A device came to the device host (a move): its board windows are where its fast paths may lie. */
  addHostDevice(windows: readonly HostWindow[]): void {
    for (const { device, space, address, length } of windows) {
      const held = this.hostWindows?.get(device) ?? [];
      this.hostWindows?.set(device, [...held, { space, address, length }]);
    }
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

  override register(device: StatefulDevice): void {
    super.register(device);
    if (!this.names.includes(device.name)) this.names.push(device.name);
  }

  /** The names of the devices whose state the kernel holds (each placed here, or registered without regions). */
  deviceNames(): readonly string[] {
    return [...this.names];
  }

  /** Everything held for the device host now, as plain data (a copy): for inspection, and for checking that a refused ioctl changed nothing. */
  holdings(): KernelHoldings {
    const range = (r: AddressRange): AddressRange => ({ space: r.space, address: r.address, length: r.length });
    return {
      coalescedRanges: this.coalescedRanges.map(range),
      postedRanges: this.postedRanges.map(range),
      counters: this.counters.map(({ device, descriptor }) => ({ device, descriptor: { ...descriptor } })),
      cachedReads: this.cached.map(({ device, descriptor }) => ({ device, descriptor: { ...descriptor, invalidatedBy: descriptor.invalidatedBy.map(range) } })),
      programs: this.programs.map(({ device, range: r, program }) => ({ device, range: range(r), program })),
      scratch: [...this.scratchOf].map(([device, bytes]) => ({ device, bytes: bytes.slice(), dirty: this.dirtyScratch.has(device) })),
      queuedInterrupts: [...this.queued].map(([vcpu, vector]) => ({ vcpu, vector })),
      coalescedRing: this.ring.map((w) => ({ space: w.space, address: w.address, data: w.data.slice() })),
      ioapicEois: [...this.ioapicEois],
    };
  }

  // --- ioctls from the device host --------------------------------------------------

  /**
   * An ioctl from the device host. Each request is checked before it acts —
   * its fields first, then against what the kernel holds — and one that
   * fails is answered with an error reply (EINVAL, ENOENT, ENOTTY, EBADMSG)
   * naming why, counted in `refused` by its kind, and changes nothing.
   * Whatever the host sends, this does not throw.
   */
  ioctl(request: Message): Message {
    if (!isRecord(request)) return this.refuse('undecodable', `a request is a record, not ${shown(request)}`, ErrorCode.BadMessage);
    switch (request.kind) {
      case 'irq-line': {
        // KVM_IRQ_LINE: into the irqchip that takes this domain's lines.
        const inputs = this.irqInputs;
        if (inputs === undefined) return this.refuse('irqLines', 'no irqchip in the kernel takes irq lines (its 8259 and I/O APIC are in userspace)', ErrorCode.Unsupported);
        const problem = badLine(request.gsi, request.level, inputs);
        if (problem !== undefined) return this.refuse('irqLines', problem);
        this.setIrq(request.gsi, request.level);
        return OK;
      }
      case 'interrupt': {
        // KVM_INTERRUPT: userspace acknowledged its irqchip because the last exit said the guest was ready.
        // A vCPU ioctl: each vCPU has its own queued vector.
        const { vcpu, vector } = request;
        if (this.irqInputs !== undefined) return this.refuse('interrupts', 'KVM_INTERRUPT with the irqchip in the kernel: its vectors come from there', ErrorCode.Unsupported);
        if (!isUint(vcpu, this.vcpus - 1)) return this.refuse('interrupts', `no vCPU ${shown(vcpu)} (the VM has ${this.vcpus})`);
        const problem = badVector(vector);
        if (problem !== undefined) return this.refuse('interrupts', problem);
        if (this.queued.has(vcpu)) return this.refuse('interrupts', `vector ${this.queued.get(vcpu)} is already queued for injection into vCPU ${vcpu}`);
        this.queued.set(vcpu, vector);
        return OK;
      }
      case 'msi': {
        const sink = this.msiSink;
        if (sink === undefined) return this.refuse('msis', 'no local APICs in the kernel to signal', ErrorCode.Unsupported);
        const problem = badMsi(request.address, request.data);
        if (problem !== undefined) return this.refuse('msis', problem);
        sink(request.address, request.data);
        return OK;
      }
      case 'get-device-state': {
        const { device } = request;
        const reply = typeof device === 'string' ? this.getDeviceState(device) : undefined;
        if (reply === undefined || reply.kind === 'error') return this.refuse('deviceStates', reply?.message ?? `get device state: ${shown(device)} names no device`, ErrorCode.NoDevice);
        return reply;
      }
      case 'set-device-state':
        if (typeof request.device !== 'string') return this.refuse('deviceStates', `set device state: ${shown(request.device)} names no device`, ErrorCode.NoDevice);
        return this.setDeviceState(request.device, request.state);
      case 'register-coalesced-range':
        return this.registerRange(request, this.coalescedRanges, 'coalescedRanges', 'coalesced range');
      case 'register-posted-range':
        return this.registerRange(request, this.postedRanges, 'postedRanges', 'posted range');
      case 'register-fast-path':
        return this.registerFastPath(request.device, request.descriptor);
      case 'program-scratch': {
        // The device's scratch after an exit its host served: its loaded programs run on it from now.
        const { device, scratch } = request;
        const held = typeof device === 'string' ? this.scratchOf.get(device) : undefined;
        if (held === undefined) return this.refuse('programScratch', `program scratch for ${shown(device)}: it has no programs loaded`);
        if (!(scratch instanceof Uint8Array) || held.length !== scratch.length) return this.refuse('programScratch', `program scratch for ${device}: ${shown(scratch)} where its programs share ${held.length} bytes`);
        this.scratchOf.set(device, scratch.slice());
        this.dirtyScratch.delete(device);
        return OK;
      }
      case 'read-memory': {
        // GNTTABOP_copy from the guest: a DMA read by a device of a host that shares no RAM with it.
        const { address, length } = request;
        const problem = badMemoryRead(address, length, this.memory.size);
        if (problem !== undefined) return this.refuse('memoryReads', problem);
        const bytes = new Uint8Array(length);
        if (!this.memory.read(address, bytes)) return this.refuse('memoryReads', `read-memory: ${length} bytes at ${hex(address)} are not guest RAM`);
        return { kind: 'memory', bytes };
      }
      case 'write-memory': {
        // GNTTABOP_copy to the guest: a DMA write (guest memory copies the bytes; the request keeps its own).
        const { address, bytes } = request;
        const problem = badMemoryWrite(address, bytes, this.memory.size);
        if (problem !== undefined) return this.refuse('memoryWrites', problem);
        if (!this.memory.write(address, bytes)) return this.refuse('memoryWrites', `write-memory: ${bytes.length} bytes at ${hex(address)} are not guest RAM`);
        return OK;
      }
      case 'pause': {
        // The guest stopped at `time` (a snapshot, a device moving): the in-kernel devices' now, and no timer of
        // theirs runs (one due stays due) until `resume`. A guest cannot be stopped where it has not been.
        const { time } = request;
        if (!isUint(time, Number.MAX_SAFE_INTEGER)) return this.refuse('pauses', `pause: ${shown(time)} is no time`);
        if (time > this.guestNow()) return this.refuse('pauses', `pause: the guest is at ${this.guestNow()} ns, not yet at ${time}`);
        this.stop.at = time;
        return OK;
      }
      case 'resume':
        // The guest runs again: its devices' time is its clock's, their timers run as they fall due.
        this.stop.at = undefined;
        return OK;
      default: {
        const kind: unknown = (request as { readonly kind?: unknown }).kind;
        return this.refuse('unsupported', `${shown(kind)} is not a kernel ioctl`, ErrorCode.Unsupported);
      }
    }
  }

  /**
   * Restores `name`'s state — whoever asks, the device host or the VM — only
   * if it is a state that device could have given (its model, version and
   * form: `state-shape.ts`); one it still throws on leaves the device as it
   * was. A refusal is counted.
   */
  override setDeviceState(name: string, state: DeviceState): OkReply | ErrorReply {
    const held = this.getDeviceState(name);
    if (held.kind === 'error') return this.refuse('deviceStates', held.message, ErrorCode.NoDevice);
    const problem = unlikeState(held.state, state);
    if (problem !== undefined) return this.refuse('deviceStates', problem);
    const reply = super.setDeviceState(name, state);
    if (reply.kind === 'error') {
      super.setDeviceState(name, held.state); // what it adopted before it threw goes back
      this.refused.deviceStates++;
    }
    return reply;
  }

  /** A fast path for `device` (replacing its own at the same address): well-formed, for a device of the host, at that device's address. */
  private registerFastPath(device: unknown, descriptor: unknown): Message {
    const problem = badName(device, 'fast path') ?? badDescriptor(descriptor, `fast path for ${shown(device)}`);
    if (problem !== undefined) return this.refuse('fastPaths', problem);
    const name = device as string;
    const d = descriptor as FastPathDescriptor;
    const placed = this.badFastPath(name, d);
    if (placed !== undefined) return this.refuse('fastPaths', placed);
    const held = this.holdsNothing;
    if (d.kind === 'program') {
      this.loadProgram(name, d);
      if (this.holdsNothing !== held) this.changed();
      return OK;
    }
    const list: { device: string; descriptor: CounterDescriptor | CachedReadDescriptor }[] = d.kind === 'counter' ? this.counters : this.cached;
    const existing = list.findIndex((c) => c.descriptor.space === d.space && c.descriptor.address === d.address);
    if (existing >= 0) list.splice(existing, 1);
    // Copies: what the host sent stays the host's (a caller in this thread may change it after).
    if (d.kind === 'counter') this.counters.push({ device: name, descriptor: { ...d } });
    else this.cached.push({ device: name, descriptor: { ...d, invalidatedBy: d.invalidatedBy.map((r) => ({ space: r.space, address: r.address, length: r.length })) } });
    this.markPorts({ space: d.space, address: d.address, length: d.size }, d.kind === 'counter' ? Serves.counter : Serves.cached);
    if (this.holdsNothing !== held) this.changed();
    return OK;
  }

  /** A verified program for `device` (replacing one at the same range), its scratch the device's as sent. */
  private loadProgram(device: string, descriptor: ProgramDescriptor): void {
    const range = { space: descriptor.space, address: descriptor.address, length: descriptor.length };
    const existing = this.programs.findIndex((p) => p.device === device && p.range.space === range.space && p.range.address === range.address);
    if (existing >= 0) this.programs.splice(existing, 1);
    const program: FastPathProgram = { instructions: descriptor.program.instructions.map(([op, a, b, c]): Instruction => [op, a, b, c]), scratchBytes: descriptor.program.scratchBytes };
    this.programs.push({ device, range, program, run: programRunner(program) });
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

  /** Why a well-formed fast path may not be served where it asks, or undefined. */
  private badFastPath(device: string, descriptor: FastPathDescriptor): string | undefined {
    const what = `${descriptor.kind} for ${device}`;
    const range = { space: descriptor.space, address: descriptor.address, length: descriptor.kind === 'program' ? descriptor.length : descriptor.size };
    const problem = badRange(range, what) ?? this.claimed(range, what);
    if (problem !== undefined) return problem;
    if (this.hostWindows !== undefined) {
      const windows = this.hostWindows.get(device);
      if (windows === undefined) return `${what}: the device host has no device ${device}`;
      if (!covers(windows, range)) return `${what}: ${range.length} bytes at ${range.space} ${hex(range.address)} are not ${device}'s`;
    }
    // One device's address: another device's fast path there is a host that lost track of its board.
    const other = this.servedByOther(device, range);
    if (other !== undefined) return `${what}: ${range.space} ${hex(range.address)} is served for ${other}`;
    if (descriptor.kind === 'program') {
      const shared = this.scratchOf.get(device);
      if (shared !== undefined && shared.length !== descriptor.scratch.length && this.programs.some((p) => p.device === device && !(p.range.space === range.space && p.range.address === range.address))) {
        return `${what}: ${descriptor.scratch.length} bytes of scratch where ${device}'s other programs share ${shared.length}`;
      }
    }
    return undefined;
  }

  /** Why `range` is not the device host's to register (a device placed here answers there), or undefined. */
  private claimed(range: AddressRange, what: string): string | undefined {
    const mapping = this.bus.mappings().find((m) => overlaps(range, { space: m.region.space, address: m.base, length: m.region.length }));
    return mapping === undefined ? undefined : `${what}: ${range.space} ${hex(range.address)} is ${mapping.name}'s, placed in the kernel`;
  }

  /**
   * (Un)registers a coalesced or posted range: within its space, clear of
   * the kernel's own devices, and overlapping no range of either kind
   * (a write is queued or posted, never both).
   */
  private registerRange(request: { readonly space: AddressSpace; readonly address: number; readonly length: number; readonly enable: boolean }, list: AddressRange[], kind: 'coalescedRanges' | 'postedRanges', what: string): Message {
    const problem = badRange(request, what) ?? (typeof request.enable === 'boolean' ? undefined : `${what}: enable is ${shown(request.enable)}`);
    if (problem !== undefined) return this.refuse(kind, problem);
    const range = { space: request.space, address: request.address, length: request.length };
    const index = list.findIndex((r) => r.space === range.space && r.address === range.address && r.length === range.length);
    const taken = request.enable && index < 0 ? [...this.coalescedRanges, ...this.postedRanges].find((r) => overlaps(r, range)) : undefined;
    const refused = this.claimed(range, what)
      ?? (taken === undefined ? undefined : `${what}: ${range.space} ${hex(range.address)} overlaps a range already ${this.coalescedRanges.includes(taken) ? 'coalesced' : 'posted'}`);
    if (refused !== undefined) return this.refuse(kind, refused);
    const held = this.holdsNothing;
    if (request.enable && index < 0) list.push(range);
    if (!request.enable && index >= 0) list.splice(index, 1);
    if (this.holdsNothing !== held) this.changed();
    return OK;
  }

  /** The error reply for a refused request (EINVAL unless said otherwise), counted by its kind. */
  private refuse(kind: keyof KernelDomain['refused'], message: string, code: ErrorCodeType = ErrorCode.Invalid): ErrorReply {
    this.refused[kind]++;
    return { kind: 'error', code, message };
  }
}
