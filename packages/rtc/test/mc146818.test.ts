// The MC146818 through its ports, the way BIOSes and Linux drive it, on a virtual clock.
import type { Nanoseconds } from '@splitvisor/abi';
import { DeviceStateError, tickTime } from '@splitvisor/abi';
import { createTestContext } from '@splitvisor/device-testkit';
import { describe, expect, it } from 'vitest';
import type { Mc146818Config, RtcDateTime } from '../src/index.ts';
import { Mc146818, RegA, RegB, RegC, RtcReg, TIME_BASE_HZ, periodClocks } from '../src/index.ts';

const S = 1_000_000_000;
const MS = 1_000_000;
const US = 1_000;
const CENTURY = 0x32;
/** The traces' date: Saturday 2026-11-21, 11:17:41 UTC. */
const TRACE_DATE: RtcDateTime = { year: 2026, month: 11, day: 21, hour: 11, minute: 17, second: 41 };

function board(config: Mc146818Config = {}) {
  const context = createTestContext();
  const rtc = new Mc146818(context, { start: TRACE_DATE, ...config });
  // outb(index, 0x70); inb(0x71) — as Linux's CMOS_READ (SeaBIOS also sets bit 7, the NMI mask).
  const read = (index: number) => {
    rtc.write('index', 0, 1, index);
    return rtc.read('data', 0, 1);
  };
  const write = (index: number, value: number) => {
    rtc.write('index', 0, 1, index);
    rtc.write('data', 0, 1, value);
  };
  const rises = () => context.irqEdges.filter((e) => e.output === 0 && e.level).map((e) => e.time);
  const time = () => [RtcReg.HOURS, RtcReg.MINUTES, RtcReg.SECONDS].map(read);
  const date = () => [CENTURY, RtcReg.YEAR, RtcReg.MONTH, RtcReg.DATE_OF_MONTH, RtcReg.DAY_OF_WEEK].map(read);
  return { context, rtc, read, write, rises, time, date };
}
type Board = ReturnType<typeof board>;

/**
 * A guest whose interrupt handler reads register C `latency` ns after irq 8 rises (Linux's rtc-cmos
 * cmos_interrupt, Windows' clock ISR), from now until `until`; returns what each read answered.
 */
function serviceInterrupts(b: Board, until: Nanoseconds, latency = 0): number[] {
  const answers: number[] = [];
  for (;;) {
    if (b.context.irqLevel(0)) {
      if (latency > 0) b.context.advance(latency);
      answers.push(b.read(RtcReg.C));
      continue;
    }
    const next = b.context.nextDeadline();
    if (next === undefined || next > until) break;
    b.context.advanceTo(next);
  }
  b.context.advanceTo(until);
  return answers;
}

describe('power-on and the ports (as QEMU and a BIOS leave them)', () => {
  it('reads registers A–D as 26h, 02h, 00h, 80h and the start date in BCD, 24-hour', () => {
    const b = board();
    expect([RtcReg.A, RtcReg.B, RtcReg.C, RtcReg.D].map(b.read)).toEqual([0x26, 0x02, 0x00, 0x80]);
    expect(b.time()).toEqual([0x11, 0x17, 0x41]);
    expect(b.date()).toEqual([0x20, 0x26, 0x11, 0x21, 0x07]); // Saturday = 7 (Sunday = 1)
  });

  it('answers FFh on the write-only index port, keeps 7 bits of the index and bit 7 as the NMI mask', () => {
    const b = board();
    expect(b.rtc.read('index', 0, 1)).toBe(0xff);
    expect(b.rtc.anomalies()).toMatchObject({ openBusReads: 1 });
    b.write(0x8f, 0x5a); // SeaBIOS: NMI off, shutdown status byte
    expect(b.rtc.nmiDisabled).toBe(true);
    expect(b.read(0x0f)).toBe(0x5a);
    expect(b.rtc.nmiDisabled).toBe(false);
    expect(b.read(0x80 | RtcReg.D)).toBe(0x80); // data reads ignore the NMI bit
  });

  it('keeps 114 bytes of RAM (0Eh–7Fh), the century byte among them counted with the clock', () => {
    const b = board({ centuryRegister: null });
    for (let i = 0x0e; i < 0x80; i++) b.write(i, (i * 7) & 0xff);
    for (let i = 0x0e; i < 0x80; i++) expect(b.read(i)).toBe((i * 7) & 0xff);
    expect(b.rtc.getState().cmos).toHaveLength(128);
  });

  it('ignores writes to registers C and D and to UIP, and counts them', () => {
    const b = board();
    b.write(RtcReg.C, 0xff);
    b.write(RtcReg.D, 0x00);
    b.write(RtcReg.A, 0xa6);
    expect([RtcReg.A, RtcReg.C, RtcReg.D].map(b.read)).toEqual([0x26, 0x00, 0x80]);
    expect(b.rtc.anomalies()).toMatchObject({ readOnlyWrites: 2 });
  });

  it('lets index writes be coalesced, as QEMU registers rtc-index for KVM', () => {
    expect(board().rtc.hints).toEqual({ coalescedWrites: [{ region: 'index', offset: 0, length: 1 }] });
  });

  it('arms no timer while nothing can interrupt', () => {
    const b = board();
    b.context.advance(10 * S);
    expect(b.context.nextDeadline()).toBeUndefined();
    expect(b.read(RtcReg.C)).toBe(RegC.PF | RegC.UF); // the flags still follow time (rate 6 is selected)
  });
});

