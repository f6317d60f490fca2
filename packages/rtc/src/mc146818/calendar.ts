/**
 * The clock's calendar as one number — seconds since 1970-01-01 00:00:00 on
 * the proleptic Gregorian calendar — and its rendering into, and parsing
 * from, the MC146818A's time and calendar bytes (datasheet table 2, "Time,
 * Calendar and Alarm Data Modes"): BCD or binary (register B DM), 12- or
 * 24-hour (register B 24/12; in 12-hour mode bit 7 of the hours is PM).
 *
 * With a century byte the calendar spans years 0000–9999 and wraps. Leap
 * years follow the Gregorian rule (as QEMU's, via mktime); the chip itself
 * only knows "divisible by 4", which agrees from 1901 to 2099.
 */
import { ALARM_DONT_CARE, HOUR_PM } from './registers.ts';

export const SECONDS_PER_DAY = 86_400;

/** A UTC date and time broken into fields: month 1–12, day 1–31, hour 0–23. */
export interface RtcDateTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/** How the time bytes are encoded (register B DM and 24/12). */
export interface TimeFormat {
  readonly binary: boolean;
  readonly hour24: boolean;
}

/**
 * Days from 1970-01-01 to `year`-`month`-`day`. Counting years from March
 * puts the leap day at the end of the year, so a month's first day is a
 * linear function of its number; 400-year eras of 146 097 days repeat.
 */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const monthFromMarch = (month + 9) % 12;
  const dayOfYear = Math.floor((153 * monthFromMarch + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  // 719 468 days from 0000-03-01 to 1970-01-01.
  return era * 146_097 + dayOfEra - 719_468;
}

/** The date `days` after 1970-01-01: the inverse of daysFromCivil. */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const shifted = days + 719_468;
  const era = Math.floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** Day of the week of `days` after 1970-01-01, 0 = Sunday (1970-01-01 was a Thursday). */
export function weekdayOfDays(days: number): number {
  return (((days + 4) % 7) + 7) % 7;
}

/** 0000-01-01 00:00:00, the calendar's first second. */
export const CALENDAR_FIRST: number = daysFromCivil(0, 1, 1) * SECONDS_PER_DAY;
/** Ten thousand Gregorian years: 25 eras of 146 097 days. */
export const CALENDAR_SPAN: number = 25 * 146_097 * SECONDS_PER_DAY;

/** Folds any second into 0000-01-01 .. 9999-12-31 23:59:59, as the year and century bytes wrap. */
export function wrapCalendar(seconds: number): number {
  const offset = (seconds - CALENDAR_FIRST) % CALENDAR_SPAN;
  return CALENDAR_FIRST + (offset < 0 ? offset + CALENDAR_SPAN : offset);
}

/** Seconds since 1970 of a broken-down time; fields out of range carry (month 13 is January of the next year). */
export function secondsFromFields(t: RtcDateTime): number {
  const months = t.month - 1;
  const year = t.year + Math.floor(months / 12);
  const month = months - Math.floor(months / 12) * 12 + 1;
  const days = daysFromCivil(year, month, 1) + t.day - 1;
  return days * SECONDS_PER_DAY + t.hour * 3600 + t.minute * 60 + t.second;
}

export function fieldsFromSeconds(seconds: number): RtcDateTime & { weekday: number } {
  const days = Math.floor(seconds / SECONDS_PER_DAY);
  const timeOfDay = seconds - days * SECONDS_PER_DAY;
  const date = civilFromDays(days);
  return {
    ...date,
    hour: Math.floor(timeOfDay / 3600),
    minute: Math.floor((timeOfDay % 3600) / 60),
    second: timeOfDay % 60,
    weekday: weekdayOfDays(days),
  };
}

// --- bytes --------------------------------------------------------------------

/** A value 0–99 as the chip stores it. */
export function encodeValue(value: number, binary: boolean): number {
  return binary ? value : (Math.floor(value / 10) << 4) | (value % 10);
}

/** A byte read as a number; an invalid BCD digit counts for its face value (0x5A reads as 60), as QEMU's from_bcd does. */
export function decodeValue(byte: number, binary: boolean): number {
  return binary ? byte : (byte >> 4) * 10 + (byte & 0x0f);
}

export function isValidBcd(byte: number): boolean {
  return (byte & 0x0f) <= 9 && byte >> 4 <= 9;
}

export function encodeHour(hour24: number, format: TimeFormat): number {
  if (format.hour24) return encodeValue(hour24, format.binary);
  const hour12 = hour24 % 12 === 0 ? 12 : hour24 % 12;
  return encodeValue(hour12, format.binary) | (hour24 >= 12 ? HOUR_PM : 0);
}

/** The hour 0–23 an hours byte stands for, and whether it was a valid byte for the format. */
export function decodeHour(byte: number, format: TimeFormat): { hour: number; valid: boolean } {
  if (format.hour24) {
    const hour = decodeValue(byte, format.binary);
    return { hour, valid: hour <= 23 && (format.binary || isValidBcd(byte)) };
  }
  const face = byte & ~HOUR_PM;
  const hour12 = decodeValue(face, format.binary);
  return { hour: (hour12 % 12) + ((byte & HOUR_PM) !== 0 ? 12 : 0), valid: hour12 >= 1 && hour12 <= 12 && (format.binary || isValidBcd(face)) };
}

/** The time, calendar and century bytes of a clock. */
export interface TimeBytes {
  readonly seconds: number;
  readonly minutes: number;
  readonly hours: number;
  readonly dayOfWeek: number;
  readonly dateOfMonth: number;
  readonly month: number;
  readonly year: number;
  readonly century: number;
}

/** Renders `seconds` (already wrapped) with the day of week running `weekdayOffset` days ahead of the date's own. */
export function renderTime(seconds: number, weekdayOffset: number, format: TimeFormat): TimeBytes {
  const f = fieldsFromSeconds(seconds);
  const enc = (v: number) => encodeValue(v, format.binary);
  return {
    seconds: enc(f.second),
    minutes: enc(f.minute),
    hours: encodeHour(f.hour, format),
    dayOfWeek: enc(((f.weekday + weekdayOffset) % 7) + 1),
    dateOfMonth: enc(f.day),
    month: enc(f.month),
    year: enc(f.year % 100),
    century: enc(Math.floor(f.year / 100)),
  };
}

/**
 * The clock the bytes describe. Values out of range carry into the next
 * field (seconds 75 is a minute and 15 seconds; day 31 of a 30-day month is
 * the 1st of the next), as QEMU's mktime does when the clock restarts;
 * `valid` says whether every byte was in range. The day of the week is the
 * chip's own counter: kept as its offset from the weekday of the date.
 */
export function parseTime(bytes: TimeBytes, format: TimeFormat): { seconds: number; weekdayOffset: number; valid: boolean } {
  const dec = (b: number) => decodeValue(b, format.binary);
  const inRange = (b: number, low: number, high: number) => {
    const v = dec(b);
    return v >= low && v <= high && (format.binary || isValidBcd(b));
  };
  const hour = decodeHour(bytes.hours, format);
  const seconds = wrapCalendar(secondsFromFields({
    year: dec(bytes.century) * 100 + dec(bytes.year),
    month: dec(bytes.month),
    day: dec(bytes.dateOfMonth),
    hour: hour.hour,
    minute: dec(bytes.minutes),
    second: dec(bytes.seconds),
  }));
  const weekday = dec(bytes.dayOfWeek);
  const date = Math.floor(seconds / SECONDS_PER_DAY);
  const weekdayOffset = ((((weekday - 1 - weekdayOfDays(date)) % 7) + 7) % 7);
  const valid = hour.valid && inRange(bytes.seconds, 0, 59) && inRange(bytes.minutes, 0, 59) && inRange(bytes.dayOfWeek, 1, 7)
    && inRange(bytes.month, 1, 12) && inRange(bytes.year, 0, 99) && inRange(bytes.century, 0, 99)
    && inRange(bytes.dateOfMonth, 1, 31) && dec(bytes.dateOfMonth) === fieldsFromSeconds(seconds).day;
  return { seconds, weekdayOffset, valid };
}

// --- alarm --------------------------------------------------------------------

/** The alarm bytes (seconds, minutes, hours alarm), each either a value to match or don't-care (C0h–FFh). */
export interface AlarmBytes {
  readonly seconds: number;
  readonly minutes: number;
  readonly hours: number;
}

/** The values 0 … count − 1 an alarm byte matches: all (don't-care), one, or none. */
type FieldMatch = 'any' | number | undefined;

function fieldMatch(byte: number, count: number, render: (value: number) => number, candidate: number): FieldMatch {
  if ((byte & ALARM_DONT_CARE) === ALARM_DONT_CARE) return 'any';
  // Rendering is one-to-one, so the only value that can match is the one the byte decodes to.
  return candidate >= 0 && candidate < count && render(candidate) === byte ? candidate : undefined;
}

/** The first matching value ≥ from, or −1. */
function firstFrom(match: 'any' | number, from: number, count: number): number {
  if (match === 'any') return from < count ? from : -1;
  return match >= from ? match : -1;
}

/**
 * How many seconds after `seconds` the clock next shows a time whose
 * seconds, minutes and hours bytes match the alarm (1 to 86 400), or
 * Infinity if no time of day ever does (a byte out of range). The chip
 * compares bytes, so the alarm is in the clock's own format.
 */
export function secondsToAlarm(seconds: number, alarm: AlarmBytes, format: TimeFormat): number {
  const hours = fieldMatch(alarm.hours, 24, (h) => encodeHour(h, format), decodeHour(alarm.hours, format).hour);
  const minutes = fieldMatch(alarm.minutes, 60, (m) => encodeValue(m, format.binary), decodeValue(alarm.minutes, format.binary));
  const secs = fieldMatch(alarm.seconds, 60, (s) => encodeValue(s, format.binary), decodeValue(alarm.seconds, format.binary));
  if (hours === undefined || minutes === undefined || secs === undefined) return Number.POSITIVE_INFINITY;
  const now = seconds - Math.floor(seconds / SECONDS_PER_DAY) * SECONDS_PER_DAY;
  const [hour, minute, second] = [Math.floor(now / 3600), Math.floor((now % 3600) / 60), now % 60];
  // The first matching time of day after now, today; else the first of tomorrow.
  for (let h = firstFrom(hours, hour, 24); h !== -1; h = firstFrom(hours, h + 1, 24)) {
    for (let m = firstFrom(minutes, h === hour ? minute : 0, 60); m !== -1; m = firstFrom(minutes, m + 1, 60)) {
      const s = firstFrom(secs, h === hour && m === minute ? second + 1 : 0, 60);
      if (s !== -1) return h * 3600 + m * 60 + s - now;
    }
  }
  return SECONDS_PER_DAY + firstFrom(hours, 0, 24) * 3600 + firstFrom(minutes, 0, 60) * 60 + firstFrom(secs, 0, 60) - now;
}
