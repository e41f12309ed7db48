import { randomUUID } from 'node:crypto';
import {
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { logIndexFor } from '../../lambdas/ledger/delivery-log';
import { DynamoDbDeliveryLedger } from '../../lambdas/ledger/dynamodb-ledger';
import type { LedgerEntry } from '../../lambdas/ledger/ports';
import { DELIVERY_LEDGER, DELIVERY_LOG_INDEXES } from '../../lambdas/shared/topology';
import { entryAt, LEASE_MS, redeliveryAt, T0 } from '../ports/delivery-ledger.contract';
import { emulatorEndpoints, type IsolatedTopology, provisionIsolated } from '../support/aws';

// The claim / confirm / release protocol and the settle transitions are the ports' contracts
// (test/ports, run in port-contracts.test.ts); these are what only the DynamoDB item shows.
describe('DynamoDbDeliveryLedger against DynamoDB Local', () => {
  let topology: IsolatedTopology;
  let ledger: DynamoDbDeliveryLedger;

  beforeAll(async () => {
    topology = await provisionIsolated();
    const tableName = topology.tables[DELIVERY_LEDGER.id];
    if (tableName === undefined) throw new Error('ledger table was not provisioned');
    ledger = new DynamoDbDeliveryLedger(topology.dynamodb, tableName);
  });

  it('stores the TTL attribute DynamoDB expires entries by, as a number', async () => {
    const entry = entryAt(T0);
    await ledger.claim(entry, T0);
    const { Item } = await topology.dynamodb.send(
      new GetItemCommand({
        TableName: topology.tables[DELIVERY_LEDGER.id],
        Key: { pk: { S: entry.eventId } },
        ConsistentRead: true,
      }),
    );
    expect(Item?.expiresAt).toEqual({ N: String(entry.expiresAt) });
    expect(Item?.pk).toEqual({ S: entry.eventId });
    const { TimeToLiveDescription } = await topology.dynamodb.send(
      new DescribeTimeToLiveCommand({ TableName: topology.tables[DELIVERY_LEDGER.id] }),
    );
    expect(TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
  });

  /** An event the edge has enqueued, as the apply pipeline finds it. */
  async function enqueued(): Promise<LedgerEntry> {
    const entry = entryAt(T0);
    await ledger.claim(entry, T0);
    await ledger.confirm(entry, 'enqueued', new Date(T0 + 50).toISOString(), 'msg-1');
    const stored = await ledger.get(entry.eventId);
    if (stored === undefined) throw new Error('the enqueued entry was not stored');
    return stored;
  }

  async function settledAt(eventId: string): Promise<string | undefined> {
    const { Item } = await topology.dynamodb.send(
      new GetItemCommand({
        TableName: topology.tables[DELIVERY_LEDGER.id],
        Key: { pk: { S: eventId } },
        ConsistentRead: true,
      }),
    );
    return Item?.settledAt?.S;
  }

  it('takes a claim it finds already in place as its own when the SDK retried a write whose answer was lost', async () => {
    const { dynamodbEndpoint } = emulatorEndpoints();
    const client = new DynamoDBClient({
      endpoint: dynamodbEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    let lost = 0;
    // Inside the SDK's retry loop: the first UpdateItem reaches DynamoDB, then its answer is lost on the way
    // back, as when the request timeout fires a moment too early.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === 'UpdateItemCommand' && lost === 0) {
          lost++;
          throw Object.assign(new Error('the answer was lost'), { name: 'TimeoutError' });
        }
        return result;
      },
      { step: 'deserialize', name: 'loseFirstAnswer' },
    );
    const retried = new DynamoDbDeliveryLedger(client, topology.tables[DELIVERY_LEDGER.id] as string);
    const entry = entryAt(T0);

    const outcome = await retried.claim(entry, T0);

    expect(lost).toBe(1);
    expect(outcome.outcome).toBe('claimed');
    expect(outcome.entry).toMatchObject({ eventId: entry.eventId, status: 'received', deliveryCount: 1 });
    // Anyone else's claim of the same event is still refused while the lease holds.
    expect((await ledger.claim(entryAt(T0 + 10, { eventId: entry.eventId }), T0 + 10)).outcome).toBe(
      'in_progress',
    );
  });

  it('settles an enqueued event as applied exactly once', async () => {
    const entry = await enqueued();
    const appliedAt = new Date(T0 + 1_000).toISOString();

    expect(await ledger.settle(entry, 'applied', appliedAt)).toBe(true);
    expect(await ledger.settle(entry, 'applied', new Date(T0 + 2_000).toISOString())).toBe(false);

    expect(await ledger.status(entry.eventId)).toBe('applied');
    expect(await ledger.get(entry.eventId)).toEqual({ ...entry, status: 'applied', updatedAt: appliedAt });
    expect(await settledAt(entry.eventId)).toBe(appliedAt);
  });

  it('settles a parked event as applied once its mapping arrives, dropping the parking reason', async () => {
    const entry = await enqueued();
    const parkedAt = new Date(T0 + 1_000).toISOString();
    const appliedAt = new Date(T0 + 60_000).toISOString();

    expect(await ledger.settle(entry, 'parked', parkedAt, 'unmapped: roomType DBL')).toBe(true);
    expect(await ledger.get(entry.eventId)).toMatchObject({
      status: 'parked',
      reason: 'unmapped: roomType DBL',
    });
    expect(await ledger.settle(entry, 'applied', appliedAt)).toBe(true);

    const stored = await ledger.get(entry.eventId);
    expect(stored).toMatchObject({ status: 'applied', updatedAt: appliedAt });
    expect(stored).not.toHaveProperty('reason');
    expect(await settledAt(entry.eventId)).toBe(appliedAt);
  });

  it('keeps a rejected event rejected, with its reason', async () => {
    const entry = await enqueued();
    const rejectedAt = new Date(T0 + 1_000).toISOString();
    expect(
      await ledger.settle(entry, 'rejected', rejectedAt, 'invalid_dates: departure before arrival'),
    ).toBe(true);

    expect(await ledger.settle(entry, 'applied', new Date(T0 + 2_000).toISOString())).toBe(false);
    expect(await ledger.settle(entry, 'parked', new Date(T0 + 3_000).toISOString(), 'x')).toBe(false);
    expect(await ledger.settle(entry, 'rejected', new Date(T0 + 4_000).toISOString(), 'y')).toBe(false);

    expect(await ledger.get(entry.eventId)).toEqual({
      ...entry,
      status: 'rejected',
      updatedAt: rejectedAt,
      reason: 'invalid_dates: departure before arrival',
    });
  });

  it('settles an event applied before the edge confirmed it, and the late confirmation leaves it applied', async () => {
    const entry = entryAt(T0);
    await ledger.claim(entry, T0);
    expect(await ledger.settle(entry, 'applied', new Date(T0 + 20).toISOString())).toBe(true);

    await ledger.confirm(entry, 'enqueued', new Date(T0 + 30).toISOString(), 'msg-late');

    const stored = await ledger.get(entry.eventId);
    expect(stored).toMatchObject({ status: 'applied', updatedAt: new Date(T0 + 20).toISOString() });
    expect(stored).not.toHaveProperty('leaseUntil');
    expect(stored).not.toHaveProperty('messageId');
    expect((await ledger.claim(redeliveryAt(entry, T0 + LEASE_MS * 2), T0 + LEASE_MS * 2)).outcome).toBe(
      'duplicate',
    );
  });

  it('does not recreate an entry that has expired (or never existed) when settling it', async () => {
    const ref = { eventId: `evt_${randomUUID()}`, sourceId: 'pms-demo' };
    expect(await ledger.settle(ref, 'applied', new Date(T0).toISOString())).toBe(false);
    expect(await ledger.settle(ref, 'parked', new Date(T0).toISOString(), 'unmapped')).toBe(false);
    expect(await ledger.get(ref.eventId)).toBeUndefined();
  });

  it('keeps a failure note as lastError / lastErrorAt on the item, and a takeover of the claim keeps it', async () => {
    const entry = entryAt(T0);
    await ledger.claim(entry, T0);
    const notedAt = new Date(T0 + 100).toISOString();
    await ledger.note(entry.eventId, 'receive 1 of 5 failed: Error: boom', notedAt);

    const { Item } = await topology.dynamodb.send(
      new GetItemCommand({
        TableName: topology.tables[DELIVERY_LEDGER.id],
        Key: { pk: { S: entry.eventId } },
        ConsistentRead: true,
      }),
    );
    expect(Item).toMatchObject({
      status: { S: 'received' },
      lastError: { S: 'receive 1 of 5 failed: Error: boom' },
      lastErrorAt: { S: notedAt },
    });

    // The first claimant's message may still be on the queue: what its attempts hit stays on record.
    const retryAt = T0 + LEASE_MS + 1;
    const takeover = await ledger.claim(redeliveryAt(entry, retryAt), retryAt);
    expect(takeover).toMatchObject({
      outcome: 'claimed',
      entry: { deliveryCount: 2, lastError: 'receive 1 of 5 failed: Error: boom', lastErrorAt: notedAt },
    });
  });

  it('lets DynamoDB errors other than a failed condition propagate unchanged', async () => {
    const missing = new DynamoDbDeliveryLedger(topology.dynamodb, `${topology.prefix}-no-such-table`);
    await expect(missing.claim(entryAt(T0), T0)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(
      missing.confirm({ eventId: 'evt_x', sourceId: 'pms-demo' }, 'enqueued', new Date(T0).toISOString()),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await expect(missing.get('evt_x')).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(missing.status('evt_x')).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(
      missing.settle({ eventId: 'evt_x', sourceId: 'pms-demo' }, 'applied', new Date(T0).toISOString()),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await expect(missing.note('evt_x', 'Error: boom', new Date(T0).toISOString())).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await expect(
      missing.deadLetter(
        { eventId: 'evt_x', sourceId: 'pms-demo' },
        'Error: boom',
        new Date(T0).toISOString(),
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  async function itemOf(eventId: string) {
    const { Item } = await topology.dynamodb.send(
      new GetItemCommand({
        TableName: topology.tables[DELIVERY_LEDGER.id],
        Key: { pk: { S: eventId } },
        ConsistentRead: true,
      }),
    );
    return Item;
  }

  /** The event ids an index lists under one partition key value (on DynamoDB Local, indexes are immediate). */
  async function listed(index: { indexName: string; partitionKey: { name: string } }, key: string) {
    const { Items = [] } = await topology.dynamodb.send(
      new QueryCommand({
        TableName: topology.tables[DELIVERY_LEDGER.id],
        IndexName: index.indexName,
        KeyConditionExpression: '#key = :key',
        ExpressionAttributeNames: { '#key': index.partitionKey.name },
        ExpressionAttributeValues: { ':key': { S: key } },
      }),
    );
    return Items.map((item) => item.pk?.S);
  }

  it('places a claimed entry in every log index, and keeps its place there when a retry takes it over', async () => {
    const entry = entryAt(T0, { sourceId: `src-${randomUUID()}` });
    await ledger.claim(entry, T0);
    expect(await itemOf(entry.eventId)).toMatchObject({
      logAll: { S: 'ledger' },
      logAt: { S: `${entry.receivedAt}#${entry.eventId}` },
      sourceStatus: { S: `${entry.sourceId}#received` },
    });
    expect(await listed(DELIVERY_LOG_INDEXES.all, 'ledger')).toContain(entry.eventId);
    expect(await listed(DELIVERY_LOG_INDEXES.bySource, entry.sourceId)).toEqual([entry.eventId]);
    expect(await listed(DELIVERY_LOG_INDEXES.byStatus, 'received')).toContain(entry.eventId);
    expect(await listed(DELIVERY_LOG_INDEXES.bySourceStatus, `${entry.sourceId}#received`)).toEqual([
      entry.eventId,
    ]);

    const retryAt = T0 + LEASE_MS + 1;
    await ledger.claim(redeliveryAt(entry, retryAt), retryAt);
    expect((await itemOf(entry.eventId))?.logAt).toEqual({ S: `${entry.receivedAt}#${entry.eventId}` });
  });

  it('moves an entry between the status partitions with every change of status', async () => {
    const sourceId = `src-${randomUUID()}`;
    const entry = entryAt(T0, { sourceId });
    const at = (ms: number) => new Date(T0 + ms).toISOString();
    const inStatus = async (status: string) => ({
      byStatus: (await listed(DELIVERY_LOG_INDEXES.byStatus, status)).includes(entry.eventId),
      bySourceStatus: await listed(DELIVERY_LOG_INDEXES.bySourceStatus, `${sourceId}#${status}`),
      item: (await itemOf(entry.eventId))?.sourceStatus?.S,
    });
    const only = (status: string) => ({
      byStatus: true,
      bySourceStatus: [entry.eventId],
      item: `${sourceId}#${status}`,
    });

    await ledger.claim(entry, T0);
    await ledger.confirm(entry, 'enqueued', at(10), 'msg-1', '{"eventId":"x"}');
    expect(await inStatus('enqueued')).toEqual(only('enqueued'));
    expect(await inStatus('received')).toMatchObject({ byStatus: false, bySourceStatus: [] });

    await ledger.settle(entry, 'parked', at(20), 'unmapped: roomType DBL');
    expect(await inStatus('parked')).toEqual(only('parked'));
    await ledger.deadLetter(entry, 'dead-lettered after 5 receives: Error: boom', at(30));
    expect(await inStatus('dead-lettered')).toEqual(only('dead-lettered'));
    expect(await inStatus('parked')).toMatchObject({ byStatus: false, bySourceStatus: [] });
    await ledger.settle(entry, 'applied', at(40));
    expect(await inStatus('applied')).toEqual(only('applied'));
    expect(await inStatus('dead-lettered')).toMatchObject({ byStatus: false, bySourceStatus: [] });

    // A refused change leaves the entry where it is.
    expect(await ledger.deadLetter(entry, 'dead-lettered after 5 receives: Error: late', at(50))).toBe(false);
    expect(await inStatus('applied')).toEqual(only('applied'));
  });

  it('keeps the retained event in the table alone, out of every log index', async () => {
    const entry = entryAt(T0, { sourceId: `src-${randomUUID()}` });
    await ledger.claim(entry, T0);
    await ledger.confirm(entry, 'enqueued', new Date(T0 + 10).toISOString(), 'msg-1', '{"eventId":"x"}');
    expect((await itemOf(entry.eventId))?.event).toEqual({ S: '{"eventId":"x"}' });
    const { sourceId } = entry;
    const status = 'enqueued' as const;
    for (const index of [{}, { sourceId }, { status }, { sourceId, status }].map(logIndexFor)) {
      const { Items = [] } = await topology.dynamodb.send(
        new QueryCommand({
          TableName: topology.tables[DELIVERY_LEDGER.id],
          IndexName: index.indexName,
          KeyConditionExpression: '#key = :key',
          ExpressionAttributeNames: { '#key': index.keyName },
          ExpressionAttributeValues: { ':key': { S: index.keyValue } },
        }),
      );
      const row = Items.find((item) => item.pk?.S === entry.eventId);
      expect(row, index.indexName).toMatchObject({ retained: { BOOL: true }, status: { S: 'enqueued' } });
      expect(row, index.indexName).not.toHaveProperty('event');
      expect(row, index.indexName).not.toHaveProperty('messageId');
    }
  });
});
