/**
 * A clocksource read loop on the ACPI PM timer, as Linux's acpi_pm
 * clocksource reads it (drivers/clocksource/acpi_pm.c): read_pmtmr is one
 * 32-bit `inl` of PM_TMR, masked to the timer's 24 bits (ACPI_PM_MASK).
 * acpi_pm_read, the clocksource's read on a sound chipset, is one of those;
 * acpi_pm_read_verified — the read Linux switches to (acpi_pm_read_slow,
 * through acpi_pm_need_workaround) for the PIIX4 and ICH4 parts whose PCI
 * quirks say the counter is not latched — reads it three times, again while
 * the three are out of order, and takes the middle one.
 *
 * The loop: one clocksource read, a little computation, again — a guest
 * reading time in a tight loop (timekeeping, a busy delay). Interrupts stay
 * off; the program returns after `reads` clocksource reads (the VM shuts
 * down), or runs forever.
 */
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';

export interface PmTimerReadOptions {
  /** Clocksource reads before the program returns (default: it never does). */
  readonly reads?: number;
  /** PM_TMR's port (default PM_TIMER_PORT). */
  readonly port?: number;
  /** acpi_pm_read_verified's triple read (default), or acpi_pm_read's single one. */
  readonly verified?: boolean;
  /** Cycles computed between clocksource reads (default 1,000). */
  readonly computeCycles?: number;
}

export interface PmTimerRead {
  readonly guest: ScriptedGuest;
  /** The values the clocksource read, oldest first: all of them with `reads` given, else the latest RECENT_PM_TIMER_VALUES. */
  readonly values: () => readonly number[];
  /** Clocksource reads so far. */
  readonly reads: () => number;
  /** Triple reads that were out of order and read again. */
  readonly retries: () => number;
  /** Clocksource reads that went backwards from the one before (see pmTimerMonotonic). */
  readonly backwardSteps: () => number;
}

/** PM_TMR on the PC board: QEMU's PIIX4 PM puts PMBASE at 600h, PM_TMR at PMBASE + 8. */
export const PM_TIMER_PORT = 0x608;
/** The PM timer's 24 bits (ACPI_PM_MASK: ACPI 6.5 §4.8.3.3, TMR_VAL_EXT clear). */
export const ACPI_PM_MASK = 0xff_ffff;
/** How many values an endless loop keeps. */
export const RECENT_PM_TIMER_VALUES = 4096;

/** Ticks from one read to the next, modulo 2^24 (as the clocksource core masks a delta). */
export function pmTimerDelta(from: number, to: number): number {
  return (to - from) & ACPI_PM_MASK;
}

/**
 * Whether one read follows another without going backwards, modulo 2^24: a
 * step of less than half the counter's range is forward (a counter at
 * 3.579545 MHz covers half its range in 2.3 s), anything more is a step back.
 */
export function pmTimerForward(from: number, to: number): boolean {
  return pmTimerDelta(from, to) < (ACPI_PM_MASK + 1) / 2;
}

/** Whether every read follows the one before without going backwards, modulo 2^24. */
export function pmTimerMonotonic(values: readonly number[]): boolean {
  return values.every((value, i) => i === 0 || pmTimerForward(values[i - 1] ?? value, value));
}

/** acpi_pm_read_verified's test: one of the three reads lies strictly between the two others in the wrong order. */
function outOfOrder(first: number, second: number, third: number): boolean {
  return (first > second && first < third) || (second > third && second < first) || (third > first && third < second);
}

export function pmTimerRead(options: PmTimerReadOptions = {}): PmTimerRead {
  const { reads: limit } = options;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw new RangeError(`reads must be a non-negative integer, not ${limit}`);
  const port = options.port ?? PM_TIMER_PORT;
  const verified = options.verified ?? true;
  const computeCycles = options.computeCycles ?? 1_000;
  const keep = limit ?? RECENT_PM_TIMER_VALUES;
  const values: number[] = [];
  let reads = 0;
  let retries = 0;
  let backwardSteps = 0;
  let last: number | undefined;

  function* readPmtmr(): Generator<{ readonly op: 'in'; readonly port: number; readonly size: 4 }, number, number> {
    return (yield { op: 'in', port, size: 4 }) & ACPI_PM_MASK;
  }

  function* clocksourceRead(): Generator<{ readonly op: 'in'; readonly port: number; readonly size: 4 }, number, number> {
    if (!verified) return yield* readPmtmr();
    for (;;) {
      const first = yield* readPmtmr();
      const second = yield* readPmtmr();
      const third = yield* readPmtmr();
      if (!outOfOrder(first, second, third)) return second;
      retries++;
    }
  }

  const guest = new ScriptedGuest((function* main(): GuestProgram {
    while (limit === undefined || reads < limit) {
      const value = yield* clocksourceRead();
      reads++;
      if (last !== undefined && !pmTimerForward(last, value)) backwardSteps++;
      last = value;
      if (keep > 0) {
        if (values.length === keep) values.shift();
        values.push(value);
      }
      yield { op: 'compute', cycles: computeCycles };
    }
  })());
  return { guest, values: () => values, reads: () => reads, retries: () => retries, backwardSteps: () => backwardSteps };
}