describe('reading the time (Linux mc146818_get_time and its UIP polling)', () => {
  /** mc146818_avoid_UIP: retry after mdelay(1) while UIP is set or the seconds moved during the reads. */
  function linuxGetTime(b: Board) {
    for (let retries = 0; retries < 10; retries++) {
      const seconds = b.read(RtcReg.SECONDS);
      if ((b.read(RtcReg.A) & RegA.UIP) !== 0) {
        b.context.advance(1 * MS);
        continue;
      }
      const fields = [RtcReg.MINUTES, RtcReg.HOURS, RtcReg.DATE_OF_MONTH, RtcReg.MONTH, RtcReg.YEAR, RtcReg.B].map(b.read);
      if ((b.read(RtcReg.A) & RegA.UIP) !== 0 || b.read(RtcReg.SECONDS) !== seconds) {
        b.context.advance(1 * MS);
        continue;
      }
      return { retries, seconds, fields };
    }
    throw new Error('UIP never cleared');
  }

  it('raises UIP for the 244 µs (8 clocks of 32.768 kHz) before each update', () => {
    const b = board();
    const update = 1 * S;
    const uip = (at: Nanoseconds) => {
      b.context.advanceTo(at);
      return (b.read(RtcReg.A) & RegA.UIP) !== 0;
    };
    expect(uip(update - 244_141)).toBe(false);
    expect(uip(update - tickTime(8, TIME_BASE_HZ) + 1)).toBe(true);
    expect(uip(update - 1)).toBe(true);
    expect(b.read(RtcReg.SECONDS)).toBe(0x41); // not yet updated
    expect(uip(update)).toBe(false);
    expect(b.read(RtcReg.SECONDS)).toBe(0x42);
  });

  it('makes a driver that reads inside the UIP window wait a millisecond and read the new second', () => {
    const b = board();
    b.context.advanceTo(1 * S - 100 * US);
    const got = linuxGetTime(b);
    expect(got).toEqual({ retries: 1, seconds: 0x42, fields: [0x17, 0x11, 0x21, 0x11, 0x26, 0x02] });
    b.context.advanceTo(2 * S - 300 * US); // just outside the window
    expect(linuxGetTime(b)).toMatchObject({ retries: 0, seconds: 0x42 });
  });
});

