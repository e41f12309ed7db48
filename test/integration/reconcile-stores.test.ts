import { randomUUID } from 'node:crypto';
import {
  BatchWriteItemCommand,
  type BatchWriteItemCommandOutput,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DynamoDbCheckpointStore,
  DynamoDbCircuitStateStore,
} from '../../lambdas/reconcile/dynamodb-checkpoints';
import { fixedClock } from '../../lambdas/shared/clock';
import { InvalidCursorError } from '../../lambdas/shared/cursor';
import {
  PARITY_FINDINGS,
  RECONCILE_AUDIT,
  RECONCILE_CHECKPOINTS,
  type TableDefinition,
} from '../../lambdas/shared/topology';
import { DynamoDbAuditLog } from '../../lambdas/state/dynamodb-audit';
import { DynamoDbParityStore, InvalidParityQueryError } from '../../lambdas/state/dynamodb-parity';
import {
  InMemoryAuditLog,
  InMemoryCheckpointStore,
  InMemoryCircuitStateStore,
  InMemoryParityStore,
} from '../fakes/reconcile-memory';
import { auditLogContract, auditRecord } from '../ports/audit-log.contract';
import { checkpointStoreContract } from '../ports/checkpoint-store.contract';
import { circuitStateStoreContract } from '../ports/circuit-state-store.contract';
import { night, oneFinding, parityStoreContract } from '../ports/parity-store.contract';
import { type IsolatedTopology, provisionIsolated } from '../support/aws';

// Every instant and stay date lies years ahead: DynamoDB Local deletes items whose TTL has passed.
const NOW = '2031-01-01T00:00:00.000Z';
const DAY = 86_400;

function tableOf(definition: TableDefinition): string {
  const name = topology.tables[definition.id];
  if (name === undefined) throw new Error(`table ${definition.id} was not provisioned`);
  return name;
}

async function rawItem(definition: TableDefinition, key: Record<string, string>) {
  const { Item } = await topology.dynamodb.send(
    new GetItemCommand({
      TableName: tableOf(definition),
      Key: Object.fromEntries(Object.entries(key).map(([name, value]) => [name, { S: value }])),
      ConsistentRead: true,
    }),
  );
  return Item;
}

let topology: IsolatedTopology;

beforeAll(async () => {
  topology = await provisionIsolated();
});

// ---------------------------------------------------------------------------------------------- checkpoints

checkpointStoreContract(
  'DynamoDbCheckpointStore',
  () => new DynamoDbCheckpointStore(topology.dynamodb, tableOf(RECONCILE_CHECKPOINTS)),
);
checkpointStoreContract('InMemoryCheckpointStore', () => new InMemoryCheckpointStore());

describe('DynamoDbCheckpointStore items', () => {
  it('stores one item per source id, keyed by it', async () => {
    const store = new DynamoDbCheckpointStore(topology.dynamodb, tableOf(RECONCILE_CHECKPOINTS));
    const source = `src-${randomUUID()}`;
    await store.put(source, {
      watermark: '2031-01-01T01:00:00.000Z',
      lastFullPassAt: '2031-01-01T00:00:00.000Z',
    });
    expect(await rawItem(RECONCILE_CHECKPOINTS, { pk: source })).toEqual({
      pk: { S: source },
      watermark: { S: '2031-01-01T01:00:00.000Z' },
      lastFullPassAt: { S: '2031-01-01T00:00:00.000Z' },
    });
  });
});

circuitStateStoreContract(
  'DynamoDbCircuitStateStore',
  () => new DynamoDbCircuitStateStore(topology.dynamodb, tableOf(RECONCILE_CHECKPOINTS)),
);
circuitStateStoreContract('InMemoryCircuitStateStore', () => new InMemoryCircuitStateStore());

