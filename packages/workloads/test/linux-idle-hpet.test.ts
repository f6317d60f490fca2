import { describe, expect, it } from 'vitest';
import { clocksourceRead, createWorkload, linuxIdleHpet } from '../src/index.ts';
import { drive } from './guest-driver.ts';

const HPET = 0xfed0_0000;
/** The HPET's power-on registers as the guest reads them: capabilities 8086A201h (3 timers), period 10 ns. */
const POWER_ON: Readonly<Record<number, number>> = { [HPET]: 0x8086_a201, [HPET + 4]: 10_000_000, [HPET + 0x100]: 0x30, [HPET + 0x120]: 0x30, [HPET + 0x140]: 0x30 };

describe('linux-idle-hpet', () => {
  it('enables the HPET as hpet_enable does, takes the legacy route, and arms timer 0 one-shot in 32-bit mode', () => {
    let counter = 0;
    const driver = drive(linuxIdleHpet().guest, (_kind, at) => (at === HPET + 0xf0 ? counter : POWER_ON[at] ?? 0), { tickOnHalt: false });
    expect(driver.toHalt()).toBe(true);
    const hpet = driver.log.filter((a) => a.at >= HPET).map((a) => `${a.kind === 'write' ? 'w' : 'r'} ${(a.at - HPET).toString(16)}${a.kind === 'write' ? `=${a.value.toString(16)}` : ''}`);
    expect(hpet).toEqual([
      'r 0', 'r 4', 'r 10', 'w 10=0', // capabilities, period; configuration cleared of ENABLE and LEG_RT
      'r 100', 'w 100=30', 'r 120', 'w 120=30', 'r 140', 'w 140=30', // each timer's enable, level and FSB cleared
      'r 10', 'w 10=0', 'w f0=0', 'w f4=0', 'r 10', 'w 10=1', // hpet_restart_counter
      'r 10', 'w 10=2', // hpet_enable_legacy_int (the fake reads back 0)
      'r 100', 'w 100=134', // one-shot, enabled, 32-bit
      'r f0', 'w 108=186a0', 'r f0', // set_next_event: the first jiffy boundary, 100,000 ticks of 10 ns
    ]);
    counter = 150_000; // a late wake: the next boundary is 200,000
    driver.inject(0x20);
    expect(driver.toHalt()).toBe(true);
    expect(driver.log.filter((a) => a.at === HPET + 0x108).map((a) => a.value)).toEqual([100_000, 200_000]);
  });

  it('retries with a larger delta when the event has already passed (-ETIME)', () => {
    let reads = 0;
    const run = linuxIdleHpet();
    // The counter jumps 1,000 ticks between the two reads around the comparator write.
    const driver = drive(run.guest, (_kind, at) => (at === HPET + 0xf0 ? (reads++ % 2 === 0 ? 99_990 : 100_990) : POWER_ON[at] ?? 0), { tickOnHalt: false });
    expect(driver.toHalt()).toBe(true);
    // 128, 256, 512 and 1,024 ticks past 99,990 are all behind (or within 128 of) 100,990; 2,048 is not.
    expect(driver.log.filter((a) => a.at === HPET + 0x108).map((a) => a.value)).toEqual([100_118, 100_246, 100_502, 101_014, 102_038]);
    expect(run.retries()).toBe(4);
  });
});

describe('clocksource-read', () => {
  it('reads the HPET main counter after hpet_enable, and the PIT by latch, low, high with port 80h delays', () => {
    const hpet = drive(clocksourceRead({ clocksource: 'hpet', reads: 2 }).guest, (_kind, at) => (at === HPET + 0xf0 ? 7 : 0));
    hpet.toHalt();
    expect(hpet.log.filter((a) => a.at === HPET + 0xf0 && a.kind === 'read')).toHaveLength(2);
    const pit = drive(clocksourceRead({ clocksource: 'pit', reads: 1 }).guest, () => 0x12);
    pit.toHalt();
    expect(pit.log.map((a) => `${a.kind} ${a.at.toString(16)}`)).toEqual([
      'out 43', 'out 80', 'out 40', 'out 80', 'out 40', 'out 80', // init_pit_timer, periodic, LATCH 1193 (HZ 1000)
      'out 43', 'out 80', 'in 40', 'out 80', 'in 40', 'out 80', // i8253_read
    ]);
    const quiet = drive(clocksourceRead({ clocksource: 'pit', ioDelay: 'none', reads: 1 }).guest, () => 0);
    quiet.toHalt();
    expect(quiet.log.some((a) => a.at === 0x80)).toBe(false);
    expect(createWorkload('clocksource-read', { clocksource: 'hpet', reads: '3' }).progress()).toEqual({ reads: 0, retries: 0, backwardSteps: 0 });
  });
});
