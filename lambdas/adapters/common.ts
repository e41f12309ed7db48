import type { KeyObject } from 'node:crypto';
import * as z from 'zod/mini';
import { $constructor, $ZodObjectJIT } from 'zod/v4/core';
import { zodProblems } from '../config/load';
import { AuthenticationError, BadRequestError, SchemaViolationError } from '../shared/errors';
import type { DeliveryRequest, VerificationContext } from './types';

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
    throw new BadRequestError(
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
    throw new BadRequestError('missing_header', `The ${name} header is required for this source.`);
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
    throw new BadRequestError(
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
 * case, in one header, with no timestamp.
 */
export function verifyHexBodyHmac(
  request: DeliveryRequest,
  context: VerificationContext,
  header: string,
): void {
  if (!hexBodyHmacMatches(signatureHeader(request, header), request, context)) throw invalidSignature(header);
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

// Full zod parses an object with a parser it generates for that object's shape; zod/mini, to stay small,
// walks the shape generically, which made normalising a delivery a quarter to a third slower. Object parsing
// is most of the validation on the ingest hot path, so payload objects get the generated parser back. It is
// the one full zod uses, so results and issues are the same either way.
const ZodMiniObject: z.core.$constructor<z.ZodMiniObject> = z.ZodMiniObject;
const ZodMiniObjectJIT: z.core.$constructor<z.ZodMiniObject> = $constructor(
  'ZodMiniObjectJIT',
  (inst, def) => {
    $ZodObjectJIT.init(inst, def);
    ZodMiniObject.init(inst, def);
  },
);

/** The same object schema (shape, strictness, params), parsed by zod's generated per-shape parser. */
export function jitObject<S extends z.ZodMiniObject>(schema: S): S {
  return new ZodMiniObjectJIT(schema._zod.def) as S;
}

/** Validates with zod and turns every issue into a named field (422). */
export function parseWithSchema<T extends z.core.$ZodType>(
  schema: T,
  body: unknown,
  what: string,
): z.output<T> {
  const result = z.safeParse(schema, body);
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

// Fast paths. Validating a well-formed delivery with zod costs more than verifying its signature, so the
// common event types also get a direct check that accepts only what their schema accepts and builds the same
// output. It answers undefined for anything it does not accept, and the schema then runs and names the
// problem: refusals, their codes, messages and field paths always come from the schema. A fast path must
// change with its schema: strict key lists are written out rather than read from the schema, so that a field
// added to the schema alone sends deliveries carrying it to the schema instead of past an unchecked value.

/**
 * A fast path beside the schema path it must agree with, exported so that tests hold the two to it: whenever
 * `fast` returns a value, `schema` accepts the same body and returns an equal one. Both return the value the
 * adapter builds its canonical event from; `schema` answers undefined where the schema refuses.
 */
export interface FastPath {
  readonly name: string;
  readonly fast: (body: unknown) => unknown;
  readonly schema: (body: unknown) => unknown;
}

/** The schema path of a FastPath: `pick` of the schema's output, or undefined when the schema refuses. */
export function schemaOutput<T extends z.core.$ZodType, O>(
  schema: T,
  body: unknown,
  pick: (output: z.output<T>) => O,
): O | undefined {
  const result = z.safeParse(schema, body);
  return result.success ? pick(result.data) : undefined;
}

/** zod's notion of an object: not null, not an array. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when every own key of `record` is in `allowed`, as a strict object requires. */
export function hasOnlyKeys(record: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  for (const key in record) if (!allowed.has(key)) return false;
  return true;
}

/** A string of `min` to `max` UTF-16 code units, as z.string() with minLength and maxLength checks counts. */
export function isStringOfLength(value: unknown, min: number, max: number): value is string {
  return typeof value === 'string' && value.length >= min && value.length <= max;
}

/** z.int() with an inclusive range. */
export function isIntInRange(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}