describe('DynamoDbCircuitStateStore items', () => {
  it('saves a breaker under its own key, next to the source checkpoint', async () => {
    const circuits = new DynamoDbCircuitStateStore(topology.dynamodb, tableOf(RECONCILE_CHECKPOINTS));
    const checkpoints = new DynamoDbCheckpointStore(topology.dynamodb, tableOf(RECONCILE_CHECKPOINTS));
    const source = `src-${randomUUID()}`;
    await checkpoints.put(source, { watermark: '2031-01-01T01:00:00.000Z' });
    await circuits.put(source, { state: 'open', failures: 5, openedAt: '2031-01-01T02:00:00.000Z' });
    expect(await checkpoints.get(source)).toEqual({ watermark: '2031-01-01T01:00:00.000Z' });
    expect(await rawItem(RECONCILE_CHECKPOINTS, { pk: `circuit#${source}` })).toEqual({
      pk: { S: `circuit#${source}` },
      state: { S: 'open' },
      failures: { N: '5' },
      openedAt: { S: '2031-01-01T02:00:00.000Z' },
    });
  });

  it('ignores an item it cannot read, so the breaker starts closed as if nothing was saved', async () => {
    const circuits = new DynamoDbCircuitStateStore(topology.dynamodb, tableOf(RECONCILE_CHECKPOINTS));
    const source = `src-${randomUUID()}`;
    await topology.dynamodb.send(
      new PutItemCommand({
        TableName: tableOf(RECONCILE_CHECKPOINTS),
        Item: { pk: { S: `circuit#${source}` }, state: { S: 'ajar' }, failures: { N: '1' } },
      }),
    );
    expect(await circuits.get(source)).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------------- audit

/** Passes every call through, but lets the test decide what DynamoDB "left unprocessed" of each BatchWriteItem. */
function throttlingClient(
  real: DynamoDBClient,
  unprocessedCount: (call: number, requested: number) => number,
): { client: DynamoDBClient; batchCalls: () => number } {
  let calls = 0;
  const client = {
    send: async (command: unknown) => {
      if (!(command instanceof BatchWriteItemCommand)) return real.send(command as never);
      calls += 1;
      const [table, requests = []] = Object.entries(command.input.RequestItems ?? {})[0] ?? [];
      const left = Math.min(requests.length, unprocessedCount(calls, requests.length));
      const written = requests.slice(0, requests.length - left);
      if (written.length > 0) {
        await real.send(new BatchWriteItemCommand({ RequestItems: { [table ?? '']: written } }));
      }
      const output: Partial<BatchWriteItemCommandOutput> = {
        UnprocessedItems: left > 0 ? { [table ?? '']: requests.slice(requests.length - left) } : {},
      };
      return output;
    },
  } as unknown as DynamoDBClient;
  return { client, batchCalls: () => calls };
}

const retentionDays = 90;
const auditLog = (client: DynamoDBClient = topology.dynamodb, clock = fixedClock(NOW)) =>
  new DynamoDbAuditLog(client, tableOf(RECONCILE_AUDIT), { retentionDays, clock, backoffMs: 1 });

auditLogContract('DynamoDbAuditLog', () => auditLog());
auditLogContract('InMemoryAuditLog', () => new InMemoryAuditLog());

describe('DynamoDbAuditLog items', () => {
  it('writes more than one batch of 25 and reads every record back with its expiry, in night then time order', async () => {
    const propertyId = `prop-${randomUUID()}`;
    const records = Array.from({ length: 60 }, (_, index) =>
      auditRecord(propertyId, `2031-02-${String((index % 4) + 1).padStart(2, '0')}`, index),
    );
    const audit = auditLog();
    await audit.append(records);

    const read = await audit.listProperty(propertyId, '2031-02-01', '2031-02-28');
    expect(read).toHaveLength(60);
    const expected = records.map((record) => ({
      ...record,
      expiresAt: Date.parse(record.at) / 1000 + retentionDays * DAY,
    }));
    expect(read).toEqual(expect.arrayContaining(expected));
    const dates = read.map((record) => record.key.date);
    expect(dates).toEqual([...dates].sort());
    for (const date of new Set(dates)) {
      const sameNight = read.filter((r) => r.key.date === date);
      for (const roomType of new Set(sameNight.map((r) => r.key.roomTypeId))) {
        const times = sameNight
          .filter((r) => r.key.roomTypeId === roomType && r.group === 'rate')
          .map((r) => r.at);
        expect(times).toEqual([...times].sort());
      }
    }
  });

  it('counts the retention from now when a record is appended after its own time', async () => {
    const propertyId = `prop-${randomUUID()}`;
    const record = auditRecord(propertyId, '2031-04-02', 0, { at: '2030-06-01T00:00:00.000Z' });
    await auditLog(topology.dynamodb, fixedClock(NOW)).append([record]);
    const [read] = await auditLog().listProperty(propertyId, '2031-04-02', '2031-04-02');
    expect(read?.expiresAt).toBe(Date.parse(NOW) / 1000 + retentionDays * DAY);
  });

  it('retries the items DynamoDB leaves unprocessed until all are written', async () => {
    const propertyId = `prop-${randomUUID()}`;
    // Each chunk's first attempt leaves 20 of its items; the retry writes them.
    const { client, batchCalls } = throttlingClient(topology.dynamodb, (call) => (call % 2 === 1 ? 20 : 0));
    const records = Array.from({ length: 30 }, (_, index) => auditRecord(propertyId, '2031-05-01', index));
    await auditLog(client).append(records);
    expect(batchCalls()).toBe(4);
    expect(await auditLog().listProperty(propertyId, '2031-05-01', '2031-05-01')).toHaveLength(30);
  });

  it('gives up after its attempts, saying how many records were not written', async () => {
    const propertyId = `prop-${randomUUID()}`;
    // The first chunk of 25 goes through; the second is always left with 3 unprocessed.
    const { client, batchCalls } = throttlingClient(topology.dynamodb, (call) => (call === 1 ? 0 : 3));
    const audit = new DynamoDbAuditLog(client, tableOf(RECONCILE_AUDIT), {
      retentionDays,
      clock: fixedClock(NOW),
      maxAttempts: 3,
      backoffMs: 1,
    });
    const records = Array.from({ length: 30 }, (_, index) => auditRecord(propertyId, '2031-05-02', index));
    await expect(audit.append(records)).rejects.toThrow(/^3 of 30 audit records were not written/);
    expect(batchCalls()).toBe(1 + 3);
    expect(await auditLog().listProperty(propertyId, '2031-05-02', '2031-05-02')).toHaveLength(27);
  });
});

// --------------------------------------------------------------------------------------------------- parity

parityStoreContract(
  'DynamoDbParityStore',
  () => new DynamoDbParityStore(topology.dynamodb, tableOf(PARITY_FINDINGS)),
);
parityStoreContract('InMemoryParityStore', () => new InMemoryParityStore());

describe('DynamoDbParityStore items', () => {
  const store = (days?: number) =>
    new DynamoDbParityStore(
      topology.dynamodb,
      tableOf(PARITY_FINDINGS),
      days === undefined ? {} : { expireDaysAfterStay: days },
    );

  it('keys a night by property and encoded date#roomType#ratePlan, expiring 30 days after the stay date', async () => {
    const propertyId = `prop-${randomUUID()}`;
    await store().putNight(
      night(propertyId, '2031-10-01', oneFinding, { roomTypeId: 'a#b', ratePlanId: 'c d' }),
    );
    const item = await rawItem(PARITY_FINDINGS, { pk: propertyId, sk: '2031-10-01#a%23b#c%20d' });
    expect(item?.expiresAt).toEqual({ N: String(Date.parse('2031-10-31T00:00:00Z') / 1000) });
    expect(item?.findings?.S).toEqual(expect.any(String));
  });

  it('takes the expiry from its options', async () => {
    const propertyId = `prop-${randomUUID()}`;
    await store(2).putNight(night(propertyId, '2031-10-30', oneFinding));
    const item = await rawItem(PARITY_FINDINGS, { pk: propertyId, sk: '2031-10-30#dbl#bar' });
    expect(item?.expiresAt).toEqual({ N: String(Date.parse('2031-11-01T00:00:00Z') / 1000) });
  });

  it('deletes the item of a night that became clean', async () => {
    const propertyId = `prop-${randomUUID()}`;
    await store().putNight(night(propertyId, '2031-10-02', oneFinding));
    await store().putNight(night(propertyId, '2031-10-02', () => []));
    expect(await rawItem(PARITY_FINDINGS, { pk: propertyId, sk: '2031-10-02#dbl#bar' })).toBeUndefined();
  });

  it('refuses a cursor of another property or outside the range, and a bad query', async () => {
    const [propertyId, other] = [`prop-${randomUUID()}`, `prop-${randomUUID()}`];
    for (const date of ['2031-11-01', '2031-11-02', '2031-11-03']) {
      await store().putNight(night(propertyId, date, oneFinding));
    }
    const { cursor } = await store().list({ propertyId, from: '2031-11-01', to: '2031-11-30', limit: 1 });
    expect(cursor).toEqual(expect.any(String));
    const query = { propertyId, from: '2031-11-01', to: '2031-11-30', limit: 1, cursor: cursor ?? '' };
    await expect(store().list({ ...query, propertyId: other })).rejects.toThrow(InvalidCursorError);
    await expect(store().list({ ...query, from: '2031-11-02' })).rejects.toThrow(InvalidCursorError);
    await expect(store().list({ ...query, cursor: 'not a cursor' })).rejects.toThrow(InvalidCursorError);
    await expect(store().list({ ...query, from: '2031-11-31' })).rejects.toThrow(InvalidParityQueryError);
    await expect(store().list({ ...query, from: '2031-12-01' })).rejects.toThrow(/runs backwards/);
    await expect(store().list({ ...query, limit: 0 })).rejects.toThrow(InvalidParityQueryError);
  });
});
