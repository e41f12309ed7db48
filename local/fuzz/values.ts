import { type FuzzJson, RawJson } from './json';

/**
 * What a hostile sender writes into a field. Each pool starts with its mildest value, so that fast-check, which
 * shrinks an index towards 0, reports the least surprising value that still fails.
 */

const DAY_MS = 86_400_000;

/** The bounds the edge enforces relative to receipt, as configured for the source under test. */
export interface TimeBounds {
  /** How far after receipt a signed or payload time may lie. */
  readonly toleranceSeconds: number;
  /** How far before receipt a payload time may lie (the dedupe window). */
  readonly dedupeWindowSeconds: number;
}

export interface HostileValue {
  /** How the reports name it: short, printable, never the whole value. */
  readonly label: string;
  readonly value: FuzzJson;
}

function labelled(value: FuzzJson, label?: string): HostileValue {
  return { label: label ?? describeValue(value), value };
}

/** A short printable description of a value: its start, its length, and its unprintable characters escaped. */
export function describeValue(value: FuzzJson | undefined): string {
  if (value instanceof RawJson) {
    return value.text.length > 40 ? `${value.text.slice(0, 24)}… (${value.text.length} chars)` : value.text;
  }
  const text = JSON.stringify(value) ?? 'undefined';
  const escaped = text.replace(/[^\x20-\x7e]/gu, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`);
  return escaped.length > 48 ? `${escaped.slice(0, 32)}… (${text.length} chars)` : escaped;
}

const CJK = '漢';
const EMOJI = '😀';

/** Strings: encodings, control characters, lengths at and past the bounds (100 bytes of id, 1,000 of text). */
export const STRINGS: readonly HostileValue[] = [
  labelled(''),
  labelled(' '),
  labelled('\ud800', 'lone high surrogate'),
  labelled('\udfff', 'lone low surrogate'),
  labelled('id-\ud83d', 'id ending in a lone high surrogate'),
  labelled(EMOJI),
  labelled(EMOJI.repeat(25), '25 emoji (100 bytes)'),
  labelled(EMOJI.repeat(26), '26 emoji (104 bytes)'),
  labelled(CJK.repeat(33), '33 CJK (99 bytes)'),
  labelled(CJK.repeat(34), '34 CJK (102 bytes)'),
  labelled(CJK.repeat(201), '201 CJK'),
  labelled(CJK.repeat(1_001), '1,001 CJK'),
  labelled('\u00e9'.repeat(51), '51 é (102 bytes)'),
  labelled('\u0000', 'NUL'),
  labelled('a\u0000b', 'NUL inside'),
  labelled('\u001f'),
  labelled('\u007f', 'DEL'),
  labelled('\u0085', 'NEL'),
  labelled('tab\there'),
  labelled('line\nbreak'),
  labelled('\u2028', 'line separator'),
  labelled('\u202eevil', 'right-to-left override'),
  labelled('e\u0301', 'combining accent'),
  labelled('\ufeffBOM', 'BOM inside'),
  labelled('\uffff', 'noncharacter U+FFFF'),
  labelled('id-\ufffe', 'id holding noncharacter U+FFFE'),
  labelled('x'.repeat(100), '100 x'),
  labelled('x'.repeat(101), '101 x'),
  labelled('x'.repeat(200), '200 x'),
  labelled('x'.repeat(201), '201 x'),
  labelled('x'.repeat(512), '512 x'),
  labelled('x'.repeat(513), '513 x'),
  labelled('x'.repeat(1_001), '1,001 x'),
  labelled('x'.repeat(100_000), '100,000 x'),
  labelled('NaN'),
  labelled('Infinity'),
  labelled('-Infinity'),
  labelled('null'),
  labelled('undefined'),
  labelled('-0'),
  labelled('1e400'),
  labelled('0x10'),
  labelled('١٢٣', 'Arabic-Indic digits'),
  labelled(' 12.50 '),
  labelled('129.99000000000001'),
  labelled('9007199254740993'),
  labelled('%00%2F..%2F'),
  labelled('../../etc/passwd'),
  labelled('<script>alert(1)</script>'),
  labelled("'; DROP TABLE rooms; --"),
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text is the attack.
  labelled('${jndi:ldap://127.0.0.1/a}'),
  labelled('\\'),
  labelled('"'),
  labelled('#'),
  labelled('|'),
  labelled('%'),
];

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Calendar dates: the stay window's edges around `now`, the calendar's extremes, leap days, near misses. */
export function dates(now: Date): readonly HostileValue[] {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const day = (offset: number) => isoDay(today + offset * DAY_MS);
  const tenYearsAgo = `${now.getUTCFullYear() - 10}${isoDay(today).slice(4)}`;
  return [
    labelled(day(0), 'today'),
    labelled(day(1), 'tomorrow'),
    labelled(day(-366), '366 days ago (first accepted)'),
    labelled(day(-367), '367 days ago'),
    labelled(day(-368), '368 days ago'),
    labelled(day(1_096), '1,096 days ahead (last accepted)'),
    labelled(day(1_097), '1,097 days ahead'),
    labelled(day(1_098), '1,098 days ahead'),
    labelled(day(731), '731 days ahead'),
    labelled(tenYearsAgo, 'ten years ago'),
    labelled('9999-12-31'),
    labelled('0000-01-01'),
    labelled('0000-02-29', 'leap day of year 0'),
    labelled('2999-12-31'),
    labelled('1970-01-01'),
    labelled('1969-12-31'),
    labelled('2028-02-29', 'leap day'),
    labelled('2027-02-29', 'no such leap day'),
    labelled('2100-02-29', 'no leap day in 2100'),
    labelled('2000-02-29', 'leap day of 2000'),
    labelled('2026-13-01'),
    labelled('2026-00-10'),
    labelled('2026-04-31'),
    labelled('2026-1-1'),
    labelled('+002026-06-01'),
    labelled('-000001-01-01'),
    labelled('2026-06-01T00:00:00Z'),
    labelled('２０２６-06-01', 'full-width digits'),
    labelled('2026-06-01 '),
    labelled('20260601'),
  ];
}

/** Instants: around the tolerance and dedupe bounds, far past and future, and the formats next to the accepted one. */
export function instants(now: Date, bounds: TimeBounds): readonly HostileValue[] {
  const at = (offsetSeconds: number) => new Date(now.getTime() + offsetSeconds * 1000).toISOString();
  const tenYearsAgo = new Date(now);
  tenYearsAgo.setUTCFullYear(now.getUTCFullYear() - 10);
  return [
    labelled(at(0), 'now'),
    labelled(at(bounds.toleranceSeconds), 'tolerance ahead (last accepted)'),
    labelled(at(bounds.toleranceSeconds + 1), 'tolerance ahead + 1 s'),
    labelled(at(-bounds.dedupeWindowSeconds), 'dedupe window ago'),
    labelled(at(-bounds.dedupeWindowSeconds - 1), 'dedupe window ago - 1 s'),
    labelled(at(86_400), 'a day ahead'),
    labelled(at(86_401), 'a day and a second ahead'),
    labelled(at(-366 * 86_400), '366 days ago'),
    labelled(tenYearsAgo.toISOString(), 'ten years ago'),
    labelled('9999-12-31T23:59:59.999Z'),
    labelled('9999-12-31T23:59:59-23:59', 'year 9999 that is 10000 in UTC'),
    labelled('0000-01-01T00:00:00Z'),
    labelled('0000-01-01T00:00:00+23:59', 'year 0 that is -1 in UTC'),
    labelled('2999-01-01T00:00:00Z'),
    labelled('1970-01-01T00:00:00Z'),
    labelled('1969-12-31T23:59:59.999Z'),
    labelled('2026-06-30T23:59:60Z', 'leap second'),
    labelled('2028-02-29T12:00:00Z', 'leap day'),
    labelled(at(0).replace('Z', '+14:00'), 'now written at +14:00'),
    labelled(at(0).replace('.000Z', '.123456789Z'), 'nanoseconds'),
    labelled(at(0).replace('.000Z', '.1234567890Z'), 'ten fraction digits'),
    labelled(at(0).toLowerCase(), 'lower case'),
    labelled(at(0).slice(0, -1), 'no zone'),
    labelled(at(0).replace('T', ' '), 'space for T'),
    labelled(String(Math.floor(now.getTime() / 1000)), 'unix seconds as text'),
    labelled(Math.floor(now.getTime() / 1000), 'unix seconds as a number'),
    labelled(now.toUTCString(), 'RFC 1123'),
  ];
}

/** Numbers as literal JSON text: -0, past the double range, past 2^53, more digits than a double keeps. */
export const NUMBERS: readonly HostileValue[] = [
  '0',
  '-0',
  '1',
  '-1',
  '0.5',
  '129.99',
  '129.99000000000001',
  '129.989999999999999',
  '129.999',
  '12.345',
  '0.1',
  '0.000001',
  '1E2',
  '1e21',
  '1e400',
  '-1e400',
  '1e-400',
  '5e-324',
  '1.7976931348623157e308',
  '-0.0',
  '3660',
  '3661',
  '731',
  '732',
  '2147483648',
  '9007199254740991',
  '9007199254740992',
  '9007199254740993',
  '-9007199254740993',
  '100000000000000000000000000000000000000',
].map((text) => labelled(new RawJson(text), text));

/** Values of the wrong JSON type for almost any field. */
export const WRONG_TYPES: readonly HostileValue[] = [
  labelled(null),
  labelled(true),
  labelled(false),
  labelled([]),
  labelled({}),
  labelled([null]),
  labelled([[]]),
  labelled({ '': null }),
  labelled(['a', 'b']),
  labelled({ id: 'x' }),
  labelled({ amount: '1.00', currency: 'EUR' }),
];

/** Nesting depths up to ten thousand, as arrays and as objects. */
export const NESTING: readonly HostileValue[] = [2, 64, 1_000, 5_000, 10_000].flatMap((depth) => [
  labelled(new RawJson(`${'['.repeat(depth)}${']'.repeat(depth)}`), `${depth} nested arrays`),
  labelled(new RawJson(`${'{"a":'.repeat(depth)}null${'}'.repeat(depth)}`), `${depth} nested objects`),
]);

/** Keys a hostile sender adds to an object. */
export const KEYS: readonly string[] = [
  'extra',
  '',
  ' ',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '\ud800',
  EMOJI,
  CJK.repeat(201),
  'x'.repeat(10_000),
  '\u0000',
  'Type',
  'EVENT',
];

export const POOL_NAMES = ['string', 'date', 'instant', 'number', 'wrongType', 'nesting'] as const;
export type PoolName = (typeof POOL_NAMES)[number];

/** Every pool, for one `now`. */
export function valuePools(
  now: Date,
  bounds: TimeBounds,
): Readonly<Record<PoolName, readonly HostileValue[]>> {
  return {
    string: STRINGS,
    date: dates(now),
    instant: instants(now, bounds),
    number: NUMBERS,
    wrongType: WRONG_TYPES,
    nesting: NESTING,
  };
}

/** The pool a value most resembles, so that a mutation mostly tries what the field is meant to hold. */
export function poolFor(value: FuzzJson | undefined): PoolName {
  if (typeof value === 'number' || value instanceof RawJson) return 'number';
  if (typeof value === 'string') {
    if (/^\d{4}-\d{2}-\d{2}T/.test(value)) return 'instant';
    if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return 'date';
    return 'string';
  }
  return 'wrongType';
}
