/**
 * The RTC's periodic interrupt as Linux's rtc-cmos driver runs it
 * (drivers/rtc/rtc-cmos.c), e.g. for a process that set a rate with
 * RTC_IRQP_SET and enabled it with RTC_PIE_ON:
 *
 * * `cmos_irq_set_freq`: the rate select from the lowest set bit of the
 *   frequency (16 − log2(hz): 1024 Hz is 6), written to register A with the
 *   32.768 kHz time base (`RTC_REF_CLCK_32KHZ | rate`).
 * * `cmos_irq_enable(RTC_PIE)`: read register B, flush pending flags by
 *   reading register C (`cmos_checkintr`), write B with PIE set, read C
 *   again.
 * * The interrupt, `cmos_interrupt`: read register C (the flags, which also
 *   acknowledges the chip and lowers irq 8), then register B to mask the
 *   flags with the enables; a PF counts a periodic interrupt
 *   (`rtc_update_irq`). Around it, handle_level_irq's
 *   `mask_and_ack_8259A` for irq 8: the slave masked, specific EOIs to the
 *   slave and then to the master's cascade input, and the unmask after.
 *
 * Every CMOS access is `rtc_cmos_read`/`rtc_cmos_write`: the register to
 * 70h with NMIs left enabled, then 71h. Between interrupts the guest sits
 * in `hlt` with nothing else to do.
 */
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import type { GuestRoutine } from './linux-8259.ts';
import { legacyPic, legacyVector } from './linux-8259.ts';
import type { WorkloadDefinition } from './workload.ts';
import { numberParameter } from './workload.ts';

const RTC_INDEX_PORT = 0x70;
const RTC_DATA_PORT = 0x71;
const RTC_REG_A = 0x0a;
const RTC_REG_B = 0x0b;
const RTC_REG_C = 0x0c;
/** Register A DV2–0 = 010: the 32.768 kHz time base. */
const RTC_REF_CLCK_32KHZ = 0x20;
/** Register B: periodic, alarm and update-ended interrupt enables (RTC_IRQMASK). */
const RTC_PIE = 0x40;
const RTC_IRQMASK = 0x70;
/** Register C: IRQF and the three flags. */
const RTC_IRQF = 0x80;
const RTC_PF = 0x40;

export const RTC_IRQ = 8;
export const RTC_VECTOR: number = legacyVector(RTC_IRQ);
/** The rates register A can select with the 32.768 kHz base (rate 3 = 8192 Hz … 15 = 2 Hz). */
export const RTC_PERIODIC_RATES: readonly number[] = Array.from({ length: 13 }, (_, i) => 2 ** (i + 1));

/** cmos_irq_set_freq's rate select for `hz`, a power of two from 2 to 8192. */
export function rtcRateSelect(hz: number): number {
  if (!RTC_PERIODIC_RATES.includes(hz)) throw new RangeError(`the RTC's periodic rate is a power of two from 2 to 8192 Hz, not ${hz}`);
  const ffs = Math.log2(hz) + 1; // the lowest set bit, counted from 1
  return 16 - (ffs - 1);
}

export interface RtcPeriodicOptions {
  /** Interrupts per second (default 1024, rate select 6). */
  readonly hz?: number;
  /** Cycles the handler spends between its CMOS reads and its return (default 1,000). */
  readonly handlerCycles?: number;
}

export interface RtcPeriodic {
  readonly guest: ScriptedGuest;
  /** Periodic interrupts seen (PF set in register C). */
  readonly interrupts: () => number;
  /** Irq 8 with no enabled flag in register C (Linux's IRQ_NONE). */
  readonly spurious: () => number;
}

/** rtc_cmos_read: the register to 70h (NMIs left enabled), then 71h. */
export function* cmosRead(register: number): GuestRoutine<number> {
  yield { op: 'out', port: RTC_INDEX_PORT, value: register };
  return yield { op: 'in', port: RTC_DATA_PORT };
}

/** rtc_cmos_write: the register to 70h, the value to 71h. */
export function* cmosWrite(register: number, value: number): GuestProgram {
  yield { op: 'out', port: RTC_INDEX_PORT, value: register };
  yield { op: 'out', port: RTC_DATA_PORT, value };
}

export function rtcPeriodic(options: RtcPeriodicOptions = {}): RtcPeriodic {
  const rate = rtcRateSelect(options.hz ?? 1024);
  const handlerCycles = options.handlerCycles ?? 1_000;
  let interrupts = 0;
  let spurious = 0;
  const pic = legacyPic();
  const guest = new ScriptedGuest((function* main(): GuestProgram {
    yield* pic.init();
    yield { op: 'sti' };
    yield* pic.enable(RTC_IRQ); // request_irq in cmos_do_probe
    yield { op: 'cli' }; // spin_lock_irq(&rtc_lock)
    yield* cmosWrite(RTC_REG_A, RTC_REF_CLCK_32KHZ | rate); // cmos_irq_set_freq
    const control = yield* cmosRead(RTC_REG_B); // cmos_irq_enable
    yield* cmosRead(RTC_REG_C);
    yield* cmosWrite(RTC_REG_B, control | RTC_PIE);
    yield* cmosRead(RTC_REG_C);
    yield { op: 'sti' };
    for (;;) yield { op: 'hlt' };
  })()).on(RTC_VECTOR, pic.handler(RTC_IRQ, function* cmosInterrupt(): GuestProgram {
    const flags = yield* cmosRead(RTC_REG_C);
    const control = yield* cmosRead(RTC_REG_B);
    const pending = flags & ((control & RTC_IRQMASK) | RTC_IRQF);
    if ((pending & RTC_PF) !== 0 && (pending & RTC_IRQF) !== 0) interrupts++;
    else spurious++;
    yield { op: 'compute', cycles: handlerCycles };
  }));
  return { guest, interrupts: () => interrupts, spurious: () => spurious };
}

export const RTC_PERIODIC: WorkloadDefinition = {
  name: 'rtc-periodic',
  description: "the RTC's periodic interrupt on irq 8 at hz, as rtc-cmos enables it: rate in register A, PIE in B, each interrupt acked by reading C, 8259 EOIs",
  follows: 'drivers/rtc/rtc-cmos.c cmos_irq_set_freq, cmos_irq_enable, cmos_checkintr, cmos_interrupt; arch/x86/kernel/i8259.c mask_and_ack_8259A, unmask_8259A_irq',
  parameters: [
    { name: 'hz', description: 'periodic interrupts per second (RTC_IRQP_SET)', default: 1024, choices: RTC_PERIODIC_RATES },
  ],
  create: (p) => {
    const run = rtcPeriodic({ hz: numberParameter(p, 'hz') });
    return { guest: run.guest, progress: () => ({ interrupts: run.interrupts(), spurious: run.spurious() }) };
  },
};
