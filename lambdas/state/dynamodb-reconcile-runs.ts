import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  paginateQuery,
  QueryCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { Page } from '../domain/page';
import { compareVersions } from '../domain/state';
import { decodeCursor, InvalidCursorError, pageOf } from '../shared/cursor';
import {
  allItems,
  conditionHeld,
  DynamoDbTable,
  firstItems,
  type Item,
  isConditionalCheckFailure,
  keyPart,
  requiredString,
  retentionSeconds,
} from '../shared/dynamodb';
import { UnavailableError } from '../shared/errors';
import { RECONCILE_RUNS_BY_TIME } from '../shared/topology';
import {
  type ClaimOutcome,
  DRIFT_FIGURES,
  type DriftFigures,
  type ItemOutcome,
  PARITY_FIGURES,
  type ParityFigures,
  type ParitySweepPlan,
  type PropertyDrift,
  type ReconcileRunStore,
  type RunDetail,
  type RunPlan,
  type RunQuery,
  type RunSummary,
  type SourceFigures,
  type WorkItem,
  type WorkItemRecord,
} from './reconcile-runs';

const HEADER_SK = 'run';
const ALL_RUNS = 'all';
const SWEEP_KEY = { pk: { S: 'sweep#parity' }, sk: { S: 'sweep' } };
const CURSOR_KEY = ['pk', 'sk', 'runScope', 'runAt'] as const;
const ITEM_KIND = 'Reconcile run log';

export interface DynamoDbReconcileRunStoreOptions {
  /** Days a run's records are kept, counted from its start. */
  readonly retentionDays: number;
}

/**
 * The run log in the RECONCILE_RUN_LOG table (see lambdas/shared/topology.ts for its layout). A run's figures are
 * numbers that each finishing item ADDs to, in the same transaction that ends the item: the condition on the
 * item's claim is what keeps a redelivered item from adding twice.
 */
export class DynamoDbReconcileRunStore extends DynamoDbTable implements ReconcileRunStore {
  readonly #retentionSeconds: number;

  constructor(client: DynamoDBClient, tableName: string, options: DynamoDbReconcileRunStoreOptions) {
    super(client, tableName);
    this.#retentionSeconds = retentionSeconds(options.retentionDays);
  }

