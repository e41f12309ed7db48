import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../lambdas/shared/errors';
import { decodeUtf8, parseStrictJson } from '../../lambdas/shared/strict-json';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof BadRequestError ? error.code : `unexpected ${String(error)}`;
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
