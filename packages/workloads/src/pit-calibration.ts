/**
 * TSC calibration against the PIT, as Linux does it when the CPU does not
 * report its TSC frequency (arch/x86/kernel/tsc.c
 * pit_hpet_ptimer_calibrate_cpu, pit_calibrate_tsc, tsc_read_refs,
 * calc_pmtimer_ref), with the ACPI PM timer as the reference (no HPET):
 *
 * * Interrupts off for each try (local_irq_save). tsc_read_refs: up to five
 *   times, RDTSC, the PM timer (acpi_pm_read_early: acpi_pm_read_verified's
 *   reads of PM_TMR at 608h until three are in order, masked to 24 bits),
 *   RDTSC, until the two TSC reads are less than 50,000 cycles apart
 *   (SMI_TRESHOLD).
 * * pit_calibrate_tsc(latch, ms, loopmin): port 61h read, written back with
 *   the speaker off (bit 1) and counter 2's GATE on (bit 0); counter 2 in
 *   mode 0, LSB then MSB, binary (43h ← B0h); the latch's low and high
 *   bytes to 42h; RDTSC; then, until port 61h's bit 5 (OUT2) is high, RDTSC
 *   each time round, keeping the smallest and largest step. Fewer turns
 *   than `loopmin`, or a largest step more than ten times the smallest (an
 *   SMI), is a failure; else the result is the TSC cycles over the loop
 *   divided by `ms`: kHz.
 * * Three tries with CAL_LATCH (10 ms, at least 1000 turns); after two PIT
 *   failures, CAL2_LATCH (50 ms, 5000 turns) — what Linux does for
 *   virtualized PCs whose PIT polling is slow. A try whose PM-timer
 *   reference agrees with the PIT within 10 % ends the calibration with the
 *   reference's value; otherwise the lowest PIT value wins, or the
 *   reference's when the PIT never gave one.
 *
 * `calibrations` whole calibrations, one after the other (default: as many
 * as the run allows, each a fresh measurement — Linux calibrates once at
 * boot; repeating it gives a long run something to measure throughout).
 * The progress reports the last calibration's result in kHz (`tscKhz`, 0 if
 * it failed), what the PIT and the reference gave, and the PIT loop's turns.
 */
