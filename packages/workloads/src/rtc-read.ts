/**
 * Reading the wall clock from the MC146818 as Linux does it
 * (drivers/rtc/rtc-mc146818-lib.c): `mc146818_get_time` runs its reads
 * through `mc146818_avoid_UIP`, which, up to ten times, with the RTC lock
 * held and interrupts off:
 *
 * 1. reads the seconds, then register A; with UIP set it lets go, waits a
 *    millisecond (`mdelay(1)`) and starts again;
 * 2. reads the seconds again — a different value means an update came in
 *    between: start again;
 * 3. runs the callback, `mc146818_get_time_callback`: minutes, hours, day of
 *    month, month, year, the century byte (the ACPI FADT's CENTURY, 32h on
 *    QEMU's pc machine) and register B;
 * 4. reads register A again (UIP now: the bytes may be garbage, wait and
 *    start again) and the seconds again (changed: start again).
 *
 * Then `mc146818_get_time` converts from BCD unless register B says binary.
 * Every CMOS access is arch/x86/kernel/rtc.c `rtc_cmos_read`: the register
 * number to the index port 70h with bit 7 clear (Linux leaves NMIs enabled),
 * then a read of the data port 71h.
 *
 * Reads start `intervalMs` apart by the TSC; between them the guest idles in
 * `hlt`, woken by the PIT's HZ=1000 tick, as a kernel thread sleeping
 * between reads of the clock does.
 */
import type { GuestProgram } from '@splitvisor/scripted-guest';
import { ScriptedGuest } from '@splitvisor/scripted-guest';
import type { GuestRoutine } from './linux-8259.ts';
import { jiffiesClock, legacyPic } from './linux-8259.ts';
import { cmosRead } from './rtc-periodic.ts';
import type { WorkloadDefinition } from './workload.ts';
import { numberParameter } from './workload.ts';

/** MC146818 registers (datasheet, "Address Map"). */
export const RtcRegister = {
  SECONDS: 0x00, MINUTES: 0x02, HOURS: 0x04, DAY_OF_MONTH: 0x07, MONTH: 0x08, YEAR: 0x09,
  A: 0x0a, B: 0x0b, C: 0x0c,
  /** The century byte QEMU's FADT names. */
  CENTURY: 0x32,
} as const;
/** Register A bit 7: an update is in progress (or due within 244 µs). */
const RTC_UIP = 0x80;
/** Register B bit 2: binary, not BCD. */
const RTC_DM_BINARY = 0x04;
/** Register B bit 1: 24-hour mode. */
const RTC_24H = 0x02;
/** mdelay(1) at the guest's 2 GHz. */
const MDELAY_1MS_CYCLES = 2_000_000;
const AVOID_UIP_TRIES = 10;

export interface RtcTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

export interface RtcReadOptions {
  /** Milliseconds between time reads (default 100). */
  readonly intervalMs?: number;
}

export interface RtcRead {
  readonly guest: ScriptedGuest;
  /** Completed time reads. */
  readonly reads: () => number;
  /** Times UIP was seen set (each followed by mdelay(1)). */
  readonly uipWaits: () => number;
  /** Times the seconds changed under a read (started again without waiting). */
  readonly secondsChanged: () => number;
  /** mc146818_avoid_UIP giving up after ten tries (Linux returns -EIO). */
  readonly failures: () => number;
  /** The last time read, decoded. */
  readonly lastTime: () => RtcTime | undefined;
}

const bcd = (value: number): number => (value >> 4) * 10 + (value & 0x0f);

