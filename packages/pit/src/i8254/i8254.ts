/**
 * Intel 8254 Programmable Interval Timer, as on the PC: three counters on
 * a 1.193182 MHz clock; counter 0's OUT drives irq 0; counter 2's GATE and
 * OUT are reached through port 61h (nmisc.ts), which this device also
 * decodes. Datasheet: Intel 8254 (231164-005); PC wiring: IBM PC/AT technical
 * reference, "System Timers".
 *
 * Regions: `counters` (4 ports: counters 0–2, control word) and `nmisc`
 * (1 port). Irq output 0: counter 0's OUT.
 *
 * Lost ticks (a tick is a rising edge of counter 0's OUT):
 * - `discard` — the line follows OUT, as on hardware and in QEMU's userspace
 *   PIT: an edge the guest has not serviced before the next is lost.
 * - `delay` and `merge` — each tick is a pulse paced by the irqchip's ack
 *   notifier through `irqAcknowledged` (the abi's `TickPacer`): KVM's
 *   in-kernel PIT with reinjection, and with ticks collapsed.
 */
import type { AccessSize, Device, DeviceContext, DeviceProgram, IoRegion, Nanoseconds, TickPacing, Timer } from '@splitvisor/abi';
import { TickPacer, expectState, tickTime, ticksAt } from '@splitvisor/abi';
import { NMISC_WRITABLE, Nmisc } from '../nmisc.ts';
import type { I8254CounterState, I8254CounterStateV1 } from './counter.ts';
import {
  NO_CLOCK, latchCount, latchStatus, migrateCounter, nextTransition, outAt, powerOnCounter, readData, risingEdgesBetween,
  setGate, writeControl, writeData,
} from './counter.ts';
import { CONTROL_PORT, ControlWord, PIT_HZ, ReadBack, RwMode } from './registers.ts';
import { LATCH_PROGRAM, adoptLatchScratch, latchScratch } from './latch-program.ts';

export type LostTickPolicy = TickPacing;

export interface I8254Config {
  /** Default `discard`; `delay` and `merge` need the irqchip to call `irqAcknowledged(0)`. */
  readonly lostTickPolicy?: LostTickPolicy;
}

/**
 * Version 2: each counter loads a count on the CLK pulse after its write, holding its value and OUT until then
 * (`heldValue`, `heldOut`), and knows whether a mode 3 count began with its low half (`lowHalfFirst`,
 * `pendingLowHalfFirst`). Version 1 records are migrated (`migrateState`).
 */
export type I8254State = {
  readonly model: 'i8254';
  readonly version: 2;
  readonly counters: readonly [I8254CounterState, I8254CounterState, I8254CounterState];
  /** Port 61h: the stored bits 0–3. */
  readonly nmisc: number;
  /** Port 61h bit 4, as last read. */
  readonly refreshToggle: boolean;
  /** Counter 0's OUT when last looked at, and the clock then. */
  readonly out0: boolean;
  readonly out0Clock: number;
  /** `delay`/`merge`: a tick delivered and not yet acknowledged, and ticks waiting behind it. */
  readonly tickInFlight: boolean;
  readonly ticksPending: number;
};

/** Version 1: the same record, its counters without the fields version 2 added. */
export type I8254StateV1 = Omit<I8254State, 'version' | 'counters'> & {
  readonly version: 1;
  readonly counters: readonly [I8254CounterStateV1, I8254CounterStateV1, I8254CounterStateV1];
};

type Counters = [I8254CounterState, I8254CounterState, I8254CounterState];

const REGIONS: readonly IoRegion[] = [
  { name: 'counters', space: 'port', length: 4, sizes: [1] },
  { name: 'nmisc', space: 'port', length: 1, sizes: [1] },
];

const MODEL = 'i8254' as const;
const VERSION = 2;