  async create(plan: RunPlan): Promise<boolean> {
    const { Item: existing } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: headerKey(plan.runId), ConsistentRead: true }),
    );
    if (existing !== undefined) return false;
    const expiresAt = { N: String(this.#expiresAt(plan.startedAt)) };
    const runAt = { S: `${plan.startedAt}#${plan.runId}` };
    const fixed: Item = {
      runId: { S: plan.runId },
      trigger: { S: plan.trigger },
      startedAt: { S: plan.startedAt },
      dryRun: { BOOL: plan.dryRun },
      thresholdPercent: { N: String(plan.thresholdPercent) },
      runAt,
      expiresAt,
    };
    const perSource = new Map<string, number>();
    let parityPlanned = 0;
    for (const item of plan.items) {
      if (item.kind === 'drift') perSource.set(item.sourceId, (perSource.get(item.sourceId) ?? 0) + 1);
      else parityPlanned += 1;
    }
    // Sources first: the header is what makes the run exist, so a planner that dies between the two leaves
    // nothing a retry would refuse to write again.
    const sources: WriteRequest[] = [...perSource].map(([sourceId, planned]) => ({
      PutRequest: {
        Item: {
          ...sourceKey(plan.runId, sourceId),
          ...fixed,
          sourceId: { S: sourceId },
          runScope: { S: sourceScope(sourceId) },
          ...numbers({ planned, done: 0, failed: 0 }),
          ...numbers(Object.fromEntries(DRIFT_FIGURES.map((name) => [name, 0]))),
        },
      },
    }));
    await this.batchWriteAll(sources, {
      maxAttempts: UNPROCESSED_TRIES,
      backoffMs: 50,
      giveUp: (unprocessed) =>
        new UnavailableError(
          'run_log_unavailable',
          `Recording run ${plan.runId}: DynamoDB returned ${unprocessed} source rows unprocessed after ` +
            `${UNPROCESSED_TRIES} attempts (throttling). Planning the run again is safe.`,
        ),
    });
    return conditionHeld(
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            ...headerKey(plan.runId),
            ...fixed,
            runScope: { S: ALL_RUNS },
            runStatus: { S: 'running' },
            ...numbers({
              planned: plan.items.length,
              done: 0,
              failed: 0,
              remaining: plan.items.length,
              driftRemaining: plan.items.length - parityPlanned,
              parityPlanned,
              parityDone: 0,
              parityFailed: 0,
            }),
            ...numbers(Object.fromEntries(PARITY_FIGURES.map((name) => [name, 0]))),
            ...(plan.parity === undefined
              ? {}
              : {
                  parityPropertyIds: { L: plan.parity.propertyIds.map((id) => ({ S: id })) },
                  parityFrom: { S: plan.parity.from },
                  parityHorizonDays: { N: String(plan.parity.horizonDays) },
                }),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async claim(item: WorkItem, attempt: string, claimedAt: string, leaseUntil: string): Promise<ClaimOutcome> {
    const sets: Record<string, AttributeValue> = {
      itemStatus: { S: 'running' },
      attempt: { S: attempt },
      claimedAt: { S: claimedAt },
      leaseUntil: { S: leaseUntil },
      kind: { S: item.kind },
      expiresAt: { N: String(this.#expiresAt(claimedAt)) },
    };
    if (item.kind === 'drift') sets.sourceId = { S: item.sourceId };
    if (item.propertyId !== undefined) sets.propertyId = { S: item.propertyId };
    const names = Object.keys(sets);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: itemKey(item),
          UpdateExpression: `SET ${names.map((_, i) => `#s${i} = :s${i}`).join(', ')}`,
          ConditionExpression: 'attribute_not_exists(sk) OR (#status = :running AND #lease < :claimedAt)',
          ExpressionAttributeNames: {
            ...Object.fromEntries(names.map((name, i) => [`#s${i}`, name])),
            '#status': 'itemStatus',
            '#lease': 'leaseUntil',
          },
          ExpressionAttributeValues: {
            ...Object.fromEntries(names.map((name, i) => [`:s${i}`, sets[name] as AttributeValue])),
            ':running': { S: 'running' },
            ':claimedAt': { S: claimedAt },
          },
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
    }
    const { Item: current } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: itemKey(item), ConsistentRead: true }),
    );
    return { claimed: false, reason: current?.itemStatus?.S === 'running' ? 'leased' : 'finished' };
  }

  finish(item: WorkItem, attempt: string, outcome: ItemOutcome): Promise<boolean> {
    return this.#end(item, outcome, 'itemStatus = :running AND attempt = :attempt', {
      ':running': { S: 'running' },
      ':attempt': { S: attempt },
    });
  }

  abandon(
    item: WorkItem,
    outcome: ItemOutcome & { readonly status: 'failed' },
    attempt?: string,
  ): Promise<boolean> {
    return this.#end(
      item,
      outcome,
      'attribute_not_exists(sk) OR (itemStatus = :running AND (leaseUntil < :now OR attempt = :attempt))',
      {
        ':running': { S: 'running' },
        ':now': { S: outcome.finishedAt },
        // No claim's attempt is empty: without one, only a lease that ran out lets the item go.
        ':attempt': { S: attempt ?? '' },
      },
    );
  }

  async #end(
    item: WorkItem,
    outcome: ItemOutcome,
    condition: string,
    conditionValues: Item,
  ): Promise<boolean> {
    const sets: Record<string, { S: string }> = {
      itemStatus: { S: outcome.status },
      finishedAt: { S: outcome.finishedAt },
      kind: { S: item.kind },
    };
    if (item.kind === 'drift') sets.sourceId = { S: item.sourceId };
    if (item.propertyId !== undefined) sets.propertyId = { S: item.propertyId };
    if (outcome.result !== undefined) sets.result = { S: outcome.result };
    if (outcome.status === 'failed') {
      sets.error = { S: outcome.error };
      sets.message = { S: outcome.message.slice(0, 2000) };
    } else if (outcome.drift) {
      sets.properties = { S: JSON.stringify(outcome.drift.properties) };
    }
    const names = Object.keys(sets);
    const ended = outcome.status === 'done' ? 'done' : 'failed';
    const header: Record<string, number> = { [ended]: 1, remaining: -1 };
    if (item.kind === 'drift') header.driftRemaining = -1;
    if (item.kind === 'parity') {
      header[ended === 'done' ? 'parityDone' : 'parityFailed'] = 1;
      const parity: ParityFigures | undefined = outcome.status === 'done' ? outcome.parity : undefined;
      for (const name of PARITY_FIGURES) header[name] = parity?.[name] ?? 0;
    }
    const writes: TransactWriteItem[] = [
      {
        Update: {
          TableName: this.tableName,
          Key: itemKey(item),
          // An item ended that no worker claimed (given up unsent, or dead-lettered before its claim) has no row
          // yet: it expires as a claimed one does, not never.
          UpdateExpression:
            `SET ${names.map((_name, i) => `#s${i} = :s${i}`).join(', ')}, ` +
            'expiresAt = if_not_exists(expiresAt, :expiresAt) REMOVE leaseUntil',
          ConditionExpression: condition,
          ExpressionAttributeNames: Object.fromEntries(names.map((name, i) => [`#s${i}`, name])),
          ExpressionAttributeValues: {
            ...conditionValues,
            ':expiresAt': { N: String(this.#expiresAt(outcome.finishedAt)) },
            ...Object.fromEntries(names.map((name, i) => [`:s${i}`, sets[name] as { S: string }])),
          },
        },
      },
      adding(this.tableName, headerKey(item.runId), header),
    ];
    if (item.kind === 'drift') {
      const drift: DriftFigures | undefined = outcome.status === 'done' ? outcome.drift?.figures : undefined;
      const source: Record<string, number> = { [ended]: 1 };
      for (const name of DRIFT_FIGURES) source[name] = drift?.[name] ?? 0;
      writes.push(adding(this.tableName, sourceKey(item.runId, item.sourceId), source));
    }
    // Every end adds to the run's header: workers ending items at once conflict, and the transaction is tried
    // again (its conditions are checked afresh, so a retry never counts an item twice).
    for (let tries = 1; ; tries++) {
      try {
        await this.client.send(new TransactWriteItemsCommand({ TransactItems: writes }));
        return true;
      } catch (error) {
        if (isCancelledByCondition(error)) return false;
        if (!isTransactionConflict(error) || tries >= END_TRIES) throw error;
        await new Promise((done) => setTimeout(done, Math.random() * 50 * 2 ** tries));
      }
    }
  }

  async parityDue(runId: string): Promise<ParitySweepPlan | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: headerKey(runId),
        ConsistentRead: true,
        ProjectionExpression:
          'parityPlanned, driftRemaining, paritySentAt, parityPropertyIds, parityFrom, parityHorizonDays',
      }),
    );
    if (Item === undefined || Item.paritySentAt !== undefined) return undefined;
    if (numberOf(Item, 'parityPlanned') <= 0 || numberOf(Item, 'driftRemaining') > 0) return undefined;
    return {
      propertyIds: (Item.parityPropertyIds?.L ?? []).map((id) => id.S ?? ''),
      from: requiredString(Item, 'parityFrom', ITEM_KIND),
      horizonDays: numberOf(Item, 'parityHorizonDays'),
    };
  }

  async markParitySent(runId: string, at: string): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: headerKey(runId),
        UpdateExpression: 'SET paritySentAt = if_not_exists(paritySentAt, :at)',
        ExpressionAttributeValues: { ':at': { S: at } },
      }),
    );
  }

  complete(runId: string, at: string): Promise<boolean> {
    return conditionHeld(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: headerKey(runId),
          UpdateExpression: 'SET runStatus = :complete, completedAt = :at',
          ConditionExpression: 'runStatus = :running AND remaining <= :none',
          ExpressionAttributeValues: {
            ':complete': { S: 'complete' },
            ':running': { S: 'running' },
            ':at': { S: at },
            ':none': { N: '0' },
          },
        }),
      ),
    );
  }

  async get(runId: string): Promise<RunDetail | undefined> {
    const items = await allItems(
      paginateQuery(
        { client: this.client },
        {
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: runPk(runId) } },
          ConsistentRead: true,
        },
      ),
    );
    const header = items.find((item) => item.sk?.S === HEADER_SK);
    if (header === undefined) return undefined;
    const sources = items.filter((item) => item.sk?.S?.startsWith('source#')).map(sourceOf);
    return {
      ...summaryOf(header, sources),
      items: items.filter((item) => item.sk?.S?.startsWith('item#')).map(workItemOf),
    };
  }

  async list(query: RunQuery): Promise<Page<RunSummary>> {
    const scope = query.sourceId === undefined ? ALL_RUNS : sourceScope(query.sourceId);
    const start =
      query.cursor === undefined ? undefined : startKey(query.cursor, scope, query.from, query.to);
    const found = await firstItems(
      paginateQuery(
        { client: this.client, pageSize: query.limit + 1 },
        {
          TableName: this.tableName,
          IndexName: RECONCILE_RUNS_BY_TIME.indexName,
          KeyConditionExpression: 'runScope = :scope AND runAt BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':scope': { S: scope },
            ':from': { S: query.from },
            // Exclusive: every runAt starting with `to` itself sorts after the bare instant.
            ':to': { S: query.to },
          },
          ScanIndexForward: false,
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        },
      ),
      query.limit,
    );
    return pageOf(found, CURSOR_KEY, (item) =>
      query.sourceId === undefined ? summaryOf(item, []) : sourceRunOf(item),
    );
  }

  async latest(): Promise<RunSummary | undefined> {
    const { Items } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: RECONCILE_RUNS_BY_TIME.indexName,
        KeyConditionExpression: 'runScope = :scope',
        ExpressionAttributeValues: { ':scope': { S: ALL_RUNS } },
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    const [item] = Items ?? [];
    return item === undefined ? undefined : summaryOf(item, []);
  }

  takeParitySweep(at: string, dueBy: string): Promise<boolean> {
    return conditionHeld(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: SWEEP_KEY,
          UpdateExpression: 'SET lastAt = :at',
          ConditionExpression: 'attribute_not_exists(pk) OR lastAt <= :dueBy',
          ExpressionAttributeValues: { ':at': { S: at }, ':dueBy': { S: dueBy } },
        }),
      ),
    );
  }

  #expiresAt(from: string): number {
    const ms = Date.parse(from);
    return Math.floor((Number.isNaN(ms) ? Date.now() : ms) / 1000) + this.#retentionSeconds;
  }
}

