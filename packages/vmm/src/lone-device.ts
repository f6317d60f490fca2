/**
 * One board device on its own, outside any VM: made by the board's factory
 * (the interrupt controllers as the irqchip makes them: all three joined,
 * one CPU) on a context of its own — virtual time that moves only when told,
 * a timer queue, bounded guest RAM that refuses DMA outside it, irq calls
 * checked — so that whatever drives its registers (`splitvisor fuzz`) sees
 * exactly what the device does and nothing else. QEMU's qtest machine at
 * power-on is the model, with one device instead of the board.
 */
import type { Device, DeviceContext, GuestMemory, Nanoseconds, Timer } from '@splitvisor/abi';
import { decodeState, encodeState, ramMemory, sameBytes } from '@splitvisor/abi';
import { TimerQueue } from '@splitvisor/clock';
import { LocalApicWindow, PcInterrupts } from '@splitvisor/irqchip';
import type { DeviceName, Placement } from '@splitvisor/placement';
import type { BoardOptions, Shared } from './devices.ts';
import { PC_DEVICES } from './device-factories.ts';

/**
 * Timer firings at one instant beyond which a timer is taken to re-arm
 * itself at a time already reached — it would never let time move on: the
 * advance stops there.
 */
export const MAX_FIRINGS_AT_ONE_INSTANT = 100_000;

export interface LoneDeviceOptions {
  /** Guest RAM for the device's DMA, in bytes (default 1 MiB); a transfer not wholly inside it is refused by the memory. */
  readonly memoryBytes?: number;
  /** Virtual time to start at (default 0). */
  readonly start?: Nanoseconds;
  /**
   * The most timer firings one advance may make (default: no limit): an
   * advance that would make more stops at the deadline it reached, short of
   * its target, so that a timer programmed for a period of a few clocks
   * cannot make one advance cost millions of firings.
   */
  readonly firingBudget?: number;
}

/** What the device did to the world beyond its registers, counted. */
export interface LoneDeviceCounts {
  /** DMA transfers guest memory took, and the bytes they moved. */
  readonly dmaTransfers: number;
  readonly dmaBytes: number;
  /** DMA transfers guest memory refused (not wholly inside it): nothing moved. */
  readonly dmaRefused: number;
  readonly timersFired: number;
  /** Irq outputs driven with a level that is not a boolean, or on an output that is not a whole number. */
  readonly badIrqCalls: number;
  /** The last of them, as `output 0 driven with 1`. */
  readonly lastBadIrqCall: string | undefined;
  /** Lines the device logged as guest input the hardware ignores. */
  readonly warnings: number;
  /** Advances stopped short of their target by the firing budget. */
  readonly advancesCutShort: number;
  /** Advances stopped by a timer firing MAX_FIRINGS_AT_ONE_INSTANT times without time moving on. */
  readonly stuckTimers: number;
}

export interface LoneDevice {
  readonly device: Device;
  now(): Nanoseconds;
  /**
   * Moves virtual time on by `ns`, firing each timer due on the way with
   * `now()` at its deadline (in deadline order, then arming order); returns
   * how many fired. Time stops short of the target at the firing budget, or
   * at a timer that keeps firing at one instant (both counted).
   */
  advance(ns: Nanoseconds): number;
  readonly counts: LoneDeviceCounts;
  /**
   * Checks the device's state as it stands: its `getState()` must encode as
   * plain state and decode to the same bytes, and a fresh instance (on a
   * fresh context at the same time) given that decoded state by `setState`
   * must give back the same bytes — as a domain taking the device over would
   * see it.
   */
  checkState(): StateCheck;
}

export interface StateCheck {
  /** The encoded state's size (0 when it could not be encoded). */
  readonly bytes: number;
  /** What is wrong, if anything (at most one: the first check that fails). */
  readonly problem?: string;
}

/** Makes the device on a context: the board's factory, or a caller's own (a test double). */
export type LoneDeviceMaker = (context: DeviceContext) => Device;

class LoneContext implements DeviceContext {
  readonly memory: GuestMemory;
  readonly log: DeviceContext['log'];
  dmaTransfers = 0;
  dmaBytes = 0;
  dmaRefused = 0;
  timersFired = 0;
  badIrqCalls = 0;
  lastBadIrqCall: string | undefined;
  warnings = 0;
  advancesCutShort = 0;
  stuckTimers = 0;
  private time: Nanoseconds;
  private readonly timers = new TimerQueue();
  private readonly firingBudget: number;

  constructor(start: Nanoseconds, memoryBytes: number, firingBudget: number) {
    this.time = start;
    this.firingBudget = firingBudget;
    const ram = ramMemory(new Uint8Array(memoryBytes));
    this.memory = {
      size: ram.size,
      read: (address, into) => this.counted(ram.read(address, into), into.length),
      write: (address, data) => this.counted(ram.write(address, data), data.length),
    };
    this.log = { debug: () => undefined, warn: () => { this.warnings++; } };
  }

