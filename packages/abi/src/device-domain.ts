/**
 * One domain — the part that the kernel, the monitor and the device host
 * each are, with what its place adds on top: a bus holding the devices
 * placed here at the board's addresses, a timer queue their timers run on,
 * a registry of their states by name (KVM_GET/SET_PIT2, _IRQCHIP …
 * generalised), the `DeviceContext` each is given, and one entry point
 * taking a decoded access. The run loop asks an ordered list of domains;
 * a domain across the channel answers through the same calls (crosvm's
 * `Bus` holds local devices and `ProxyDevice`s alike).
 *
 * What a place adds is its own: the kernel its coalesced ring and the
 * counters it serves; the monitor, later, its in-port cache; the device
 * host its end of the channel.
 */
import type { Access } from './access.ts';
import type { DeviceContext, GuestMemory, Timer } from './device-context.ts';
import { NO_MEMORY } from './device-context.ts';
import type { Device } from './device.ts';
import { DeviceStateError, expectState } from './device.ts';
import { IoBus } from './io-bus.ts';
import type { DeviceStateReply, ErrorReply, OkReply } from './ioctl.ts';
import { ErrorCode } from './ioctl.ts';
import type { DeviceState } from './plain-state.ts';
import type { Nanoseconds } from './time.ts';

/** The places a device can be put: the three domains. */
export type Place = 'kernel' | 'monitor' | 'user';

/** The timer queue a domain's devices arm their timers on (the clock package's `TimerQueue`). */
export interface DomainTimers {
  timer(callback: (now: Nanoseconds) => void): Timer;
  /** Fires every timer due by `now`, in deadline order; returns how many. */
  runDue(now: Nanoseconds): number;
  /** Calls `visit` with every timer due by `now`, firing none. */
  forEachDue(now: Nanoseconds, visit: (timer: Timer) => void): void;
  /** Fires every timer due by `time`, moving the owner's clock to each deadline first (`at`). */
  advanceTo(time: Nanoseconds, at: (deadline: Nanoseconds) => void): number;
  /** The earliest deadline (NEVER if none). */
  nextDeadline(): Nanoseconds;
  /** The timer with the earliest deadline, if one is armed (of several due together, the first armed). */
  nextTimer(): Timer | undefined;
}

/** What a domain keeps of a device beyond its regions: its state, by the board's name for it. */
export interface StatefulDevice {
  readonly name: string;
  getState(): DeviceState;
  setState(state: DeviceState): void;
}

/** Where one of a device's regions sits on the board. */
export interface RegionAt {
  readonly region: string;
  readonly base: number;
}

/**
 * Device states by name, as the get/set device state ioctls answer: what
 * every domain offers, a local one by a call, the device host across the
 * channel — the same interface (crosvm's `ProxyDevice`).
 */
export interface DeviceStates {
  getDeviceState(name: string): DeviceStateReply | ErrorReply;
  /** Restores `name`'s state; a state of another model or version is refused (EINVAL), the device left as it was. */
  setDeviceState(name: string, state: DeviceState): OkReply | ErrorReply;
}

export interface DomainOptions {
  /** The domain's time: the monitor's virtual time, or the time of the exit being served. */
  readonly now: () => Nanoseconds;
  readonly timers: DomainTimers;
  /** Guest RAM, for the DMA of devices placed here. */
  readonly memory?: GuestMemory;
}

const PLACE_NAMES: Readonly<Record<Place, string>> = { kernel: 'the kernel', monitor: 'the monitor', user: 'the device host' };

/**
 * The name a domain's own state has among its devices' (get/set device
 * state): which device raised each line last, where the irqchip's
 * acknowledgement of that line goes back to — machine state a snapshot
 * carries, since a tick in flight is acknowledged after it.
 */
export const DOMAIN_STATE = 'domain';

/** Each line with the device (by name) and output that raised it last. */
export type DomainState = {
  readonly model: 'device-domain';
  readonly version: 1;
  readonly raisedBy: readonly (readonly [number, string, number])[];
};