function runPk(runId: string): string {
  return `run#${runId}`;
}

function headerKey(runId: string): Item {
  return { pk: { S: runPk(runId) }, sk: { S: HEADER_SK } };
}

function sourceKey(runId: string, sourceId: string): Item {
  return { pk: { S: runPk(runId) }, sk: { S: `source#${keyPart(sourceId)}` } };
}

function itemKey(item: WorkItem): Item {
  return { pk: { S: runPk(item.runId) }, sk: { S: `item#${keyPart(item.itemId)}` } };
}

function sourceScope(sourceId: string): string {
  return `source#${sourceId}`;
}

function numbers(values: Readonly<Record<string, number>>): Item {
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, { N: String(value) }]));
}

function adding(tableName: string, key: Item, values: Readonly<Record<string, number>>): TransactWriteItem {
  const names = Object.keys(values);
  return {
    Update: {
      TableName: tableName,
      Key: key,
      UpdateExpression: `ADD ${names.map((_, i) => `#a${i} :a${i}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(names.map((name, i) => [`#a${i}`, name])),
      ExpressionAttributeValues: Object.fromEntries(
        names.map((name, i) => [`:a${i}`, { N: String(values[name]) }]),
      ),
    },
  };
}

/** BatchWriteItem calls per chunk of a run's source rows while DynamoDB returns some unprocessed. */
const UNPROCESSED_TRIES = 8;

