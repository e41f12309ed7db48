import { isCalendarDate } from '../domain/dates';
import type { NightRangeQuery } from '../domain/page';
import { decodeRangeCursor } from '../shared/cursor';
import { type Item, type SortKeyRange, sortKeyRange } from '../shared/dynamodb';

/** The most nights one page of a date-range read may ask for. */
export const MAX_NIGHTS_PER_PAGE = 1000;

/**
 * The sort-key range of a night-range read in partition `pk`, whose sort keys start with the stay date, and the
 * key the page resumes after. Dates that are not calendar dates, a range that runs backwards and a page size out
 * of bounds are refused with the store's own error, made by `invalid`.
 */
export function nightRange(
  pk: string,
  query: NightRangeQuery,
  invalid: (message: string) => Error,
): { range: SortKeyRange; startKey: Item | undefined } {
  for (const [what, value] of [
    ['"from" date', query.from],
    ['"to" date', query.to],
  ] as const) {
    if (!isCalendarDate(value)) {
      throw invalid(`The ${what} must be a calendar date YYYY-MM-DD; received "${value}".`);
    }
  }
  if (query.from > query.to) {
    throw invalid(
      `The date range runs backwards ("from" ${query.from} is after "to" ${query.to}); swap them.`,
    );
  }
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_NIGHTS_PER_PAGE) {
    throw invalid(
      `The page size must be a whole number from 1 to ${MAX_NIGHTS_PER_PAGE}; received ${query.limit}.`,
    );
  }
  const range = sortKeyRange(pk, query.from, query.to);
  const startKey =
    query.cursor === undefined
      ? undefined
      : decodeRangeCursor(query.cursor, range.pk, range.lower, range.upper);
  return { range, startKey };
}