export class I8254 implements Device<I8254State> {
  readonly model: 'i8254' = MODEL;
  readonly regions: readonly IoRegion[] = REGIONS;
  /** Counter 0's latch-and-read, answered in the kernel (`latch-program.ts`). */
  readonly programs: readonly DeviceProgram[] = [{ region: 'counters', offset: 0, length: 4, program: LATCH_PROGRAM }];
  private readonly context: DeviceContext;
  private readonly pacer: TickPacer;
  private readonly timer: Timer;
  private counters: Counters;
  private nmisc = 0;
  private refreshToggle = false;
  private out0: boolean;
  private out0Clock = 0;
  /** The level last driven on irq 0: a live handle, re-derived on restore. */
  private lineLevel = false;
  private readonly odd = { controlPortReads: 0, readBackReservedBit: 0, invalidBcdCounts: 0, ignoredNmiscBits: 0 };

  constructor(context: DeviceContext, config: I8254Config = {}) {
    this.context = context;
    this.pacer = new TickPacer(config.lostTickPolicy ?? 'discard', () => { this.pulse(); });
    this.timer = context.timer((now) => { this.updateIrq(now); });
    // Power-on as QEMU: every counter in mode 3 with count 2^16, gates high but counter 2's (port 61h bit 0 is 0).
    this.counters = [powerOnCounter(true), powerOnCounter(true), powerOnCounter(false)];
    const clock = this.clock();
    this.out0 = outAt(this.counters[0], clock);
    this.out0Clock = clock;
    this.driveLine(true);
    this.arm(clock);
  }

  private clock(now: Nanoseconds = this.context.now()): number {
    return ticksAt(now, PIT_HZ);
  }

  programScratch(): Uint8Array {
    return latchScratch(this.counters[0], this.clock());
  }

  adoptProgramScratch(scratch: Uint8Array): void {
    adoptLatchScratch(this.counters[0], scratch);
  }

  read(region: string, offset: number, _size: AccessSize): number {
    const clock = this.clock();
    if (region === 'nmisc') {
      this.refreshToggle = !this.refreshToggle;
      return (this.nmisc & NMISC_WRITABLE) | (this.refreshToggle ? Nmisc.REFRESH_TOGGLE : 0)
        | (outAt(this.counters[2], clock) ? Nmisc.TIM2_OUT : 0);
    }
    if (offset === CONTROL_PORT) {
      // The control word register is write-only; reads return 0, as QEMU.
      this.odd.controlPortReads++;
      return 0;
    }
    return readData(this.counter(offset), clock);
  }

  write(region: string, offset: number, _size: AccessSize, value: number): void {
    const clock = this.clock();
    const byte = value & 0xff;
    if (region === 'nmisc') {
      if ((byte & ~NMISC_WRITABLE) !== 0) this.odd.ignoredNmiscBits++;
      this.nmisc = byte & NMISC_WRITABLE;
      setGate(this.counters[2], (byte & Nmisc.TIM2_GATE) !== 0, clock);
      return;
    }
    if (offset === CONTROL_PORT) this.writeControlWord(byte, clock);
    else if (!writeData(this.counter(offset), byte, clock)) this.odd.invalidBcdCounts++;
    // Reprogramming counter 0 starts re-injection afresh (as KVM's kvm_pit_reset_reinject on a load).
    if (offset === 0 || (offset === CONTROL_PORT && byte >> ControlWord.SC_SHIFT === 0 && ((byte >> ControlWord.RW_SHIFT) & ControlWord.RW_MASK) !== RwMode.latch)) {
      this.pacer.reset();
    }
    if (offset === 0 || offset === CONTROL_PORT) this.updateIrq(this.context.now());
  }

  private counter(index: number): I8254CounterState {
    const counter = this.counters[index];
    if (counter === undefined) throw new RangeError(`8254 has no counter ${index}`);
    return counter;
  }

