/**
 * Money is carried as integer minor units with an ISO 4217 currency, never as a binary float, so that
 * comparisons across channels (parity) and sums are exact.
 */
export interface Money {
  /** Integer amount in the currency's minor unit (cents for EUR, yen for JPY, fils for KWD). */
  readonly amountMinor: number;
  /** ISO 4217 alphabetic code. */
  readonly currency: string;
}

const ZERO_DECIMAL = new Set([
  'BIF',
  'CLP',
  'DJF',
  'GNF',
  'ISK',
  'JPY',
  'KMF',
  'KRW',
  'PYG',
  'RWF',
  'UGX',
  'UYI',
  'VND',
  'VUV',
  'XAF',
  'XOF',
  'XPF',
]);
const THREE_DECIMAL = new Set(['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND']);

export function minorUnitDigits(currency: string): number {
  if (ZERO_DECIMAL.has(currency)) return 0;
  if (THREE_DECIMAL.has(currency)) return 3;
  return 2;
}

const DECIMAL = /^(\d{1,13})(?:\.(\d+))?$/;

/**
 * Converts a decimal amount to minor units without floating-point arithmetic. A JSON number is read through
 * its shortest round-trip decimal form, which is exactly the text the sender wrote for any amount of up to
 * 15 significant digits. Returns a reason string instead of throwing so that schemas can report it per field.
 */
export function toMinorUnits(value: number | string, currency: string): number | string {
  const text = typeof value === 'number' ? String(value) : value.trim();
  const match = DECIMAL.exec(text);
  if (!match)
    return `expected a non-negative decimal amount such as "129.99", received ${JSON.stringify(text)}`;
  const digits = minorUnitDigits(currency);
  const whole = match[1] ?? '0';
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  if (fraction.length > digits) {
    return `${currency} has ${digits} decimal place${digits === 1 ? '' : 's'}; ${text} has more`;
  }
  const minor = Number(whole + fraction.padEnd(digits, '0'));
  if (!Number.isSafeInteger(minor)) return `amount ${text} is too large`;
  return minor;
}

/** The decimal text of an amount, for display and for providers that expect decimals. */
export function formatMinorUnits(money: Money): string {
  const digits = minorUnitDigits(money.currency);
  if (digits === 0) return String(money.amountMinor);
  // Differences (a parity finding's) are negative: pad the magnitude, then put the sign back in front.
  const sign = money.amountMinor < 0 ? '-' : '';
  const text = String(Math.abs(money.amountMinor)).padStart(digits + 1, '0');
  return `${sign}${text.slice(0, -digits)}.${text.slice(-digits)}`;
}
