/**
 * Linux calibrating the local APIC timer against the TSC at boot, as
 * arch/x86/kernel/apic/apic.c calibrate_APIC_clock does on a CPU without
 * TSC-deadline whose TSC rate is already known (tsc_khz, from the PIT
 * calibration) and no hypervisor told it the APIC timer's rate:
 *
 * * interrupts off; __setup_APIC_LVTT(0xffffffff, periodic, no irq): LVTT
 *   masked and periodic on LOCAL_TIMER_VECTOR, TDCR read-modify-written to
 *   divide by 16, TMICT = 0xffffffff / 16 (it cannot run out in the 100 ms);
 * * tsc_start = RDTSC and tsc_perj = tsc_khz × 1000 / HZ; interrupts on;
 * * LAPIC_CAL_LOOPS + 1 times (HZ / 10 + 1): spin on RDTSC (cpu_relax between
 *   reads) until a jiffy's worth of TSC has passed, then with interrupts off
 *   lapic_cal_handler reads TMCCT, the TSC and the ACPI PM timer
 *   (acpi_pm_read_early, one read of PM_TMR), keeping the first and the last;
 * * lapic_timer_period = (first TMCCT − last TMCCT) × APIC_DIVISOR /
 *   LAPIC_CAL_LOOPS — bus clocks per jiffy — checked against the PM timer
 *   (calibrate_by_pmtimer: the ticks it counted against the 100 ms expected,
 *   corrected when they differ by more than 1 %).
 *
 * The verification Linux does next (the timer run periodic with interrupts
 * for another LAPIC_CAL_LOOPS jiffies) is left out. The program calibrates
 * `calibrations` times, then stops.
 */
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { OP_CYCLES, ScriptedGuest } from '@splitvisor/scripted-guest';
import { APIC_DIVISOR, GUEST_TSC_HZ, LOCAL_TIMER_VECTOR } from './lapic-tick.ts';
import { ACPI_PM_MASK, PM_TIMER_PORT, pmTimerDelta } from './pm-timer-read.ts';
import type { WorkloadDefinition } from './workload.ts';
import { numberParameter } from './workload.ts';

const APIC_BASE = 0xfee0_0000;
const APIC_SPIV = 0x0f0;
const APIC_LVTT = 0x320;
const APIC_TMICT = 0x380;
const APIC_TMCCT = 0x390;
const APIC_TDCR = 0x3e0;
const APIC_LVT_MASKED = 0x1_0000;
const APIC_LVT_TIMER_PERIODIC = 0x2_0000;
const APIC_TDR_DIV_TMBASE = 0x4;
const APIC_TDR_DIV_1 = 0xb;
const APIC_TDR_DIV_16 = 0x3;
const APIC_SPIV_APIC_ENABLED = 0x100;
/** The ACPI PM timer's rate (PMTMR_TICKS_PER_SEC). */
const PMTMR_TICKS_PER_SEC = 3_579_545;
/** Cycles of one turn of the TSC spin: RDTSC, the compare, cpu_relax (PAUSE). */
const SPIN_TURN_CYCLES = 42;

export interface LapicCalibrationOptions {
  readonly hz?: number;
  /** Calibrations before the program stops (default 1). */
  readonly calibrations?: number;
  /** The TSC rate the kernel believes (tsc_khz × 1000; default the VM's, GUEST_TSC_HZ). */
  readonly tscHz?: number;
}

export interface LapicCalibration {
  readonly guest: ScriptedGuest;
  /** lapic_timer_period: APIC bus clocks per jiffy, from the last calibration (0 before the first ends). */
  readonly lapicTimerPeriod: () => number;
  /** PM timer ticks over the last calibration's LAPIC_CAL_LOOPS jiffies. */
  readonly pmTicks: () => number;
  readonly calibrations: () => number;
}

