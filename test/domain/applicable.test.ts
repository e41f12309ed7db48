import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ApplicabilityLimits,
  checkApplicable,
  ID_MAX_BYTES,
  idProblem,
  stayWindow,
  toApplicableText,
  WIDEST_LIMITS,
} from '../../lambdas/domain/applicable';
import type { AriUpdate, CanonicalEvent, ReservationChange } from '../../lambdas/domain/canonical';
import { ariUpdate, reservationChange } from '../support/events';

const EDGE_LIMITS: ApplicabilityLimits = { toleranceSeconds: 300, dedupeWindowSeconds: 30 * 86_400 };

/** Received five seconds into the day: the bounds below are counted from this instant. */
const RECEIVED_AT = '2026-06-01T00:00:05.000Z';

/** Unknown data fields are allowed in, to show that they are dropped. */
function ariEvent(
  data: Partial<AriUpdate> & Record<string, unknown> = {},
  envelope: Record<string, unknown> = {},
): unknown {
  return { ...ariUpdate({ receivedAt: RECEIVED_AT, data }), ...envelope };
}

function problemPaths(candidate: unknown, limits = EDGE_LIMITS): string[] {
  const result = checkApplicable(candidate, limits);
  return result.ok ? [] : [...new Set(result.problems.map((problem) => problem.path))];
}

