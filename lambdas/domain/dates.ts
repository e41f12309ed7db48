import * as z from 'zod/mini';
import { COLON, DIGIT_0, DOT, HYPHEN_MINUS, PLUS } from './ascii';
import type { IsoDate } from './canonical';

/**
 * Calendar-date and timestamp helpers shared by every adapter. Stay dates are plain calendar days (no time
 * zone); send times must carry an explicit zone so that "when did it happen" never depends on our clock's
 * locale. Parsing is hand-rolled rather than `new Date(text)` because the built-in parser silently rolls
 * 2026-02-30 over to March and accepts zone-less strings as local time.
 */

const DAY_MS = 86_400_000;

// Character-code parsing rather than a capturing regex: these run several times per delivery.

/** The non-negative integer written in `count` ASCII digits at `start`, or -1 if any is not a digit. */
function digitsAt(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const digit = text.charCodeAt(i) - DIGIT_0;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** Days since 1970-01-01 for `YYYY-MM-DD` at `start` of `text`, or undefined if it is not a real date. */
function dayNumberAt(text: string, start: number): number | undefined {
  if (text.charCodeAt(start + 4) !== HYPHEN_MINUS || text.charCodeAt(start + 7) !== HYPHEN_MINUS)
    return undefined;
  const year = digitsAt(text, start, 4);
  const month = digitsAt(text, start + 5, 2);
  const day = digitsAt(text, start + 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return daysFromCivil(year, month, day);
}

/** True for `YYYY-MM-DD` naming a day that exists (2026-02-29 and 2026-04-31 do not). */
export function isCalendarDate(text: string): boolean {
  return text.length === 10 && dayNumberAt(text, 0) !== undefined;
}

/**
 * Parses an RFC 3339 / ISO-8601 date-time with a `Z` or `±hh:mm` offset. Returns undefined for anything
 * else, including zone-less times and impossible dates or times. Fractions beyond milliseconds are truncated.
 */
export function parseIsoDateTime(text: string): Date | undefined {
  const length = text.length;
  if (length < 20) return undefined;
  const days = dayNumberAt(text, 0);
  const separator = text.charCodeAt(10);
  if (days === undefined || (separator !== 0x54 && separator !== 0x74)) return undefined; // T or t
  if (text.charCodeAt(13) !== COLON || text.charCodeAt(16) !== COLON) return undefined;
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;

  let index = 19;
  let millis = 0;
  if (text.charCodeAt(index) === DOT) {
    const fractionStart = ++index;
    while (index < length && index - fractionStart < 10) {
      const digit = text.charCodeAt(index) - DIGIT_0;
      if (digit < 0 || digit > 9) break;
      if (index - fractionStart < 3) millis += digit * 10 ** (2 - (index - fractionStart));
      index++;
    }
    const fractionDigits = index - fractionStart;
    if (fractionDigits < 1 || fractionDigits > 9) return undefined;
  }

  let offsetMinutes = 0;
  const zone = text.charCodeAt(index);
  if (zone === 0x5a || zone === 0x7a) {
    // Z or z
    if (index + 1 !== length) return undefined;
  } else if (zone === PLUS || zone === HYPHEN_MINUS) {
    if (index + 6 !== length || text.charCodeAt(index + 3) !== COLON) return undefined;
    const offsetHours = digitsAt(text, index + 1, 2);
    const offsetMins = digitsAt(text, index + 4, 2);
    if (offsetHours < 0 || offsetHours > 23 || offsetMins < 0 || offsetMins > 59) return undefined;
    offsetMinutes = (offsetHours * 60 + offsetMins) * (zone === HYPHEN_MINUS ? -1 : 1);
  } else {
    return undefined;
  }
  const seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offsetMinutes * 60;
  return new Date(seconds * 1000 + millis);
}

export function isIsoDateTime(text: string): boolean {
  return parseIsoDateTime(text) !== undefined;
}

/** NaN for anything but a calendar date, so that comparisons on it are false rather than throwing. */
function dayNumber(date: IsoDate): number {
  return date.length === 10 ? (dayNumberAt(date, 0) ?? Number.NaN) : Number.NaN;
}

/**
 * `to - from` in days: 0 for the same date, negative when `to` is earlier; NaN when either is not a calendar
 * date (zod runs object-level refinements even after a field failed, so callers may see unvalidated input).
 */
export function daysBetween(from: IsoDate, to: IsoDate): number {
  return dayNumber(to) - dayNumber(from);
}

/** How many stay dates an inclusive range covers: 1 when `from` equals `to`, 0 or less when inverted. */
export function nightsInclusive(from: IsoDate, to: IsoDate): number {
  return daysBetween(from, to) + 1;
}

/** The calendar date `days` after (or before, when negative) `date`, which must be a calendar date. */
export function addDays(date: IsoDate, days: number): IsoDate {
  const start = dayNumber(date);
  if (Number.isNaN(start))
    throw new RangeError(`expected a calendar date YYYY-MM-DD, received ${JSON.stringify(date)}`);
  const at = new Date((start + days) * DAY_MS);
  const year = at.getUTCFullYear();
  const yearText = year < 0 ? `-${String(-year).padStart(6, '0')}` : String(year).padStart(4, '0');
  const month = String(at.getUTCMonth() + 1).padStart(2, '0');
  const day = String(at.getUTCDate()).padStart(2, '0');
  return `${yearText}-${month}-${day}`;
}

export const IsoDateSchema = z
  .string()
  .check(z.refine(isCalendarDate, { message: 'must be a calendar date YYYY-MM-DD' }));

const ISO_DATE_TIME_MESSAGE =
  'must be an ISO-8601 date-time with a Z or ±hh:mm offset, e.g. 2026-03-01T12:00:00Z';

export const IsoDateTimeSchema = z
  .string()
  .check(z.refine(isIsoDateTime, { message: ISO_DATE_TIME_MESSAGE }));

/** A string read by `parse` in the same pass as it is checked: text it answers undefined for is refused. */
export function parsedTextSchema<T>(parse: (text: string) => T | undefined, message: string) {
  return z.pipe(
    z.string(),
    z.transform((text: string, ctx): T => {
      const parsed = parse(text);
      if (parsed === undefined) {
        ctx.issues.push({ code: 'custom', message, input: text });
        return z.NEVER;
      }
      return parsed;
    }),
  );
}

/** An ISO-8601 date-time with a zone, parsed to a Date. */
export const IsoInstantSchema = parsedTextSchema(parseIsoDateTime, ISO_DATE_TIME_MESSAGE);