describe('setting the time (Linux mc146818_set_time)', () => {
  /** SET, divider reset (Intel), year, month, day, hours, minutes, seconds, then B and A restored. */
  function linuxSetTime(b: Board, t: RtcDateTime) {
    const control = b.read(RtcReg.B);
    b.write(RtcReg.B, control | RegB.SET);
    const freqSelect = b.read(RtcReg.A);
    b.write(RtcReg.A, freqSelect | 0x70);
    const bcd = (n: number) => ((n / 10) << 4) | (n % 10);
    b.write(RtcReg.YEAR, bcd(t.year % 100));
    b.write(RtcReg.MONTH, bcd(t.month));
    b.write(RtcReg.DATE_OF_MONTH, bcd(t.day));
    b.write(RtcReg.HOURS, bcd(t.hour));
    b.write(RtcReg.MINUTES, bcd(t.minute));
    b.write(RtcReg.SECONDS, bcd(t.second));
    b.write(RtcReg.B, control);
    b.write(RtcReg.A, freqSelect);
  }

  it('holds the time while set, restarts it half a second after the divider is released, and the weekday counts on', () => {
    // From 31 January: writing February before the day passes through "31 February", which must not carry.
    const b = board({ start: { year: 2026, month: 1, day: 31, hour: 10, minute: 0, second: 0 } });
    b.context.advanceTo(300 * MS);
    linuxSetTime(b, { year: 2027, month: 2, day: 28, hour: 23, minute: 59, second: 58 });
    expect(b.time()).toEqual([0x23, 0x59, 0x58]);
    expect(b.date()).toEqual([0x20, 0x27, 0x02, 0x28, 0x07]); // the weekday byte is not written by Linux: still Saturday
    b.context.advanceTo(800 * MS - 1);
    expect(b.read(RtcReg.SECONDS)).toBe(0x58);
    b.context.advanceTo(800 * MS);
    expect(b.read(RtcReg.SECONDS)).toBe(0x59);
    b.context.advanceTo(1800 * MS);
    expect(b.time()).toEqual([0x00, 0x00, 0x00]);
    expect(b.date()).toEqual([0x20, 0x27, 0x03, 0x01, 0x01]); // 2027 is no leap year; the weekday went 7 → 1
    expect(b.rtc.anomalies()).toMatchObject({ invalidTimeValues: 0 });
  });

  it('freezes updates while SET is 1 (no UIP, UIE cleared), and resumes at the next edge of the running divider', () => {
    const b = board();
    b.write(RtcReg.B, RegB.HOUR_24 | RegB.UIE);
    b.context.advanceTo(2300 * MS);
    b.write(RtcReg.B, RegB.HOUR_24 | RegB.SET | RegB.UIE);
    expect(b.read(RtcReg.B)).toBe(RegB.HOUR_24 | RegB.SET); // "the SET bit going high clears UIE"
    b.write(RtcReg.MINUTES, 0x30);
    b.context.advanceTo(2 * S + S - 100 * US);
    expect(b.read(RtcReg.A) & RegA.UIP).toBe(0);
    b.context.advanceTo(3600 * MS);
    expect(b.time()).toEqual([0x11, 0x30, 0x43]); // held through the update at 3 s
    b.write(RtcReg.B, RegB.HOUR_24);
    b.context.advanceTo(4 * S - 1);
    expect(b.read(RtcReg.SECONDS)).toBe(0x43);
    b.context.advanceTo(4 * S);
    expect(b.read(RtcReg.SECONDS)).toBe(0x44); // the chain kept running: its next edge, not a second after SET cleared
  });

  it('carries a time byte written out of range into the next field, as QEMU, and counts it', () => {
    const b = board();
    b.write(RtcReg.SECONDS, 0x75); // 75 seconds while running
    expect(b.time()).toEqual([0x11, 0x18, 0x15]);
    expect(b.rtc.anomalies()).toMatchObject({ invalidTimeValues: 1 });
  });

  it('continues from a time byte written while running, without disturbing the divider', () => {
    const b = board();
    b.context.advanceTo(400 * MS);
    b.write(RtcReg.HOURS, 0x08);
    b.context.advanceTo(1 * S);
    expect(b.time()).toEqual([0x08, 0x17, 0x42]);
  });
});

