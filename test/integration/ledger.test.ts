import { randomUUID } from 'node:crypto';
import { DescribeTimeToLiveCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbDeliveryLedger } from '../../lambdas/ledger/dynamodb-ledger';
import type { LedgerEntry } from '../../lambdas/ledger/ports';
import { DELIVERY_LEDGER } from '../../lambdas/shared/topology';
import { entryAt, LEASE_MS, redeliveryAt, T0 } from '../ports/delivery-ledger.contract';
import { type IsolatedTopology, provisionIsolated } from '../support/aws';

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
    await ledger.confirm(entry.eventId, 'enqueued', new Date(T0 + 50).toISOString(), 'msg-1');
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

  it('settles an enqueued event as applied exactly once', async () => {
    const entry = await enqueued();
    const appliedAt = new Date(T0 + 1_000).toISOString();

    expect(await ledger.settle(entry.eventId, 'applied', appliedAt)).toBe(true);
    expect(await ledger.settle(entry.eventId, 'applied', new Date(T0 + 2_000).toISOString())).toBe(false);

    expect(await ledger.status(entry.eventId)).toBe('applied');
    expect(await ledger.get(entry.eventId)).toEqual({ ...entry, status: 'applied', updatedAt: appliedAt });
    expect(await settledAt(entry.eventId)).toBe(appliedAt);
  });

  it('settles a parked event as applied once its mapping arrives, dropping the parking reason', async () => {
    const entry = await enqueued();
    const parkedAt = new Date(T0 + 1_000).toISOString();
    const appliedAt = new Date(T0 + 60_000).toISOString();

    expect(await ledger.settle(entry.eventId, 'parked', parkedAt, 'unmapped: roomType DBL')).toBe(true);
    expect(await ledger.get(entry.eventId)).toMatchObject({
      status: 'parked',
      reason: 'unmapped: roomType DBL',
    });
    expect(await ledger.settle(entry.eventId, 'applied', appliedAt)).toBe(true);

    const stored = await ledger.get(entry.eventId);
    expect(stored).toMatchObject({ status: 'applied', updatedAt: appliedAt });
    expect(stored).not.toHaveProperty('reason');
    expect(await settledAt(entry.eventId)).toBe(appliedAt);
  });

  it('keeps a rejected event rejected, with its reason', async () => {
    const entry = await enqueued();
    const rejectedAt = new Date(T0 + 1_000).toISOString();
    expect(
      await ledger.settle(entry.eventId, 'rejected', rejectedAt, 'invalid_dates: departure before arrival'),
    ).toBe(true);

    expect(await ledger.settle(entry.eventId, 'applied', new Date(T0 + 2_000).toISOString())).toBe(false);
    expect(await ledger.settle(entry.eventId, 'parked', new Date(T0 + 3_000).toISOString(), 'x')).toBe(false);
    expect(await ledger.settle(entry.eventId, 'rejected', new Date(T0 + 4_000).toISOString(), 'y')).toBe(
      false,
    );

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
    expect(await ledger.settle(entry.eventId, 'applied', new Date(T0 + 20).toISOString())).toBe(true);

    await ledger.confirm(entry.eventId, 'enqueued', new Date(T0 + 30).toISOString(), 'msg-late');

    const stored = await ledger.get(entry.eventId);
    expect(stored).toMatchObject({ status: 'applied', updatedAt: new Date(T0 + 20).toISOString() });
    expect(stored).not.toHaveProperty('leaseUntil');
    expect(stored).not.toHaveProperty('messageId');
    expect((await ledger.claim(redeliveryAt(entry, T0 + LEASE_MS * 2), T0 + LEASE_MS * 2)).outcome).toBe(
      'duplicate',
    );
  });

  it('does not recreate an entry that has expired (or never existed) when settling it', async () => {
    const eventId = `evt_${randomUUID()}`;
    expect(await ledger.settle(eventId, 'applied', new Date(T0).toISOString())).toBe(false);
    expect(await ledger.settle(eventId, 'parked', new Date(T0).toISOString(), 'unmapped')).toBe(false);
    expect(await ledger.get(eventId)).toBeUndefined();
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
    await expect(missing.confirm('evt_x', 'enqueued', new Date(T0).toISOString())).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await expect(missing.get('evt_x')).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(missing.status('evt_x')).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(missing.settle('evt_x', 'applied', new Date(T0).toISOString())).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await expect(missing.note('evt_x', 'Error: boom', new Date(T0).toISOString())).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});
