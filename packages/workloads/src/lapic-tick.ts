/**
 * Linux's tickless idle on the local APIC timer in one-shot mode, as the
 * lapic clockevent drives it (arch/x86/kernel/apic/apic.c) on a CPU without
 * TSC-deadline (or booted with `lapic=notscdeadline`):
 *
 * * setup_local_APIC: SVR read-modify-write — software enable, spurious
 *   vector FFh; LVT0 ExtINT, masked; LVT1 NMI. That is the common case with
 *   the I/O APIC carrying the legacy irqs (virtual wire off): check_timer in
 *   io_apic.c leaves LVT0 as ExtINT + masked, and the bootstrap processor
 *   keeps LINT1 as an unmasked NMI (`apic_extnmi=bsp`, the default).
 * * lapic_timer_set_oneshot → __setup_APIC_LVTT: LVTT = LOCAL_TIMER_VECTOR
 *   (ECh) in one-shot mode, then TDCR read-modify-write to divide by 16
 *   (APIC_DIVISOR), and no initial count (one-shot arms on demand).
 * * idle (do_idle): with interrupts off, the next tick is programmed —
 *   tick_nohz's reprogramming ending in lapic_next_event, one TMICT write —
 *   then safe_halt (`sti; hlt`, so the interrupt cannot slip in between).
 * * sysvec_apic_timer_interrupt: apic_eoi (native_apic_mem_eoi, a write of 0
 *   to EOI) first, then local_apic_timer_interrupt counts the jiffy and
 *   spends the handler's cycles. The handler does not re-arm; the idle loop
 *   does, before each `hlt`.
 *
 * With `timer: 'tsc-deadline'` (a CPU with X86_FEATURE_TSC_DEADLINE_TIMER,
 * Linux's default where it exists): __setup_APIC_LVTT writes LVTT in
 * TSC-deadline mode (no divider, no initial count), and lapic_next_deadline
 * re-arms with RDTSC and one WRMSR of IA32_TSC_DEADLINE = TSC + delta × 8
 * (TSC_DIVISOR), the clockevent counting in eighths of the TSC; its minimum
 * delta is 0xF of those units.
 *
 * No tick is lost or added: each event is aimed at the next boundary of the
 * jiffy grid counted from reset (k / HZ s), not at "now + 1/HZ", so the time
 * the handler and the work take does not accumulate; an event whose boundary
 * has already passed is programmed with the minimum delta (as
 * clockevents_program_event forces one), so a late tick is caught up. Over a
 * run of T seconds there are T × HZ timer interrupts, as long as the work and
 * the handler fit in a tick on average.
 *
 * The guest reads the time as Linux does, from its TSC (`rdtsc`, which does
 * not exit), just before it programs the next event.
 */
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { OP_CYCLES, ScriptedGuest } from '@splitvisor/scripted-guest';
import { positiveInteger } from './workload.ts';

export interface LapicTickOptions {
  readonly hz?: number;
  /** Cycles the handler spends per tick (default 2,000). */
  readonly handlerCycles?: number;
  /** Cycles of work between idles (default 50,000). */
  readonly workCycles?: number;
  /** The guest's TSC rate, which must be the VM's (default GUEST_TSC_HZ). */
  readonly tscHz?: number;
  /** The APIC bus clock, as Linux's calibration finds it (default LAPIC_BUS_HZ, the model's). */
  readonly busHz?: number;
  /** The LAPIC timer's mode: one-shot counting the bus clock (default), or TSC-deadline. */
  readonly timer?: 'oneshot' | 'tsc-deadline';
}

/** LOCAL_TIMER_VECTOR (arch/x86/include/asm/irq_vectors.h). */
export const LOCAL_TIMER_VECTOR = 0xec;
/** SPURIOUS_APIC_VECTOR (irq_vectors.h). */
export const SPURIOUS_APIC_VECTOR = 0xff;
/**
 * The APIC bus clock the LAPIC timer model counts by default
 * (`ApicTimerConfig.busHz` in @splitvisor/apic-timer: 1 GHz, as KVM and QEMU
 * present it); the VM does not change it.
 */
export const LAPIC_BUS_HZ = 1_000_000_000;
/** The VM's default guest TSC rate (`VmOptions.tscHz` in @splitvisor/vmm). */
export const GUEST_TSC_HZ = 2_000_000_000;
/** Linux divides the bus clock by 16 for the timer (APIC_DIVISOR in apic.c). */
export const APIC_DIVISOR = 16;

/** The local APIC's MMIO base (IA32_APIC_BASE's power-on value; Linux's APIC_DEFAULT_PHYS_BASE). */
const APIC_BASE = 0xfee0_0000;
/** Register offsets, by their names in Linux's apicdef.h (Intel SDM vol. 3A, table 11-1). */
const Apic = {
  EOI: 0x0b0,
  SPIV: 0x0f0,
  LVTT: 0x320,
  LVT0: 0x350,
  LVT1: 0x360,
  TMICT: 0x380,
  TDCR: 0x3e0,
} as const;
const APIC_VECTOR_MASK = 0xff;
const APIC_SPIV_APIC_ENABLED = 0x100;
/** LVT delivery mode (bits 10:8) and mask (bit 16). */
const APIC_DM_NMI = 0x400;
const APIC_DM_EXTINT = 0x700;
const APIC_LVT_MASKED = 0x1_0000;
/** TDCR: bits 0, 1 and 3 select the divisor; 011b is divide by 16. */
const APIC_TDR_DIV_TMBASE = 0x4;
const APIC_TDR_DIV_1 = 0xb;
const APIC_TDR_DIV_16 = 0x3;
/** The lapic clockevent's delta bounds in timer counts (min_delta_ticks, max_delta_ticks in setup_APIC_timer / calibrate_APIC_clock). */
const MIN_DELTA = 0xf;
const MAX_DELTA = 0x7fff_ffff;
/** LVT timer mode 10b: TSC-deadline (SDM 3A 11.5.1; APIC_LVT_TIMER_TSCDEADLINE). */
const APIC_LVT_TIMER_TSCDEADLINE = 0x4_0000;
/** MSR_IA32_TSC_DEADLINE (SDM 3A 11.5.4.1). */
const MSR_IA32_TSC_DEADLINE = 0x6e0;
/** The TSC-deadline clockevent counts the TSC divided by this (TSC_DIVISOR in apic.c). */
const TSC_DIVISOR = 8;