import type { GuestOp, GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import { ACPI_PM_MASK, PM_TIMER_PORT } from './pm-timer-read.ts';
import type { WorkloadDefinition } from './workload.ts';
import { numberParameter, stringParameter } from './workload.ts';

type Step<T> = Generator<GuestOp, T, number>;

const PIT_TICK_RATE = 1_193_182;
/** tsc.c's calibration windows: CAL_MS with CAL_LATCH and CAL_PIT_LOOPS, CAL2_* after two PIT failures. */
const CAL_MS = 10;
export const CAL_LATCH: number = Math.floor(PIT_TICK_RATE / (1000 / CAL_MS));
const CAL_PIT_LOOPS = 1000;
const CAL2_MS = 50;
export const CAL2_LATCH: number = Math.floor(PIT_TICK_RATE / (1000 / CAL2_MS));
const CAL2_PIT_LOOPS = 5000;
const MAX_RETRIES = 5;
const SMI_TRESHOLD = 50_000;
const PMTMR_TICKS_PER_SEC = 3_579_545;
const ACPI_PM_OVRRUN = 2 ** 24;
/** ULONG_MAX: a calibration that gave nothing. */
const FAILED = Number.POSITIVE_INFINITY;

const PORT_NMISC = 0x61;
const PIT_CH2 = 0x42;
const PIT_MODE = 0x43;
/** Counter 2, LSB then MSB, mode 0, binary. */
const PIT_CH2_MODE0 = 0xb0;

export interface PitCalibrationOptions {
  /** Whole calibrations before the guest stops (default: it never does). */
  readonly calibrations?: number;
  /** The PM timer as the reference (default), or none (pmtmr_ioport 0: PIT only). */
  readonly reference?: 'pmtimer' | 'none';
  /** CAL_MS, for short test runs (default 10, Linux's): the latch, CAL2_MS (5×) and the loop minimums scale with it. */
  readonly windowMs?: number;
}

export interface PitCalibrationResult {
  /** What the calibration returned, kHz (0: it failed). */
  readonly tscKhz: number;
  /** tsc_pit_min and tsc_ref_min, kHz (0: none). */
  readonly pitKhz: number;
  readonly refKhz: number;
  /** Tries made (1–3), and the PIT loop's turns in the last. */
  readonly tries: number;
  readonly loops: number;
}

export interface PitCalibration {
  readonly guest: ScriptedGuest;
  readonly calibrations: () => number;
  readonly last: () => PitCalibrationResult | undefined;
  /** PIT tries that failed (too few turns, or an SMI-sized step). */
  readonly pitFailures: () => number;
  /** Turns of the OUT2 polling loop so far (each an `inb` of port 61h). */
  readonly turns: () => number;
}

function outOfOrder(first: number, second: number, third: number): boolean {
  return (first > second && first < third) || (second > third && second < first) || (third > first && third < second);
}

export function pitCalibration(options: PitCalibrationOptions = {}): PitCalibration {
  const limit = options.calibrations ?? Number.POSITIVE_INFINITY;
  const pmtimer = options.reference !== 'none';
  const calMs = options.windowMs ?? CAL_MS;
  if (!Number.isInteger(calMs) || calMs < 1 || calMs > 10) throw new RangeError(`windowMs must be 1–10, not ${calMs}`);
  const calLatch = Math.floor(PIT_TICK_RATE / (1000 / calMs));
  const cal2Ms = (CAL2_MS / CAL_MS) * calMs;
  const cal2Latch = Math.floor(PIT_TICK_RATE / (1000 / cal2Ms));
  const calLoops = (CAL_PIT_LOOPS / CAL_MS) * calMs;
  const cal2Loops = (CAL2_PIT_LOOPS / CAL2_MS) * cal2Ms;
  let calibrations = 0;
  let pitFailures = 0;
  let last: PitCalibrationResult | undefined;
  let loops = 0;
  /** Turns of the OUT2 polling loop so far, across every calibration. */
  let turns = 0;

  function* readPmtmr(): Step<number> {
    return (yield { op: 'in', port: PM_TIMER_PORT, size: 4 }) & ACPI_PM_MASK;
  }
  /** acpi_pm_read_early. */
  function* pmRead(): Step<number> {
    if (!pmtimer) return 0;
    for (;;) {
      const v1 = yield* readPmtmr();
      const v2 = yield* readPmtmr();
      const v3 = yield* readPmtmr();
      if (!outOfOrder(v1, v2, v3)) return v2;
    }
  }
  /** tsc_read_refs: [tsc, reference], the TSC FAILED when every try took too long. */
  function* readRefs(): Step<[number, number]> {
    let ref = 0;
    for (let i = 0; i < MAX_RETRIES; i++) {
      const t1 = yield { op: 'rdtsc' };
      ref = yield* pmRead();
      const t2 = yield { op: 'rdtsc' };
      if (t2 - t1 < SMI_TRESHOLD) return [t2, ref];
    }
    return [FAILED, ref];
  }
  /** pit_calibrate_tsc. */
  function* pitCalibrateTsc(latch: number, ms: number, loopmin: number): Step<number> {
    const nmisc = yield { op: 'in', port: PORT_NMISC };
    yield { op: 'out', port: PORT_NMISC, value: (nmisc & ~0x02) | 0x01 };
    yield { op: 'out', port: PIT_MODE, value: PIT_CH2_MODE0 };
    yield { op: 'out', port: PIT_CH2, value: latch & 0xff };
    yield { op: 'out', port: PIT_CH2, value: latch >> 8 };
    const t1 = yield { op: 'rdtsc' };
    let tsc = t1;
    let t2 = t1;
    let pitcnt = 0;
    let tscmax = 0;
    let tscmin = FAILED;
    while (((yield { op: 'in', port: PORT_NMISC }) & 0x20) === 0) {
      t2 = yield { op: 'rdtsc' };
      const delta = t2 - tsc;
      tsc = t2;
      tscmin = Math.min(tscmin, delta);
      tscmax = Math.max(tscmax, delta);
      pitcnt++;
      turns++;
    }
    loops = pitcnt;
    if (pitcnt < loopmin || tscmax > 10 * tscmin) {
      pitFailures++;
      return FAILED;
    }
    return Math.floor((t2 - t1) / ms);
  }
  /** calc_pmtimer_ref: kHz from a TSC delta (times 10^6) over PM timer ticks. */
  function pmtimerRef(deltaTsc: number, pm1: number, pm2: number): number {
    if (pm1 === 0 && pm2 === 0) return FAILED;
    const ticks = (pm2 < pm1 ? pm2 + ACPI_PM_OVRRUN : pm2) - pm1;
    const ns = Math.floor((ticks * 1_000_000_000) / PMTMR_TICKS_PER_SEC);
    return ns === 0 ? FAILED : Math.floor(deltaTsc / ns);
  }
  /** pit_hpet_ptimer_calibrate_cpu, with the PM timer as the reference. */
  function* calibrate(): Step<PitCalibrationResult> {
    let latch = calLatch;
    let ms = calMs;
    let loopmin = calLoops;
    let pitMin = FAILED;
    let refMin = FAILED;
    let tries = 0;
    const done = (tscKhz: number): PitCalibrationResult => ({
      tscKhz: Number.isFinite(tscKhz) ? tscKhz : 0, pitKhz: Number.isFinite(pitMin) ? pitMin : 0,
      refKhz: Number.isFinite(refMin) ? refMin : 0, tries, loops,
    });
    for (let i = 0; i < 3; i++) {
      tries++;
      yield { op: 'cli' };
      const [tsc1, ref1] = yield* readRefs();
      const pitKhz = yield* pitCalibrateTsc(latch, ms, loopmin);
      const [tsc2, ref2] = yield* readRefs();
      yield { op: 'sti' };
      pitMin = Math.min(pitMin, pitKhz);
      if (i === 1 && pitMin === FAILED) {
        latch = cal2Latch;
        ms = cal2Ms;
        loopmin = cal2Loops;
      }
      if (ref1 === ref2) continue;
      if (tsc1 === FAILED || tsc2 === FAILED) continue;
      refMin = Math.min(refMin, pmtimerRef((tsc2 - tsc1) * 1_000_000, ref1, ref2));
      const deviation = Math.floor((pitMin * 100) / refMin);
      if (deviation >= 90 && deviation <= 110) return done(refMin);
    }
    if (pitMin === FAILED) return done(refMin);
    return done(pitMin);
  }

  const guest = new ScriptedGuest((function* main(): GuestProgram {
    while (calibrations < limit) {
      last = yield* calibrate();
      calibrations++;
    }
  })());
  return { guest, calibrations: () => calibrations, last: () => last, pitFailures: () => pitFailures, turns: () => turns };
}

export const PIT_CALIBRATION: WorkloadDefinition = {
  name: 'pit-calibration',
  description: "Linux's TSC calibration: PIT counter 2 in mode 0 gated through port 61h, polled for OUT2 with RDTSC each turn, checked against the PM timer",
  follows: 'arch/x86/kernel/tsc.c pit_hpet_ptimer_calibrate_cpu, pit_calibrate_tsc, tsc_read_refs, calc_pmtimer_ref; drivers/clocksource/acpi_pm.c acpi_pm_read_verified',
  parameters: [
    { name: 'calibrations', description: 'whole calibrations before the guest stops (0: as many as the run allows)', default: 0, min: 0 },
    { name: 'reference', description: "the reference timer: the ACPI PM timer ('pmtimer') or none", default: 'pmtimer', choices: ['pmtimer', 'none'] },
  ],
  create: (p) => {
    const calibrations = numberParameter(p, 'calibrations');
    const run = pitCalibration({
      reference: stringParameter(p, 'reference') === 'none' ? 'none' : 'pmtimer',
      ...(calibrations === 0 ? {} : { calibrations }),
    });
    return {
      guest: run.guest,
      progress: () => {
        const last = run.last();
        return {
          calibrations: run.calibrations(), tscKhz: last?.tscKhz ?? 0, pitKhz: last?.pitKhz ?? 0, refKhz: last?.refKhz ?? 0,
          loops: last?.loops ?? 0, pitFailures: run.pitFailures(), turns: run.turns(),
        };
      },
    };
  },
};
