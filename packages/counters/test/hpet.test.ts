// The HPET through its registers, the way Linux's hpet driver programs it, on a virtual clock.
import { counterValueAt, tickTime } from '@splitvisor/abi';
import { createTestContext } from '@splitvisor/device-testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GenConf, HPET_HZ, Hpet, HpetReg, LEGACY_IRQ0, LEGACY_IRQ8, LEGACY_ROUTE, TnConf } from '../src/index.ts';

const tick = (n: number) => tickTime(n, HPET_HZ);
const T0 = HpetReg.TIMER_BASE;
const T1 = HpetReg.TIMER_BASE + HpetReg.TIMER_STRIDE;

function board() {
  const context = createTestContext();
  const hpet = new Hpet(context);
  const rd = (offset: number) => hpet.read('registers', offset, 4);
  const wr = (offset: number, value: number) => { hpet.write('registers', offset, 4, value); };
  const pulses = (output: number) => context.irqEdges.filter((e) => e.output === output && e.level).map((e) => e.time);
  return { context, hpet, rd, wr, pulses };
}

/** hpet_enable(): halt, clear the counter, start (legacy replacement as Linux asks when IOAPIC routing is only pin 2). */
function linuxEnable(b: ReturnType<typeof board>, legacy: boolean) {
  b.wr(HpetReg.GEN_CONF, 0);
  b.wr(HpetReg.MAIN_CNT, 0);
  b.wr(HpetReg.MAIN_CNT + 4, 0);
  b.wr(HpetReg.GEN_CONF, GenConf.ENABLE_CNF | (legacy ? GenConf.LEG_RT_CNF : 0));
}

describe('HPET identity and power-on (as QEMU)', () => {
  it('reads capabilities 8086A201h with a 10 ns period, timers 30h, comparators all ones', () => {
    const { rd } = board();
    expect([rd(HpetReg.GCAP_ID), rd(HpetReg.GCAP_ID + 4)]).toEqual([0x8086a201, 0x989680]);
    expect([rd(T0), rd(T1), rd(T1 + 0x20)]).toEqual([0x30, 0x30, 0x30]);
    expect(rd(T0 + 4)).toBe(0x4); // Tn_INT_ROUTE_CAP: IOAPIC input 2 only
    expect([rd(T1 + 0x20 + HpetReg.TN_CMP), rd(T1 + 0x20 + HpetReg.TN_CMP + 4)]).toEqual([0xffffffff, 0xffffffff]);
    expect([rd(HpetReg.GEN_CONF), rd(HpetReg.MAIN_CNT)]).toEqual([0, 0]);
  });
});

describe('main counter', () => {
  it('counts at 100 MHz while enabled, holds while halted, and takes writes only when halted', () => {
    const b = board();
    b.context.advanceTo(5_000);
    linuxEnable(b, false);
    b.context.advanceTo(5_000 + 1_000);
    expect(b.rd(HpetReg.MAIN_CNT)).toBe(100);
    b.wr(HpetReg.MAIN_CNT, 7); // running: lost
    expect(b.hpet.anomalies()).toMatchObject({ counterWritesWhileRunning: 1 });
    b.wr(HpetReg.GEN_CONF, 0);
    b.context.advanceTo(50_000);
    expect(b.rd(HpetReg.MAIN_CNT)).toBe(100);
    b.wr(HpetReg.MAIN_CNT, 0xffff_fff0);
    b.wr(HpetReg.MAIN_CNT + 4, 1);
    b.wr(HpetReg.GEN_CONF, GenConf.ENABLE_CNF);
    b.context.advanceTo(50_000 + 200);
    expect([b.rd(HpetReg.MAIN_CNT), b.rd(HpetReg.MAIN_CNT + 4)]).toEqual([0x4, 2]); // carried into the high half
  });

  it('is served identically by the generic kernel counter (seed 002), running or halted', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1_000_000_000 }), fc.boolean()), { minLength: 1, maxLength: 20 }), (steps) => {
      const b = board();
      let now = 0;
      for (const [step, toggle] of steps) {
        now += step;
        b.context.advanceTo(now);
        if (toggle) b.wr(HpetReg.GEN_CONF, b.rd(HpetReg.GEN_CONF) ^ GenConf.ENABLE_CNF);
        const [view] = b.hpet.counterViews();
        if (view === undefined) throw new Error('no counter view');
        const served = counterValueAt(view, b.context.now());
        expect(served).toBe((BigInt(b.rd(HpetReg.MAIN_CNT + 4)) << 32n) | BigInt(b.rd(HpetReg.MAIN_CNT)));
      }
    }));
  });
});

