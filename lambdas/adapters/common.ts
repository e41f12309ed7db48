import type { KeyObject } from 'node:crypto';
import * as z from 'zod/mini';
import { zodProblems } from '../config/load';
import { AuthenticationError, InvalidRequestError, SchemaViolationError } from '../shared/errors';
import type { DeliveryRequest, ProviderAdapter, VerificationContext } from './types';

/** Helpers every adapter shares, so that each failure mode reads and answers the same whatever the kind. */

// Adapters name headers as providers document them; the request carries them lower-cased. The few names in
// use are lowered once rather than on every delivery.
const lowerCaseNames = new Map<string, string>();

function lowerCaseName(name: string): string {
  let lower = lowerCaseNames.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (lowerCaseNames.size < 256) lowerCaseNames.set(name, lower);
  }
  return lower;
}

export function optionalHeader(request: DeliveryRequest, name: string): string | undefined {
  const value = request.headers[lowerCaseName(name)];
  return value === undefined || value === '' ? undefined : value;
}

/** 1 to `maxLength` printable ASCII characters without spaces (0x21-0x7e), as ids in headers must be. */
export function isPrintableToken(text: string, maxLength: number): boolean {
  const length = text.length;
  if (length < 1 || length > maxLength) return false;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x21 || code > 0x7e) return false;
  }
  return true;
}

/** An id header's value that ends up in keys and logs: printable ASCII without spaces, bounded (else 400). */
export function checkTokenHeader(value: string, name: string, maxLength: number): string {
  if (!isPrintableToken(value, maxLength)) {
    throw new InvalidRequestError(
      'bad_header',
      `The ${name} header must be 1-${maxLength} printable ASCII characters without spaces; ` +
        `received ${value.length} characters.`,
    );
  }
  return value;
}

/** A header the scheme needs but that is not itself a credential: missing is a malformed request (400). */
export function requiredHeader(request: DeliveryRequest, name: string): string {
  const value = optionalHeader(request, name);
  if (value === undefined) {
    throw new InvalidRequestError('missing_header', `The ${name} header is required for this source.`);
  }
  return value;
}

/** The signature header: missing means the request is unauthenticated (401). */
export function signatureHeader(request: DeliveryRequest, name: string): string {
  const value = optionalHeader(request, name);
  if (value === undefined) {
    throw new AuthenticationError('missing_signature', `The ${name} header is missing. Sign every delivery.`);
  }
  return value;
}

/** A signed-timestamp header: missing means the request cannot be bound to a time (401). */
export function timestampHeader(request: DeliveryRequest, name: string): string {
  const value = optionalHeader(request, name);
  if (value === undefined) {
    throw new AuthenticationError(
      'missing_timestamp',
      `The ${name} header is missing. Send the signing time.`,
    );
  }
  return value;
}

/** Parses unix seconds (digits only) and enforces the tolerance in both directions. */
export function checkUnixTimestamp(text: string, headerName: string, context: VerificationContext): Date {
  if (!/^\d{1,12}$/.test(text)) {
    throw new InvalidRequestError(
      'bad_header',
      `The ${headerName} header must be unix seconds (digits only); received ${JSON.stringify(text.slice(0, 40))}.`,
    );
  }
  const signedAt = new Date(Number(text) * 1000);
  checkTolerance(signedAt, context, headerName);
  return signedAt;
}

export function checkTolerance(at: Date, context: VerificationContext, what: string): void {
  const skewSeconds = (context.clock.now().getTime() - at.getTime()) / 1000;
  if (Math.abs(skewSeconds) > context.toleranceSeconds) {
    const direction = skewSeconds > 0 ? 'in the past' : 'in the future';
    throw new AuthenticationError(
      'timestamp_out_of_tolerance',
      `${what} is ${Math.round(Math.abs(skewSeconds))} s ${direction}; at most ${context.toleranceSeconds} s is accepted. ` +
        'Check the sender clock, or re-sign the delivery.',
    );
  }
}

const HEX = /^[0-9a-fA-F]+$/;

/** Decodes a hex signature of the expected length, case-insensitively; anything else is simply "not it". */
export function decodeHex(text: string, expectedBytes: number): Buffer | undefined {
  const trimmed = text.trim();
  if (trimmed.length !== expectedBytes * 2 || !HEX.test(trimmed)) return undefined;
  return Buffer.from(trimmed, 'hex');
}

/**
 * Calls `entry` with the key and the value of each `<key>=<value>` item in `text`, the items separated by
 * `separator` and `equals` standing for the character between key and value; an item without one is skipped.
 * Walks the text in place rather than splitting it: headers are read on every delivery.
 */
export function forEachEntry(
  text: string,
  separator: string,
  equals: string,
  entry: (key: string, value: string) => void,
): void {
  for (let start = 0; start <= text.length; ) {
    let end = text.indexOf(separator, start);
    if (end === -1) end = text.length;
    const mark = text.indexOf(equals, start);
    if (mark > start && mark < end) entry(text.slice(start, mark), text.slice(mark + 1, end));
    start = end + 1;
  }
}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** The 6-bit value of each standard base64 character code below 128, or -1. */
const BASE64_VALUES = Int8Array.from({ length: 128 }, (_, code) =>
  BASE64_ALPHABET.indexOf(String.fromCharCode(code)),
);

