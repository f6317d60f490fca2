/**
 * Linux reading its clocksource in a loop with interrupts off (what
 * ktime_get does between other work), for the three clocksources a PC guest
 * may run on when the TSC is not trusted:
 *
 * * `acpi_pm` — drivers/clocksource/acpi_pm.c acpi_pm_read_verified: three
 *   reads of PM_TMR, again while they are out of order (pm-timer-read.ts).
 * * `hpet` — arch/x86/kernel/hpet.c: hpet_enable reads the capabilities
 *   (GCAP_ID, and the period in its high half), then hpet_restart_counter —
 *   the configuration read, ENABLE_CNF cleared, the main counter zeroed
 *   (both halves), ENABLE_CNF set — and read_hpet is one 32-bit read of the
 *   main counter.
 * * `pit` — drivers/clocksource/i8253.c i8253_read, with counter 0 in mode 2
 *   at LATCH = PIT_TICK_RATE / HZ (init_pit_timer): a counter-latch command
 *   (00h to 43h), then the latched count low and high byte from 40h. It uses
 *   the `_p` port accessors, each followed by the I/O delay, a write to port
 *   80h (native_io_delay with CONFIG_IO_DELAY_0X80, Linux's default) —
 *   unless the kernel runs paravirtualized on KVM, which replaces the delay
 *   with nothing (KVM_FEATURE_NOP_IO_DELAY): parameter `ioDelay`.
 *
 * Values are kept as the clocksource core sees them, masked to the
 * clocksource's width; `backwardSteps` counts reads that went backwards from
 * the one before (modulo the width).
 */
