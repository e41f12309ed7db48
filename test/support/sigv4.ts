import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

export interface TestCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Who signed a request that verified. */
export interface Signed {
  readonly ok: true;
  readonly accessKeyId: string;
  readonly region: string;
  readonly service: string;
}

/** Why a request did not verify, as AWS names it (x-amzn-ErrorType) and words it. */
export interface Unsigned {
  readonly ok: false;
  readonly type:
    | 'MissingAuthenticationTokenException'
    | 'IncompleteSignatureException'
    | 'InvalidSignatureException'
    | 'UnrecognizedClientException';
  readonly message: string;
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
/** AWS refuses signatures dated further than this from its clock. */
const MAX_SKEW_MS = 5 * 60_000;

/**
 * Verifies a request's SigV4 signature as an AWS endpoint does: parses the Authorization header, recomputes the
 * signature with @smithy/signature-v4 over the headers it names, the path and query as received and the body,
 * using the caller's known secret, and compares the two in constant time.
 */
export async function verifySigV4(
  request: IncomingMessage,
  body: Buffer,
  options: {
    readonly credentials: (accessKeyId: string) => TestCredentials | undefined;
    /** The service the endpoint is, e.g. execute-api: a signature scoped to another is refused. */
    readonly service: string;
    readonly now?: Date;
  },
): Promise<Signed | Unsigned> {
  const authorization = request.headers.authorization;
  if (authorization === undefined) {
    return {
      ok: false,
      type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    };
  }
  const parts = AUTHORIZATION.exec(authorization);
  const amzDate = header(request, 'x-amz-date');
  if (!parts || amzDate === undefined) {
    return {
      ok: false,
      type: 'IncompleteSignatureException',
      message: `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature', and X-Amz-Date is required.`,
    };
  }
  const [, accessKeyId = '', day = '', region = '', service = '', signedHeaderList = ''] = parts;
  const credentials = options.credentials(accessKeyId);
  if (credentials === undefined) {
    return {
      ok: false,
      type: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    };
  }
  // The token travels in a signed header; the signature itself is over the key pair alone.
  const { sessionToken, ...keyPair } = credentials;
  if (sessionToken !== undefined && header(request, 'x-amz-security-token') !== sessionToken) {
    return {
      ok: false,
      type: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    };
  }
  if (service !== options.service) {
    return {
      ok: false,
      type: 'InvalidSignatureException',
      message: `Credential should be scoped to correct service: '${options.service}'.`,
    };
  }
  const signingDate = parseAmzDate(amzDate);
  const now = options.now ?? new Date();
  if (
    signingDate === undefined ||
    !amzDate.startsWith(day) ||
    Math.abs(now.getTime() - signingDate.getTime()) > MAX_SKEW_MS
  ) {
    return {
      ok: false,
      type: 'InvalidSignatureException',
      message: `Signature expired: ${amzDate} is now earlier or later than ${now.toISOString()} by more than 5 minutes.`,
    };
  }
  const declaredHash = header(request, 'x-amz-content-sha256');
  if (declaredHash !== undefined && declaredHash !== createHash('sha256').update(body).digest('hex')) {
    return {
      ok: false,
      type: 'InvalidSignatureException',
      message: 'The provided x-amz-content-sha256 header does not match what was computed.',
    };
  }

  const names = signedHeaderList.split(';');
  const headers: Record<string, string> = {};
  for (const name of names) {
    const value = header(request, name);
    if (value !== undefined) headers[name] = value;
  }
  const host = header(request, 'host') ?? '';
  const url = new URL(request.url ?? '/', `http://${host}`);
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of url.searchParams) {
    const previous = query[name];
    query[name] = previous === undefined ? value : [...[previous].flat(), value];
  }
  const signer = new SignatureV4({ credentials: keyPair, region, service, sha256: Sha256 });
  const expected = await signer.sign(
    {
      method: request.method ?? 'GET',
      protocol: 'http:',
      hostname: url.hostname,
      ...(url.port === '' ? {} : { port: Number(url.port) }),
      path: url.pathname,
      query,
      headers,
      body,
    },
    { signingDate },
  );
  const want = Buffer.from(String(expected.headers.authorization));
  const got = Buffer.from(authorization);
  if (want.length !== got.length || !timingSafeEqual(want, got) || !names.includes('host')) {
    return {
      ok: false,
      type: 'InvalidSignatureException',
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret ' +
        'Access Key and signing method. Consult the service documentation for details.',
    };
  }
  return { ok: true, accessKeyId, region, service };
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** `20250601T090000Z` */
function parseAmzDate(text: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match;
  return new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
}
