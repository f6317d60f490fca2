// The pure functions the model and the tests share: calendar arithmetic, byte formats, the alarm search, the divider.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TimeFormat } from '../src/index.ts';
import {
  ALARM_DONT_CARE, civilFromDays, daysFromCivil, decodeHour, encodeHour, fieldsFromSeconds, nextTapEdge, nextUpdate, parseTime,
  renderTime, secondsFromFields, secondsToAlarm, tapEdgesBetween, updateInProgress, updatesBetween, weekdayOfDays,
} from '../src/index.ts';

const formats: readonly TimeFormat[] = [
  { binary: false, hour24: true }, { binary: true, hour24: true }, { binary: false, hour24: false }, { binary: true, hour24: false },
];
const format = fc.constantFrom(...formats);
/** 0000-01-01 … 9999-12-31 23:59:59. */
const calendarSecond = fc.integer({ min: daysFromCivil(0, 1, 1) * 86_400, max: daysFromCivil(10_000, 1, 1) * 86_400 - 1 });

describe('calendar arithmetic', () => {
  it('counts days as the proleptic Gregorian calendar does', () => {
    expect(daysFromCivil(1970, 1, 1)).toBe(0);
    expect(daysFromCivil(2000, 3, 1)).toBe(11_017);
    expect(weekdayOfDays(daysFromCivil(2026, 11, 21))).toBe(6); // Saturday
    expect(weekdayOfDays(daysFromCivil(1900, 1, 1))).toBe(1); // Monday
    expect(daysFromCivil(2100, 3, 1) - daysFromCivil(2100, 2, 28)).toBe(1);
    expect(daysFromCivil(2000, 3, 1) - daysFromCivil(2000, 2, 28)).toBe(2);
  });

  it('civilFromDays inverts daysFromCivil over ten thousand years', () => {
    fc.assert(fc.property(fc.integer({ min: -719_528, max: 2_932_896 }), (days) => {
      const { year, month, day } = civilFromDays(days);
      expect(daysFromCivil(year, month, day)).toBe(days);
      expect(month >= 1 && month <= 12 && day >= 1 && day <= 31).toBe(true);
    }));
  });

  it('carries fields out of range into the next', () => {
    expect(fieldsFromSeconds(secondsFromFields({ year: 2026, month: 13, day: 32, hour: 24, minute: 60, second: 75 }))).toMatchObject({
      year: 2027, month: 2, day: 2, hour: 1, minute: 1, second: 15,
    });
  });
});

describe('time bytes', () => {
  it('parse what they render, in every format', () => {
    fc.assert(fc.property(calendarSecond, fc.integer({ min: 0, max: 6 }), format, (seconds, weekdayOffset, f) => {
      const parsed = parseTime(renderTime(seconds, weekdayOffset, f), f);
      expect(parsed).toEqual({ seconds, weekdayOffset, valid: true });
    }));
  });

  it('decode every valid hours byte to the hour that renders it', () => {
    for (const f of formats) {
      for (let hour = 0; hour < 24; hour++) expect(decodeHour(encodeHour(hour, f), f)).toEqual({ hour, valid: true });
    }
    expect(decodeHour(0x00, formats[2] ?? formats[0] ?? { binary: false, hour24: false }).valid).toBe(false); // 12-hour mode has no hour 0
  });
});

describe('alarm search', () => {
  /** The first second after `seconds`, within a day, whose rendered bytes match: counted one by one. */
  function bruteForce(seconds: number, alarm: { seconds: number; minutes: number; hours: number }, f: TimeFormat): number {
    const match = (a: number, v: number) => (a & ALARM_DONT_CARE) === ALARM_DONT_CARE || a === v;
    const enc = (v: number) => (f.binary ? v : ((v / 10) << 4) | (v % 10));
    const timeOfDay = ((seconds % 86_400) + 86_400) % 86_400;
    for (let d = 1; d <= 86_400; d++) {
      const t = (timeOfDay + d) % 86_400;
      if (match(alarm.seconds, enc(t % 60)) && match(alarm.minutes, enc(Math.floor(t / 60) % 60)) && match(alarm.hours, encodeHour(Math.floor(t / 3600), f))) return d;
    }
    return Number.POSITIVE_INFINITY;
  }

  it('finds the same next match as counting second by second, don\'t-care bytes and bytes out of range included', () => {
    const byte = (count: number, f: TimeFormat) => fc.oneof(
      fc.integer({ min: 0, max: count - 1 }).map((v) => (f.binary ? v : ((v / 10) << 4) | (v % 10))),
      fc.integer({ min: ALARM_DONT_CARE, max: 0xff }),
      fc.nat({ max: 0xff }),
    );
    const hours = (f: TimeFormat) => fc.oneof(fc.integer({ min: 0, max: 23 }).map((h) => encodeHour(h, f)), fc.integer({ min: ALARM_DONT_CARE, max: 0xff }), fc.nat({ max: 0xff }));
    const alarmCase = format.chain((f) => fc.record({ f: fc.constant(f), seconds: byte(60, f), minutes: byte(60, f), hours: hours(f) }));
    fc.assert(fc.property(calendarSecond, alarmCase, (seconds, { f, ...alarm }) => {
      expect(secondsToAlarm(seconds, alarm, f)).toBe(bruteForce(seconds, alarm, f));
    }), { numRuns: 200 });
  });
});

describe('the divider chain', () => {
  it('counts updates and taps in half-open intervals and finds the next of each', () => {
    fc.assert(fc.property(
      fc.integer({ min: -2e9, max: 2e9 }), fc.nat({ max: 5e9 }), fc.nat({ max: 3e9 }), fc.integer({ min: 0, max: 14 }),
      (origin, from, span, shift) => {
        const start = origin + from;
        const clocks = 1 << shift;
        const nextU = nextUpdate(origin, start);
        expect(updatesBetween(origin, start, nextU - 1)).toBe(0);
        expect(updatesBetween(origin, start, nextU)).toBe(1);
        const nextT = nextTapEdge(origin, clocks, start);
        expect(tapEdgesBetween(origin, clocks, start, nextT - 1)).toBe(0);
        expect(tapEdgesBetween(origin, clocks, start, nextT)).toBe(1);
        expect(updatesBetween(origin, start, start + span)).toBe(tapEdgesBetween(origin, 32_768, start, start + span));
      },
    ));
  });

  it('holds UIP for the last 8 clocks of each second only', () => {
    expect(updateInProgress(0, 1e9 - 244_141)).toBe(false);
    expect(updateInProgress(0, 1e9 - 244_140)).toBe(true);
    expect(updateInProgress(0, 1e9)).toBe(false);
    expect(updateInProgress(500, 2e9 + 499)).toBe(true);
  });
});
