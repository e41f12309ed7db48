import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ParitySyncConfig } from '../../lambdas/config/schema';
import type { Page } from '../../lambdas/domain/page';
import { compareVersions } from '../../lambdas/domain/state';
import type { CircuitSnapshot } from '../../lambdas/reconcile/circuit-breaker';
import type { CircuitStateStore } from '../../lambdas/reconcile/dynamodb-checkpoints';
import type { FetchLike } from '../../lambdas/reconcile/polling-client';
import type { AuditLog, AuditRecord } from '../../lambdas/reconcile/ports';
import type { Checkpoint, CheckpointStore } from '../../lambdas/reconcile/run';
import { createReconcileRuntime, type ReconcileRuntime } from '../../lambdas/reconcile/runtime';
import type { Clock } from '../../lambdas/shared/clock';
import { paritySortKey } from '../../lambdas/state/dynamodb-parity';
import type { ParityQuery, ParityRecord, ParityStore } from '../../lambdas/state/ports';
import { InMemoryAriStore } from './apply-memory';

/** In-memory reconciliation ports with the contracts described in lambdas/reconcile/ports.ts and run.ts. */
export class InMemoryAuditLog implements AuditLog {
  readonly records: AuditRecord[] = [];
  async append(records: readonly AuditRecord[]): Promise<void> {
    this.records.push(...records);
  }
}

/** Like the DynamoDB store, `put` replaces the whole checkpoint. */
export class InMemoryCheckpointStore implements CheckpointStore {
  readonly saved = new Map<string, Checkpoint>();
  async get(sourceId: string): Promise<Checkpoint | undefined> {
    return this.saved.get(sourceId);
  }
  async put(sourceId: string, checkpoint: Checkpoint): Promise<void> {
    this.saved.set(sourceId, checkpoint);
  }
}

/**
 * Behaves as DynamoDbParityStore does: a night put with no findings is removed, nights are listed in the same
 * sort-key order (date, then room type, then rate plan), and the cursor is the sort key of the last night
 * returned, handed out only when another night follows.
 */
export class InMemoryParityStore implements ParityStore {
  /** Nights with findings, by property and then sort key. */
  readonly nights = new Map<string, Map<string, ParityRecord>>();
  puts = 0;

  async putNight(record: ParityRecord): Promise<void> {
    this.puts += 1;
    const property = this.nights.get(record.key.propertyId) ?? new Map<string, ParityRecord>();
    const sk = paritySortKey(record.key);
    if (record.findings.length === 0) property.delete(sk);
    else property.set(sk, record);
    this.nights.set(record.key.propertyId, property);
  }

  async list(query: ParityQuery): Promise<Page<ParityRecord>> {
    const property = this.nights.get(query.propertyId) ?? new Map<string, ParityRecord>();
    const matching = [...property.entries()]
      .filter(([, record]) => record.key.date >= query.from && record.key.date <= query.to)
      .filter(([sk]) => query.cursor === undefined || compareVersions(sk, query.cursor) > 0)
      .sort(([a], [b]) => compareVersions(a, b));
    const page = matching.slice(0, query.limit);
    const last = page.at(-1);
    const items = page.map(([, record]) => record);
    return matching.length > query.limit && last !== undefined ? { items, cursor: last[0] } : { items };
  }
}

export class InMemoryCircuitStateStore implements CircuitStateStore {
  readonly saved = new Map<string, CircuitSnapshot>();
  async get(sourceId: string) {
    return this.saved.get(sourceId);
  }
  async put(sourceId: string, snapshot: CircuitSnapshot) {
    this.saved.set(sourceId, snapshot);
  }
}

export interface ReconcileStores {
  readonly ari: InMemoryAriStore;
  readonly audit: InMemoryAuditLog;
  readonly checkpoints: InMemoryCheckpointStore;
  readonly circuits: InMemoryCircuitStateStore;
  readonly parity: InMemoryParityStore;
}

/** Reconciliation's stores in memory: fresh ones, except those given, which a test keeps across runs. */
export function reconcileStores(kept: Partial<ReconcileStores> = {}): ReconcileStores {
  return {
    ari: kept.ari ?? new InMemoryAriStore(),
    audit: kept.audit ?? new InMemoryAuditLog(),
    checkpoints: kept.checkpoints ?? new InMemoryCheckpointStore(),
    circuits: kept.circuits ?? new InMemoryCircuitStateStore(),
    parity: kept.parity ?? new InMemoryParityStore(),
  };
}

/**
 * The real reconciliation runtime (its polling clients, breakers and token handling) for tests that replace its
 * stores with in-memory ones: the DynamoDB client points at a closed port, so a store left in place fails loudly.
 */
export function offlineReconcileRuntime(options: {
  readonly config: ParitySyncConfig;
  /** @default global fetch */
  readonly fetch?: FetchLike;
  readonly clock: Clock;
  /** @default the runtime's random ids */
  readonly newRunId?: () => string;
  /** @default no wait at all: pacing and backoff are only counted */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default 0.5, so that jitter is the same every run */
  readonly random?: () => number;
}): ReconcileRuntime {
  return createReconcileRuntime({
    config: options.config,
    tables: {
      ari: 'ari',
      mappings: 'mappings',
      checkpoints: 'checkpoints',
      audit: 'audit',
      parity: 'parity',
    },
    dynamodb: new DynamoDBClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' },
    }),
    secrets: {
      resolve: async (ref) => {
        if ('value' in ref) return ref.value;
        throw new Error('only value references are configured here');
      },
    },
    clock: options.clock,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    sleep: options.sleep ?? (async () => undefined),
    random: options.random ?? (() => 0.5),
    ...(options.newRunId ? { newRunId: options.newRunId } : {}),
  });
}
