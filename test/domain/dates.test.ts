import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  daysBetween,
  IsoDateSchema,
  IsoDateTimeSchema,
  IsoInstantSchema,
  isCalendarDate,
  nightsInclusive,
  parseIsoDateTime,
} from '../../lambdas/domain/dates';

describe('isCalendarDate', () => {
  it.each(['2026-01-31', '2024-02-29', '2000-02-29', '2026-12-31', '0001-01-01'])('accepts %s', (text) => {
    expect(isCalendarDate(text)).toBe(true);
  });

  it.each([
    '2026-02-29', // not a leap year
    '1900-02-29', // divisible by 100, not by 400
    '2026-02-30',
    '2026-04-31',
    '2026-13-01',
    '2026-00-10',
    '2026-01-00',
    '2026-1-05',
    '20260105',
    '2026-01-05T00:00:00Z',
    ' 2026-01-05',
  ])('refuses %j', (text) => {
    expect(isCalendarDate(text)).toBe(false);
  });
});

describe('parseIsoDateTime', () => {
  it.each([
    ['2024-01-15T10:30:00Z', '2024-01-15T10:30:00.000Z'],
    ['2024-01-15T10:30:00.5Z', '2024-01-15T10:30:00.500Z'],
    ['2024-01-15T10:30:00.123456789Z', '2024-01-15T10:30:00.123Z'],
    ['2024-01-15T12:30:00+02:00', '2024-01-15T10:30:00.000Z'],
    ['2024-01-15T05:00:00-05:30', '2024-01-15T10:30:00.000Z'],
    ['2024-01-01T00:30:00+01:00', '2023-12-31T23:30:00.000Z'],
    ['2024-02-29t10:30:00z', '2024-02-29T10:30:00.000Z'],
  ])('reads %s as %s', (text, iso) => {
    expect(parseIsoDateTime(text)?.toISOString()).toBe(iso);
  });

  it.each([
    '2024-01-15T10:30:00', // no zone: would depend on the reader's locale
    '2024-01-15 10:30:00Z',
    '2024-01-15',
    '2023-02-29T10:30:00Z',
    '2024-01-15T24:00:00Z',
    '2024-01-15T10:60:00Z',
    '2024-01-15T10:30:60Z',
    '2024-01-15T10:30:00+0200',
    '2024-01-15T10:30:00+24:00',
    '1705314600',
  ])('refuses %j', (text) => {
    expect(parseIsoDateTime(text)).toBeUndefined();
  });

  it('keeps years before 100 as written', () => {
    expect(parseIsoDateTime('0050-06-01T00:00:00Z')?.getUTCFullYear()).toBe(50);
  });
});

describe('date arithmetic', () => {
  it('counts days and inclusive nights across month, year and leap-day boundaries', () => {
    expect(daysBetween('2026-03-01', '2026-03-01')).toBe(0);
    expect(daysBetween('2028-02-28', '2028-03-01')).toBe(2);
    expect(daysBetween('2026-12-31', '2027-01-01')).toBe(1);
    expect(daysBetween('2026-03-02', '2026-03-01')).toBe(-1);
    expect(nightsInclusive('2026-03-01', '2026-03-01')).toBe(1);
    expect(nightsInclusive('2027-01-01', '2028-12-31')).toBe(731);
    // Daylight-saving changes must not shift the count: stay dates have no time zone.
    expect(daysBetween('2026-03-28', '2026-03-30')).toBe(2);
  });

  it('adds days, landing on real dates', () => {
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2026-02-28', 1)).toBe('2026-03-01');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('0001-01-01', 0)).toBe('0001-01-01');
  });
});

describe('zod schemas', () => {
  it('validate dates and date-times and report a readable message', () => {
    expect(IsoDateSchema.safeParse('2026-02-28').success).toBe(true);
    expect(IsoDateSchema.safeParse('2026-02-30').error?.issues[0]?.message).toMatch(/calendar date/);
    expect(IsoDateTimeSchema.safeParse('2026-02-28T00:00:00Z').success).toBe(true);
    expect(IsoDateTimeSchema.safeParse('2026-02-28T00:00:00').error?.issues[0]?.message).toMatch(/offset/);
  });

  it('parses an instant to a Date in the same pass', () => {
    expect(IsoInstantSchema.parse('2026-02-28T01:00:00+01:00')).toEqual(new Date('2026-02-28T00:00:00Z'));
    expect(IsoInstantSchema.safeParse(42).success).toBe(false);
    expect(IsoInstantSchema.safeParse('yesterday').success).toBe(false);
  });
});

describe('arithmetic on input that is not a calendar date', () => {
  it('yields NaN, so that a range check on it neither passes nor throws', () => {
    expect(daysBetween('2026-02-30', '2026-03-01')).toBeNaN();
    expect(nightsInclusive('2026-03-01', 'soon')).toBeNaN();
    expect(() => addDays('2026-02-30', 1)).toThrow(RangeError);
  });
});

describe('agreement with the platform on well-formed input', () => {
  const pad = (value: number, width: number) => String(value).padStart(width, '0');

  it('parses every zoned date-time to the instant Date.parse gives', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('1001-01-01T00:00:00Z'),
          max: new Date('9998-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
        (at, offsetMinutes) => {
          const local = new Date(at.getTime() + offsetMinutes * 60_000).toISOString().slice(0, 23);
          const sign = offsetMinutes < 0 ? '-' : '+';
          const magnitude = Math.abs(offsetMinutes);
          const text = `${local}${sign}${pad(Math.floor(magnitude / 60), 2)}:${pad(magnitude % 60, 2)}`;
          expect(parseIsoDateTime(text)?.getTime()).toBe(Date.parse(text));
          expect(parseIsoDateTime(text)?.getTime()).toBe(at.getTime());
        },
      ),
    );
  });

  it('accepts exactly the dates that survive a round trip through the calendar', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9999 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        (y, m, d) => {
          const text = `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
          const roundTrip = new Date(`${text}T00:00:00Z`);
          const real = !Number.isNaN(roundTrip.getTime()) && roundTrip.toISOString().slice(0, 10) === text;
          expect(isCalendarDate(text)).toBe(real);
        },
      ),
    );
  });

  it('counts days between any two dates as the platform does', () => {
    const date = fc
      .date({
        min: new Date('1000-01-01T00:00:00Z'),
        max: new Date('9999-12-31T00:00:00Z'),
        noInvalidDate: true,
      })
      .map((at) => at.toISOString().slice(0, 10));
    fc.assert(
      fc.property(date, date, (from, to) => {
        expect(daysBetween(from, to)).toBe((Date.parse(to) - Date.parse(from)) / 86_400_000);
        expect(addDays(from, daysBetween(from, to))).toBe(to);
      }),
    );
  });
});
