import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { Backoff, RateLimit } from '../config/reconcile-options';
import type { Clock } from '../shared/clock';
import { DynamoDbTable, type Item, isConditionalCheckFailure } from '../shared/dynamodb';
import { ParitySyncError, StoreUnavailableError } from '../shared/errors';
import { fullJitterDelayMs } from './backoff';
import {
  type BucketState,
  checkBucketOptions,
  fullBucket,
  type RateBucket,
  type RateGate,
  rateBuckets,
  takeTokens,
  waitForTokens,
} from './rate-limit';

/** Another worker changed the bucket first on every attempt: the request was not reserved. */
export class RateLimitContendedError extends StoreUnavailableError {}

/** A bucket's item holds something this code did not write. */
export class InvalidRateLimitItemError extends ParitySyncError {}

export interface DynamoDbRateGateOptions {
  readonly clock: Clock;
  readonly sleep?: (ms: number) => Promise<void>;
  /** A value in [0, 1), like Math.random: spreads the retries of workers that collided. */
  readonly random?: () => number;
  /**
   * Writes tried per bucket while other workers keep changing it first: with the jittered gaps between them (up
   * to a second each), some twenty seconds of contention before the request fails. @default 40
   */
  readonly maxAttempts?: number;
}

const DEFAULT_MAX_ATTEMPTS = 40;
/**
 * A refused write already carries the bucket as it now is, so a retry needs no read, only a gap: jittered and
 * growing, so that workers that collided spread out instead of colliding again in step.
 */
// The cap outlasts a slow round trip (a busy store), so that colliding workers stop meeting in step.
const CONTENTION_BACKOFF: Backoff = { baseMs: 10, capMs: 1000 };

/** A bucket as its item holds it; `version` counts its writes and guards the next one. */
interface StoredBucket {
  readonly state: BucketState;
  readonly version: number;
}

/**
 * A provider's rate limit kept in a table, so that every worker polling the provider (each reconcile function
 * instance) draws from the same buckets. One item per bucket, under `bucket#["<source>"]` or
 * `bucket#["<source>","<property>"]`, holding `tokens`, `refilledAt` (epoch ms) and `version`.
 *
 * A reservation reads the bucket, computes it forward with the same arithmetic as the in-process TokenBucket
 * and writes it back on condition that `version` is still the one read, so two workers can never take the
 * same token: the loser's write is refused, with the bucket as the winner left it, and it computes again from
 * there. The bucket a worker last saw is remembered, so a `waitTime` right before `reserve` (as the polling
 * client does) makes the reservation one read and one conditional write per bucket.
 *
 * Items are kept in the checkpoints table: a key beginning with `bucket#` meets neither a checkpoint's (a
 * source id, which holds no "#") nor a circuit's (`circuit#…`).
 */
export class DynamoDbRateGate extends DynamoDbTable implements RateGate {
  readonly #limits: RateLimit;
  readonly #clock: Clock;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #maxAttempts: number;
  readonly #seen = new Map<string, StoredBucket | undefined>();

  constructor(
    client: DynamoDBClient,
    tableName: string,
    limits: RateLimit,
    options: DynamoDbRateGateOptions,
  ) {
    super(client, tableName);
    // Checked when built rather than at the first request: a bad limit is the configuration's fault, not a request's.
    checkBucketOptions({ capacity: limits.burst, refillPerSecond: limits.requestsPerSecond });
    if (limits.perPropertyPerMinute !== undefined) {
      checkBucketOptions({ capacity: 1, refillPerSecond: limits.perPropertyPerMinute / 60 });
    }
    this.#limits = limits;
    this.#clock = options.clock;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
    this.#maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  }

  async reserve(sourceId: string, propertyId?: string): Promise<number> {
    const waits = await Promise.all(
      rateBuckets(this.#limits, sourceId, propertyId).map((bucket) => this.#take(bucket)),
    );
    return Math.max(0, ...waits);
  }

  async waitTime(sourceId: string, propertyId?: string): Promise<number> {
    const buckets = rateBuckets(this.#limits, sourceId, propertyId);
    const stored = await Promise.all(buckets.map((bucket) => this.#read(bucket)));
    const nowMs = this.#clock.now().getTime();
    let wait = 0;
    buckets.forEach((bucket, index) => {
      const state = stored[index]?.state ?? fullBucket(bucket.options, nowMs);
      wait = Math.max(wait, waitForTokens(state, bucket.options, nowMs));
    });
    return wait;
  }

  async #take(bucket: RateBucket): Promise<number> {
    let seen = this.#seen.has(bucket.key) ? this.#seen.get(bucket.key) : await this.#read(bucket);
    for (let attempt = 1; ; attempt++) {
      const nowMs = this.#clock.now().getTime();
      const { state, waitMs } = takeTokens(
        seen?.state ?? fullBucket(bucket.options, nowMs),
        bucket.options,
        nowMs,
      );
      const next = { state, version: (seen?.version ?? 0) + 1 };
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: itemOf(bucket.key, next),
            ...(seen === undefined
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : {
                  ConditionExpression: '#version = :version',
                  ExpressionAttributeNames: { '#version': 'version' },
                  ExpressionAttributeValues: { ':version': { N: String(seen.version) } },
                }),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        this.#seen.set(bucket.key, next);
        return waitMs;
      } catch (error) {
        if (!isConditionalCheckFailure(error)) throw error;
        seen = error.Item === undefined ? undefined : storedBucket(error.Item, bucket, this.tableName);
        this.#seen.set(bucket.key, seen);
      }
      if (attempt >= this.#maxAttempts) {
        throw new RateLimitContendedError(
          'rate_limit_contended',
          `Could not reserve a request in the shared rate limit ${pkOf(bucket.key)} (table ${this.tableName}): ` +
            `other workers changed it first on each of ${attempt} attempts, so the request was not sent. If ` +
            'this recurs, let fewer workers poll the source at once.',
        );
      }
      await this.#sleep(fullJitterDelayMs(attempt - 1, CONTENTION_BACKOFF, this.#random));
    }
  }

  async #read(bucket: RateBucket): Promise<StoredBucket | undefined> {
    const item = await this.getItem(pkOf(bucket.key));
    const stored = item === undefined ? undefined : storedBucket(item, bucket, this.tableName);
    this.#seen.set(bucket.key, stored);
    return stored;
  }
}

function pkOf(key: string): string {
  return `bucket#${key}`;
}

function itemOf(key: string, stored: StoredBucket): Item {
  return {
    pk: { S: pkOf(key) },
    tokens: { N: String(stored.state.tokens) },
    refilledAt: { N: String(stored.state.refilledAtMs) },
    version: { N: String(stored.version) },
  };
}

function storedBucket(item: Item, bucket: RateBucket, tableName: string): StoredBucket {
  const tokens = Number(item.tokens?.N);
  const refilledAtMs = Number(item.refilledAt?.N);
  const version = Number(item.version?.N);
  if (!Number.isFinite(tokens) || !Number.isSafeInteger(refilledAtMs) || !Number.isSafeInteger(version)) {
    throw new InvalidRateLimitItemError(
      'rate_limit_item_invalid',
      `The rate-limit item ${pkOf(bucket.key)} in table ${tableName} has no numeric tokens, refilledAt and ` +
        `version (received ${JSON.stringify(item)}). Delete it: the bucket starts again full.`,
    );
  }
  // A bucket saved under a larger limit than today's holds no more than today's capacity.
  return { state: { tokens: Math.min(tokens, bucket.options.capacity), refilledAtMs }, version };
}