export function lapicCalibration(options: LapicCalibrationOptions = {}): LapicCalibration {
  const hz = options.hz ?? 1000;
  if (!Number.isInteger(hz) || hz < 10) throw new RangeError(`HZ must be a whole number of at least 10, not ${hz}`);
  const wanted = options.calibrations ?? 1;
  const tscHz = options.tscHz ?? GUEST_TSC_HZ;
  const loops = Math.floor(hz / 10); // LAPIC_CAL_LOOPS
  let period = 0;
  let pmTicks = 0;
  let done = 0;
  const apic = (register: number) => APIC_BASE + register;

  const guest = new ScriptedGuest((function* main(): GuestProgram {
    // The APIC as setup_local_APIC left it: software enabled.
    const spiv = yield { op: 'read', address: apic(APIC_SPIV) };
    yield { op: 'write', address: apic(APIC_SPIV), value: (spiv | APIC_SPIV_APIC_ENABLED) >>> 0 };
    for (; done < wanted; done++) {
      yield { op: 'cli' };
      // __setup_APIC_LVTT(0xffffffff, 0, 0)
      yield { op: 'write', address: apic(APIC_LVTT), value: LOCAL_TIMER_VECTOR | APIC_LVT_TIMER_PERIODIC | APIC_LVT_MASKED };
      const tdcr = yield { op: 'read', address: apic(APIC_TDCR) };
      yield { op: 'write', address: apic(APIC_TDCR), value: ((tdcr & ~(APIC_TDR_DIV_1 | APIC_TDR_DIV_TMBASE)) | APIC_TDR_DIV_16) >>> 0 };
      yield { op: 'write', address: apic(APIC_TMICT), value: Math.floor(0xffff_ffff / APIC_DIVISOR) };
      let tscStart = yield { op: 'rdtsc' };
      const tscPerJiffy = Math.floor(tscHz / hz);
      yield { op: 'sti' };
      let first = { tapic: 0, pm: 0 };
      let last = first;
      for (let n = 0; n <= loops; n++) {
        // Wait for a jiffy's worth of TSC. The spin reads the TSC every turn (a read, cpu_relax, the loop); the
        // turns it would make before the jiffy is up run as one computation, ending where the spin would.
        for (;;) {
          const now = yield { op: 'rdtsc' };
          if (now - tscStart >= tscPerJiffy) {
            tscStart += tscPerJiffy;
            break;
          }
          const turns = Math.ceil((tscStart + tscPerJiffy - now) / SPIN_TURN_CYCLES);
          yield { op: 'compute', cycles: turns * SPIN_TURN_CYCLES - 2 * OP_CYCLES };
        }
        // lapic_cal_handler, interrupts off.
        yield { op: 'cli' };
        const tapic = yield { op: 'read', address: apic(APIC_TMCCT) };
        yield { op: 'rdtsc' };
        const pm = (yield { op: 'in', port: PM_TIMER_PORT, size: 4 }) & ACPI_PM_MASK;
        if (n === 0) first = { tapic, pm };
        last = { tapic, pm };
        yield { op: 'sti' };
      }
      let delta = first.tapic - last.tapic;
      pmTicks = pmTimerDelta(first.pm, last.pm);
      // calibrate_by_pmtimer: trust the PM timer when the LAPIC's count strays more than 1 % from it.
      const expected = Math.floor((PMTMR_TICKS_PER_SEC * loops) / hz);
      if (pmTicks > 0 && Math.abs(pmTicks - expected) * 100 > expected) delta = Math.floor((delta * expected) / pmTicks);
      period = Math.floor((delta * APIC_DIVISOR) / loops);
    }
  })());
  return { guest, lapicTimerPeriod: () => period, pmTicks: () => pmTicks, calibrations: () => done };
}

export const LAPIC_CALIBRATION: WorkloadDefinition = {
  name: 'lapic-calibration',
  description: "Linux calibrating the LAPIC timer against the TSC at boot: TMCCT, the TSC and the PM timer read at each of HZ/10 jiffies, interrupts off around each",
  follows: 'arch/x86/kernel/apic/apic.c calibrate_APIC_clock, __setup_APIC_LVTT, lapic_cal_handler, calibrate_by_pmtimer',
  parameters: [
    { name: 'hz', description: "the kernel's tick rate (CONFIG_HZ)", default: 1000, choices: [100, 250, 300, 1000] },
    { name: 'calibrations', description: 'calibrations before the guest stops', default: 1, min: 1 },
  ],
  create: (p) => {
    const run = lapicCalibration({ hz: numberParameter(p, 'hz'), calibrations: numberParameter(p, 'calibrations') });
    return { guest: run.guest, progress: () => ({ calibrations: run.calibrations(), lapicTimerPeriod: run.lapicTimerPeriod(), pmTicks: run.pmTicks() }) };
  },
};
