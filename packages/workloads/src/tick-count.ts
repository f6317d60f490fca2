/**
 * A guest that keeps time by counting ticks: Linux's jiffies with
 * `clocksource=jiffies` (kernel/time/jiffies.c, the clocksource of last
 * resort) or Windows XP's tick count — time is the number of periodic timer
 * interrupts taken times the period, so every tick the VMM fails to deliver
 * is time the guest never sees (seed 001's "lost ticks", seed 004's
 * descheduled vCPUs). Now and then the guest keeps interrupts masked for a
 * long critical section (`cli` … `sti`, as a driver holding a spinlock with
 * irqs off), long enough for ticks to come due unserviced: what happens to
 * them is the timer's lost-tick policy.
 *
 * The periodic timer is one of four, each programmed as its Linux driver
 * programs it in periodic mode:
 * - `pit`: drivers/clocksource/i8253.c, counter 0 in mode 2 at
 *   LATCH = PIT_TICK_RATE / HZ; irq 0 through the 8259 (handle_level_irq).
 * - `rtc`: drivers/rtc/rtc-cmos.c, the rate select in register A, PIE in B,
 *   each interrupt acknowledged by reading C; irq 8 through the 8259 pair.
 * - `hpet`: arch/x86/kernel/hpet.c hpet_clkevt_set_state_periodic, timer 0
 *   periodic and 32-bit with Tn_VAL_SET (comparator = now + delta, then the
 *   period), legacy replacement on; irq 0 through the 8259.
 * - `lapic`: the local APIC timer in periodic mode (LVTT periodic, vector
 *   ECh, divide by 16, TMICT = bus / 16 / HZ), EOI first in the handler as
 *   sysvec_apic_timer_interrupt does.
 *
 * The critical sections are aimed by the TSC (which the guest reads without
 * an exit), not by the ticks it counted, so they fall at the same true times
 * whatever the policy.
 */
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import { GUEST_TSC_HZ, LAPIC_BUS_HZ, LOCAL_TIMER_VECTOR } from './lapic-tick.ts';
import { legacyPic, legacyVector } from './linux-8259.ts';
import { RTC_IRQ, RTC_PERIODIC_RATES, cmosRead, cmosWrite, rtcRateSelect } from './rtc-periodic.ts';
import type { WorkloadDefinition } from './workload.ts';
import { WorkloadError, numberParameter, stringParameter } from './workload.ts';

export const TICK_TIMERS = ['pit', 'rtc', 'hpet', 'lapic'] as const;
export type TickTimer = (typeof TICK_TIMERS)[number];

export interface TickCountOptions {
  readonly timer?: TickTimer;
  /** Ticks per second (default 1000; the RTC takes a power of two, 2–8192). */
  readonly hz?: number;
  /** How long each critical section keeps interrupts masked, in ms of guest time (default 0: never). */
  readonly maskMs?: number;
  /** How often a critical section begins, in ms of guest time (default 100). */
  readonly maskEveryMs?: number;
  /** Cycles the handler spends per tick (default 2,000). */
  readonly handlerCycles?: number;
}

export interface TickCount {
  readonly guest: ScriptedGuest;
  /** Ticks the guest counted. */
  readonly ticks: () => number;
  /** Critical sections it went through. */
  readonly masked: () => number;
}

const PIT_TICK_RATE = 1_193_182;
const HPET_BASE = 0xfed0_0000;
const HPET_CFG = 0x010;
const HPET_COUNTER = 0x0f0;
const HPET_T0_CFG = 0x100;
const HPET_T0_CMP = 0x108;
const HPET_CFG_ENABLE = 0x001;
const HPET_CFG_LEGACY = 0x002;
const HPET_TN_ENABLE = 0x0004;
const HPET_TN_PERIODIC = 0x0008;
const HPET_TN_SETVAL = 0x0040;
const HPET_TN_32BIT = 0x0100;
const HPET_HZ = 100_000_000;
const APIC_BASE = 0xfee0_0000;
const APIC_EOI = 0x0b0;
const APIC_SPIV = 0x0f0;
const APIC_LVTT = 0x320;
const APIC_LVT0 = 0x350;
const APIC_TMICT = 0x380;
const APIC_TDCR = 0x3e0;
const APIC_SPIV_APIC_ENABLED = 0x100;
const APIC_LVT_TIMER_PERIODIC = 0x2_0000;
const APIC_LVT_MASKED = 0x1_0000;
const APIC_TDR_DIV_16 = 0x3;

/** The tick rates each timer can be programmed for exactly enough (the RTC's are powers of two). */
function checkRate(timer: TickTimer, hz: number): void {
  if (!Number.isInteger(hz) || hz < 2 || hz > 8192) throw new WorkloadError(`workload tick-count: hz takes a whole number from 2 to 8192, not ${hz}`);
  if (timer === 'rtc' && !RTC_PERIODIC_RATES.includes(hz)) throw new WorkloadError(`workload tick-count: the RTC's periodic rate is a power of two (2–8192 Hz), not ${hz}`);
}