  private writeControlWord(byte: number, clock: number): void {
    const select = byte >> ControlWord.SC_SHIFT;
    if (select === ControlWord.SC_READ_BACK) {
      if ((byte & ReadBack.RESERVED) !== 0) this.odd.readBackReservedBit++;
      const selected = [ReadBack.CNT0, ReadBack.CNT1, ReadBack.CNT2];
      this.counters.forEach((counter, i) => {
        if ((byte & (selected[i] ?? 0)) === 0) return;
        if ((byte & ReadBack.COUNT_N) === 0) latchCount(counter, clock);
        if ((byte & ReadBack.STATUS_N) === 0) latchStatus(counter, clock);
      });
      return;
    }
    const counter = this.counter(select);
    const rw = (byte >> ControlWord.RW_SHIFT) & ControlWord.RW_MASK;
    if (rw === RwMode.latch) {
      latchCount(counter, clock);
      return;
    }
    writeControl(counter, rw, (byte >> ControlWord.M_SHIFT) & ControlWord.M_MASK, (byte & ControlWord.BCD) !== 0, clock);
  }

  // --- irq 0 ------------------------------------------------------------------

  /** Brings irq 0 up to date with counter 0's OUT at `now`, and arms the timer for its next change. */
  private updateIrq(now: Nanoseconds): void {
    const clock = this.clock(now);
    const counter = this.counters[0];
    const out = outAt(counter, clock);
    if (!this.pacer.paced) {
      this.out0 = out;
      this.driveLine();
    } else {
      const ticks = clock > this.out0Clock ? risingEdgesBetween(counter, this.out0Clock, clock) : 0;
      this.out0 = out;
      for (let i = 0; i < ticks; i++) this.pacer.tick();
    }
    this.out0Clock = clock;
    this.arm(clock);
  }

  private arm(clock: number): void {
    const next = nextTransition(this.counters[0], clock);
    if (next === NO_CLOCK) this.timer.cancel();
    else this.timer.arm(tickTime(next, PIT_HZ));
  }

  /** Drives irq 0, only when its level changes (a repeated level is no edge, and must not look like one). */
  private driveLine(force = false): void {
    const level = this.pacer.paced ? false : this.out0;
    if (!force && level === this.lineLevel) return;
    this.lineLevel = level;
    this.context.setIrq(0, level);
  }

  private pulse(): void {
    this.context.setIrq(0, true);
    this.context.setIrq(0, false);
  }

  /**
   * The irqchip unmasked irq 0: re-injection starts afresh, as KVM's PIT
   * mask notifier resets it — the tick held for an acknowledgement that
   * could not come is let go, and the ticks owed while the line was masked
   * are dropped, not delivered in a burst (a guest that masked its timer
   * did not want them).
   */
  irqUnmasked(output: number): void {
    if (output === 0) this.pacer.reset();
  }

  irqAcknowledged(output: number): void {
    if (output === 0) this.pacer.acknowledged();
  }

  // --- state ------------------------------------------------------------------

  getState(): I8254State {
    const [c0, c1, c2] = this.counters;
    return {
      model: MODEL, version: VERSION, counters: [{ ...c0 }, { ...c1 }, { ...c2 }], nmisc: this.nmisc,
      refreshToggle: this.refreshToggle, out0: this.out0, out0Clock: this.out0Clock,
      tickInFlight: this.pacer.ticks.inFlight, ticksPending: this.pacer.ticks.pending,
    };
  }

  /** Takes a version 2 record, or a version 1 record migrated. */
  setState(state: I8254State | I8254StateV1): void {
    const current = state.version === 1 ? migrateState(state) : state;
    expectState(current, MODEL, VERSION);
    const [c0, c1, c2] = current.counters;
    this.counters = [{ ...c0 }, { ...c1 }, { ...c2 }];
    this.nmisc = current.nmisc;
    this.refreshToggle = current.refreshToggle;
    this.out0 = current.out0;
    this.out0Clock = current.out0Clock;
    this.pacer.restore({ inFlight: current.tickInFlight, pending: current.ticksPending });
    this.driveLine(true);
    this.arm(this.clock());
  }

  anomalies(): Readonly<Record<string, number>> {
    return { ...this.odd };
  }
}

/** A version 1 record as version 2: the same device, each counter migrated (`migrateCounter`). */
export function migrateState(state: I8254StateV1): I8254State {
  expectState(state, MODEL, 1); // another model's record at version 1 is refused as such, not taken apart
  const [c0, c1, c2] = state.counters;
  return { ...state, version: VERSION, counters: [migrateCounter(c0), migrateCounter(c1), migrateCounter(c2)] };
}
