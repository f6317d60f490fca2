// The ACPI PM timer through its ports, on a virtual clock.
import { counterValueAt, tickTime } from '@splitvisor/abi';
import { createTestContext } from '@splitvisor/device-testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AcpiPmTimer, PM_TIMER_HZ, Pm1En, Pm1Sts } from '../src/index.ts';

const tick = (n: number) => tickTime(n, PM_TIMER_HZ);

function board(widthBits: 24 | 32 = 24) {
  const context = createTestContext();
  const pm = new AcpiPmTimer(context, { widthBits });
  return {
    context, pm,
    timer: () => pm.read('pm-timer', 0, 4),
    sts: () => pm.read('pm1-event', 0, 2),
    writeSts: (v: number) => { pm.write('pm1-event', 0, 2, v); },
    writeEn: (v: number) => { pm.write('pm1-event', 2, 2, v); },
  };
}

describe('ACPI PM timer', () => {
  it('counts at 3.579545 MHz from VM start, as Linux\'s acpi_pm clocksource reads it', () => {
    const { context, timer } = board();
    expect(timer()).toBe(0);
    context.advanceTo(1_000_000_000);
    expect(timer()).toBe(PM_TIMER_HZ);
    context.advanceTo(tick(0x100_0000 + 5));
    expect(timer()).toBe(5); // 24 bits wrap
  });

  it('sets TMR_STS when the top bit flips, and raises SCI while TMR_EN', () => {
    const { context, sts, writeSts, writeEn } = board();
    writeEn(Pm1En.TMR_EN);
    context.advanceTo(tick(0x80_0000) - 1);
    expect([sts() & Pm1Sts.TMR_STS, context.irqLevel(0)]).toEqual([0, false]);
    context.advanceTo(tick(0x80_0000));
    expect([sts() & Pm1Sts.TMR_STS, context.irqLevel(0)]).toEqual([Pm1Sts.TMR_STS, true]);
    writeSts(Pm1Sts.TMR_STS); // write 1 to clear
    expect([sts(), context.irqLevel(0)]).toEqual([0, false]);
    context.advanceTo(tick(0x100_0000));
    expect(context.irqLevel(0)).toBe(true); // bit 23 flipped back: next status
    writeEn(0);
    expect(context.irqLevel(0)).toBe(false);
    expect(sts() & Pm1Sts.TMR_STS).toBe(Pm1Sts.TMR_STS); // status stays without the enable
  });

  it('offers a 32-bit counter (TMR_VAL_EXT), whose status comes on bit 31', () => {
    const { context, timer, sts } = board(32);
    context.advanceTo(tick(0x1_0000_0005));
    expect(timer()).toBe(5);
    expect(sts() & Pm1Sts.TMR_STS).toBe(Pm1Sts.TMR_STS);
    context.advanceTo(tick(0x1_0000_0005) + 1);
  });

  it('stores PM1_EN and ignores writes to the read-only counter', () => {
    const { pm, timer } = board();
    pm.write('pm1-event', 2, 2, 0xffff);
    expect(pm.read('pm1-event', 2, 2)).toBe(0x0721);
    pm.write('pm-timer', 0, 4, 1234);
    expect(timer()).toBe(0);
    expect(pm.anomalies()).toMatchObject({ writesToPmTimer: 1 });
  });

  it('is served identically by the generic kernel counter (seed 002)', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 10_000_000_000 }), { minLength: 1, maxLength: 20 }), (steps) => {
      const { context, pm, timer } = board();
      let now = 0;
      for (const step of steps) {
        now += step;
        context.advanceTo(now);
        const [view] = pm.counterViews();
        if (view === undefined) throw new Error('no counter view');
        expect(Number(counterValueAt(view, context.now()))).toBe(timer());
      }
    }));
  });
});