describe('timers', () => {
  it('Linux periodic (hpet_set_periodic): 32-bit, SETVAL then the period, ticks on ISA irq 0 under legacy routing', () => {
    const b = board();
    linuxEnable(b, true);
    const delta = 400_000; // HZ=250
    b.wr(T0, TnConf.INT_ENB_CNF | TnConf.TYPE_CNF | TnConf.VAL_SET_CNF | TnConf.MODE32_CNF);
    const now = b.rd(HpetReg.MAIN_CNT);
    b.wr(T0 + HpetReg.TN_CMP, now + delta);
    b.wr(T0 + HpetReg.TN_CMP, delta);
    expect(b.rd(T0)).toBe(0x13c); // VAL_SET reads back 0
    b.context.advanceTo(tick(now + 4 * delta));
    expect(b.pulses(LEGACY_IRQ0)).toEqual([1, 2, 3, 4].map((k) => tick(now + k * delta)));
    expect(b.rd(T0 + HpetReg.TN_CMP)).toBe(now + 5 * delta);
  });

  it('drives LEGACY_ROUTE while LEG_RT_CNF is set, enabled or not, and again after a state round trip', () => {
    const b = board();
    const route = () => b.context.irqEdges.filter((e) => e.output === LEGACY_ROUTE).map((e) => e.level);
    expect(route()).toEqual([]); // power-on: the PIT and RTC own irqs 0 and 8
    b.wr(HpetReg.GEN_CONF, GenConf.LEG_RT_CNF);
    b.wr(HpetReg.GEN_CONF, GenConf.LEG_RT_CNF | GenConf.ENABLE_CNF);
    expect(route()).toEqual([true]);
    const fresh = createTestContext();
    const copy = new Hpet(fresh);
    copy.setState(b.hpet.getState());
    expect(fresh.irqLevel(LEGACY_ROUTE)).toBe(true);
    b.wr(HpetReg.GEN_CONF, GenConf.ENABLE_CNF);
    expect(route()).toEqual([true, false]);
  });

  it('one-shot matches on equality: a comparator already passed fires after the 32-bit wrap', () => {
    const b = board();
    linuxEnable(b, false);
    b.wr(T0, TnConf.INT_ENB_CNF | TnConf.MODE32_CNF | (2 << TnConf.INT_ROUTE_SHIFT));
    b.context.advanceTo(tick(1000));
    b.wr(T0 + HpetReg.TN_CMP, 1500);
    b.context.advanceTo(tick(1500));
    expect(b.pulses(2)).toEqual([tick(1500)]);
    b.wr(T0 + HpetReg.TN_CMP, 1400); // behind the counter
    b.context.advanceTo(tick(2 ** 32));
    expect(b.pulses(2)).toEqual([tick(1500)]);
    b.context.advanceTo(tick(2 ** 32 + 1400));
    expect(b.pulses(2)).toEqual([tick(1500), tick(2 ** 32 + 1400)]);
  });

  it('level-triggered: Tn_INT_STS and the line stay set until software writes 1 to clear', () => {
    const b = board();
    linuxEnable(b, true);
    b.wr(T1, TnConf.INT_ENB_CNF | TnConf.INT_TYPE_CNF);
    b.wr(T1 + HpetReg.TN_CMP, 100);
    b.wr(T1 + HpetReg.TN_CMP + 4, 0);
    b.context.advanceTo(tick(100));
    expect([b.rd(HpetReg.GINTR_STA), b.context.irqLevel(LEGACY_IRQ8)]).toEqual([0b10, true]);
    b.wr(HpetReg.GINTR_STA, 0b01); // the wrong bit: nothing cleared
    expect(b.context.irqLevel(LEGACY_IRQ8)).toBe(true);
    b.wr(HpetReg.GINTR_STA, 0b10);
    expect([b.rd(HpetReg.GINTR_STA), b.context.irqLevel(LEGACY_IRQ8)]).toEqual([0, false]);
  });

  it('keeps a route the timer cannot use, and counts the attempt', () => {
    const b = board();
    b.wr(T0, 5 << TnConf.INT_ROUTE_SHIFT);
    expect((b.rd(T0) >> TnConf.INT_ROUTE_SHIFT) & TnConf.INT_ROUTE_MASK).toBe(0);
    expect(b.hpet.anomalies()).toMatchObject({ unsupportedRoutes: 1 });
  });

  it('raises nothing while interrupts are disabled, but the periodic comparator still steps', () => {
    const b = board();
    linuxEnable(b, true);
    b.wr(T0, TnConf.TYPE_CNF | TnConf.VAL_SET_CNF | TnConf.MODE32_CNF);
    b.wr(T0 + HpetReg.TN_CMP, 1000); // comparator and period
    b.wr(T0 + HpetReg.TN_CMP, 1000); // period
    b.context.advanceTo(tick(3500));
    expect(b.pulses(LEGACY_IRQ0)).toEqual([]);
    expect(b.rd(T0 + HpetReg.TN_CMP)).toBe(4000);
  });

  it('in 64-bit mode, a 32-bit write clears Tn_VAL_SET_CNF: the high half needs it set again (as QEMU)', () => {
    const b = board();
    linuxEnable(b, false);
    b.wr(T0, TnConf.TYPE_CNF | TnConf.VAL_SET_CNF);
    b.wr(T0 + HpetReg.TN_CMP, 1000);
    b.wr(T0 + HpetReg.TN_CMP + 4, 0); // sets the period's high half; the comparator keeps its all-ones reset value
    expect([b.rd(T0 + HpetReg.TN_CMP), b.rd(T0 + HpetReg.TN_CMP + 4)]).toEqual([1000, 0xffffffff]);
    b.wr(T0, TnConf.TYPE_CNF | TnConf.VAL_SET_CNF);
    b.wr(T0 + HpetReg.TN_CMP + 4, 0);
    expect([b.rd(T0 + HpetReg.TN_CMP), b.rd(T0 + HpetReg.TN_CMP + 4)]).toEqual([1000, 0]);
  });
});