export class DeviceDomain<P extends Place = Place> implements DeviceStates {
  readonly place: P;
  readonly bus: IoBus = new IoBus();
  readonly timers: DomainTimers;
  /** What devices here warned of (guest input the hardware ignores), each line named by its device. */
  readonly log: string[] = [];
  protected readonly now: () => Nanoseconds;
  protected readonly memory: GuestMemory;
  private readonly devices = new Map<string, StatefulDevice>();
  /** The state-only registrations each placed device owns (`register`'s `owner`), which go when it does. */
  private readonly owned = new Map<string, string[]>();
  /** The devices placed here by name, for the irqchip's notifiers. */
  private readonly placed = new Map<string, Device>();
  /** Which device output last raised each line: where an acknowledgement of that line goes back to. */
  private readonly raisedBy = new Map<number, { readonly name: string; readonly output: number }>();
  /** An irqchip placed here takes the lines of this domain's devices. */
  private irqSink: ((gsi: number, level: boolean) => void) | undefined;
  /** Where the board wires this domain's devices' named output lines (`routeLines`). */
  private lineSink: ((device: string, line: string, level: boolean) => void) | undefined;
  private readonly watchers: (() => void)[] = [];
  /** Told of every device timer that fires here: the device, and how late it ran after its deadline. */
  private timerWatcher: ((device: string, lateNs: Nanoseconds) => void) | undefined;
  /** Each timer armed here, by the name of the device (or context) that made it. */
  private readonly timerNames = new WeakMap<Timer, string>();
  /** The timers each device (or context) made here, by its name: cancelled when it leaves. */
  private readonly timersOf = new Map<string, Timer[]>();

  constructor(place: P, options: DomainOptions) {
    this.place = place;
    this.now = options.now;
    this.timers = options.timers;
    this.memory = options.memory ?? NO_MEMORY;
    this.bus.watch(() => { this.changed(); });
  }

  /**
   * Whether this domain answers no access at all: nothing placed here (and,
   * in the kernel, no counter or coalesced range registered). Whoever asks
   * domains in turn can leave it out until `watch` says it changed — the
   * monitor of every KVM-like placement holds nothing for the whole run.
   */
  get holdsNothing(): boolean {
    return this.bus.empty;
  }

  /** Calls `watcher` whenever what this domain answers may have changed (a device placed, a fast path registered). */
  watch(watcher: () => void): void {
    this.watchers.push(watcher);
  }

  /**
   * Calls `watcher` whenever a device timer fires here, with the device's
   * name and its lateness: how long after its deadline the domain ran it (0
   * when the monitor stopped the guest at the deadline; more when events wait
   * for a host tick, an exit in progress or a descheduled vCPU).
   */
  watchTimers(watcher: (device: string, lateNs: Nanoseconds) => void): void {
    this.timerWatcher = watcher;
  }

  /** The earliest deadline of a timer here (NEVER: none armed) and whose timer it is ('' when none; of several due together, the first). */
  nextTimer(): { readonly deadline: Nanoseconds; readonly deadlineOwner: string } {
    const first = this.timers.nextTimer();
    return { deadline: this.timers.nextDeadline(), deadlineOwner: first === undefined ? '' : this.timerNames.get(first) ?? '' };
  }

  /** The names of the devices whose timers are due by `now` (without firing them). */
  dueTimerNames(now: Nanoseconds): string[] {
    const names: string[] = [];
    this.timers.forEachDue(now, (timer) => { names.push(this.timerNames.get(timer) ?? ''); });
    return names;
  }

  /**
   * When this domain got to run a timer due at `due`: its own time now (the
   * kernel and the monitor run a timer when their vCPU's time reaches it, or
   * later). A domain that brings its time up to a deadline before firing it
   * says here when it really got there.
   */
  protected ranAt(_due: Nanoseconds): Nanoseconds {
    return this.now();
  }

  /** What this domain answers changed: its watchers look again. */
  protected changed(): void {
    for (const watcher of this.watchers) watcher();
  }

