import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ParitySyncConfig } from '../../lambdas/config/schema';
import type { Page } from '../../lambdas/domain/page';
import { compareVersions } from '../../lambdas/domain/state';
import type { CircuitSnapshot } from '../../lambdas/reconcile/circuit-breaker';
import type { CircuitStateStore } from '../../lambdas/reconcile/dynamodb-checkpoints';
import type { FetchLike } from '../../lambdas/reconcile/polling-client';
import type { Checkpoint, CheckpointStore } from '../../lambdas/reconcile/run';
import { createReconcileRuntime, type ReconcileRuntime } from '../../lambdas/reconcile/runtime';
import type { Clock } from '../../lambdas/shared/clock';
import { encodeCursor } from '../../lambdas/shared/cursor';
import type { AuditLog, AuditQuery, AuditReader, AuditRecord } from '../../lambdas/state/audit';
import { auditSortKey, InvalidAuditQueryError } from '../../lambdas/state/dynamodb-audit';
import { paritySortKey } from '../../lambdas/state/dynamodb-parity';
import { nightRange } from '../../lambdas/state/night-range';
import type { ParityQuery, ParityRecord, ParityStore } from '../../lambdas/state/ports';
import { InMemoryAriStore } from './apply-memory';

// In-memory reconciliation ports, each passing the contract suite of its DynamoDB store (test/ports).

/**
 * The audit as DynamoDbAuditLog keeps it (test/ports/audit-log.contract.ts): under the same sort key, so that an
 * identical record appended again is kept once and a listing comes in the table's order, pages and cursors
 * included; `before` and `after` go through JSON as they do into the table. It keeps no expiry.
 */
export class InMemoryAuditLog implements AuditLog, AuditReader {
  /** By `<propertyId>\n<sort key>`, in the order first appended. */
  private readonly kept = new Map<string, { readonly sk: string; readonly record: AuditRecord }>();

  /** Every record kept, in the order first appended. */
  get records(): AuditRecord[] {
    return [...this.kept.values()].map(({ record }) => structuredClone(record));
  }

  async append(records: readonly AuditRecord[]): Promise<void> {
    const stored = records.map((record) => {
      if (Number.isNaN(Date.parse(record.at))) {
        throw new Error(
          `Audit record of run ${record.runId} has "at" ${JSON.stringify(record.at)}; expected ISO-8601.`,
        );
      }
      return { sk: auditSortKey(record), record: throughJson(record) };
    });
    for (const entry of stored) this.kept.set(`${entry.record.key.propertyId}\n${entry.sk}`, entry);
  }

  async list(query: AuditQuery): Promise<Page<AuditRecord>> {
    const { range, startKey } = nightRange(
      query.propertyId,
      query,
      (message) => new InvalidAuditQueryError(message),
    );
    const after = startKey?.sk?.S;
    const matching = [...this.kept.values()]
      .filter(({ record }) => record.key.propertyId === query.propertyId)
      .filter(({ sk }) => compareVersions(sk, range.lower) >= 0 && compareVersions(sk, range.upper) <= 0)
      .filter(({ sk }) => after === undefined || compareVersions(sk, after) > 0)
      .filter(({ record }) => query.action === undefined || record.action === query.action)
      .sort((a, b) => compareVersions(a.sk, b.sk));
    const page = matching.slice(0, query.limit);
    const items = page.map(({ record }) => structuredClone(record));
    const last = page.at(-1);
    return matching.length > query.limit && last !== undefined
      ? { items, cursor: encodeCursor({ pk: query.propertyId, sk: last.sk }) }
      : { items };
  }
}

/** The record as the table gives it back: `before` and `after` parsed from their JSON, absent when undefined. */
function throughJson(record: AuditRecord): AuditRecord {
  const { before, after, ...rest } = record;
  const copy = (value: unknown) => {
    const json = value === undefined ? undefined : JSON.stringify(value);
    return json === undefined ? undefined : JSON.parse(json);
  };
  const storedBefore = copy(before);
  return {
    ...structuredClone(rest),
    after: copy(after),
    ...(storedBefore === undefined ? {} : { before: storedBefore }),
  };
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

/** As DynamoDbCircuitStateStore (test/ports/circuit-state-store.contract.ts): a copy in, a copy out. */
export class InMemoryCircuitStateStore implements CircuitStateStore {
  readonly saved = new Map<string, CircuitSnapshot>();
  async get(sourceId: string) {
    const snapshot = this.saved.get(sourceId);
    return snapshot === undefined ? undefined : { ...snapshot };
  }
  async put(sourceId: string, snapshot: CircuitSnapshot) {
    this.saved.set(sourceId, { ...snapshot });
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
