import {
  BACKSLASH,
  CLOSE_BRACE,
  CLOSE_BRACKET,
  COLON,
  COMMA,
  DIGIT_0,
  DIGIT_9,
  DOT,
  HYPHEN_MINUS,
  LOWER_E,
  OPEN_BRACE,
  OPEN_BRACKET,
  PLUS,
  QUOTE,
  UPPER_E,
} from '../domain/ascii';
import { InvalidRequestError } from './errors';

/**
 * Keys that turn a plain JSON object into a prototype-pollution vector once it is merged or spread
 * somewhere downstream. No provider schema uses them, so a body that carries one is rejected outright.
 */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Objects and arrays may nest this deep, the top-level value counting as one. Provider payloads nest a handful
 * of levels; the limit keeps every later walk of the tree (the key count here, schema validation) far from the
 * call-stack limit, which a body nested some 8,000 levels deep would otherwise reach.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Text that might hold a number token that does not read back exactly: 16 or more digits and dots in a row, or a
 * digit before an exponent mark. Anything shorter always round-trips through a double, so most bodies skip the
 * precise scan. Unanchored, so it is a single cheap pass; the same characters inside a string (a long numeric
 * id, a UUID's `0e8`) at worst cost the precise scan, which jumps from string to string.
 */
const MAYBE_INEXACT_NUMBER = /\d[\d.]{15}|\d[eE]/;
/** How much of a refused number the error quotes. */
const QUOTED_NUMBER_CHARS = 40;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Decodes UTF-8 strictly: a body that is not valid UTF-8 is rejected rather than silently repaired. */
export function decodeUtf8(raw: Uint8Array): string {
  try {
    return utf8.decode(raw);
  } catch (cause) {
    throw new InvalidRequestError(
      'invalid_encoding',
      'The body is not valid UTF-8. Send JSON encoded as UTF-8.',
      {
        cause,
      },
    );
  }
}

/**
 * JSON.parse, plus the checks it does not make: a key repeated within one object (JSON.parse silently keeps the
 * last, so two readers of the same signed bytes could disagree), prototype-polluting keys, nesting deeper than
 * MAX_JSON_DEPTH, and numbers that a double cannot hold exactly (JSON.parse silently rounds them, so
 * `129.99000000000001` would be stored as 129.99).
 *
 * The check is cheap on the ingest path: JSON.parse collapses a repeated key, so the parsed tree holds fewer
 * keys than the text exactly when some key repeats. Counting keys in the text only needs a jump from quote to
 * quote; the precise scan that names the repeated key runs only for a body that is being refused anyway.
 */
export function parseStrictJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new InvalidRequestError('invalid_json', `The body is not valid JSON (${detail}).`, { cause });
  }
  if (value !== null && typeof value === 'object') {
    const keys = countKeysInValue(value, 1);
    // Every key is followed by `":` unless the sender puts spaces before its colons, and a string value can hold
    // `":` only behind an escaped quote, so this quick count is never below the real key count. Equal counts
    // therefore prove there is no repeat; any difference, rare for real senders, gets the exact scan.
    if (countQuoteColons(text) !== keys && countKeysInText(text) !== keys) {
      assertUniqueSafeKeys(text);
      throw new InvalidRequestError(
        'duplicate_key',
        'A key appears twice in the same object. Send each key once.',
      );
    }
  }
  if (MAYBE_INEXACT_NUMBER.test(text)) assertExactNumbers(text);
  return value;
}

/**
 * Own keys of every object in the tree, refusing prototype-polluting names and too deep nesting on the way, so
 * this walk never recurses further than MAX_JSON_DEPTH (JSON.parse itself does not recurse). `for...in` rather
 * than Object.keys: it allocates no key array, and a JSON.parse result inherits nothing enumerable (if something
 * ever made Object.prototype enumerable, the count would exceed the text's and the body would be refused).
 */
function countKeysInValue(value: object, depth: number): number {
  if (depth > MAX_JSON_DEPTH) {
    throw new InvalidRequestError(
      'too_deep',
      `The body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep, the most accepted. ` +
        'Send a flatter payload.',
    );
  }
  let count = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item !== null && typeof item === 'object') count += countKeysInValue(item, depth + 1);
    }
    return count;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
      throw new InvalidRequestError(
        'forbidden_key',
        `The body uses the key "${key}", which is not allowed anywhere in a payload.`,
      );
    }
    count++;
    const child = record[key];
    if (child !== null && typeof child === 'object') count += countKeysInValue(child, depth + 1);
  }
  return count;
}

/** Occurrences of `":`. Searching for the colon alone and looking back is about twice as fast as for the pair. */
function countQuoteColons(text: string): number {
  let count = 0;
  for (let at = text.indexOf(':'); at !== -1; at = text.indexOf(':', at + 1)) {
    if (text.charCodeAt(at - 1) === QUOTE) count++;
  }
  return count;
}