/** Tries of an item's end while other ends conflict with it on the run's header. */
const END_TRIES = 6;

/** Cancelled only because another transaction wrote the same items at the same time. */
function isTransactionConflict(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return false;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return (
    reasons.some((reason) => reason.Code === 'TransactionConflict') &&
    reasons.every((reason) => reason.Code === 'TransactionConflict' || reason.Code === 'None')
  );
}

/** A transaction DynamoDB cancelled because a condition did not hold (not for throttling or a conflict). */
function isCancelledByCondition(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return false;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  // Some emulators leave the reasons out; the message then names the check.
  return reasons.length === 0
    ? /ConditionalCheckFailed/.test(error.message)
    : reasons.some((reason) => reason.Code === 'ConditionalCheckFailed');
}

function numberOf(item: Item, name: string): number {
  const value = Number(item[name]?.N ?? '0');
  return Number.isFinite(value) ? value : 0;
}

function figuresOf<const N extends string>(item: Item, names: readonly N[]): Record<N, number> {
  return Object.fromEntries(names.map((name) => [name, numberOf(item, name)])) as Record<N, number>;
}

function countsOf(item: Item, prefix = '') {
  const name = (base: string) =>
    prefix === '' ? base : `${prefix}${base[0]?.toUpperCase()}${base.slice(1)}`;
  return {
    planned: numberOf(item, name('planned')),
    done: numberOf(item, name('done')),
    failed: numberOf(item, name('failed')),
  };
}

