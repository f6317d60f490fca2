import { describe, expect, it } from 'vitest';
import { RTC_READ, rtcRead } from '../src/rtc-read.ts';
import { resolveParameters } from '../src/workload.ts';
import { drive, show } from './guest-driver.ts';

/** A CMOS that answers 2026-11-21 03:04:05 in BCD, 24-hour mode; register A's UIP from `uip`. */
function cmos(uip: () => boolean) {
  const bytes: Record<number, number> = { 0x00: 0x05, 0x02: 0x04, 0x04: 0x03, 0x07: 0x21, 0x08: 0x11, 0x09: 0x26, 0x32: 0x20, 0x0b: 0x02 };
  let index = 0;
  return {
    answer: (_kind: 'in' | 'read', at: number) => (at === 0x71 ? (index === 0x0a ? (uip() ? 0xa6 : 0x26) : bytes[index] ?? 0) : 0),
    track: (port: number, value: number) => { if (port === 0x70) index = value & 0x7f; },
  };
}

function run(uipReads: number) {
  const workload = rtcRead({ intervalMs: 5 });
  let regA = 0;
  const chip = cmos(() => regA++ < uipReads);
  const driver = drive(workload.guest, (kind, at) => chip.answer(kind, at), { onWrite: (_kind, at, value) => { chip.track(at, value); } });
  const cmosAccesses = (count: number) => {
    const out: string[] = [];
    while (out.length < count) {
      const [a] = driver.step(1);
      if (a === undefined) break;
      if (a.at === 0x70 || a.at === 0x71) out.push(show(a));
    }
    return out;
  };
  return { workload, driver, chip, cmosAccesses };
}

describe('rtc-read', () => {
  it("reads the time as mc146818_get_time does: seconds, A, seconds again, the callback's bytes and B, then A and seconds", () => {
    const { workload, cmosAccesses } = run(0);
    const pairs = cmosAccesses(2 * 12);
    const order = pairs.filter((p) => p.startsWith('out 70')).map((p) => p.slice('out 70='.length));
    expect(order).toEqual(['0', 'a', '0', '2', '4', '7', '8', '9', '32', 'b', 'a', '0']); // NMI bit left clear
    expect(pairs.filter((p) => p.startsWith('in 71'))).toHaveLength(12);
    cmosAccesses(2); // the next read starts: the first one is complete
    expect([workload.reads(), workload.uipWaits(), workload.failures()]).toEqual([1, 0, 0]);
    expect(workload.lastTime()).toEqual({ year: 2026, month: 11, day: 21, hour: 3, minute: 4, second: 5 });
  });

  it('waits a millisecond and starts again when UIP is set, and gives up after ten tries', () => {
    const once = run(1);
    const first = once.cmosAccesses(2 * 14);
    expect(first.filter((p) => p.startsWith('out 70')).slice(0, 4)).toEqual(['out 70=0', 'out 70=a', 'out 70=0', 'out 70=a']);
    once.cmosAccesses(2);
    expect([once.workload.reads(), once.workload.uipWaits()]).toEqual([1, 1]);

    const stuck = run(Number.POSITIVE_INFINITY);
    stuck.cmosAccesses(2 * 2 * 10 + 2);
    expect([stuck.workload.reads(), stuck.workload.uipWaits(), stuck.workload.failures()]).toEqual([0, 10, 1]);
  });

  it('idles between reads and reads again after intervalMs', () => {
    const { workload, driver } = run(0);
    driver.step(200);
    expect(workload.reads()).toBeGreaterThanOrEqual(2);
    expect(driver.tsc()).toBeGreaterThanOrEqual(5 * 2_000_000); // a second read waited the interval
  });

  it('takes interval-ms, checked', () => {
    expect(() => resolveParameters(RTC_READ, { 'interval-ms': 0 })).toThrow(/interval-ms/);
    const created = RTC_READ.create(resolveParameters(RTC_READ, {}));
    expect(created.progress()).toEqual({ reads: 0, uipWaits: 0, secondsChanged: 0, failures: 0 });
  });
});
