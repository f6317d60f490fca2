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
 * No tick is lost or added: each event is aimed at the next boundary of the
 * jiffy grid counted from reset (k / HZ s), not at "now + 1/HZ", so the time
 * the handler and the work take does not accumulate; an event whose boundary
 * has already passed is programmed with the minimum delta (as
 * clockevents_program_event forces one), so a late tick is caught up. Over a
 * run of T seconds there are T × HZ timer interrupts, as long as the work and
 * the handler fit in a tick on average.
 *
 * The guest reads the time as Linux does, from its TSC — which, with no
 * `rdtsc` among scripted operations, it keeps itself: every operation's
 * cycles, and after a `hlt` the expiry of the timer it armed (the one-shot
 * counts from the APIC bus clock edge at or before the TMICT write). This
 * holds while interrupts are delivered at their deadline; a time policy that
 * delivers them late makes this guest's clock run behind.
 */
import type { GuestOp, GuestProgram } from '@splitvisor/monitor';
import { OP_CYCLES, ScriptedGuest } from '@splitvisor/monitor';

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

/** floor or ceil of a × b / c for non-negative integers, exactly. */
function mulDiv(a: number, b: number, c: number, up: boolean): number {
  const n = BigInt(a) * BigInt(b);
  const d = BigInt(c);
  return Number(up ? (n + d - 1n) / d : n / d);
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, not ${value}`);
  return value;
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
  let jiffies = 0;
  /** The guest's TSC, as it would read it. */
  let tsc = 0;
  /** When the armed one-shot fires, in TSC cycles. */
  let expiresAt = 0;

  function* op(operation: GuestOp): Generator<GuestOp, number, number> {
    tsc += OP_CYCLES + (operation.op === 'compute' ? Math.max(0, Math.floor(operation.cycles)) : 0);
    return yield operation;
  }

  /** lapic_next_event for the tick after the last one taken: the count to write to TMICT at TSC `at`. */
  function nextEvent(at: number): number {
    const startBusTick = mulDiv(at, busHz, tscHz, false);
    const boundaryBusTick = mulDiv(jiffies + 1, busHz, hz, true);
    const wanted = Math.ceil((boundaryBusTick - startBusTick) / APIC_DIVISOR);
    const count = Math.min(MAX_DELTA, Math.max(MIN_DELTA, wanted));
    expiresAt = mulDiv(startBusTick + count * APIC_DIVISOR, tscHz, busHz, true);
    return count;
  }

  const apic = (reg: number) => APIC_BASE + reg;
  const guest = new ScriptedGuest((function* main(): GuestProgram {
    // setup_local_APIC
    const spiv = yield* op({ op: 'read', address: apic(Apic.SPIV) });
    yield* op({ op: 'write', address: apic(Apic.SPIV), value: ((spiv & ~APIC_VECTOR_MASK) | APIC_SPIV_APIC_ENABLED | SPURIOUS_APIC_VECTOR) >>> 0 });
    yield* op({ op: 'write', address: apic(Apic.LVT0), value: APIC_DM_EXTINT | APIC_LVT_MASKED });
    yield* op({ op: 'write', address: apic(Apic.LVT1), value: APIC_DM_NMI });
    // lapic_timer_set_oneshot → __setup_APIC_LVTT(…, oneshot, irqen)
    yield* op({ op: 'write', address: apic(Apic.LVTT), value: LOCAL_TIMER_VECTOR });
    const tdcr = yield* op({ op: 'read', address: apic(Apic.TDCR) });
    yield* op({ op: 'write', address: apic(Apic.TDCR), value: ((tdcr & ~(APIC_TDR_DIV_1 | APIC_TDR_DIV_TMBASE)) | APIC_TDR_DIV_16) >>> 0 });
    yield* op({ op: 'sti' });
    for (;;) {
      yield* op({ op: 'compute', cycles: workCycles });
      yield* op({ op: 'cli' });
      yield* op({ op: 'write', address: apic(Apic.TMICT), value: nextEvent(tsc + OP_CYCLES) });
      yield* op({ op: 'sti' });
      yield* op({ op: 'hlt' });
    }
  })()).on(LOCAL_TIMER_VECTOR, function* localTimerInterrupt(): GuestProgram {
    tsc = Math.max(tsc, expiresAt); // woken from `hlt` when the one-shot fired
    yield* op({ op: 'write', address: apic(Apic.EOI), value: 0 });
    jiffies++;
    yield* op({ op: 'compute', cycles: handlerCycles });
  });
  return { guest, jiffies: () => jiffies };
}