/** floor or ceil of a × b / c for non-negative integers, exactly. */
function mulDiv(a: number, b: number, c: number, up: boolean): number {
  const n = BigInt(a) * BigInt(b);
  const d = BigInt(c);
  return Number(up ? (n + d - 1n) / d : n / d);
}

export function lapicTick(options: LapicTickOptions = {}): { guest: ScriptedGuest; jiffies: () => number } {
  const hz = positiveInteger('HZ', options.hz ?? 1000);
  const tscHz = positiveInteger('tscHz', options.tscHz ?? GUEST_TSC_HZ);
  const busHz = positiveInteger('busHz', options.busHz ?? LAPIC_BUS_HZ);
  const countPerTick = busHz / hz / APIC_DIVISOR;
  if (countPerTick < MIN_DELTA || countPerTick > MAX_DELTA) {
    throw new RangeError(`HZ=${hz} needs a LAPIC timer count of ${countPerTick} per tick, outside ${MIN_DELTA}–${MAX_DELTA}`);
  }
  const handlerCycles = options.handlerCycles ?? 2_000;
  const workCycles = options.workCycles ?? 50_000;
  const deadlineMode = (options.timer ?? 'oneshot') === 'tsc-deadline';
  let jiffies = 0;

  /** lapic_next_event for the tick after the last one taken: the count to write to TMICT at TSC `at`. */
  function nextEvent(at: number): number {
    const startBusTick = mulDiv(at, busHz, tscHz, false);
    const boundaryBusTick = mulDiv(jiffies + 1, busHz, hz, true);
    const wanted = Math.ceil((boundaryBusTick - startBusTick) / APIC_DIVISOR);
    return Math.min(MAX_DELTA, Math.max(MIN_DELTA, wanted));
  }

  /** lapic_next_deadline for the tick after the last one taken, at TSC `now`: the TSC to write to IA32_TSC_DEADLINE. */
  function nextDeadline(now: number): number {
    const boundary = mulDiv(jiffies + 1, tscHz, hz, true);
    const delta = Math.min(MAX_DELTA, Math.max(MIN_DELTA, Math.ceil((boundary - now) / TSC_DIVISOR)));
    return now + delta * TSC_DIVISOR;
  }

  const apic = (reg: number) => APIC_BASE + reg;
  const guest = new ScriptedGuest((function* main(): GuestProgram {
    // setup_local_APIC
    const spiv = yield { op: 'read', address: apic(Apic.SPIV) };
    yield { op: 'write', address: apic(Apic.SPIV), value: ((spiv & ~APIC_VECTOR_MASK) | APIC_SPIV_APIC_ENABLED | SPURIOUS_APIC_VECTOR) >>> 0 };
    yield { op: 'write', address: apic(Apic.LVT0), value: APIC_DM_EXTINT | APIC_LVT_MASKED };
    yield { op: 'write', address: apic(Apic.LVT1), value: APIC_DM_NMI };
    if (deadlineMode) {
      // __setup_APIC_LVTT in TSC-deadline mode: no divider, no initial count.
      yield { op: 'write', address: apic(Apic.LVTT), value: APIC_LVT_TIMER_TSCDEADLINE | LOCAL_TIMER_VECTOR };
    } else {
      // lapic_timer_set_oneshot → __setup_APIC_LVTT(…, oneshot, irqen)
      yield { op: 'write', address: apic(Apic.LVTT), value: LOCAL_TIMER_VECTOR };
      const tdcr = yield { op: 'read', address: apic(Apic.TDCR) };
      yield { op: 'write', address: apic(Apic.TDCR), value: ((tdcr & ~(APIC_TDR_DIV_1 | APIC_TDR_DIV_TMBASE)) | APIC_TDR_DIV_16) >>> 0 };
    }
    yield { op: 'sti' };
    for (;;) {
      yield { op: 'compute', cycles: workCycles };
      yield { op: 'cli' };
      // The tick code reads the time (the TSC clocksource) and programs the next event.
      const now = yield { op: 'rdtsc' };
      if (deadlineMode) yield { op: 'wrmsr', index: MSR_IA32_TSC_DEADLINE, value: nextDeadline(now) };
      else yield { op: 'write', address: apic(Apic.TMICT), value: nextEvent(now + OP_CYCLES) };
      yield { op: 'sti' };
      yield { op: 'hlt' };
    }
  })()).on(LOCAL_TIMER_VECTOR, function* localTimerInterrupt(): GuestProgram {
    yield { op: 'write', address: apic(Apic.EOI), value: 0 };
    jiffies++;
    yield { op: 'compute', cycles: handlerCycles };
  });
  return { guest, jiffies: () => jiffies };
}
