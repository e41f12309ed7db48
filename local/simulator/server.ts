import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as z from 'zod/mini';
import { IsoInstantSchema } from '../../lambdas/domain/dates';
import { type Clock, systemClock } from '../../lambdas/shared/clock';
import { formatPath } from '../../lambdas/shared/problems';
import { listen, sendJson } from '../http';
import {
  compareUpdatePosition,
  type DemoDataset,
  type IndexedNight,
  type PollingRecord,
  type RandomSource,
  toPollingRecord,
} from './dataset';

/**
 * A reference OTA polling API on loopback, serving a DemoDataset as `GET /inventory` the way the provider
 * documents it: bearer auth, `limit` / `updated_after` / `cursor`, `{ results, next_cursor }`, a token-bucket
 * rate limit answered with 429 + Retry-After, and injectable 5xx and slow responses. Reconciliation is
 * exercised against this over real HTTP, so client code meets the same failure modes it meets in production.
 *
 * Paging contract:
 * - Records are ordered by (updated_at, key), key being `property|room type|rate plan|date`.
 * - `updated_after` is INCLUSIVE (updated_at >= the given instant): a client that passes the last updated_at
 *   it saw re-reads the records of that instant instead of missing those written in the same millisecond.
 * - `next_cursor` encodes the (updated_at, key) of the page's last record, not an offset. A record changed
 *   mid-scan moves behind the cursor's position and is served again later, so a scan misses nothing; only
 *   records changed mid-scan can be served twice. `next_cursor` is null when nothing follows the page.
 */

export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_PAGE_SIZE = 100;

/** Options a configuration file can carry (the data set, random source and clock are objects). */
export const SimulatorRateLimitSchema = z.object({
  /** Sustained rate: tokens added per second. */
  requestsPerSecond: z.number().check(z.positive(), z.maximum(100_000)),
  /** Bucket size: how many requests may arrive at once after a quiet spell. */
  burst: z.int().check(z.minimum(1), z.maximum(100_000)),
  /**
   * A quota per property on top, for requests that name one (`property_id`): this many a minute.
   */
  perPropertyPerMinute: z.optional(z.int().check(z.minimum(1), z.maximum(600_000))),
  /** Requests a property may make at once after a quiet spell. @default perPropertyPerMinute */
  perPropertyBurst: z.optional(z.int().check(z.minimum(1), z.maximum(600_000))),
});
export type SimulatorRateLimit = z.infer<typeof SimulatorRateLimitSchema>;

const ShareSchema = z.number().check(z.minimum(0), z.maximum(1));
export const SimulatorFaultsSchema = z.object({
  /** Share of authorised requests answered 500 or 503 (one of the two with equal odds). */
  errorRate: z.optional(ShareSchema),
  /** Delay added to a slow request, in milliseconds. */
  slowMs: z.optional(z.int().check(z.minimum(0), z.maximum(120_000))),
  /** Share of authorised requests delayed by `slowMs`. */
  slowRate: z.optional(ShareSchema),
});
export type SimulatorFaults = z.infer<typeof SimulatorFaultsSchema>;

export const SimulatorSettingsSchema = z.object({
  /** 0 picks a free port. */
  port: z.int().check(z.minimum(0), z.maximum(65_535)),
  /** Loopback only: the simulator serves demo data with a demo token and must not be reachable from afar. */
  host: z._default(z.literal('127.0.0.1'), '127.0.0.1'),
  token: z.string().check(z.minLength(8), z.maxLength(4096)),
  rateLimit: z.optional(SimulatorRateLimitSchema),
  faults: z.optional(SimulatorFaultsSchema),
});
export type SimulatorSettings = z.input<typeof SimulatorSettingsSchema>;

export interface SimulatorOptions extends SimulatorSettings {
  readonly dataset: DemoDataset;
  /**
   * Drives fault injection. Per authorised request, in this order: one draw when `errorRate` > 0 (below it
   * means an error), one more when it is an error (below 0.5 means 500, otherwise 503), one draw when
   * `slowRate` > 0 (below it means slow). A seeded source therefore gives a replayable fault sequence.
   */
  readonly random: RandomSource;
  /** Refills the rate-limit bucket. @default systemClock */
  readonly clock?: Clock;
}

export interface SimulatorStats {
  readonly requests: number;
  readonly unauthorized: number;
  readonly badRequests: number;
  readonly rateLimited: number;
  /** Injected 500/503 answers. */
  readonly faults: number;
  /** Requests delayed by `slowMs`. */
  readonly slow: number;
  readonly pagesServed: number;
  readonly recordsServed: number;
}

export interface Simulator {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  stop(): Promise<void>;
  stats(): SimulatorStats;
  setFaults(faults: SimulatorFaults | undefined): void;
  /** Replaces the limit with a full bucket; undefined removes it. */
  setRateLimit(rateLimit: SimulatorRateLimit | undefined): void;
}

export interface InventoryPage {
  readonly results: readonly PollingRecord[];
  readonly next_cursor: string | null;
}

function parseSettings<T extends z.core.$ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const result = z.safeParse(schema, input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  throw new RangeError(`Invalid ${what}: ${problems.join('; ')}`);
}