describe('HPET review regressions', () => {
  it('lowers a level interrupt when the HPET is disabled', () => {
    const b = board();
    linuxEnable(b, false);
    b.wr(T0, TnConf.INT_ENB_CNF | TnConf.INT_TYPE_CNF | (2 << TnConf.INT_ROUTE_SHIFT));
    b.wr(T0 + HpetReg.TN_CMP, 100);
    b.wr(T0 + HpetReg.TN_CMP + 4, 0);
    b.context.advanceTo(tick(100));
    expect(b.context.irqLevel(2)).toBe(true);
    b.wr(HpetReg.GEN_CONF, 0);
    expect(b.context.irqLevel(2)).toBe(false);
  });

  it('sets a level timer\'s status bit even with its interrupt disabled, without raising a line', () => {
    const b = board();
    linuxEnable(b, false);
    b.wr(T0, TnConf.INT_TYPE_CNF | (2 << TnConf.INT_ROUTE_SHIFT));
    b.wr(T0 + HpetReg.TN_CMP, 100);
    b.wr(T0 + HpetReg.TN_CMP + 4, 0);
    b.context.advanceTo(tick(150));
    expect([b.rd(HpetReg.GINTR_STA), b.context.irqLevel(2)]).toEqual([1, false]);
  });

  it('runs a periodic timer with a 10 ns period and its interrupt off without a host event per match', () => {
    const b = board();
    linuxEnable(b, false);
    b.wr(T0, TnConf.TYPE_CNF | TnConf.VAL_SET_CNF | TnConf.MODE32_CNF);
    b.wr(T0 + HpetReg.TN_CMP, 10);
    b.wr(T0 + HpetReg.TN_CMP, 1);
    expect(b.context.nextDeadline()).toBeUndefined();
    b.context.advanceTo(tick(1_000_000)); // 10 ms
    expect(b.rd(T0 + HpetReg.TN_CMP)).toBe(1_000_001); // brought up to date when read
  });
});