describe('the divider (register A DV2–0)', () => {
  it('holds the clock in reset (11x): no updates, no UIP, no periodic flag; the first update comes 500 ms after release', () => {
    const b = board();
    b.write(RtcReg.A, 0x76);
    b.read(RtcReg.C);
    b.context.advanceTo(5 * S - 100 * US);
    expect([b.read(RtcReg.A), b.read(RtcReg.C), b.read(RtcReg.SECONDS)]).toEqual([0x76, 0x00, 0x41]);
    b.context.advanceTo(5 * S);
    b.write(RtcReg.A, 0x26);
    b.context.advanceTo(5500 * MS - 1);
    expect(b.read(RtcReg.SECONDS)).toBe(0x41);
    b.context.advanceTo(5500 * MS);
    expect(b.read(RtcReg.SECONDS)).toBe(0x42);
  });

  it('stops in the test modes (011, 10x) and counts them; runs with the other time bases (000, 001), as QEMU', () => {
    const b = board();
    b.write(RtcReg.A, 0x36);
    b.context.advanceTo(3 * S);
    expect(b.read(RtcReg.SECONDS)).toBe(0x41);
    expect(b.rtc.anomalies()).toMatchObject({ dividerTestModes: 1 });
    b.write(RtcReg.A, 0x06);
    b.context.advanceTo(3500 * MS);
    expect(b.read(RtcReg.SECONDS)).toBe(0x42);
  });
});

describe('periodic interrupt', () => {
  it('at rate 6 raises irq 8 1024 times a second, each acknowledged by a read of register C', () => {
    const b = board();
    b.read(RtcReg.C); // Linux's cmos_irq_enable flushes stale flags first
    b.write(RtcReg.B, RegB.HOUR_24 | RegB.PIE);
    const answers = serviceInterrupts(b, 1 * S);
    expect(b.rises()).toHaveLength(1024);
    expect(b.rises().slice(0, 3)).toEqual([976_563, 1_953_125, 2_929_688]);
    expect(answers.every((c) => (c & (RegC.IRQF | RegC.PF)) === (RegC.IRQF | RegC.PF))).toBe(true);
    expect(answers.filter((c) => (c & RegC.UF) !== 0)).toHaveLength(1); // the update at 1 s
  });

  it('follows the datasheet rate table with the 32.768 kHz time base', () => {
    const rates = Array.from({ length: 15 }, (_, i) => i + 1).map((rs) => {
      const b = board();
      b.write(RtcReg.A, 0x20 | rs);
      b.read(RtcReg.C);
      b.write(RtcReg.B, RegB.HOUR_24 | RegB.PIE);
      serviceInterrupts(b, 1 * S);
      return b.rises().length;
    });
    expect(rates).toEqual([256, 128, 8192, 4096, 2048, 1024, 512, 256, 128, 64, 32, 16, 8, 4, 2]);
    expect(periodClocks(6)).toBe(32);
  });

  it('sets PF whatever PIE says (the datasheet), with no irq and no timer', () => {
    const b = board();
    b.read(RtcReg.C);
    b.context.advanceTo(900 * US);
    expect(b.read(RtcReg.C)).toBe(0x00);
    b.context.advanceTo(1 * MS);
    expect(b.context.nextDeadline()).toBeUndefined();
    expect(b.read(RtcReg.C)).toBe(RegC.PF);
    expect(b.rises()).toEqual([]);
  });

  it('raises irq 8 at once when PIE is set over a pending PF, and drops it when PIE is cleared', () => {
    const b = board();
    b.context.advanceTo(5 * MS);
    b.write(RtcReg.B, RegB.HOUR_24 | RegB.PIE);
    expect(b.context.irqLevel(0)).toBe(true);
    b.write(RtcReg.B, RegB.HOUR_24);
    expect(b.context.irqLevel(0)).toBe(false);
    expect(b.read(RtcReg.C)).toBe(RegC.PF);
  });

  /** Interrupts blocked for the first 100 ms, then each serviced 5 µs after it is raised. */
  function blockedGuest(lostTickPolicy: 'discard' | 'slew') {
    const b = board({ lostTickPolicy });
    b.read(RtcReg.C);
    b.write(RtcReg.B, RegB.HOUR_24 | RegB.PIE);
    b.context.advanceTo(100 * MS);
    const answers = serviceInterrupts(b, 1 * S + 10 * US, 5 * US);
    return { b, ticks: answers.filter((c) => (c & RegC.PF) !== 0).length };
  }

  it('discard: the ticks that come while PF is still set are lost', () => {
    const { ticks } = blockedGuest('discard');
    // The first tap, one acknowledgement for the 101 taps that piled up, then every tap after 100 ms: 1 + 922.
    expect(ticks).toBe(923);
  });

  it('slew: lost ticks are re-injected (at once on each acknowledgement, 20 a tap at most, then paced), none lost', () => {
    const { b, ticks } = blockedGuest('slew');
    expect(ticks).toBe(1024); // every tap of the second
    expect(b.rtc.getState().ticksOwed).toBe(0);
  });

  it('slew: owed ticks are rescaled when the rate changes and forgiven when PIE is cleared', () => {
    const b = board({ lostTickPolicy: 'slew' });
    b.read(RtcReg.C);
    b.write(RtcReg.B, RegB.HOUR_24 | RegB.PIE);
    b.context.advanceTo(10 * 976_563); // ten taps, nine lost behind the first
    b.read(RtcReg.A);
    expect(b.rtc.getState().ticksOwed).toBe(9);
    b.write(RtcReg.A, 0x27); // 512 Hz: the same time owed is 4 ticks
    expect(b.rtc.getState().ticksOwed).toBe(4);
    b.write(RtcReg.B, RegB.HOUR_24);
    expect(b.rtc.getState().ticksOwed).toBe(0);
  });
});

