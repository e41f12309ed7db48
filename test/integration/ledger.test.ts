import { randomUUID } from 'node:crypto';
import { DescribeTimeToLiveCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbDeliveryLedger } from '../../lambdas/ingest/dynamodb-ledger';
import type { LedgerEntry } from '../../lambdas/ingest/ports';
import { DELIVERY_LEDGER } from '../../lambdas/topology';
import { type IsolatedTopology, provisionIsolated } from '../support/aws';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const LEASE_MS = 10_000;
// DynamoDB Local really deletes items whose TTL has passed (within seconds), so the expiry must lie in the
// future of the wall clock, whatever the simulated clock of the test says.
const EXPIRES_AT = Math.floor(Date.now() / 1000) + 30 * 86_400;

function entryAt(nowMs: number, overrides: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    eventId: `evt_${randomUUID()}`,
    sourceId: 'pms-demo',
    kind: 'pms',
    idempotencyKey: 'delivery-42',
    providerEventType: 'reservation.created',
    canonicalType: 'reservation.change',
    status: 'received',
    occurredAt: '2026-03-01T09:59:58.000Z',
    receivedAt: new Date(nowMs).toISOString(),
    updatedAt: new Date(nowMs).toISOString(),
    leaseUntil: nowMs + LEASE_MS,
    deliveryCount: 1,
    expiresAt: EXPIRES_AT,
    ...overrides,
  };
}

/** A later delivery of the same event, as the edge would build it at `nowMs`. */
function redeliveryAt(first: LedgerEntry, nowMs: number): LedgerEntry {
  return {
    ...first,
    receivedAt: new Date(nowMs).toISOString(),
    updatedAt: new Date(nowMs).toISOString(),
    leaseUntil: nowMs + LEASE_MS,
  };
}