export function tickCount(options: TickCountOptions = {}): TickCount {
  const timer = options.timer ?? 'pit';
  const hz = options.hz ?? 1000;
  checkRate(timer, hz);
  const handlerCycles = options.handlerCycles ?? 2_000;
  const maskCycles = Math.round(((options.maskMs ?? 0) * GUEST_TSC_HZ) / 1000);
  const everyCycles = Math.round(((options.maskEveryMs ?? 100) * GUEST_TSC_HZ) / 1000);
  let ticks = 0;
  let masked = 0;
  const pic = legacyPic();
  const count = function* countTick(): GuestProgram {
    ticks++;
    yield { op: 'compute', cycles: handlerCycles };
  };

  function* program(): GuestProgram {
    switch (timer) {
      case 'pit': {
        yield* pic.init();
        const latch = Math.round(PIT_TICK_RATE / hz);
        for (const [port, value] of [[0x43, 0x34], [0x40, latch & 0xff], [0x40, latch >> 8]] as const) yield { op: 'out', port, value };
        yield* pic.enable(0);
        break;
      }
      case 'rtc':
        yield* pic.init();
        yield* pic.enable(RTC_IRQ);
        yield* cmosWrite(0x0a, 0x20 | rtcRateSelect(hz));
        yield* cmosWrite(0x0b, (yield* cmosRead(0x0b)) | 0x40);
        yield* cmosRead(0x0c);
        break;
      case 'hpet': {
        yield* pic.init();
        const hpet = (register: number) => HPET_BASE + register;
        const delta = Math.round(HPET_HZ / hz);
        const cfg = yield { op: 'read', address: hpet(HPET_CFG) };
        yield { op: 'write', address: hpet(HPET_CFG), value: cfg & ~HPET_CFG_ENABLE };
        const now = yield { op: 'read', address: hpet(HPET_COUNTER) };
        const t0 = yield { op: 'read', address: hpet(HPET_T0_CFG) };
        yield { op: 'write', address: hpet(HPET_T0_CFG), value: t0 | HPET_TN_ENABLE | HPET_TN_PERIODIC | HPET_TN_SETVAL | HPET_TN_32BIT };
        yield { op: 'write', address: hpet(HPET_T0_CMP), value: (now + delta) >>> 0 };
        yield { op: 'write', address: hpet(HPET_T0_CMP), value: delta };
        yield { op: 'write', address: hpet(HPET_CFG), value: cfg | HPET_CFG_ENABLE | HPET_CFG_LEGACY };
        yield* pic.enable(0);
        break;
      }
      case 'lapic': {
        const apic = (register: number) => APIC_BASE + register;
        yield { op: 'write', address: apic(APIC_SPIV), value: APIC_SPIV_APIC_ENABLED | 0xff };
        yield { op: 'write', address: apic(APIC_LVT0), value: APIC_LVT_MASKED };
        yield { op: 'write', address: apic(APIC_TDCR), value: APIC_TDR_DIV_16 };
        yield { op: 'write', address: apic(APIC_LVTT), value: APIC_LVT_TIMER_PERIODIC | LOCAL_TIMER_VECTOR };
        yield { op: 'write', address: apic(APIC_TMICT), value: Math.round(LAPIC_BUS_HZ / 16 / hz) };
        break;
      }
    }
    yield { op: 'sti' };
    let nextMask = everyCycles;
    for (;;) {
      const tsc = yield { op: 'rdtsc' };
      if (maskCycles > 0 && tsc >= nextMask) {
        yield { op: 'cli' };
        yield { op: 'compute', cycles: maskCycles };
        yield { op: 'sti' };
        masked++;
        nextMask += everyCycles;
      }
      yield { op: 'hlt' };
    }
  }

  const guest = new ScriptedGuest(program());
  switch (timer) {
    case 'pit':
    case 'hpet':
      guest.on(legacyVector(0), pic.handler(0, count));
      break;
    case 'rtc':
      guest.on(legacyVector(RTC_IRQ), pic.handler(RTC_IRQ, function* cmosInterrupt(): GuestProgram {
        const flags = yield* cmosRead(0x0c); // reading C acknowledges the chip
        if ((flags & 0x40) !== 0) yield* count();
      }));
      break;
    case 'lapic':
      guest.on(LOCAL_TIMER_VECTOR, function* localTimer(): GuestProgram {
        yield { op: 'write', address: APIC_BASE + APIC_EOI, value: 0 };
        yield* count();
      });
      break;
  }
  return { guest, ticks: () => ticks, masked: () => masked };
}

export const TICK_COUNT: WorkloadDefinition = {
  name: 'tick-count',
  description: 'a guest that keeps time by counting periodic ticks (jiffies with no clocksource), masking interrupts for mask-ms every mask-every-ms: lost ticks show as drift',
  follows: 'kernel/time/jiffies.c (clocksource=jiffies); drivers/clocksource/i8253.c, drivers/rtc/rtc-cmos.c, arch/x86/kernel/hpet.c, arch/x86/kernel/apic/apic.c in periodic mode',
  parameters: [
    { name: 'timer', description: 'the periodic timer the guest counts', default: 'pit', choices: TICK_TIMERS },
    { name: 'hz', description: 'ticks per second (the RTC: a power of two)', default: 1024, min: 2, max: 8192 },
    { name: 'mask-ms', description: 'how long each critical section masks interrupts, ms', default: 0, min: 0, max: 10_000, integer: false },
    { name: 'mask-every-ms', description: 'how often a critical section begins, ms', default: 100, min: 1, max: 100_000, integer: false },
  ],
  create: (p) => {
    const run = tickCount({
      timer: stringParameter(p, 'timer') as TickTimer,
      hz: numberParameter(p, 'hz'),
      maskMs: numberParameter(p, 'mask-ms'),
      maskEveryMs: numberParameter(p, 'mask-every-ms'),
    });
    return { guest: run.guest, progress: () => ({ ticks: run.ticks(), 'critical sections': run.masked() }) };
  },
};