describe('alarm interrupt', () => {
  it('with don\'t-care minutes and hours (C0h–FFh) fires every minute at :30', () => {
    const b = board();
    b.write(RtcReg.A, 0x20); // no periodic flag in the way
    b.write(RtcReg.SECONDS_ALARM, 0x30);
    b.write(RtcReg.MINUTES_ALARM, 0xff);
    b.write(RtcReg.HOURS_ALARM, 0xc0);
    b.read(RtcReg.C);
    b.write(RtcReg.B, RegB.HOUR_24 | RegB.AIE);
    const answers = serviceInterrupts(b, 200 * S);
    expect(b.rises()).toEqual([49 * S, 109 * S, 169 * S]); // 11:18:30, 11:19:30, 11:20:30
    expect(answers).toEqual([0xb0, 0xb0, 0xb0]); // IRQF | AF | UF
  });

  it('with every byte set fires once a day', () => {
    const b = board();
    b.write(RtcReg.SECONDS_ALARM, 0x45);
    b.write(RtcReg.MINUTES_ALARM, 0x17);
    b.write(RtcReg.HOURS_ALARM, 0x11);
    b.write(RtcReg.B, RegB.HOUR_24 | RegB.AIE);
    serviceInterrupts(b, 2 * 86_400 * S);
    expect(b.rises()).toEqual([4 * S, (4 + 86_400) * S]);
  });

  it('with don\'t-care hours fires every hour, and sets AF without AIE (no irq)', () => {
    const b = board();
    b.write(RtcReg.SECONDS_ALARM, 0x00);
    b.write(RtcReg.MINUTES_ALARM, 0x18);
    b.write(RtcReg.HOURS_ALARM, 0xff);
    b.context.advanceTo(18 * S);
    expect(b.read(RtcReg.C) & RegC.AF).toBe(0);
    b.context.advanceTo(19 * S);
    expect(b.read(RtcReg.C) & RegC.AF).toBe(RegC.AF);
    b.write(RtcReg.B, RegB.HOUR_24 | RegB.AIE);
    serviceInterrupts(b, (19 + 7200) * S);
    expect(b.rises()).toEqual([(19 + 3600) * S, (19 + 7200) * S]);
  });

  it('compares the hours byte with its PM bit in 12-hour mode', () => {
    const b = board({ start: { year: 2026, month: 11, day: 21, hour: 13, minute: 0, second: 0 } });
    b.write(RtcReg.B, 0x00); // 12-hour, BCD
    b.write(RtcReg.SECONDS_ALARM, 0x05);
    b.write(RtcReg.MINUTES_ALARM, 0x00);
    b.write(RtcReg.HOURS_ALARM, 0x81); // 1 PM
    b.write(RtcReg.B, RegB.AIE);
    serviceInterrupts(b, 10 * S);
    expect(b.rises()).toEqual([5 * S]);
  });
});