/** Strings followed by a colon are keys; the text is known to be valid JSON. */
function countKeysInText(text: string): number {
  let count = 0;
  let start = text.indexOf('"');
  while (start !== -1) {
    const end = endOfString(text, start);
    let next = end + 1;
    let c = text.charCodeAt(next);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++next);
    if (c === COLON) count++;
    start = text.indexOf('"', next);
  }
  return count;
}

/** The precise scan: names the first repeated or forbidden key. */
function assertUniqueSafeKeys(text: string): void {
  // One entry per open container: the keys seen so far for an object, null for an array.
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = endOfString(text, i);
      if (expectKey) {
        const keys = stack[stack.length - 1];
        let key = text.slice(i + 1, end);
        if (key.includes('\\')) key = JSON.parse(text.slice(i, end + 1)) as string;
        if (FORBIDDEN_KEYS.has(key)) {
          throw new InvalidRequestError(
            'forbidden_key',
            `The body uses the key "${key}", which is not allowed anywhere in a payload.`,
          );
        }
        if (keys) {
          if (keys.has(key)) {
            throw new InvalidRequestError(
              'duplicate_key',
              `The key "${key}" appears twice in the same object. Send each key once.`,
            );
          }
          keys.add(key);
        }
        expectKey = false;
      }
      i = end;
    } else if (c === OPEN_BRACE) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === OPEN_BRACKET) {
      stack.push(null);
      expectKey = false;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      stack.pop();
      expectKey = false;
    } else if (c === COMMA) {
      expectKey = stack[stack.length - 1] != null;
    }
  }
}

/** The precise scan: refuses the first number token, outside strings, that JSON.parse does not read exactly. */
function assertExactNumbers(text: string): void {
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = endOfString(text, i);
    } else if (c === HYPHEN_MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) {
      // Outside strings, a minus or a digit can only start a number; the text is known to be valid JSON. Only a
      // token with an exponent or more than 15 digits can fail to read back, so only such a token is compared.
      let end = i + 1;
      let digits = c === HYPHEN_MINUS ? 0 : 1;
      let exponent = false;
      for (; end < length; end++) {
        const d = text.charCodeAt(end);
        if (d >= DIGIT_0 && d <= DIGIT_9) digits++;
        else if (d === LOWER_E || d === UPPER_E) exponent = true;
        else if (d !== DOT && d !== PLUS && d !== HYPHEN_MINUS) break;
      }
      if (exponent || digits > 15) {
        const token = text.slice(i, end);
        if (!readsBackExactly(token)) {
          const quoted =
            token.length > QUOTED_NUMBER_CHARS ? `${token.slice(0, QUOTED_NUMBER_CHARS)}…` : token;
          throw new InvalidRequestError(
            'imprecise_number',
            `The number ${quoted} cannot be read exactly as a JSON number (it would become ${Number(token)}); ` +
              'send the amount as a string instead.',
          );
        }
      }
      i = end - 1;
    }
  }
}

/**
 * True when the double JSON.parse makes of the token is the token's own value: its shortest round-trip form
 * (what String gives) has the same significant digits at the same power of ten.
 */
function readsBackExactly(token: string): boolean {
  // At most 15 digits without an exponent always round-trip.
  if (token.length <= 15 && !/[eE]/.test(token)) return true;
  const value = Number(token);
  if (!Number.isFinite(value)) return false;
  const written = decimalOf(token);
  const read = decimalOf(String(Math.abs(value)));
  return written.digits === read.digits && written.exponent === read.exponent;
}

/**
 * A number as its significant digits (no leading or trailing zeros) and the power of ten of the last one, so
 * that `129.990`, `12999e-2` and `1.2999E+2` compare equal. Zero has no digits.
 */
function decimalOf(text: string): { digits: string; exponent: number } {
  const e = text.search(/[eE]/);
  const mantissa = e === -1 ? text : text.slice(0, e);
  let exponent = e === -1 ? 0 : Number(text.slice(e + 1));
  const dot = mantissa.indexOf('.');
  if (dot !== -1) exponent -= mantissa.length - dot - 1;
  const significant = mantissa.replace(/[-.]/g, '').replace(/^0+/, '');
  const digits = significant.replace(/0+$/, '');
  if (digits === '') return { digits, exponent: 0 };
  return { digits, exponent: exponent + significant.length - digits.length };
}

/** Index of the quote closing the string that opens at `start`; the text is known to be valid JSON. */
function endOfString(text: string, start: number): number {
  let end = text.indexOf('"', start + 1);
  while (end !== -1) {
    let backslashes = 0;
    for (let j = end - 1; text.charCodeAt(j) === BACKSLASH; j--) backslashes++;
    if (backslashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
  return text.length;
}
