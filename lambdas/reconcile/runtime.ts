import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { PollingOptions, RateLimit } from '../config/reconcile-options';
import type { ParitySyncConfig, PollingSourceConfig, PropertySettings } from '../config/schema';
import type { SecretResolver } from '../config/secrets';
import { sourceOfChannel } from '../domain/channel';
import { decideAvailability } from '../domain/inventory';
import { type Clock, systemClock } from '../shared/clock';
import { DynamoDbAriStore } from '../state/dynamodb-ari-store';
import { DynamoDbAuditLog } from '../state/dynamodb-audit';
import { DynamoDbMappingStore } from '../state/dynamodb-mappings';
import { DynamoDbParityStore } from '../state/dynamodb-parity';
import { MappingResolver } from '../state/resolver';
import type { DriftDependencies } from './drift';
import { DynamoDbCheckpointStore, DynamoDbCircuitStateStore } from './dynamodb-checkpoints';
import { DynamoDbRateGate } from './dynamodb-rate-gate';
import { type FetchLike, PollingClient } from './polling-client';
import { InProcessRateGate, type RateGate } from './rate-limit';
import type { ReconcileDependencies, SourceClient } from './service';

export interface ReconcileTables {
  readonly ari: string;
  readonly mappings: string;
  readonly checkpoints: string;
  readonly audit: string;
  readonly parity: string;
}

export interface ReconcileRuntimeOptions {
  readonly config: ParitySyncConfig;
  readonly tables: ReconcileTables;
  readonly dynamodb: DynamoDBClient;
  /** Resolves polling tokens: Secrets Manager (cached) in AWS, values or variables locally. */
  readonly secrets: Pick<SecretResolver, 'resolve'>;
  readonly clock?: Clock;
  readonly fetch?: FetchLike;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly newRunId?: () => string;
  /**
   * Keep each source's rate limit in the checkpoints table, so that every worker polling the source draws from
   * the same quota; otherwise it is kept in this process, which holds only while one worker polls at a time.
   */
  readonly sharedRateLimits?: boolean;
}

export type ReconcileRuntime = (onProgress?: ReconcileDependencies['onProgress']) => ReconcileDependencies;

/**
 * Builds the reconciliation's real dependencies once (per Lambda container, or per local runtime) and hands out
 * a dependency set per run. Polling clients are kept per source across runs, so that a provider's rate limit
 * and circuit breaker outlive a single run: a breaker opened by one run still protects the provider in the
 * next, as long as the container lives.
 */
export function createReconcileRuntime(options: ReconcileRuntimeOptions): ReconcileRuntime {
  const { config, tables, dynamodb } = options;
  const clock = options.clock ?? systemClock;
  const fetchLike: FetchLike = options.fetch ?? ((url, init) => fetch(url, init));
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms)));
  const random = options.random ?? Math.random;
  const clients = new Map<string, SourceClient>();
  const resolver = new MappingResolver(
    new DynamoDbMappingStore(dynamodb, tables.mappings),
    config.mappings,
    clock,
  );
  const ari = new DynamoDbAriStore(dynamodb, tables.ari);
  const audit = new DynamoDbAuditLog(dynamodb, tables.audit, {
    retentionDays: config.reconciliation.auditRetentionDays,
    clock,
  });
  const checkpoints = new DynamoDbCheckpointStore(dynamodb, tables.checkpoints);
  const circuits = new DynamoDbCircuitStateStore(dynamodb, tables.checkpoints);
  const parity = new DynamoDbParityStore(dynamodb, tables.parity);
  const availabilityFor = availabilityPolicy(config.properties);

  const rateGateFor = (limits: RateLimit): RateGate =>
    options.sharedRateLimits
      ? new DynamoDbRateGate(dynamodb, tables.checkpoints, limits, { clock, sleep, random })
      : new InProcessRateGate(limits, clock);

  const clientFor: ReconcileDependencies['clientFor'] = (source) => {
    let entry = clients.get(source.id);
    if (!entry) {
      const { token } = source.polling;
      const client = new PollingClient(pollingOptionsOf(source.polling), {
        sourceId: source.id,
        fetch: fetchLike,
        clock,
        sleep,
        random,
        token: () => options.secrets.resolve(token),
        rateGate: rateGateFor(source.polling.rateLimit),
      });
      entry = { client, circuitState: () => client.breaker.state, breaker: client.breaker };
      clients.set(source.id, entry);
    }
    return entry;
  };

  return (onProgress) => ({
    config,
    clientFor,
    resolver,
    ari,
    audit,
    checkpoints,
    circuits,
    parity,
    clock,
    newRunId: options.newRunId ?? (() => randomUUID()),
    availabilityFor,
    ...(onProgress ? { onProgress } : {}),
  });
}

/** The client's part of a polling block; the rest are run options. Picked by name: the client schema is strict. */
function pollingOptionsOf(polling: PollingSourceConfig): PollingOptions {
  const { baseUrl, pageSize, rateLimit, maxAttempts, backoff, requestTimeoutMs, breaker } = polling;
  return { baseUrl, pageSize, rateLimit, maxAttempts, backoff, requestTimeoutMs, breaker };
}

/**
 * A correction obeys the same inventory constraints as a webhook: the provider's availability is capped by
 * physical rooms and allotments, and a property whose policy rejects over-allotment keeps its value.
 */
function availabilityPolicy(properties: readonly PropertySettings[]): DriftDependencies['availabilityFor'] {
  const settings = new Map(properties.map((property) => [property.propertyId, property]));
  return (key, requested) => {
    const decision = decideAvailability(
      requested,
      settings.get(key.propertyId),
      key.roomTypeId,
      key.channel,
      sourceOfChannel(key.channel),
    );
    return 'allowed' in decision ? decision.allowed : undefined;
  };
}