import type { GuestOp, GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import { pmTimerRead } from './pm-timer-read.ts';
import type { Workload, WorkloadDefinition } from './workload.ts';
import { numberParameter, positiveInteger, stringParameter } from './workload.ts';

/** The HPET block on the PC board and the registers read_hpet and hpet_enable use (IA-PC HPET 1.0a, 2.3). */
const HPET_BASE = 0xfed0_0000;
const HPET_ID = 0x000;
const HPET_PERIOD = 0x004;
const HPET_CFG = 0x010;
const HPET_COUNTER = 0x0f0;
const HPET_CFG_ENABLE = 0x1;

const PIT_MODE = 0x43;
const PIT_CH0 = 0x40;
const PIT_TICK_RATE = 1_193_182;
/** The port native_io_delay writes. */
const IO_DELAY_PORT = 0x80;

export type Clocksource = 'acpi_pm' | 'hpet' | 'pit';
export const CLOCKSOURCES: readonly Clocksource[] = ['acpi_pm', 'hpet', 'pit'];

export interface ClocksourceReadOptions {
  readonly clocksource?: Clocksource;
  /** Clocksource reads before the program returns (default: it never does). */
  readonly reads?: number;
  /** Cycles computed between reads (default 1,000). */
  readonly computeCycles?: number;
  /** pit: the PIT's tick rate, which sets LATCH (default 1000). */
  readonly hz?: number;
  /** pit: the `_p` accessors' delay, a write to port 80h (default), or none (KVM's paravirtual io_delay). */
  readonly ioDelay?: '0x80' | 'none';
}

export interface ClocksourceRead {
  readonly guest: ScriptedGuest;
  readonly reads: () => number;
  readonly backwardSteps: () => number;
  /** acpi_pm: triple reads out of order, read again. */
  readonly retries: () => number;
  /** The last value read, masked to the clocksource's width. */
  readonly last: () => number;
}

export function clocksourceRead(options: ClocksourceReadOptions = {}): ClocksourceRead {
  const clocksource = options.clocksource ?? 'acpi_pm';
  const limit = options.reads;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw new RangeError(`reads must be a non-negative integer, not ${limit}`);
  const computeCycles = options.computeCycles ?? 1_000;
  if (clocksource === 'acpi_pm') {
    const pm = pmTimerRead({ ...(limit === undefined ? {} : { reads: limit }), computeCycles });
    return { guest: pm.guest, reads: pm.reads, backwardSteps: pm.backwardSteps, retries: pm.retries, last: () => pm.values().at(-1) ?? 0 };
  }
  const latch = Math.round(PIT_TICK_RATE / positiveInteger('hz', options.hz ?? 1000));
  if (latch > 0xffff) throw new RangeError(`HZ=${options.hz} needs a PIT count of ${latch}, above 65535`);
  const ioDelay = (options.ioDelay ?? '0x80') === '0x80';
  const mask = clocksource === 'hpet' ? 0xffff_ffff : 0xffff;
  let reads = 0;
  let backwardSteps = 0;
  let last: number | undefined;

  /** outb_p / inb_p: the access, then the I/O delay. */
  function* delay(): Generator<GuestOp, void, number> {
    if (ioDelay) yield { op: 'out', port: IO_DELAY_PORT, value: 0 };
  }

  function* setup(): GuestProgram {
    if (clocksource === 'hpet') {
      yield { op: 'read', address: HPET_BASE + HPET_ID };
      yield { op: 'read', address: HPET_BASE + HPET_PERIOD };
      const cfg = yield { op: 'read', address: HPET_BASE + HPET_CFG };
      yield { op: 'write', address: HPET_BASE + HPET_CFG, value: cfg & ~HPET_CFG_ENABLE };
      yield { op: 'write', address: HPET_BASE + HPET_COUNTER, value: 0 };
      yield { op: 'write', address: HPET_BASE + HPET_COUNTER + 4, value: 0 };
      const again = yield { op: 'read', address: HPET_BASE + HPET_CFG };
      yield { op: 'write', address: HPET_BASE + HPET_CFG, value: again | HPET_CFG_ENABLE };
      return;
    }
    // init_pit_timer, periodic: mode 2 on counter 0, LATCH low then high.
    for (const [port, value] of [[PIT_MODE, 0x34], [PIT_CH0, latch & 0xff], [PIT_CH0, latch >> 8]] as const) {
      yield { op: 'out', port, value };
      yield* delay();
    }
  }

  /** One clocksource read: the counter's value, in its own units. */
  function* read(): Generator<GuestOp, number, number> {
    if (clocksource === 'hpet') return (yield { op: 'read', address: HPET_BASE + HPET_COUNTER }) >>> 0;
    yield { op: 'out', port: PIT_MODE, value: 0x00 }; // latch counter 0
    yield* delay();
    const low = yield { op: 'in', port: PIT_CH0 };
    yield* delay();
    const high = yield { op: 'in', port: PIT_CH0 };
    yield* delay();
    // The count runs down from LATCH: elapsed ticks within the period, as i8253_read turns it.
    return (latch - ((high << 8) | low)) & mask;
  }

  const guest = new ScriptedGuest((function* main(): GuestProgram {
    yield { op: 'cli' };
    yield* setup();
    while (limit === undefined || reads < limit) {
      const value = yield* read();
      reads++;
      // The PIT's count wraps every period (i8253_read adds jiffies, which this guest, interrupts off, has not).
      if (clocksource === 'hpet' && last !== undefined && ((value - last) >>> 0) >= 0x8000_0000) backwardSteps++;
      last = value;
      yield { op: 'compute', cycles: computeCycles };
    }
  })());
  return { guest, reads: () => reads, backwardSteps: () => backwardSteps, retries: () => 0, last: () => last ?? 0 };
}

export const CLOCKSOURCE_READ: WorkloadDefinition = {
  name: 'clocksource-read',
  description: "Linux's clocksource read in a loop with interrupts off: acpi_pm's verified triple read of PM_TMR, the HPET main counter, or the PIT's latched count",
  follows: 'drivers/clocksource/acpi_pm.c acpi_pm_read_verified; arch/x86/kernel/hpet.c hpet_enable, hpet_restart_counter, read_hpet; drivers/clocksource/i8253.c init_pit_timer, i8253_read',
  parameters: [
    { name: 'clocksource', description: 'which clocksource the kernel reads', default: 'acpi_pm', choices: CLOCKSOURCES },
    { name: 'reads', description: 'clocksource reads before the guest stops (0: as many as the run allows)', default: 0, min: 0 },
    { name: 'io-delay', description: "pit: the _p accessors' I/O delay, a write to port 80h, or none (KVM's paravirtual io_delay)", default: '0x80', choices: ['0x80', 'none'] },
  ],
  create: (p): Workload => {
    const reads = numberParameter(p, 'reads');
    const run = clocksourceRead({
      clocksource: stringParameter(p, 'clocksource') as Clocksource,
      ioDelay: stringParameter(p, 'io-delay') === 'none' ? 'none' : '0x80',
      ...(reads === 0 ? {} : { reads }),
    });
    return { guest: run.guest, progress: () => ({ reads: run.reads(), retries: run.retries(), backwardSteps: run.backwardSteps() }) };
  },
};