  /** The context for a device placed here: this domain's time and timers, its irq output n driving GSI `gsiOf(n)`. */
  context(name: string, gsiOf: (output: number) => number): DeviceContext {
    return {
      now: () => this.now(),
      timer: (callback) => {
        const timer = this.timers.timer((due) => {
          this.timerWatcher?.(name, this.ranAt(due) - due);
          callback(due);
        });
        this.timerNames.set(timer, name);
        let timers = this.timersOf.get(name);
        if (timers === undefined) {
          timers = [];
          this.timersOf.set(name, timers);
        }
        timers.push(timer);
        return timer;
      },
      setIrq: (output, level) => {
        const line = gsiOf(output);
        const raiser = this.raisedBy.get(line);
        if (level && (raiser?.name !== name || raiser.output !== output)) this.raisedBy.set(line, { name, output });
        this.setIrq(line, level);
      },
      setLine: (line, level) => { this.setLine(name, line, level); },
      memory: this.memory,
      log: { debug: () => undefined, warn: (message) => { this.log.push(`${name}: ${message}`); } },
    };
  }

  /** Places `device` here under the board's `name`: each region on this bus at its base, its state reachable by name. */
  attach(name: string, device: Device, regions: readonly RegionAt[]): void {
    for (const { region, base } of regions) this.bus.map(name, device, region, base);
    this.placed.set(name, device);
    this.register({ name, getState: () => device.getState(), setState: (state) => { device.setState(state); } });
  }

  /**
   * Takes the device placed here as `name` out of this domain — its
   * regions off the bus, its state no longer here, its timers cancelled
   * (a move: the device's state goes with it, and its new domain re-arms
   * them) — along with what the place holds for it (`detached`).
   */
  detach(name: string): void {
    this.bus.unmap(name);
    this.devices.delete(name);
    for (const owned of this.owned.get(name) ?? []) this.devices.delete(owned);
    this.owned.delete(name);
    this.placed.delete(name);
    for (const timer of this.timersOf.get(name) ?? []) timer.cancel();
    this.timersOf.delete(name);
    const lines: number[] = [];
    for (const [line, raiser] of this.raisedBy) {
      if (raiser.name !== name) continue;
      lines.push(line);
      this.raisedBy.delete(line);
    }
    this.detached(name, lines);
  }

  /** A device left this domain, having raised `lines`: what the place holds for it goes too (the device host's fast paths in the kernel). */
  protected detached(_name: string, _lines: readonly number[]): void {
    // nothing held beyond the device in a plain domain
  }

  /**
   * Makes a device's state reachable by name (one whose regions are mapped
   * otherwise, or that has none). `owner`: the placed device it belongs to
   * (a disk's medium in memory), which takes it along when it is detached.
   */
  register(device: StatefulDevice, owner?: string): void {
    this.devices.set(device.name, device);
    if (owner !== undefined) this.owned.set(owner, [...this.owned.get(owner) ?? [], device.name]);
  }

  /** Whether a device is placed here as `name` (attached and not detached since): without exporting its state. */
  holds(name: string): boolean {
    return this.placed.has(name);
  }

  getDeviceState(name: string): DeviceStateReply | ErrorReply {
    if (name === DOMAIN_STATE) return { kind: 'device-state', device: name, state: this.domainState() };
    const device = this.devices.get(name);
    if (device === undefined) return this.noDevice(name);
    return { kind: 'device-state', device: name, state: device.getState() };
  }

  /** Restores `name`'s state; a state of another model or version is refused (EINVAL), the device left as it was. */
  setDeviceState(name: string, state: DeviceState): OkReply | ErrorReply {
    const device = name === DOMAIN_STATE ? { setState: (s: DeviceState) => { this.setDomainState(s); } } : this.devices.get(name);
    if (device === undefined) return this.noDevice(name);
    try {
      device.setState(state);
    } catch (error) {
      return { kind: 'error', code: ErrorCode.Invalid, message: error instanceof Error ? error.message : String(error) };
    }
    this.restored(name);
    return { kind: 'ok' };
  }

  /** This domain's own state (`DOMAIN_STATE`): which device raised each line last. */
  private domainState(): DomainState {
    return { model: 'device-domain', version: 1, raisedBy: [...this.raisedBy].map(([line, { name, output }]) => [line, name, output] as const) };
  }

