import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../lambdas/shared/errors';
import { decodeUtf8, MAX_JSON_DEPTH, parseStrictJson } from '../../lambdas/shared/strict-json';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof InvalidRequestError ? error.code : `unexpected ${String(error)}`;
  }
}

describe('parseStrictJson', () => {
  it('returns what JSON.parse returns for any JSON without repeated or forbidden keys', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        fc.pre(!/"(__proto__|constructor|prototype)":/.test(text));
        expect(parseStrictJson(text)).toEqual(JSON.parse(text));
      }),
    );
  });

  it('rejects any object in which one key is written twice, however it nests', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue(), { minKeys: 1, maxKeys: 6 }),
        fc.nat(),
        fc.boolean(),
        (record, pick, nest) => {
          const keys = Object.keys(record);
          fc.pre(!keys.some((k) => ['__proto__', 'constructor', 'prototype'].includes(k)));
          fc.pre(!JSON.stringify(record).match(/"(__proto__|constructor|prototype)":/));
          const key = keys[pick % keys.length] as string;
          const inner = `{${JSON.stringify(key)}:0,${JSON.stringify(record).slice(1)}`;
          const text = nest ? `{"wrapper":[${inner}]}` : inner;
          expect(codeOf(() => parseStrictJson(text))).toBe('duplicate_key');
        },
      ),
    );
  });

  it.each([
    ['a repeated top-level key', '{"a":1,"a":2}'],
    ['a repeated nested key', '{"a":{"b":1,"c":[{"d":1,"d":1}]}}'],
    ['a repeat spelled with an escape', '{"ab":1,"\\u0061b":2}'],
    ['a repeat after a string holding quotes and braces', '{"a":"x\\"}{,\\"a\\":","a":2}'],
  ])('rejects %s', (_what, text) => {
    expect(codeOf(() => parseStrictJson(text))).toBe('duplicate_key');
  });

  it.each([
    ['__proto__', '{"__proto__":{"admin":true}}'],
    ['an escaped __proto__', '{"\\u005f_proto__":{}}'],
    ['constructor, nested', '{"a":[{"constructor":{"prototype":1}}]}'],
  ])('rejects the prototype key %s', (_what, text) => {
    expect(codeOf(() => parseStrictJson(text))).toBe('forbidden_key');
  });

  it('accepts keys written with spaces before the colon and values that contain quote-colon pairs', () => {
    expect(parseStrictJson('{ "a" : 1, "b" :\n{ "c" : "x\\":y" } }')).toEqual({ a: 1, b: { c: 'x":y' } });
    expect(parseStrictJson('{"a":"\\":\\":","b":["\\":"]}')).toEqual({ a: '":":', b: ['":'] });
  });

  it('still finds a repeat when the sender spaces its colons', () => {
    expect(codeOf(() => parseStrictJson('{ "a" : 1, "a" : 2 }'))).toBe('duplicate_key');
  });

  it('allows the same key in sibling objects and as a string value', () => {
    expect(parseStrictJson('[{"a":1},{"a":2},{"b":"a"}]')).toEqual([{ a: 1 }, { a: 2 }, { b: 'a' }]);
    expect(parseStrictJson('{"note":"__proto__"}')).toEqual({ note: '__proto__' });
  });

  it('reports malformed JSON as invalid_json with the parser detail', () => {
    expect(codeOf(() => parseStrictJson('{"a":'))).toBe('invalid_json');
    expect(codeOf(() => parseStrictJson(''))).toBe('invalid_json');
  });
});

describe('decodeUtf8', () => {
  it('decodes valid UTF-8 including multi-byte characters', () => {
    expect(decodeUtf8(Buffer.from('{"city":"Zürich – 東京"}', 'utf8'))).toBe('{"city":"Zürich – 東京"}');
  });

  it('rejects bytes that are not UTF-8 instead of replacing them', () => {
    expect(codeOf(() => decodeUtf8(Buffer.from([0x7b, 0xc3, 0x28, 0x7d])))).toBe('invalid_encoding');
  });
});

describe('parseStrictJson nesting depth', () => {
  const nested = (depth: number) => `${'{"a":['.repeat(depth)}${']}'.repeat(depth)}`;

  it(`accepts ${MAX_JSON_DEPTH} levels of objects and arrays and refuses one more with too_deep`, () => {
    const arrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    expect(() => parseStrictJson(arrays(MAX_JSON_DEPTH))).not.toThrow();
    expect(codeOf(() => parseStrictJson(arrays(MAX_JSON_DEPTH + 1)))).toBe('too_deep');
    // Each `{"a":[` opens two levels.
    expect(() => parseStrictJson(nested(MAX_JSON_DEPTH / 2))).not.toThrow();
    expect(codeOf(() => parseStrictJson(`[${nested(MAX_JSON_DEPTH / 2)}]`))).toBe('too_deep');
  });

  it('refuses a body nested far beyond the stack with too_deep rather than a stack overflow', () => {
    for (const depth of [8_240, 100_000]) {
      expect(codeOf(() => parseStrictJson(nested(depth)))).toBe('too_deep');
    }
  });

  it('says what the limit is', () => {
    expect(() => parseStrictJson(nested(MAX_JSON_DEPTH))).toThrow(
      new RegExp(`more than ${MAX_JSON_DEPTH} levels`),
    );
  });

  it('does not count brackets inside strings', () => {
    const text = `{"a":${JSON.stringify('[{'.repeat(1_000))}}`;
    expect(parseStrictJson(text)).toEqual(JSON.parse(text));
  });
});