describe('applicability contract: ids', () => {
  it('accepts an id of exactly the byte limit in any script, and refuses one byte more', () => {
    expect(idProblem('a'.repeat(ID_MAX_BYTES))).toBeUndefined();
    expect(idProblem('中'.repeat(33))).toBeUndefined(); // 99 bytes
    expect(idProblem('中'.repeat(34))).toMatch(/at most 100 bytes of UTF-8; received 102/);
    expect(idProblem('a'.repeat(ID_MAX_BYTES + 1))).toMatch(/received 101/);
    expect(idProblem('😀'.repeat(25))).toBeUndefined(); // 100 bytes, 50 UTF-16 units
    expect(idProblem('😀'.repeat(26))).toMatch(/received 104/);
  });

  it('refuses lone surrogates and control characters, and accepts paired surrogates', () => {
    expect(idProblem('X\ud800Y')).toMatch(/lone UTF-16 surrogate/);
    expect(idProblem('\udc00')).toMatch(/lone UTF-16 surrogate/);
    expect(idProblem('line\nbreak')).toMatch(/control characters/);
    expect(idProblem('nul\u0000')).toMatch(/control characters/);
    expect(idProblem('c1\u0085')).toMatch(/control characters/);
    expect(idProblem('Hôtel-Zürich-😀')).toBeUndefined();
    expect(idProblem('')).toMatch(/empty/);
  });

  it('names every id field of a canonical event that breaks the rule', () => {
    expect(
      problemPaths(
        ariEvent({ channelId: 'X\ud800Y', roomTypeExternalId: '中'.repeat(200), propertyExternalId: 'ok' }),
      ),
    ).toEqual(['data.channelId', 'data.roomTypeExternalId']);
  });

  it('agrees with UTF-8 byte length for any string', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 60 }),
          fc.string({ unit: 'grapheme', maxLength: 60 }),
        ),
        (text) => {
          const problem = idProblem(text);
          const wellFormed = Buffer.from(text, 'utf8').toString('utf8') === text;
          const control = [...text].some((c) => {
            const code = c.codePointAt(0) as number;
            return code < 0x20 || (code >= 0x7f && code <= 0x9f);
          });
          const clean = text.length > 0 && wellFormed && !control;
          const fits = Buffer.byteLength(text, 'utf8') <= ID_MAX_BYTES;
          expect(problem === undefined).toBe(clean && fits);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('applicability contract: stay dates', () => {
  it('accepts dates from one year before to three years after the day received', () => {
    const window = stayWindow('2026-06-01T00:00:05.000Z');
    expect(window).toEqual({ first: '2025-05-31', last: '2029-06-01' });
    expect(problemPaths(ariEvent({ dateFrom: window.first, dateTo: window.first }))).toEqual([]);
    expect(problemPaths(ariEvent({ dateFrom: window.last, dateTo: window.last }))).toEqual([]);
  });

  it.each([
    ['the year 9999', '9999-12-31', '9999-12-31', ['data.dateFrom', 'data.dateTo']],
    ['the year 0000', '0000-01-01', '0000-01-01', ['data.dateFrom', 'data.dateTo']],
    ['ten years ago', '2016-07-01', '2016-07-01', ['data.dateFrom', 'data.dateTo']],
    ['one day past the window', '2029-06-02', '2029-06-02', ['data.dateFrom', 'data.dateTo']],
    ['a range ending past the window', '2029-05-01', '2029-06-05', ['data.dateTo']],
  ])('refuses stay dates in %s', (_name, dateFrom, dateTo, paths) => {
    expect(problemPaths(ariEvent({ dateFrom, dateTo }))).toEqual(paths);
  });

  it('refuses reservation dates outside the window and a departure not after arrival', () => {
    const reservation = (data: Partial<ReservationChange>) =>
      reservationChange({ receivedAt: RECEIVED_AT, data: { reservationExternalId: 'R1', ...data } });
    expect(problemPaths(reservation({ arrivalDate: '2026-06-10', departureDate: '2026-06-12' }))).toEqual([]);
    expect(problemPaths(reservation({ arrivalDate: '9999-12-30', departureDate: '9999-12-31' }))).toEqual([
      'data.arrivalDate',
      'data.departureDate',
    ]);
    expect(problemPaths(reservation({ arrivalDate: '2026-06-12', departureDate: '2026-06-12' }))).toEqual([
      'data.departureDate',
    ]);
  });

  it('gives apply a day of slack beyond the edge window', () => {
    const event = ariEvent({ dateFrom: '2029-06-02', dateTo: '2029-06-02' });
    expect(problemPaths(event)).not.toEqual([]);
    expect(problemPaths(event, WIDEST_LIMITS)).toEqual([]);
  });
});

describe('applicability contract: occurredAt', () => {
  it('refuses a time after receipt beyond the tolerance, which would outrank every later update', () => {
    expect(problemPaths(ariEvent({}, { occurredAt: '2999-01-01T00:00:00.000Z' }))).toEqual(['occurredAt']);
    expect(problemPaths(ariEvent({}, { occurredAt: '2026-06-01T00:05:05.000Z' }))).toEqual([]);
    expect(problemPaths(ariEvent({}, { occurredAt: '2026-06-01T00:05:06.000Z' }))).toEqual(['occurredAt']);
  });

  it('refuses a time before the dedupe window', () => {
    expect(problemPaths(ariEvent({}, { occurredAt: '1970-01-01T00:00:00.000Z' }))).toEqual(['occurredAt']);
    expect(problemPaths(ariEvent({}, { occurredAt: '2026-05-02T00:00:05.000Z' }))).toEqual([]);
    expect(problemPaths(ariEvent({}, { occurredAt: '2026-05-02T00:00:04.000Z' }))).toEqual(['occurredAt']);
  });

  it('refuses an instant not in the fixed-width form versions compare by', () => {
    expect(problemPaths(ariEvent({}, { occurredAt: '2026-06-01T00:00:00Z' }))).toEqual(['occurredAt']);
  });
});

describe('applicability contract: values', () => {
  it('requires a room type on a rate update, since room nights are stored per room type', () => {
    const event = ariEvent() as { data: Record<string, unknown> };
    delete event.data.roomTypeExternalId;
    expect(problemPaths(event)).toEqual(['data.roomTypeExternalId']);
  });

  it('requires exact money: a safe integer of minor units in an ISO 4217 code', () => {
    expect(problemPaths(ariEvent({ rate: { amountMinor: 129.99, currency: 'EUR' } }))).toEqual([
      'data.rate.amountMinor',
    ]);
    expect(problemPaths(ariEvent({ rate: { amountMinor: 2 ** 53, currency: 'EUR' } }))).toEqual([
      'data.rate.amountMinor',
    ]);
    expect(problemPaths(ariEvent({ rate: { amountMinor: 0, currency: 'EUR' } }))).toEqual([
      'data.rate.amountMinor',
    ]);
    expect(problemPaths(ariEvent({ rate: { amountMinor: 100, currency: 'eur' } }))).toEqual([
      'data.rate.currency',
    ]);
  });

  it('requires at least one field group, an ordered range of at most 731 nights and sane stay limits', () => {
    expect(problemPaths(ariEvent({ rate: undefined }))).toEqual(['data']);
    expect(problemPaths(ariEvent({ dateFrom: '2026-07-03', dateTo: '2026-07-01' }))).toEqual(['data.dateTo']);
    expect(problemPaths(ariEvent({ dateFrom: '2026-06-01', dateTo: '2028-06-01' }))).toEqual(['data.dateTo']);
    expect(problemPaths(ariEvent({ restrictions: { minLengthOfStay: 3, maxLengthOfStay: 2 } }))).toEqual([
      'data.restrictions.maxLengthOfStay',
    ]);
  });

  it('returns the event with unknown fields dropped', () => {
    const result = checkApplicable(ariEvent({ extra: 'x' }), EDGE_LIMITS);
    expect(result.ok).toBe(true);
    expect((result as { event: CanonicalEvent }).event.data).not.toHaveProperty('extra');
  });
});

describe('informational text made to fit', () => {
  it('replaces lone surrogates and cuts without splitting a surrogate pair', () => {
    expect(toApplicableText('a\ud800b', 10)).toBe('a\ufffdb');
    expect(toApplicableText('ab😀', 3)).toBe('ab');
    expect(toApplicableText('ab😀', 4)).toBe('ab😀');
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.integer({ min: 1, max: 40 }),
        (text, max) => {
          const fitted = toApplicableText(text, max);
          expect(fitted.length).toBeLessThanOrEqual(max);
          expect(Buffer.from(fitted, 'utf8').toString('utf8')).toBe(fitted);
        },
      ),
      { numRuns: 300 },
    );
  });
});
