import * as z from 'zod/mini';
import { ApplicableIdSchema, applicableText, MAX_RANGE_NIGHTS } from '../domain/applicable';
import { toMinorUnits } from '../domain/money';

/** Schema pieces shared across adapters: external ids, and rates pushed as decimal amounts. */

// Any well-formed code is accepted rather than a fixed list, so a currency the runtime's tables do not know
// yet is not refused; the minor-unit digits default to 2 for codes outside money.ts's exceptions.
export const CURRENCY_CODE = /^[A-Z]{3}$/;

export const CurrencySchema = z
  .string()
  .check(z.regex(CURRENCY_CODE, 'must be an ISO 4217 currency code in upper case, e.g. EUR'));

export const AmountSchema = z.union([z.number(), z.string()], {
  error: 'must be a decimal amount: a JSON number such as 129.99 or a string such as "129.99"',
});

/** Minor units of a strictly positive amount, or the reason it is not one. */
export function positiveMinorUnits(amount: number | string, currency: string): number | string {
  if (typeof amount === 'number' && !(amount > 0)) return `must be greater than 0, received ${amount}`;
  const minor = toMinorUnits(amount, currency);
  if (minor === 0) return `must be greater than 0, received ${JSON.stringify(amount)}`;
  return minor;
}

/** Two years of stay dates: enough for any published rate calendar, and bounds the per-date expansion. */
export { MAX_RANGE_NIGHTS };

/** Ids that end up in canonical events, keys and logs: the applicability contract's rule, in the provider's field. */
export const ExternalIdSchema = ApplicableIdSchema;

/** Free text that reaches a canonical event: 1 to `max` characters of well-formed Unicode. */
export const TextSchema = applicableText;
