/**
 * System Control Port A, port 92h: the "fast A20 and reset" port of the
 * IBM PS/2 (Personal System/2 Hardware Interface Technical Reference,
 * System Control Port A) that PC boards carry on in their super I/O (SMSC
 * FDC37B78x and LPC47B27x datasheets, "Port 92 Register"), and that QEMU's
 * `pc` machine models as its `port92` device (hw/isa/port92.c).
 *
 *   bit 1  ALT_A20: 1 lets address line 20 through (A20 gate open), 0
 *          masks it — unless the keyboard controller's A20GATE holds it
 *          open (the two are ORed into the CPU's nA20M).
 *   bit 0  alternate reset: a 0→1 transition resets the CPU; the bit reads
 *          back as written, and must be written back to 0 before the next
 *          request (a system reset clears it).
 *   bits 7–2 are the PS/2's disk activity light, watchdog status and
 *          security lock, reserved on later parts: as QEMU, every bit
 *          written is latched and read back, and writing them is counted.
 *
 * Region `control` (1 port, byte accesses). Two named output lines
 * (`DeviceContext.setLine`), which the board wires to the CPU: `a20`, the
 * gate's level, driven when bit 1 changes and again when a state is
 * restored; and `reset`, pulsed (true, then false) on each 0→1 of bit 0.
 * The latch and the count of reset requests are state, so the board can
 * read both wherever the device runs. Reads have no side effect: a domain
 * may serve them from a cache a write to the port invalidates (seed 003).
 */
import type { AccessSize, Device, DeviceContext, FastPathHints, IoRegion } from '@splitvisor/abi';
import { expectState } from '@splitvisor/abi';

/** The bits of System Control Port A this model acts on. */
export const SystemControlA = {
  /** INIT_NOW: a 0→1 transition requests a CPU reset. */
  FAST_RESET: 0x01,
  /** ALT_A20_GATE: the A20 gate is open while set. */
  A20_GATE: 0x02,
} as const;

/** The bits later parts reserve (the PS/2's activity light, watchdog and lock): latched, as QEMU does, and counted. */
export const RESERVED_BITS = 0xfc;

/** The named output lines the board wires: the A20 gate's level, and a pulse per reset request. */
export const Port92Line = { a20: 'a20', reset: 'reset' } as const;

export type Port92State = {
  readonly model: 'port92';
  readonly version: 1;
  /** The byte last written (00h at power-on, as QEMU): what a read returns. */
  readonly latch: number;
  /** Fast resets requested so far (0→1 transitions of bit 0). */
  readonly resetRequests: number;
};

const MODEL = 'port92';
const VERSION = 1;

const REGIONS: readonly IoRegion[] = [{ name: 'control', space: 'port', length: 1, sizes: [1] }];

/** The port's one read is its latch, changed only by a write to it: seed 003's coupled in-port cache may hold it. */
const HINTS: FastPathHints = {
  cachedReads: [{ region: 'control', offset: 0, length: 1, invalidatedBy: [{ region: 'control', offset: 0, length: 1 }] }],
};

export class Port92 implements Device<Port92State> {
  readonly model: 'port92' = MODEL;
  readonly regions: readonly IoRegion[] = REGIONS;
  readonly hints: FastPathHints = HINTS;
  private latch = 0;
  private resetRequests = 0;
  private readonly odd = { reservedBitsWritten: 0, unacceptedAccesses: 0 };
  private readonly context: DeviceContext;

  constructor(context: DeviceContext) {
    this.context = context;
  }

  read(region: string, offset: number, size: AccessSize): number {
    if (!this.mine(region, offset, size)) return 0xff;
    return this.latch;
  }

  write(region: string, offset: number, size: AccessSize, value: number): void {
    if (!this.mine(region, offset, size)) return;
    const byte = value & 0xff;
    if ((byte & RESERVED_BITS) !== 0) this.odd.reservedBitsWritten++;
    const before = this.latch;
    this.latch = byte;
    if (((before ^ byte) & SystemControlA.A20_GATE) !== 0) this.context.setLine?.(Port92Line.a20, this.a20());
    // Only the rising edge resets (SMSC: the bit must go back to 0 first; QEMU's port92_write); writing 1 again while set does not.
    if ((byte & SystemControlA.FAST_RESET) !== 0 && (before & SystemControlA.FAST_RESET) === 0) {
      this.resetRequests++;
      this.context.setLine?.(Port92Line.reset, true);
      this.context.setLine?.(Port92Line.reset, false);
    }
  }

  private mine(region: string, offset: number, size: AccessSize): boolean {
    if (region === 'control' && offset === 0 && size === 1) return true;
    this.odd.unacceptedAccesses++;
    return false;
  }

  /** A cached read of the port: its latch, which only a write changes. */
  cachedRead(region: string, offset: number): number | undefined {
    return region === 'control' && offset === 0 ? this.latch : undefined;
  }

  // --- board side -------------------------------------------------------------------------------

  /** Whether the A20 gate is open (bit 1). */
  a20(): boolean {
    return (this.latch & SystemControlA.A20_GATE) !== 0;
  }

  /** Fast resets the guest has requested. */
  resets(): number {
    return this.resetRequests;
  }

  /**
   * The CPU was reset (the board calls this once it has acted on a reset
   * request): bit 0 clears, as a system reset clears it and as QEMU's port92_reset does, so the
   * next 0→1 is a new request. The A20 gate keeps its level.
   */
  reset(): void {
    this.latch &= ~SystemControlA.FAST_RESET;
  }

  // --- state ------------------------------------------------------------------------------------

  getState(): Port92State {
    return { model: MODEL, version: VERSION, latch: this.latch, resetRequests: this.resetRequests };
  }

  setState(state: Port92State): void {
    expectState(state, MODEL, VERSION);
    this.latch = state.latch & 0xff;
    this.resetRequests = state.resetRequests;
    // Re-drive the level the board last saw (a device made anew in another domain). A reset pulse is an event, not a level.
    this.context.setLine?.(Port92Line.a20, this.a20());
  }

  anomalies(): Readonly<Record<string, number>> {
    return { ...this.odd };
  }
}