  now(): Nanoseconds {
    return this.time;
  }

  timer(callback: (now: Nanoseconds) => void): Timer {
    return this.timers.timer(callback);
  }

  setIrq(output: number, level: boolean): void {
    if (typeof level === 'boolean' && Number.isInteger(output) && output >= 0) return;
    this.badIrqCalls++;
    this.lastBadIrqCall = `output ${String(output)} driven with ${String(level)}`;
  }

  advance(ns: Nanoseconds): number {
    const target = this.time + ns;
    let fired = 0;
    let reached = true;
    try {
      for (let due = this.timers.nextDeadline(); due <= target; due = this.timers.nextDeadline()) {
        if (fired >= this.firingBudget) {
          this.advancesCutShort++;
          reached = false;
          break;
        }
        this.time = Math.max(this.time, due);
        const atOnce = this.timers.runDue(this.time, MAX_FIRINGS_AT_ONE_INSTANT);
        fired += atOnce;
        if (atOnce >= MAX_FIRINGS_AT_ONE_INSTANT) {
          this.stuckTimers++;
          reached = false;
          break;
        }
      }
    } finally {
      // A callback that threw leaves the rest due, to fire late at the next advance; time still reaches the target.
      if (reached) this.time = target;
      this.timersFired += fired;
    }
    return fired;
  }

  private counted(moved: boolean, bytes: number): boolean {
    if (moved) {
      this.dmaTransfers++;
      this.dmaBytes += bytes;
    } else this.dmaRefused++;
    return moved;
  }
}

const describe = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/** `make`'s device alone on a context of its own. */
export function loneDeviceOf(make: LoneDeviceMaker, options: LoneDeviceOptions = {}): LoneDevice {
  const memoryBytes = options.memoryBytes ?? 1 << 20;
  const firingBudget = options.firingBudget ?? Number.POSITIVE_INFINITY;
  const context = new LoneContext(options.start ?? 0, memoryBytes, firingBudget);
  const device = make(context);
  return {
    device,
    now: () => context.now(),
    advance: (ns) => context.advance(ns),
    counts: context,
    checkState: () => {
      let bytes: Uint8Array;
      try {
        bytes = encodeState(device.getState());
      } catch (error) {
        return { bytes: 0, problem: `getState() is not plain state: ${describe(error)}` };
      }
      // decodeState re-encodes what it decoded and refuses it unless the bytes are the same.
      const decoded = decodeState(bytes);
      if (!decoded.ok) return { bytes: bytes.length, problem: `getState() does not survive the wire: ${decoded.reason}` };
      try {
        const fresh = make(new LoneContext(context.now(), memoryBytes, firingBudget));
        fresh.setState(decoded.state);
        if (!sameBytes(encodeState(fresh.getState()), bytes)) return { bytes: bytes.length, problem: 'a fresh instance given setState(getState()) gives another getState()' };
      } catch (error) {
        return { bytes: bytes.length, problem: `a fresh instance refuses setState(getState()): ${describe(error)}` };
      }
      return { bytes: bytes.length };
    },
  };
}

/**
 * How the board makes `name` alone: its factory from the registry, with the
 * placement's lost-tick policies and `board`'s media (the floppy's 8237 pair
 * made on the same context; state a factory keeps beside the device, as the
 * host's typing, is not the device's and is not kept); an interrupt
 * controller as one part of the whole irqchip, one CPU, its CPU line the
 * context's output 0.
 */
export function boardDeviceMaker(name: DeviceName, placement: Placement, board: BoardOptions = {}): LoneDeviceMaker {
  switch (name) {
    case 'pic':
      return (context) => new PcInterrupts(context, { cpus: 1 }).pic;
    case 'ioapic':
      return (context) => new PcInterrupts(context, { cpus: 1 }).ioapic;
    case 'lapic':
      return (context) => new LocalApicWindow(new PcInterrupts(context, { cpus: 1 }).lapics);
    default: {
      const factory = PC_DEVICES[name];
      if (factory === undefined) throw new RangeError(`the board has no factory for ${name}`);
      return (context) => {
        const shared: Shared = {};
        return factory({ context, placement, board, releases: [], shared, contextOf: () => context, sinks: {}, register: () => undefined });
      };
    }
  }
}

/** The board's `name` alone on a context of its own. */
export function loneDevice(name: DeviceName, placement: Placement, options: LoneDeviceOptions & { readonly board?: BoardOptions } = {}): LoneDevice {
  return loneDeviceOf(boardDeviceMaker(name, placement, options.board), options);
}
