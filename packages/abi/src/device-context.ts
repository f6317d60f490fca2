import type { Nanoseconds } from './time.ts';

/**
 * Everything a device may do to the world, handed to it by whichever domain
 * hosts it. A device never reaches for the host clock, host timers or a
 * global bus; it cannot tell the kernel from the monitor from the device host.
 */
export interface DeviceContext {
  /** Current virtual time. */
  now(): Nanoseconds;
  /**
   * A timer that calls `callback` once virtual time reaches its deadline.
   * Created once (a live handle, not state); armed and re-armed from state.
   */
  timer(callback: (now: Nanoseconds) => void): Timer;
  /**
   * Drives one of the device's interrupt outputs. Output numbers are the
   * device's own (output 0 is its first pin); the board routes each to a line.
   */
  setIrq(output: number, level: boolean): void;
  /**
   * Drives one of the device's named output lines that are not interrupts:
   * pins the board wires to the CPU or to the machine rather than to the
   * irqchip — port 92h's `a20` gate, a `reset` request (QEMU's named GPIO
   * outputs, `qdev_connect_gpio_out_named`). A pulse is `true` then `false`.
   * Absent where the host wires no such line: the device's state still holds
   * the level, and its counters the pulses.
   */
  readonly setLine?: (line: string, level: boolean) => void;
  /** Guest physical memory, for DMA. */
  readonly memory: GuestMemory;
  readonly log: DeviceLogger;
}

/**
 * The same context with the device's irq outputs wired elsewhere: how a
 * composition (the PC's interrupt wiring, a board) connects one device's
 * output to another's input without either knowing.
 */
export function withIrqOutputs(context: DeviceContext, setIrq: (output: number, level: boolean) => void): DeviceContext {
  const { setLine } = context;
  return {
    now: () => context.now(),
    timer: (callback) => context.timer(callback),
    setIrq,
    ...(setLine === undefined ? {} : { setLine }),
    memory: context.memory,
    log: context.log,
  };
}

export interface Timer {
  /** Arms (or re-arms) the timer for `deadline`; a deadline in the past fires at the next opportunity. */
  arm(deadline: Nanoseconds): void;
  cancel(): void;
  /** The armed deadline, or undefined when disarmed. */
  readonly deadline: Nanoseconds | undefined;
}

/**
 * Bounds-checked guest physical memory. An access that is not wholly inside
 * guest RAM transfers nothing and answers false, as a DMA to an unbacked
 * address does nothing useful on a PC; the device counts it.
 */
export interface GuestMemory {
  readonly size: number;
  /** Copies `into.length` bytes from `address`; false (and `into` untouched) when out of bounds. */
  read(address: number, into: Uint8Array): boolean;
  /** Copies `data` to `address`; false (and memory untouched) when out of bounds. */
  write(address: number, data: Uint8Array): boolean;
}

/** Guest RAM over `ram` (from guest physical address 0), bounds-checked as GuestMemory says. */
export function ramMemory(ram: Uint8Array): GuestMemory {
  return {
    size: ram.length,
    read(address, into) {
      if (!Number.isInteger(address) || address < 0 || address + into.length > ram.length) return false;
      into.set(ram.subarray(address, address + into.length));
      return true;
    },
    write(address, data) {
      if (!Number.isInteger(address) || address < 0 || address + data.length > ram.length) return false;
      ram.set(data, address);
      return true;
    },
  };
}

/** No RAM at all: every DMA is refused. */
export const NO_MEMORY: GuestMemory = ramMemory(new Uint8Array(0));

export interface DeviceLogger {
  debug(message: string): void;
  /** Guest input the hardware would ignore or answer oddly; the device also counts it. */
  warn(message: string): void;
}