/**
 * The reference for exactness: the token and the shortest form of the double JSON.parse reads it as are compared
 * as exact rationals (BigInt), not as normalised digit strings as the implementation does.
 */
function referenceIsExact(token: string): boolean {
  const value = Number(token);
  if (!Number.isFinite(value)) return false;
  const rational = (text: string): { numerator: bigint; scale: bigint } => {
    const match = /^-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
    if (!match) throw new Error(`not a number token: ${text}`);
    const [, whole = '', fraction = '', exponent = '0'] = match;
    return { numerator: BigInt(whole + fraction), scale: BigInt(Number(exponent) - fraction.length) };
  };
  const a = rational(token);
  const b = rational(String(Math.abs(value)).replace('e+', 'e'));
  // a.n * 10^a.s === b.n * 10^b.s, both sides scaled to whole numbers.
  const low = a.scale < b.scale ? a.scale : b.scale;
  return a.numerator * 10n ** (a.scale - low) === b.numerator * 10n ** (b.scale - low);
}

describe('parseStrictJson number precision', () => {
  it.each([
    '129.99000000000001',
    '12345678901234567890',
    '9007199254740993',
    '1e400',
    '-1e400',
    '1e-400',
    '0.1000000000000000055511151231257827',
    '2e-324',
  ])('refuses %s, which JSON.parse would silently change, with imprecise_number', (token) => {
    expect(codeOf(() => parseStrictJson(`{"base_rate":${token}}`))).toBe('imprecise_number');
    expect(codeOf(() => parseStrictJson(`[1, 2, ${token}]`))).toBe('imprecise_number');
    expect(codeOf(() => parseStrictJson(token))).toBe('imprecise_number');
  });

  it.each([
    '129.99',
    '129.990',
    '0.1',
    '1E+2',
    '-0',
    '0.0e5',
    '9007199254740992',
    '1e21',
    '1.7976931348623157e308',
    '5e-324',
    '123456789012345.6',
    '0.000000000000000000012',
  ])('accepts %s, which reads back exactly', (token) => {
    expect(parseStrictJson(`{"base_rate":${token}}`)).toEqual({ base_rate: Number(token) });
  });

  it('names the token, shortened, and asks for the amount as a string', () => {
    expect(() => parseStrictJson('{"base_rate":129.99000000000001}')).toThrow(
      /129\.99000000000001.*send the amount as a string/,
    );
    const long = `1.${'1'.repeat(500)}`;
    let message = '';
    try {
      parseStrictJson(`[${long}]`);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(long.slice(0, 32));
    expect(message.length).toBeLessThan(300);
  });

  it('leaves digits inside strings alone', () => {
    const text = '{"base_rate":"129.99000000000001","note":"1e400 12345678901234567890","n":1}';
    expect(parseStrictJson(text)).toEqual(JSON.parse(text));
  });

  const tokens = fc
    .tuple(
      fc.boolean(),
      fc.oneof(fc.constant('0'), fc.stringMatching(/^[1-9]\d{0,24}$/)),
      fc.option(fc.stringMatching(/^\d{1,25}$/), { nil: undefined }),
      fc.option(fc.stringMatching(/^[eE][+-]?\d{1,3}$/), { nil: undefined }),
    )
    .map(
      ([negative, whole, fraction, exponent]) =>
        `${negative ? '-' : ''}${whole}${fraction === undefined ? '' : `.${fraction}`}${exponent ?? ''}`,
    );

  // Any JSON beside the token, less the keys strict JSON refuses for reasons of their own.
  const exactNeighbour = fc
    .jsonValue()
    .filter((value) => !/"(?:__proto__|constructor|prototype)":/.test(JSON.stringify(value)));

  it('refuses exactly the number tokens the reference finds inexact, wherever they stand', () => {
    fc.assert(
      fc.property(tokens, exactNeighbour, fc.nat(2), (token, other, place) => {
        const neighbour = JSON.stringify(other);
        const text = [
          `{"other":${neighbour},"amount":${token}}`,
          `[${token},${neighbour}]`,
          `{"a":{"b":[${neighbour},{"c":${token}}]}}`,
        ][place] as string;
        expect(codeOf(() => parseStrictJson(text))).toBe(
          referenceIsExact(token) ? undefined : 'imprecise_number',
        );
      }),
      { numRuns: 2_000 },
    );
  });

  it('never refuses a number as JavaScript writes it', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
        const text = JSON.stringify({ amount: value });
        expect(parseStrictJson(text)).toEqual(JSON.parse(text));
      }),
      { numRuns: 2_000 },
    );
  });
});
