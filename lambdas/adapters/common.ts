import * as z from 'zod/mini';
import { $constructor, $ZodObjectJIT } from 'zod/v4/core';
import { formatPath } from '../config/load';
import { AuthenticationError, BadRequestError, SchemaViolationError } from '../shared/errors';
import type { DeliveryRequest, VerificationContext } from './types';

/** Helpers every adapter shares, so that each failure mode reads and answers the same whatever the kind. */

export function optionalHeader(request: DeliveryRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return value === undefined || value === '' ? undefined : value;
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

/** Base64 of the expected length, or undefined. */
export function decodeBase64(text: string, expectedBytes: number): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === expectedBytes ? bytes : undefined;
}

/**
 * True when any active secret's HMAC-SHA256 over `parts` equals one of `candidates`. Every secret is tried
 * against every candidate without early exit on a mismatch, so timing does not reveal which one failed.
 */
export function anyHmacMatches(
  context: VerificationContext,
  candidates: readonly Uint8Array[],
  parts: readonly (string | Uint8Array)[],
  secretBytes: (secret: string) => string | Uint8Array = (secret) => secret,
): boolean {
  let matched = false;
  for (const secret of context.secrets) {
    const expected = context.crypto.hmacSha256(secretBytes(secret), ...parts);
    for (const candidate of candidates) {
      if (context.crypto.constantTimeEqual(expected, candidate)) matched = true;
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
  const candidate = decodeHex(signatureHeader(request, header), 32);
  if (candidate === undefined || !anyHmacMatches(context, [candidate], [request.rawBody])) {
    throw invalidSignature(header);
  }
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
  const fields = result.error.issues.map((issue) => ({
    path: formatPath(issue.path),
    message: issue.message,
  }));
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