describe('DynamoDbDeliveryLedger against DynamoDB Local', () => {
  let topology: IsolatedTopology;
  let ledger: DynamoDbDeliveryLedger;

  beforeAll(async () => {
    topology = await provisionIsolated();
    const tableName = topology.tables[DELIVERY_LEDGER.id];
    if (tableName === undefined) throw new Error('ledger table was not provisioned');
    ledger = new DynamoDbDeliveryLedger(topology.dynamodb, tableName);
  });

  it('claims a new event and stores every field of the entry', async () => {
    const entry = entryAt(T0);
    const outcome = await ledger.claim(entry, T0);
    expect(outcome).toEqual({ outcome: 'claimed', entry });
    expect(await ledger.get(entry.eventId)).toEqual(entry);
  });

  it('answers in_progress while another claim holds an unexpired lease', async () => {
    const first = entryAt(T0);
    await ledger.claim(first, T0);
    const outcome = await ledger.claim(redeliveryAt(first, T0 + 2_000), T0 + 2_000);
    expect(outcome).toEqual({ outcome: 'in_progress', entry: first });
  });

  it('answers duplicate with the stored entry once the claim is confirmed', async () => {
    const first = entryAt(T0);
    await ledger.claim(first, T0);
    const confirmedAt = new Date(T0 + 50).toISOString();
    await ledger.confirm(first.eventId, 'enqueued', confirmedAt, 'msg-1');

    const stored = await ledger.get(first.eventId);
    const { leaseUntil: _released, ...withoutLease } = first;
    expect(stored).toEqual({
      ...withoutLease,
      status: 'enqueued',
      updatedAt: confirmedAt,
      messageId: 'msg-1',
    });

    // Even long after the lease would have expired, a confirmed event stays a duplicate.
    const later = T0 + 3_600_000;
    const outcome = await ledger.claim(redeliveryAt(first, later), later);
    expect(outcome).toEqual({ outcome: 'duplicate', entry: stored });
  });

  it('records events that are not acted on without a message id', async () => {
    const first = entryAt(T0, { canonicalType: undefined, providerEventType: 'ping' });
    await ledger.claim(first, T0);
    await ledger.confirm(first.eventId, 'recorded', new Date(T0 + 10).toISOString());
    const stored = await ledger.get(first.eventId);
    expect(stored?.status).toBe('recorded');
    expect(stored).not.toHaveProperty('messageId');
    expect(stored).not.toHaveProperty('canonicalType');
    expect((await ledger.claim(redeliveryAt(first, T0 + 20), T0 + 20)).outcome).toBe('duplicate');
  });

  it('lets a retry take over an expired lease, keeping receivedAt and counting the delivery', async () => {
    const first = entryAt(T0);
    await ledger.claim(first, T0);
    const retryAt = T0 + LEASE_MS + 1;
    const retry = redeliveryAt(first, retryAt);

    const outcome = await ledger.claim(retry, retryAt);

    expect(outcome).toEqual({
      outcome: 'claimed',
      entry: { ...retry, receivedAt: first.receivedAt, deliveryCount: 2 },
    });
  });

  it('lets an immediate retry take over after the lease is released', async () => {
    const first = entryAt(T0);
    await ledger.claim(first, T0);
    await ledger.release(first.eventId, first.leaseUntil ?? 0);
    expect((await ledger.get(first.eventId))?.leaseUntil).toBe(0);

    const outcome = await ledger.claim(redeliveryAt(first, T0 + 100), T0 + 100);
    expect(outcome.outcome).toBe('claimed');
    expect(outcome.entry.deliveryCount).toBe(2);
  });

  it('releases only the claim that set the lease, never a later delivery that took the event over', async () => {
    const first = entryAt(T0);
    await ledger.claim(first, T0);
    const retryAt = T0 + LEASE_MS + 1;
    const retry = redeliveryAt(first, retryAt);
    expect((await ledger.claim(retry, retryAt)).outcome).toBe('claimed');

    // The first claimant's enqueue failed late; giving back its lease must not hand the retry's to a third.
    await ledger.release(first.eventId, first.leaseUntil ?? 0);
    expect((await ledger.get(first.eventId))?.leaseUntil).toBe(retry.leaseUntil);
    const third = redeliveryAt(first, retryAt + 100);
    expect((await ledger.claim(third, retryAt + 100)).outcome).toBe('in_progress');
  });

  it('ignores a confirmation for an entry that is no longer received', async () => {
    const first = entryAt(T0);
    await ledger.claim(first, T0);
    await ledger.confirm(first.eventId, 'enqueued', new Date(T0 + 1).toISOString(), 'msg-first');
    await ledger.confirm(first.eventId, 'enqueued', new Date(T0 + 2).toISOString(), 'msg-second');
    expect((await ledger.get(first.eventId))?.messageId).toBe('msg-first');
  });

  it('does not create entries when confirming or releasing an unknown event', async () => {
    const eventId = `evt_${randomUUID()}`;
    await ledger.confirm(eventId, 'enqueued', new Date(T0).toISOString(), 'msg');
    await ledger.release(eventId, T0 + LEASE_MS);
    expect(await ledger.get(eventId)).toBeUndefined();
  });

  it('lets exactly one of many concurrent claims of the same event win', async () => {
    const first = entryAt(T0);
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, index) => ledger.claim(redeliveryAt(first, T0 + index), T0 + index)),
    );
    const claimed = outcomes.filter((outcome) => outcome.outcome === 'claimed');
    expect(claimed).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome.outcome === 'in_progress')).toHaveLength(9);
    expect((await ledger.get(first.eventId))?.deliveryCount).toBe(1);
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

  it('reports the status of an entry, and undefined for an unknown event', async () => {
    const entry = await enqueued();
    expect(await ledger.status(entry.eventId)).toBe('enqueued');
    expect(await ledger.status(`evt_${randomUUID()}`)).toBeUndefined();
  });

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

  it('does not settle an event the edge only recorded', async () => {
    const entry = entryAt(T0, { canonicalType: undefined, providerEventType: 'ping' });
    await ledger.claim(entry, T0);
    await ledger.confirm(entry.eventId, 'recorded', new Date(T0 + 10).toISOString());
    expect(await ledger.settle(entry.eventId, 'applied', new Date(T0 + 20).toISOString())).toBe(false);
    expect(await ledger.status(entry.eventId)).toBe('recorded');
  });

  it('does not recreate an entry that has expired (or never existed) when settling it', async () => {
    const eventId = `evt_${randomUUID()}`;
    expect(await ledger.settle(eventId, 'applied', new Date(T0).toISOString())).toBe(false);
    expect(await ledger.settle(eventId, 'parked', new Date(T0).toISOString(), 'unmapped')).toBe(false);
    expect(await ledger.get(eventId)).toBeUndefined();
  });

  it('lets exactly one of many concurrent settlements of the same event win', async () => {
    const entry = await enqueued();
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        ledger.settle(
          entry.eventId,
          index % 2 === 0 ? 'applied' : 'rejected',
          new Date(T0 + index).toISOString(),
        ),
      ),
    );
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    const winner = outcomes.indexOf(true);
    expect(await ledger.status(entry.eventId)).toBe(winner % 2 === 0 ? 'applied' : 'rejected');
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
  });
});
