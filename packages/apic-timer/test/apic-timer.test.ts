// The APIC timer driven the way Linux's lapic clockevent drives it, on a virtual clock (1 GHz bus and TSC).
import { createTestContext } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import { ApicTimer, LvtTimer, TimerMode, divisorOf } from '../src/index.ts';

const LOCAL_TIMER_VECTOR = 0xec;
const DIV_16 = 0x3;

function board(minPeriodNs = 0) {
  const context = createTestContext();
  const deliveries: { time: number; vector: number }[] = [];
  const timer = new ApicTimer(context, (vector) => { deliveries.push({ time: context.now(), vector }); }, { minPeriodNs });
  return { context, timer, deliveries };
}

describe('APIC timer', () => {
  it('powers on masked, stopped, dividing by 2', () => {
    const { timer } = board();
    expect([timer.readLvt(), timer.readInitialCount(), timer.readCurrentCount(), timer.readDivideConfig()]).toEqual([LvtTimer.MASKED, 0, 0, 0]);
    expect([0, 1, 2, 3, 8, 9, 10, 11].map(divisorOf)).toEqual([2, 4, 8, 16, 32, 64, 128, 1]);
  });

  it('periodic at HZ=1000 (setup_APIC_timer): TDCR ÷16, a tick every 62 500 counts', () => {
    const { context, timer, deliveries } = board();
    timer.writeDivideConfig(DIV_16);
    timer.writeLvt(LOCAL_TIMER_VECTOR | (TimerMode.periodic << LvtTimer.MODE_SHIFT));
    timer.writeInitialCount(62_500);
    context.advanceTo(250_000);
    expect(timer.readCurrentCount()).toBe(62_500 - 250_000 / 16);
    context.advanceTo(3_000_000);
    expect(deliveries).toEqual([1, 2, 3].map((k) => ({ time: k * 1_000_000, vector: LOCAL_TIMER_VECTOR })));
    expect(timer.readCurrentCount()).toBe(62_500); // just reloaded
  });

  it('one-shot (lapic_next_event): one delivery, then the count rests at 0', () => {
    const { context, timer, deliveries } = board();
    timer.writeDivideConfig(DIV_16);
    timer.writeLvt(LOCAL_TIMER_VECTOR);
    context.advanceTo(1000);
    timer.writeInitialCount(100);
    context.advanceTo(1000 + 1599);
    expect([deliveries.length, timer.readCurrentCount()]).toEqual([0, 1]);
    context.advanceTo(10_000_000);
    expect([deliveries, timer.readCurrentCount()]).toEqual([[{ time: 2600, vector: LOCAL_TIMER_VECTOR }], 0]);
    timer.writeInitialCount(0); // stop
    expect(timer.readCurrentCount()).toBe(0);
  });

  it('counts while masked, but delivers nothing', () => {
    const { context, timer, deliveries } = board();
    timer.writeLvt(LOCAL_TIMER_VECTOR | LvtTimer.MASKED | (TimerMode.periodic << LvtTimer.MODE_SHIFT));
    timer.writeInitialCount(1000);
    context.advanceTo(10_000);
    expect(deliveries).toEqual([]);
    expect(timer.readCurrentCount()).toBe(1000); // ÷2: five periods of 2000 ns have passed
    timer.writeLvt(LOCAL_TIMER_VECTOR | (TimerMode.periodic << LvtTimer.MODE_SHIFT));
    context.advanceTo(12_000);
    expect(deliveries).toEqual([{ time: 12_000, vector: LOCAL_TIMER_VECTOR }]);
  });

  it('TSC-deadline (lapic_next_deadline): fires when the TSC reaches the deadline, then disarms and clears it', () => {
    const { context, timer, deliveries } = board();
    timer.writeLvt(LOCAL_TIMER_VECTOR | (TimerMode.tscDeadline << LvtTimer.MODE_SHIFT));
    context.advanceTo(5000);
    timer.writeTscDeadline(timer.tscAt() + 2500n);
    timer.writeInitialCount(77); // ignored in this mode
    expect([timer.readInitialCount(), timer.readCurrentCount(), timer.readTscDeadline()]).toEqual([0, 0, 7500n]);
    context.advanceTo(7499);
    expect(deliveries).toEqual([]);
    context.advanceTo(8000);
    expect([deliveries, timer.readTscDeadline()]).toEqual([[{ time: 7500, vector: LOCAL_TIMER_VECTOR }], 0n]);
    timer.writeTscDeadline(1n); // already past: fires at once (tscdeadline_immed)
    expect(deliveries.map((d) => d.time)).toEqual([7500, 8000]);
    expect(timer.anomalies()).toMatchObject({ initialCountWritesInDeadlineMode: 1 });
  });

  it('disarms when switching into or out of TSC-deadline mode', () => {
    const { context, timer, deliveries } = board();
    timer.writeLvt(LOCAL_TIMER_VECTOR);
    timer.writeInitialCount(1000);
    timer.writeLvt(LOCAL_TIMER_VECTOR | (TimerMode.tscDeadline << LvtTimer.MODE_SHIFT));
    expect(timer.readInitialCount()).toBe(0);
    timer.writeTscDeadline(500n);
    timer.writeLvt(LOCAL_TIMER_VECTOR);
    timer.writeLvt(LOCAL_TIMER_VECTOR | (TimerMode.tscDeadline << LvtTimer.MODE_SHIFT));
    context.advanceTo(1_000_000);
    expect(deliveries).toEqual([]);
    timer.writeLvt(LOCAL_TIMER_VECTOR);
    timer.writeTscDeadline(5n); // ignored outside TSC-deadline mode
    expect(timer.anomalies()).toMatchObject({ deadlineWritesOutsideDeadlineMode: 1 });
  });

  it('keeps the current count across a change of divisor, and runs on at the new rate', () => {
    const { context, timer, deliveries } = board();
    timer.writeLvt(LOCAL_TIMER_VECTOR);
    timer.writeDivideConfig(0b1011); // ÷1
    timer.writeInitialCount(1000);
    context.advanceTo(400);
    timer.writeDivideConfig(0b0001); // ÷4
    expect(timer.readCurrentCount()).toBe(600);
    context.advanceTo(400 + 4 * 600);
    expect(deliveries).toEqual([{ time: 2800, vector: LOCAL_TIMER_VECTOR }]);
  });

  it('calibrates as Linux does: count down from 0xffffffff across a known interval', () => {
    const { context, timer } = board();
    timer.writeDivideConfig(DIV_16);
    timer.writeLvt(LOCAL_TIMER_VECTOR | LvtTimer.MASKED);
    timer.writeInitialCount(0xffff_ffff);
    context.advanceTo(100_000_000); // 100 ms measured against the PIT
    expect(0xffff_ffff - timer.readCurrentCount()).toBe(100_000_000 / 16); // 62.5 MHz timer clock
  });

  it('clamps a periodic timer to the minimum period, as KVM (200 µs by default), while TMICT reads as written', () => {
    const { context, timer, deliveries } = board(200_000);
    timer.writeDivideConfig(0xb); // ÷1
    timer.writeLvt(LOCAL_TIMER_VECTOR | (TimerMode.periodic << LvtTimer.MODE_SHIFT));
    timer.writeInitialCount(1); // a tick every nanosecond, if allowed
    context.advanceTo(1_000_000);
    expect(deliveries.map((d) => d.time)).toEqual([200_000, 400_000, 600_000, 800_000, 1_000_000]);
    expect(timer.readInitialCount()).toBe(1);
    expect(timer.anomalies()).toMatchObject({ periodClamped: 1 });
  });

  it('lets the running count finish when switched from periodic to one-shot', () => {
    const { context, timer, deliveries } = board();
    timer.writeDivideConfig(0xb);
    timer.writeLvt(LOCAL_TIMER_VECTOR | (TimerMode.periodic << LvtTimer.MODE_SHIFT));
    timer.writeInitialCount(1000);
    context.advanceTo(2500);
    timer.writeLvt(LOCAL_TIMER_VECTOR); // one-shot
    expect(timer.readCurrentCount()).toBe(500);
    context.advanceTo(10_000);
    expect(deliveries.map((d) => d.time)).toEqual([1000, 2000, 3000]);
  });
});