describe('update-ended interrupt', () => {
  it('fires once per second, at each update', () => {
    const b = board();
    b.write(RtcReg.A, 0x20);
    b.read(RtcReg.C);
    b.write(RtcReg.B, RegB.HOUR_24 | RegB.UIE);
    const answers = serviceInterrupts(b, 5 * S + 500 * MS);
    expect(b.rises()).toEqual([1 * S, 2 * S, 3 * S, 4 * S, 5 * S]);
    expect(answers).toEqual([0x90, 0x90, 0x90, 0x90, 0x90]);
  });

  it('holds irq 8 high until register C is read, arming nothing meanwhile', () => {
    const b = board();
    b.write(RtcReg.B, RegB.HOUR_24 | RegB.UIE);
    b.context.advanceTo(1 * S);
    expect(b.context.irqLevel(0)).toBe(true);
    expect(b.context.nextDeadline()).toBeUndefined();
    b.context.advanceTo(10 * S);
    expect(b.rises()).toEqual([1 * S]);
    expect(b.read(RtcReg.C) & 0xf0).toBe(0xd0);
    expect(b.context.irqLevel(0)).toBe(false);
  });
});

describe('data modes (register B DM and 24/12)', () => {
  it('12-hour mode: bit 7 of the hours is PM; midnight and noon read 12', () => {
    const at = (hour: number, binary: boolean) => {
      const b = board({ start: { year: 2026, month: 11, day: 21, hour, minute: 5, second: 0 } });
      b.write(RtcReg.B, binary ? RegB.DM : 0);
      return b.read(RtcReg.HOURS);
    };
    expect([0, 1, 11, 12, 13, 23].map((h) => at(h, false))).toEqual([0x12, 0x01, 0x11, 0x92, 0x81, 0x91]);
    expect([0, 12, 13, 23].map((h) => at(h, true))).toEqual([0x0c, 0x8c, 0x81, 0x8b]);
  });

  it('12-hour mode: a PM hour written while running is 13:00 and later', () => {
    const b = board();
    b.write(RtcReg.B, 0x00);
    b.write(RtcReg.HOURS, 0x81);
    b.write(RtcReg.B, RegB.HOUR_24);
    expect(b.read(RtcReg.HOURS)).toBe(0x13);
  });

  it('binary mode renders every byte in binary, the century too (as QEMU)', () => {
    const b = board();
    b.write(RtcReg.B, RegB.HOUR_24 | RegB.DM);
    expect(b.time()).toEqual([11, 17, 41]);
    expect(b.date()).toEqual([20, 26, 11, 21, 7]);
  });

  it('re-renders the running clock when the mode changes (QEMU; the chip would need the time rewritten)', () => {
    const b = board();
    b.write(RtcReg.B, RegB.HOUR_24 | RegB.DM);
    b.context.advanceTo(1 * S);
    b.write(RtcReg.B, RegB.HOUR_24);
    expect(b.time()).toEqual([0x11, 0x17, 0x42]);
  });

  it('sets a binary time under SET; bytes not rewritten keep their BCD bits, as on the chip', () => {
    const b = board();
    b.write(RtcReg.B, RegB.SET | RegB.DM | RegB.HOUR_24);
    expect(b.read(RtcReg.MONTH)).toBe(0x11); // stopped in BCD: still 11h, which binary mode reads as 17
    for (const [index, value] of [[RtcReg.YEAR, 26], [RtcReg.MONTH, 11], [RtcReg.DATE_OF_MONTH, 21]] as const) b.write(index, value);
    b.write(RtcReg.HOURS, 23);
    b.write(RtcReg.MINUTES, 59);
    b.write(RtcReg.SECONDS, 59);
    b.write(RtcReg.B, RegB.DM | RegB.HOUR_24);
    b.context.advanceTo(1 * S);
    expect(b.time()).toEqual([0, 0, 0]);
    expect([RtcReg.MONTH, RtcReg.DATE_OF_MONTH].map(b.read)).toEqual([11, 22]);
    expect(b.rtc.anomalies()).toMatchObject({ invalidTimeValues: 0 });
  });

  it('DSE is stored and read back but not acted on (as QEMU): no jump on the last Sunday of April', () => {
    const b = board({ start: { year: 1990, month: 4, day: 29, hour: 1, minute: 59, second: 59 } });
    b.write(RtcReg.B, RegB.HOUR_24 | RegB.DSE);
    b.context.advanceTo(1 * S);
    expect(b.read(RtcReg.B)).toBe(RegB.HOUR_24 | RegB.DSE);
    expect(b.time()).toEqual([0x02, 0x00, 0x00]);
  });
});