/** A classic token bucket, refilled from the injected clock so tests can step time instead of sleeping. */
class TokenBucket {
  #tokens: number;
  #refilledAtMs: number;

  constructor(
    private readonly limit: SimulatorRateLimit,
    private readonly clock: Clock,
  ) {
    this.#tokens = limit.burst;
    this.#refilledAtMs = clock.now().getTime();
  }

  /** Takes a token, or returns how many whole seconds until one is available. */
  take(): { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number } {
    const nowMs = this.clock.now().getTime();
    const elapsedSeconds = Math.max(0, nowMs - this.#refilledAtMs) / 1000;
    this.#tokens = Math.min(this.limit.burst, this.#tokens + elapsedSeconds * this.limit.requestsPerSecond);
    this.#refilledAtMs = nowMs;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return { allowed: true };
    }
    // Retry-After carries whole seconds (RFC 9110); rounding up never invites a request that would fail.
    const retryAfterSeconds = Math.max(1, Math.ceil((1 - this.#tokens) / this.limit.requestsPerSecond));
    return { allowed: false, retryAfterSeconds };
  }
}

const CursorSchema = z.object({
  v: z.literal(1),
  t: z.int().check(z.minimum(0)),
  k: z.string().check(z.minLength(1), z.maxLength(400)),
});
type CursorPosition = { readonly updatedAtMs: number; readonly key: string };

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify({ v: 1, t: position.updatedAtMs, k: position.key })).toString(
    'base64url',
  );
}

function decodeCursor(text: string): CursorPosition | undefined {
  if (!/^[A-Za-z0-9_-]{1,700}$/.test(text)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const result = z.safeParse(CursorSchema, parsed);
  return result.success ? { updatedAtMs: result.data.t, key: result.data.k } : undefined;
}

const LimitSchema = z.pipe(
  z.string().check(z.regex(/^[0-9]{1,7}$/, `must be a whole number from 1 to ${MAX_PAGE_SIZE}`)),
  z.transform(Number),
);
const QuerySchema = z.object({
  limit: z.optional(z.pipe(LimitSchema, z.number().check(z.minimum(1), z.maximum(MAX_PAGE_SIZE)))),
  updated_after: z.optional(IsoInstantSchema),
  cursor: z.optional(z.string()),
  /** Only this property's records, as providers that page per property offer. */
  property_id: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
});

/** Index of the first entry for which `isAfter` holds; entries are sorted so that it holds for a suffix. */
function firstIndexWhere(
  entries: readonly IndexedNight[],
  isAfter: (entry: IndexedNight) => boolean,
): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (isAfter(entries[middle] as IndexedNight)) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** Hashing both sides first makes the comparison constant-time whatever the lengths. */
function tokenMatches(presented: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const settings = parseSettings(SimulatorSettingsSchema, options, 'simulator options');
  const { dataset, random } = options;
  const clock = options.clock ?? systemClock;
  let faults: SimulatorFaults = settings.faults ?? {};
  let currentRateLimit = settings.rateLimit;
  let bucket = settings.rateLimit ? new TokenBucket(settings.rateLimit, clock) : undefined;
  const counters = {
    requests: 0,
    unauthorized: 0,
    badRequests: 0,
    rateLimited: 0,
    faults: 0,
    slow: 0,
    pagesServed: 0,
    recordsServed: 0,
  };
  const pendingDelays = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  let stopped = false;

  const delay = (ms: number) =>
    new Promise<void>((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          pendingDelays.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      pendingDelays.add(entry);
    });

  const propertyBuckets = new Map<string, TokenBucket>();
  /** Charges a request naming a property to that property's quota; answers 429 itself when it is spent. */
  const admitProperty = (propertyId: string, response: ServerResponse): boolean => {
    const perMinute = currentRateLimit?.perPropertyPerMinute;
    if (perMinute === undefined) return true;
    let propertyBucket = propertyBuckets.get(propertyId);
    if (!propertyBucket) {
      propertyBucket = new TokenBucket(
        { requestsPerSecond: perMinute / 60, burst: currentRateLimit?.perPropertyBurst ?? perMinute },
        clock,
      );
      propertyBuckets.set(propertyId, propertyBucket);
    }
    const admission = propertyBucket.take();
    if (admission.allowed) return true;
    counters.rateLimited++;
    sendJson(
      response,
      429,
      {
        error: 'rate_limited',
        message: `Property ${propertyId} exceeded ${perMinute} requests a minute; retry after ${admission.retryAfterSeconds} s.`,
        retry_after_seconds: admission.retryAfterSeconds,
      },
      { 'retry-after': String(admission.retryAfterSeconds) },
    );
    return false;
  };

  const badRequest = (response: ServerResponse, message: string) => {
    counters.badRequests++;
    sendJson(response, 400, { error: 'bad_request', message });
  };

  const serveInventory = (url: URL, response: ServerResponse) => {
    const raw: Record<string, string> = {};
    for (const name of new Set(url.searchParams.keys())) {
      const values = url.searchParams.getAll(name);
      if (values.length > 1) {
        badRequest(response, `Query parameter ${name} was given ${values.length} times; give it once.`);
        return;
      }
      raw[name] = values[0] ?? '';
    }
    const query = z.safeParse(QuerySchema, raw);
    if (!query.success) {
      const problems = query.error.issues.map((issue) => `${formatPath(issue.path)} ${issue.message}`);
      badRequest(response, `Invalid query: ${problems.join('; ')}.`);
      return;
    }
    const propertyId = query.data.property_id;
    if (propertyId !== undefined && !admitProperty(propertyId, response)) return;
    const limit = query.data.limit ?? DEFAULT_PAGE_SIZE;
    const ordered = dataset.byUpdate(propertyId);
    let start = 0;
    if (query.data.updated_after !== undefined) {
      const afterMs = query.data.updated_after.getTime();
      start = firstIndexWhere(ordered, (entry) => entry.updatedAtMs >= afterMs);
    }
    if (query.data.cursor !== undefined) {
      const position = decodeCursor(query.data.cursor);
      if (!position) {
        badRequest(response, 'cursor is not one this API issued; pass next_cursor exactly as received.');
        return;
      }
      start = Math.max(
        start,
        firstIndexWhere(ordered, (entry) => compareUpdatePosition(entry, position) > 0),
      );
    }
    const page = ordered.slice(start, start + limit);
    const last = page.at(-1);
    const more = start + limit < ordered.length;
    const body: InventoryPage = {
      results: page.map((entry) => toPollingRecord(entry.night)),
      next_cursor: more && last ? encodeCursor(last) : null,
    };
    counters.pagesServed++;
    counters.recordsServed += page.length;
    sendJson(response, 200, body);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    counters.requests++;
    // Nothing here reads a body; draining it keeps the connection reusable.
    request.resume();
    const url = new URL(request.url ?? '/', 'http://simulator');
    if (url.pathname !== '/inventory') {
      sendJson(response, 404, {
        error: 'not_found',
        message: `No resource at ${url.pathname}; use /inventory.`,
      });
      return;
    }
    if (request.method !== 'GET') {
      sendJson(
        response,
        405,
        { error: 'method_not_allowed', message: `/inventory answers GET, not ${request.method}.` },
        { allow: 'GET' },
      );
      return;
    }
    const authorization = request.headers.authorization ?? '';
    const bearer = /^Bearer +(\S+)\s*$/i.exec(authorization);
    if (!bearer?.[1] || !tokenMatches(bearer[1], settings.token)) {
      counters.unauthorized++;
      sendJson(
        response,
        401,
        {
          error: 'unauthorized',
          message: 'Send the API token as "Authorization: Bearer <token>".',
        },
        { 'www-authenticate': 'Bearer realm="inventory"' },
      );
      return;
    }
    const admission = bucket?.take();
    if (admission && !admission.allowed) {
      counters.rateLimited++;
      sendJson(
        response,
        429,
        {
          error: 'rate_limited',
          message: `Request rate exceeded; retry after ${admission.retryAfterSeconds} s.`,
          retry_after_seconds: admission.retryAfterSeconds,
        },
        { 'retry-after': String(admission.retryAfterSeconds) },
      );
      return;
    }

    const { errorRate = 0, slowRate = 0, slowMs = 0 } = faults;
    const failStatus = errorRate > 0 && random() < errorRate ? (random() < 0.5 ? 500 : 503) : undefined;
    const slow = slowRate > 0 && random() < slowRate;
    if (slow) {
      counters.slow++;
      await delay(slowMs);
      // stop() cuts delays short and drops their connections: there is nobody left to answer.
      if (stopped || response.destroyed) return;
    }
    if (failStatus !== undefined) {
      counters.faults++;
      sendJson(
        response,
        failStatus,
        failStatus === 500
          ? { error: 'internal_error', message: 'Injected fault: the provider failed.' }
          : { error: 'unavailable', message: 'Injected fault: the provider is temporarily unavailable.' },
      );
      return;
    }
    serveInventory(url, response);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      // A simulator bug must surface as a failure the client sees, not as a hung request.
      if (!response.headersSent) {
        sendJson(response, 500, { error: 'simulator_error', message: String(error) });
      } else {
        response.destroy();
      }
    });
  });
  await listen(server, settings.port, settings.host);
  const { port } = server.address() as AddressInfo;

  let stopping: Promise<void> | undefined;
  return {
    url: `http://${settings.host}:${port}`,
    stop() {
      stopping ??= new Promise<void>((resolve, reject) => {
        stopped = true;
        for (const pending of pendingDelays) {
          clearTimeout(pending.timer);
          pending.resolve();
        }
        pendingDelays.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return stopping;
    },
    stats: () => ({ ...counters }),
    setFaults(next) {
      faults = next === undefined ? {} : parseSettings(SimulatorFaultsSchema, next, 'simulator faults');
    },
    setRateLimit(next) {
      currentRateLimit =
        next === undefined
          ? undefined
          : parseSettings(SimulatorRateLimitSchema, next, 'simulator rate limit');
      bucket = currentRateLimit ? new TokenBucket(currentRateLimit, clock) : undefined;
      propertyBuckets.clear();
    },
  };
}
