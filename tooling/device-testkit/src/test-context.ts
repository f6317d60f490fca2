/**
 * A DeviceContext on a virtual clock, for driving a device the way a driver
 * does: write registers, advance time, read registers and irq levels. Timers
 * fire in deadline order (then arming order) with `now()` at their deadline,
 * exactly as the domains' timer queues will fire them. Nothing here sleeps or
 * reads the wall clock. (QEMU qtest's clock_step, crosvm's FakeClock.)
 */
import type { DeviceContext, DeviceLogger, GuestMemory, Nanoseconds, Timer } from '@splitvisor/abi';
import { NEVER, NO_MEMORY, ramMemory } from '@splitvisor/abi';
import { TimerQueue } from '@splitvisor/clock';

/** More timer firings than this in one advance means a timer re-arms itself in the past. */
const MAX_FIRINGS = 10_000_000;

export interface IrqEdge {
  readonly time: Nanoseconds;
  readonly output: number;
  readonly level: boolean;
}

export interface LineEdge {
  readonly time: Nanoseconds;
  readonly line: string;
  readonly level: boolean;
}

export interface TestContext extends DeviceContext {
  /** Moves virtual time to `time`, firing every timer due on the way, at its deadline. */
  advanceTo(time: Nanoseconds): void;
  /** Moves virtual time forward by `ns`. */
  advance(ns: Nanoseconds): void;
  /** The level last driven on `output` (false if never driven). */
  irqLevel(output: number): boolean;
  /** Every change of level on any output, in order (repeated levels are not edges and are not listed). */
  readonly irqEdges: IrqEdge[];
  /** The level last driven on the named output `line` (`setLine`; false if never driven). */
  lineLevel(line: string): boolean;
  /** Every change of level on a named output line, in order (a pulse is two edges). */
  readonly lineEdges: LineEdge[];
  /** The deadline of the earliest armed timer, or undefined. */
  nextDeadline(): Nanoseconds | undefined;
  readonly warnings: string[];
  readonly ram: Uint8Array;
}

class VirtualBoard implements TestContext {
  private time: Nanoseconds;
  private readonly timers = new TimerQueue();
  private readonly levels = new Map<number, boolean>();
  readonly irqEdges: IrqEdge[] = [];
  private readonly lines = new Map<string, boolean>();
  readonly lineEdges: LineEdge[] = [];
  readonly warnings: string[] = [];
  readonly ram: Uint8Array;
  readonly memory: GuestMemory;
  readonly log: DeviceLogger;

  constructor(start: Nanoseconds, memoryBytes: number) {
    this.time = start;
    this.ram = new Uint8Array(memoryBytes);
    this.memory = ramMemory(this.ram);
    this.log = {
      debug: () => undefined,
      warn: (message) => { this.warnings.push(message); },
    };
  }

  now(): Nanoseconds {
    return this.time;
  }

  timer(callback: (now: Nanoseconds) => void): Timer {
    const timer = this.timers.timer(callback);
    return {
      arm: (deadline) => {
        if (!Number.isFinite(deadline) || deadline < 0) throw new RangeError(`timer armed at ${deadline}`);
        timer.arm(deadline);
      },
      cancel: () => { timer.cancel(); },
      get deadline() {
        return timer.deadline;
      },
    };
  }

  setIrq(output: number, level: boolean): void {
    if (this.levels.get(output) === level) return;
    this.levels.set(output, level);
    this.irqEdges.push({ time: this.time, output, level });
  }

  irqLevel(output: number): boolean {
    return this.levels.get(output) ?? false;
  }

  // A property, as DeviceContext declares it: a device may hand it on.
  readonly setLine = (line: string, level: boolean): void => {
    if ((this.lines.get(line) ?? false) === level) return;
    this.lines.set(line, level);
    this.lineEdges.push({ time: this.time, line, level });
  };

  lineLevel(line: string): boolean {
    return this.lines.get(line) ?? false;
  }

  nextDeadline(): Nanoseconds | undefined {
    const next = this.timers.nextDeadline();
    return next === NEVER ? undefined : next;
  }

  advanceTo(time: Nanoseconds): void {
    if (time < this.time) throw new RangeError(`time goes backwards: ${time} < ${this.time}`);
    const fired = this.timers.advanceTo(time, (due) => { this.time = Math.max(this.time, due); }, MAX_FIRINGS);
    if (fired >= MAX_FIRINGS) throw new Error(`more than ${MAX_FIRINGS} timer firings in one advance: a timer re-arms in the past`);
    this.time = time;
  }

  advance(ns: Nanoseconds): void {
    this.advanceTo(this.time + ns);
  }
}

export interface TestContextOptions {
  /** Virtual time to start at (default 0). */
  readonly start?: Nanoseconds;
  /** Guest RAM for DMA (default 1 MiB). */
  readonly memoryBytes?: number;
}

/** A context in which nothing happens: for constructing a device only to read its regions. */
export function inertContext(): DeviceContext {
  return {
    now: () => 0,
    timer: () => ({ arm: () => undefined, cancel: () => undefined, deadline: undefined }),
    setIrq: () => undefined,
    memory: NO_MEMORY,
    log: { debug: () => undefined, warn: () => undefined },
  };
}

export function createTestContext(options: TestContextOptions = {}): TestContext {
  return new VirtualBoard(options.start ?? 0, options.memoryBytes ?? 1 << 20);
}