describe('calendar', () => {
  it('rolls the century byte over at the end of 2099; 2100 has no 29 February', () => {
    const b = board({ start: { year: 2099, month: 12, day: 31, hour: 23, minute: 59, second: 59 } });
    b.context.advanceTo(1 * S);
    expect(b.date()).toEqual([0x21, 0x00, 0x01, 0x01, 0x06]); // Friday 2100-01-01
    const c = board({ start: { year: 2100, month: 2, day: 28, hour: 23, minute: 59, second: 59 } });
    c.context.advanceTo(1 * S);
    expect(c.date().slice(1, 4)).toEqual([0x00, 0x03, 0x01]);
    const d = board({ start: { year: 2024, month: 2, day: 28, hour: 23, minute: 59, second: 59 } });
    d.context.advanceTo(1 * S);
    expect(d.date().slice(1, 4)).toEqual([0x24, 0x02, 0x29]);
  });

  it('wraps from 9999 to 0000', () => {
    const b = board({ start: { year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59 } });
    b.context.advanceTo(1 * S);
    expect(b.date().slice(0, 4)).toEqual([0x00, 0x00, 0x01, 0x01]);
  });

  it('without a century byte the year wraps within the century and 32h is plain RAM', () => {
    const b = board({ start: { year: 2099, month: 12, day: 31, hour: 23, minute: 59, second: 59 }, centuryRegister: null });
    b.write(CENTURY, 0x19);
    b.context.advanceTo(1 * S);
    expect(b.date()).toEqual([0x19, 0x00, 0x01, 0x01, 0x06]);
  });

  it('counts the day of the week on its own, as the chip does', () => {
    const b = board({ start: { year: 2026, month: 11, day: 21, hour: 23, minute: 59, second: 59 } });
    b.write(RtcReg.DAY_OF_WEEK, 0x03);
    b.context.advanceTo(1 * S);
    expect(b.read(RtcReg.DAY_OF_WEEK)).toBe(0x04);
  });

  it('takes the start as seconds since 1970 too, and refuses dates that are not', () => {
    const b = board({ start: 1_795_259_866, startNanoseconds: 904_361_000 }); // the README's example log stamp
    expect(b.time()).toEqual([0x11, 0x17, 0x46]);
    b.context.advanceTo(95_639_000);
    expect(b.read(RtcReg.SECONDS)).toBe(0x47);
    const context = createTestContext();
    expect(() => new Mc146818(context, { start: { ...TRACE_DATE, month: 2, day: 30 } })).toThrow(RangeError);
    expect(() => new Mc146818(context, { startNanoseconds: 1e9 })).toThrow(RangeError);
    expect(() => new Mc146818(context, { centuryRegister: 0x0b })).toThrow(RangeError);
  });
});

describe('state', () => {
  it('restores into a fresh instance with irq 8 re-driven and timers re-armed', () => {
    const b = board();
    b.write(RtcReg.B, RegB.HOUR_24 | RegB.UIE);
    b.context.advanceTo(1 * S);
    const state = b.rtc.getState();
    const context = createTestContext({ start: 1 * S });
    const restored = new Mc146818(context);
    restored.setState(state);
    expect(context.irqLevel(0)).toBe(true);
    restored.write('index', 0, 1, RtcReg.C);
    expect(restored.read('data', 0, 1)).toBe(0xd0);
    expect(context.nextDeadline()).toBe(2 * S);
  });

  it('refuses the state of another model or version', () => {
    const b = board();
    expect(() => { b.rtc.setState({ ...b.rtc.getState(), version: 2 as 1 }); }).toThrow(DeviceStateError);
  });
});