  /** Takes, of `state`'s lines, those raised by devices placed here (the others are another domain's). */
  private setDomainState(state: DeviceState): void {
    expectState(state, 'device-domain', 1);
    const given: unknown = (state as { readonly raisedBy?: unknown }).raisedBy;
    const entry = (e: unknown): e is readonly [number, string, number] => Array.isArray(e) && e.length === 3 && Number.isInteger(e[0]) && typeof e[1] === 'string' && Number.isInteger(e[2]);
    // Checked whole before anything changes: a state that does not fit is refused with the domain as it was.
    if (!Array.isArray(given) || !given.every(entry)) throw new DeviceStateError('a domain state\'s raisedBy is a list of [line, device, output]');
    this.raisedBy.clear();
    for (const [line, name, output] of given) if (this.placed.has(name)) this.raisedBy.set(line, { name, output });
  }

  /** A device's state was restored (the device host re-offers its counters). */
  protected restored(_name: string): void {
    // nothing to redo in a plain domain
  }

  private noDevice(name: string): ErrorReply {
    return { kind: 'error', code: ErrorCode.NoDevice, message: `no device ${name} in ${PLACE_NAMES[this.place]}` };
  }

  /** An irqchip placed here: the lines of this domain's devices go to it. */
  routeIrqs(sink: (gsi: number, level: boolean) => void): void {
    this.irqSink = sink;
  }

  /** Drives a GSI: into the irqchip placed here, or on to wherever this place sends lines it has no irqchip for. */
  setIrq(gsi: number, level: boolean): void {
    if (this.irqSink === undefined) this.unroutedIrq(gsi, level);
    else this.irqSink(gsi, level);
  }

  /**
   * Where the named output lines of the devices placed here go (a
   * `DeviceContext.setLine`: port 92h's `a20`, a `reset` pulse), with the
   * board's name of the device that drove each: the board wires them to the
   * CPU or the machine. Unrouted, a place does what `unroutedLine` says.
   */
  routeLines(sink: (device: string, line: string, level: boolean) => void): void {
    this.lineSink = sink;
  }

  /** Drives `device`'s named output `line`: to the board's sink, or on to wherever this place sends lines it has no sink for. */
  setLine(device: string, line: string, level: boolean): void {
    if (this.lineSink === undefined) this.unroutedLine(device, line, level);
    else this.lineSink(device, line, level);
  }

  /** A named line with no sink here (nothing is wired to it yet: the device's state holds the level). */
  protected unroutedLine(_device: string, _line: string, _level: boolean): void {
    // dropped: nothing listens
  }

  /**
   * The irqchip's ack notifier: an interrupt that came in on `line` was
   * taken and acknowledged; the device here that raised it is told (a
   * timer pacing its lost ticks delivers the next). KVM's
   * kvm_register_irq_ack_notifier, for any device placed with the irqchip.
   */
  acknowledged(line: number): void {
    const raiser = this.raisedBy.get(line);
    if (raiser !== undefined) this.placed.get(raiser.name)?.irqAcknowledged?.(raiser.output);
  }

  /** The irqchip's mask notifier: `line` was unmasked; the device that raised it may let a held tick go. */
  unmasked(line: number): void {
    const raiser = this.raisedBy.get(line);
    if (raiser !== undefined) this.placed.get(raiser.name)?.irqUnmasked?.(raiser.output);
  }

  /** A line with no irqchip here to take it (the device host sends it to the kernel: KVM_IRQ_LINE). */
  protected unroutedIrq(_gsi: number, _level: boolean): void {
    // dropped: nothing listens
  }

  /**
   * The entry point: answers `access` if a device placed here holds its
   * address — a read's bytes into `into` (`width × count`) — and returns
   * the device's name; null when answered without a device; undefined when
   * the access goes on to the next domain outward.
   */
  access(access: Access, into: Uint8Array): string | null | undefined {
    const mapping = this.bus.access(access, into);
    return mapping === undefined ? this.unmapped(access, into) : mapping.name;
  }

  /** An access no device here holds: what the place answers without one (the kernel's counters and ring), or undefined. */
  protected unmapped(_access: Access, _into: Uint8Array): string | null | undefined {
    return undefined;
  }

  /** Fires this domain's timers due by `now`. */
  runDue(now: Nanoseconds): void {
    this.timers.runDue(now);
  }

  /** The earliest deadline of this domain's timers (NEVER if none). */
  nextDeadline(): Nanoseconds {
    return this.timers.nextDeadline();
  }
}
