import { describe, expect, it } from 'vitest';
import { RTC_PERIODIC, RTC_VECTOR, rtcPeriodic, rtcRateSelect } from '../src/rtc-periodic.ts';
import { resolveParameters } from '../src/workload.ts';
import { drive, show } from './guest-driver.ts';

function setUp(hz: number) {
  const workload = rtcPeriodic({ hz });
  let index = 0;
  const answers: Record<number, number> = { 0x0b: 0x02, 0x0c: 0x00 };
  const driver = drive(workload.guest, (_kind, at) => (at === 0x71 ? answers[index] ?? 0 : 0), {
    tickOnHalt: false,
    onWrite: (_kind, at, value) => { if (at === 0x70) index = value; },
  });
  const setup = () => {
    driver.toHalt();
    return driver.log.map(show);
  };
  return { workload, driver, answers, setup };
}

describe('rtc-periodic', () => {
  it('selects the rate as cmos_irq_set_freq does', () => {
    expect([2, 1024, 8192].map(rtcRateSelect)).toEqual([15, 6, 3]);
    expect(() => rtcRateSelect(1000)).toThrow(/power of two/);
  });

  it('writes the rate to A, then enables PIE as cmos_irq_enable does: B read, C read, B|PIE, C read', () => {
    const { setup } = setUp(8192);
    const log = setup();
    const rtc = log.filter((a) => / 7[01]=/.test(a));
    expect(rtc).toEqual(['out 70=a', 'out 71=23', 'out 70=b', 'in 71=2', 'out 70=c', 'in 71=0', 'out 70=b', 'out 71=42', 'out 70=c', 'in 71=0']);
    expect(log).toContain('out a1=fe'); // irq 8 unmasked at the slave
    expect(log).toContain('out 21=fb'); // and the cascade at the master
  });

  it('acks each interrupt by reading C (then B), with the slave masked, specific EOIs to slave then master, and the unmask', () => {
    const { workload, driver, answers, setup } = setUp(1024);
    setup();
    const before = driver.log.length;
    answers[0x0c] = 0xc0; // IRQF | PF
    answers[0x0b] = 0x42;
    driver.inject(RTC_VECTOR);
    const handler: string[] = [];
    for (;;) {
      const [a] = driver.step(1);
      if (a === undefined) break;
      handler.push(show(a));
      if (a.kind === 'out' && a.at === 0xa1 && a.value === 0xfe) break;
    }
    expect(driver.log.length - before).toBe(handler.length);
    expect(handler).toEqual(['in a1=0', 'out a1=ff', 'out a0=60', 'out 20=62', 'out 70=c', 'in 71=c0', 'out 70=b', 'in 71=42', 'out a1=fe']);
    expect([workload.interrupts(), workload.spurious()]).toEqual([1, 0]);
  });

  it('takes hz from the rates the chip has', () => {
    expect(() => resolveParameters(RTC_PERIODIC, { hz: 1000 })).toThrow(/hz/);
    expect(RTC_PERIODIC.create(resolveParameters(RTC_PERIODIC, { hz: '64' })).progress()).toEqual({ interrupts: 0, spurious: 0 });
  });
});