function sourceOf(item: Item): SourceFigures {
  return {
    sourceId: requiredString(item, 'sourceId', ITEM_KIND),
    ...countsOf(item),
    ...figuresOf(item, DRIFT_FIGURES),
  };
}

function summaryOf(item: Item, sources: readonly SourceFigures[]): RunSummary {
  const completedAt = item.completedAt?.S;
  return {
    runId: requiredString(item, 'runId', ITEM_KIND),
    status: item.runStatus?.S === 'complete' ? 'complete' : 'running',
    trigger: item.trigger?.S === 'schedule' ? 'schedule' : 'manual',
    startedAt: requiredString(item, 'startedAt', ITEM_KIND),
    ...(completedAt === undefined ? {} : { completedAt }),
    dryRun: item.dryRun?.BOOL ?? false,
    thresholdPercent: numberOf(item, 'thresholdPercent'),
    ...countsOf(item),
    parity: { ...countsOf(item, 'parity'), ...figuresOf(item, PARITY_FIGURES) },
    sources: [...sources].sort((a, b) => compareVersions(a.sourceId, b.sourceId)),
  };
}

/** A source's entry of the index, as a run that polled that source alone. */
function sourceRunOf(item: Item): RunSummary {
  const source = sourceOf(item);
  const ended = source.done + source.failed >= source.planned;
  return {
    ...summaryOf(item, [source]),
    status: ended ? 'complete' : 'running',
    planned: source.planned,
    done: source.done,
    failed: source.failed,
    parity: { planned: 0, done: 0, failed: 0, nightsChecked: 0, violations: 0, currencyMismatches: 0 },
  };
}

function workItemOf(item: Item): WorkItemRecord {
  const text = (name: string) => item[name]?.S;
  const status = text('itemStatus');
  const properties = text('properties');
  const optional = {
    sourceId: text('sourceId'),
    propertyId: text('propertyId'),
    finishedAt: text('finishedAt'),
    error: text('error'),
    message: text('message'),
    result: text('result'),
  };
  return {
    itemId: decodeURIComponent((item.sk?.S ?? '').slice('item#'.length)),
    kind: text('kind') === 'parity' ? 'parity' : 'drift',
    status: status === 'done' || status === 'failed' ? status : 'running',
    claimedAt: text('claimedAt') ?? '',
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)),
    ...(properties === undefined
      ? {}
      : { properties: JSON.parse(properties) as (PropertyDrift & { propertyId: string })[] }),
  };
}

function startKey(cursor: string, scope: string, from: string, to: string): Item {
  const key = decodeCursor(cursor, CURSOR_KEY);
  if (key.runScope !== scope) throw new InvalidCursorError('it belongs to another listing');
  if (compareVersions(key.runAt, from) < 0 || compareVersions(key.runAt, to) > 0) {
    throw new InvalidCursorError('it lies outside the requested time range');
  }
  return Object.fromEntries(CURSOR_KEY.map((name) => [name, { S: key[name] }]));
}
