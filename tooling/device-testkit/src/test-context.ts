/**
 * A DeviceContext on a virtual clock, for driving a device the way a driver
 * does: write registers, advance time, read registers and irq levels. Timers
 * fire in deadline order (then arming order) with `now()` at their deadline,
 * exactly as the domains' timer queues will fire them. Nothing here sleeps or
 * reads the wall clock. (QEMU qtest's clock_step, crosvm's FakeClock.)
 */
import type { DeviceContext, DeviceLogger, GuestMemory, Nanoseconds, Timer } from '@splitvisor/abi';

export interface IrqEdge {
  readonly time: Nanoseconds;
  readonly output: number;
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
  /** The deadline of the earliest armed timer, or undefined. */
  nextDeadline(): Nanoseconds | undefined;
  readonly warnings: string[];
  readonly ram: Uint8Array;
}

class TestTimer implements Timer {
  deadline: Nanoseconds | undefined;
  armedSeq = 0;
  readonly callback: (now: Nanoseconds) => void;
  private readonly owner: VirtualBoard;

  constructor(owner: VirtualBoard, callback: (now: Nanoseconds) => void) {
    this.owner = owner;
    this.callback = callback;
  }

  arm(deadline: Nanoseconds): void {
    if (!Number.isFinite(deadline) || deadline < 0) throw new RangeError(`timer armed at ${deadline}`);
    this.deadline = deadline;
    this.armedSeq = this.owner.nextSeq();
  }

  cancel(): void {
    this.deadline = undefined;
  }
}

class VirtualBoard implements TestContext {
  private time: Nanoseconds;
  private seq = 0;
  private readonly timers: TestTimer[] = [];
  private readonly levels = new Map<number, boolean>();
  readonly irqEdges: IrqEdge[] = [];
  readonly warnings: string[] = [];
  readonly ram: Uint8Array;
  readonly memory: GuestMemory;
  readonly log: DeviceLogger;

  constructor(start: Nanoseconds, memoryBytes: number) {
    this.time = start;
    this.ram = new Uint8Array(memoryBytes);
    const ram = this.ram;
    this.memory = {
      size: memoryBytes,
      read(address, into) {
        if (address < 0 || address + into.length > ram.length) return false;
        into.set(ram.subarray(address, address + into.length));
        return true;
      },
      write(address, data) {
        if (address < 0 || address + data.length > ram.length) return false;
        ram.set(data, address);
        return true;
      },
    };
    this.log = {
      debug: () => undefined,
      warn: (message) => { this.warnings.push(message); },
    };
  }

  nextSeq(): number {
    return ++this.seq;
  }

  now(): Nanoseconds {
    return this.time;
  }

  timer(callback: (now: Nanoseconds) => void): Timer {
    const timer = new TestTimer(this, callback);
    this.timers.push(timer);
    return timer;
  }

  setIrq(output: number, level: boolean): void {
    if (this.levels.get(output) === level) return;
    this.levels.set(output, level);
    this.irqEdges.push({ time: this.time, output, level });
  }

  irqLevel(output: number): boolean {
    return this.levels.get(output) ?? false;
  }

  private earliest(limit: Nanoseconds): TestTimer | undefined {
    let best: TestTimer | undefined;
    for (const timer of this.timers) {
      if (timer.deadline === undefined || timer.deadline > limit) continue;
      if (best?.deadline === undefined || timer.deadline < best.deadline
        || (timer.deadline === best.deadline && timer.armedSeq < best.armedSeq)) best = timer;
    }
    return best;
  }

  nextDeadline(): Nanoseconds | undefined {
    return this.earliest(Number.POSITIVE_INFINITY)?.deadline;
  }

  advanceTo(time: Nanoseconds): void {
    if (time < this.time) throw new RangeError(`time goes backwards: ${time} < ${this.time}`);
    for (let fired = 0; ; fired++) {
      if (fired > 10_000_000) throw new Error('more than 10^7 timer firings in one advance: a timer re-arms in the past');
      const timer = this.earliest(time);
      if (timer?.deadline === undefined) break;
      this.time = Math.max(this.time, timer.deadline);
      timer.deadline = undefined;
      timer.callback(this.time);
    }
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
    memory: { size: 0, read: () => false, write: () => false },
    log: { debug: () => undefined, warn: () => undefined },
  };
}

export function createTestContext(options: TestContextOptions = {}): TestContext {
  return new VirtualBoard(options.start ?? 0, options.memoryBytes ?? 1 << 20);
}
