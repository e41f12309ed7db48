import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatMinorUnits, minorUnitDigits, toMinorUnits } from '../../lambdas/domain/money';

describe('toMinorUnits', () => {
  it.each([
    [129.99, 'EUR', 12999],
    ['129.99', 'EUR', 12999],
    [0.29, 'USD', 29],
    [1.005, 'KWD', 1005],
    [15000, 'JPY', 15000],
    ['100.50', 'GBP', 10050],
    ['7.000', 'JPY', 7],
  ])('converts %s %s exactly to %s', (amount, currency, minor) => {
    expect(toMinorUnits(amount, currency)).toBe(minor);
  });

  it('never picks up binary floating-point error for any two-decimal amount', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000_000 }), (cents) => {
        const asNumber = cents / 100;
        expect(toMinorUnits(asNumber, 'EUR')).toBe(cents);
        expect(toMinorUnits(formatMinorUnits({ amountMinor: cents, currency: 'EUR' }), 'EUR')).toBe(cents);
      }),
    );
  });

  it.each([
    [129.999, 'EUR', /2 decimal places/],
    [1.5, 'JPY', /0 decimal places/],
    [-5, 'EUR', /non-negative decimal/],
    [1e-7, 'EUR', /non-negative decimal/],
    ['12,50', 'EUR', /non-negative decimal/],
    ['99999999999999.99', 'EUR', /non-negative decimal/],
  ])('explains why %s %s is refused', (amount, currency, reason) => {
    const result = toMinorUnits(amount, currency);
    expect(typeof result).toBe('string');
    expect(result).toMatch(reason);
  });

  it('knows the minor units of zero- and three-decimal currencies', () => {
    expect(minorUnitDigits('JPY')).toBe(0);
    expect(minorUnitDigits('BHD')).toBe(3);
    expect(minorUnitDigits('EUR')).toBe(2);
    expect(formatMinorUnits({ amountMinor: 5, currency: 'EUR' })).toBe('0.05');
    expect(formatMinorUnits({ amountMinor: -5, currency: 'EUR' })).toBe('-0.05');
    expect(formatMinorUnits({ amountMinor: -12_950, currency: 'EUR' })).toBe('-129.50');
    expect(formatMinorUnits({ amountMinor: -7, currency: 'JPY' })).toBe('-7');
    expect(formatMinorUnits({ amountMinor: 1234, currency: 'KWD' })).toBe('1.234');
  });
});