export function rtcRead(options: RtcReadOptions = {}): RtcRead {
  const intervalMs = options.intervalMs ?? 100;
  let reads = 0;
  let uipWaits = 0;
  let secondsChanged = 0;
  let failures = 0;
  let lastTime: RtcTime | undefined;
  const pic = legacyPic();
  const clock = jiffiesClock(pic);

  /**
   * The checks mc146818_avoid_UIP makes before and after the read: no update in progress (else the lock is
   * dropped and it waits a millisecond), and the seconds as they were. False: try again.
   */
  function* settled(seconds: number): GuestRoutine<boolean> {
    if (((yield* cmosRead(RtcRegister.A)) & RTC_UIP) !== 0) {
      uipWaits++;
      yield { op: 'sti' };
      yield { op: 'compute', cycles: MDELAY_1MS_CYCLES };
      return false;
    }
    if (seconds !== (yield* cmosRead(RtcRegister.SECONDS))) {
      secondsChanged++;
      yield { op: 'sti' };
      return false;
    }
    return true;
  }

  /** mc146818_get_time: the raw bytes through mc146818_avoid_UIP, or undefined after ten tries. */
  function* getTime(): GuestRoutine<RtcTime | undefined> {
    for (let i = 0; i < AVOID_UIP_TRIES; i++) {
      yield { op: 'cli' }; // spin_lock_irqsave(&rtc_lock)
      const seconds = yield* cmosRead(RtcRegister.SECONDS);
      if (!(yield* settled(seconds))) continue;
      const minute = yield* cmosRead(RtcRegister.MINUTES);
      const hour = yield* cmosRead(RtcRegister.HOURS);
      const day = yield* cmosRead(RtcRegister.DAY_OF_MONTH);
      const month = yield* cmosRead(RtcRegister.MONTH);
      const year = yield* cmosRead(RtcRegister.YEAR);
      const century = yield* cmosRead(RtcRegister.CENTURY);
      const control = yield* cmosRead(RtcRegister.B);
      if (!(yield* settled(seconds))) continue;
      yield { op: 'sti' };
      const binary = (control & RTC_DM_BINARY) !== 0;
      const decode = (v: number): number => (binary ? v : bcd(v));
      // 12-hour mode keeps PM in bit 7 of the hours (Linux's mc146818_get_time does not convert it either).
      const hours = (control & RTC_24H) !== 0 ? decode(hour) : decode(hour & 0x7f) % 12 + ((hour & 0x80) !== 0 ? 12 : 0);
      return { year: decode(century) * 100 + decode(year), month: decode(month), day: decode(day), hour: hours, minute: decode(minute), second: decode(seconds) };
    }
    return undefined;
  }

  const guest = new ScriptedGuest((function* main(): GuestProgram {
    yield* pic.init();
    yield* clock.start();
    yield { op: 'sti' };
    const start = yield* clock.now();
    for (let k = 1; ; k++) {
      const time = yield* getTime();
      if (time === undefined) failures++;
      else {
        reads++;
        lastTime = time;
      }
      yield* clock.sleepUntil(start + k * intervalMs * 1e6);
    }
  })()).on(clock.vector, clock.handler);
  return {
    guest, reads: () => reads, uipWaits: () => uipWaits, secondsChanged: () => secondsChanged, failures: () => failures, lastTime: () => lastTime,
  };
}

export const RTC_READ: WorkloadDefinition = {
  name: 'rtc-read',
  description: "Linux reading the CMOS clock: mc146818_get_time's reads around UIP, one every intervalMs, idle on the HZ=1000 PIT tick between",
  follows: 'drivers/rtc/rtc-mc146818-lib.c mc146818_get_time, mc146818_avoid_UIP, mc146818_get_time_callback; arch/x86/kernel/rtc.c rtc_cmos_read',
  parameters: [
    { name: 'interval-ms', description: 'milliseconds between time reads', default: 100, min: 1, max: 60_000 },
  ],
  create: (p) => {
    const run = rtcRead({ intervalMs: numberParameter(p, 'interval-ms') });
    return {
      guest: run.guest,
      progress: () => ({ reads: run.reads(), uipWaits: run.uipWaits(), secondsChanged: run.secondsChanged(), failures: run.failures() }),
    };
  },
};