/**
 * Base64 of the expected length, or undefined: only the standard alphabet with up to two trailing "=", whose
 * characters carry exactly `expectedBytes` bytes (the leftover low bits of the last one are ignored, as Node's
 * decoder ignores them). Validates and decodes in one pass over the text.
 */
export function decodeBase64(text: string, expectedBytes: number): Buffer | undefined {
  let end = text.length;
  if (end > 0 && text.charCodeAt(end - 1) === 0x3d) end--;
  if (end > 0 && text.charCodeAt(end - 1) === 0x3d) end--;
  if (end === 0 || Math.floor((end * 3) / 4) !== expectedBytes) return undefined;
  const bytes = Buffer.allocUnsafe(expectedBytes);
  let bits = 0;
  let pending = 0;
  let written = 0;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? (BASE64_VALUES[code] as number) : -1;
    if (value < 0) return undefined;
    bits = ((bits << 6) | value) & 0xffffff;
    pending += 6;
    if (pending >= 8) {
      pending -= 8;
      bytes[written++] = (bits >> pending) & 0xff;
    }
  }
  return bytes;
}

/**
 * True when any active secret's HMAC-SHA256 over `parts` equals one of `candidates`. Every secret is tried
 * against every candidate without early exit on a mismatch, so timing does not reveal which one failed.
 */
export function anyHmacMatches(
  context: VerificationContext,
  candidates: readonly Uint8Array[],
  parts: readonly (string | Uint8Array)[],
  secretBytes?: (secret: string) => string | Uint8Array | KeyObject,
): boolean {
  const { crypto, secrets } = context;
  let matched = false;
  for (let s = 0; s < secrets.length; s++) {
    const secret = secrets[s] as string;
    const key = secretBytes === undefined ? secret : secretBytes(secret);
    // The common shapes are called directly: spreading the parts costs an array per delivery.
    const expected =
      parts.length === 1
        ? crypto.hmacSha256(key, parts[0] as string | Uint8Array)
        : parts.length === 2
          ? crypto.hmacSha256(key, parts[0] as string | Uint8Array, parts[1] as string | Uint8Array)
          : crypto.hmacSha256(key, ...parts);
    for (let c = 0; c < candidates.length; c++) {
      if (crypto.constantTimeEqual(expected, candidates[c] as Uint8Array)) matched = true;
    }
  }
  return matched;
}

/**
 * The scheme the OTA, PMS and property-platform senders share: a hex HMAC-SHA256 of the raw body, in either
 * case, in the header `header`, with no timestamp (the edge bounds the payload's own time instead).
 */
export function hexBodyHmacScheme(header: string): Pick<ProviderAdapter, 'signsTimestamp' | 'verify'> {
  return {
    signsTimestamp: false,
    verify(request, context) {
      if (!hexBodyHmacMatches(signatureHeader(request, header), request, context))
        throw invalidSignature(header);
      return {};
    },
  };
}

/** True when `signature` is the hex HMAC-SHA256 of the raw body under any active secret. */
export function hexBodyHmacMatches(
  signature: string,
  request: DeliveryRequest,
  context: VerificationContext,
): boolean {
  const candidate = decodeHex(signature, 32);
  return candidate !== undefined && anyHmacMatches(context, [candidate], [request.rawBody]);
}

export function invalidSignature(header: string): AuthenticationError {
  return new AuthenticationError(
    'invalid_signature',
    `The ${header} header does not match the body for any active secret. Sign the exact raw body bytes ` +
      'with the secret configured for this source.',
  );
}

// Validation is most of the edge's own work per delivery, and zod's interpreted parse of a payload costs more
// than verifying its signature. z.compile gives each schema a generated parser for valid input and falls back
// to the interpreted one otherwise, so refusals and their issues are unchanged. Generating it costs
// milliseconds, so each schema is compiled when it first parses a delivery rather than at cold start, where
// every kind's schemas would be compiled whichever kinds the function receives.
const compiledSchemas = new WeakMap<z.core.$ZodType, z.core.$ZodType>();

function compiled<T extends z.core.$ZodType>(schema: T): T {
  let parser = compiledSchemas.get(schema);
  if (parser === undefined) {
    parser = z.compile(schema);
    compiledSchemas.set(schema, parser);
  }
  return parser as T;
}

/** Validates with zod and turns every issue into a named field (422). */
export function parseWithSchema<T extends z.core.$ZodType>(
  schema: T,
  body: unknown,
  what: string,
): z.output<T> {
  const result = z.safeParse(compiled(schema), body);
  if (result.success) return result.data;
  const fields = zodProblems(result.error);
  const names = fields.map((f) => f.path).join(', ');
  throw new SchemaViolationError(
    'schema_violation',
    `The ${what} does not match the expected schema (${names}).`,
    fields,
    { cause: result.error },
  );
}

export function unknownEventType(
  field: string,
  received: string,
  known: readonly string[],
): SchemaViolationError {
  return new SchemaViolationError(
    'unknown_event_type',
    `The event type ${JSON.stringify(received)} is not one this source kind defines.`,
    [{ path: field, message: `expected one of ${known.join(', ')}` }],
  );
}
