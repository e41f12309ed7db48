import { randomBytes, randomUUID } from 'node:crypto';
import { DescribeTableCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { versionOf } from '../../lambdas/domain/state';
import { fixedClock } from '../../lambdas/shared/clock';
import {
  ARI_STATE,
  GUESTS,
  MAPPINGS,
  RESERVATIONS,
  REVIEW,
  type TableDefinition,
} from '../../lambdas/shared/topology';
import { DynamoDbGuestStore } from '../../lambdas/state/dynamodb-guests';
import { DynamoDbMappingStore } from '../../lambdas/state/dynamodb-mappings';
import { DynamoDbReservationStore } from '../../lambdas/state/dynamodb-reservations';
import { DynamoDbReviewStore } from '../../lambdas/state/dynamodb-review';
import { provision } from '../../local/provision';
import { reservation, T1, T2 } from '../ports/reservation-store.contract';
import { parked, reservationEvent } from '../ports/review-store.contract';
import { type IsolatedTopology, provisionIsolated } from '../support/aws';

function tableOf(topology: IsolatedTopology, definition: TableDefinition): string {
  const name = topology.tables[definition.id];
  if (name === undefined) throw new Error(`table ${definition.id} was not provisioned`);
  return name;
}

async function rawItem(topology: IsolatedTopology, definition: TableDefinition, pk: string) {
  const { Item } = await topology.dynamodb.send(
    new GetItemCommand({
      TableName: tableOf(topology, definition),
      Key: { pk: { S: pk } },
      ConsistentRead: true,
    }),
  );
  return Item;
}

// What every mapping, review, reservation and guest store must do is the ports' contracts (test/ports, run in
// port-contracts.test.ts); these are what only DynamoDB shows: tables, item layout, and item size limits.
let topology: IsolatedTopology;

beforeAll(async () => {
  topology = await provisionIsolated();
});

describe('provisioning', () => {
  it('creates the review table on demand with its two indexes on the waited-for key, projecting every attribute', async () => {
    const { Table } = await topology.dynamodb.send(
      new DescribeTableCommand({ TableName: tableOf(topology, REVIEW) }),
    );
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    const indexes = [...(Table?.GlobalSecondaryIndexes ?? [])].sort((a, b) =>
      String(a.IndexName).localeCompare(String(b.IndexName)),
    );
    expect(indexes).toEqual([
      expect.objectContaining({
        IndexName: 'byWaitingFor',
        KeySchema: [{ AttributeName: 'waitingFor', KeyType: 'HASH' }],
        Projection: { ProjectionType: 'ALL' },
        IndexStatus: 'ACTIVE',
      }),
      expect.objectContaining({
        IndexName: 'waitingInOrder',
        KeySchema: [
          { AttributeName: 'waitingFor', KeyType: 'HASH' },
          { AttributeName: 'parkOrder', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
        IndexStatus: 'ACTIVE',
      }),
    ]);
    expect(Table?.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'waitingFor', AttributeType: 'S' },
        { AttributeName: 'parkOrder', AttributeType: 'S' },
      ]),
    );
  });

  it('creates a table with a sort key from its definition', async () => {
    const { Table } = await topology.dynamodb.send(
      new DescribeTableCommand({ TableName: tableOf(topology, ARI_STATE) }),
    );
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(Table?.GlobalSecondaryIndexes).toBeUndefined();
  });

  it('keeps existing tables, and their items, when provisioning again', async () => {
    const mappings = new DynamoDbMappingStore(topology.dynamodb, tableOf(topology, MAPPINGS));
    const ref = { scope: 'pms-demo', entity: 'property', externalId: `keep-${randomUUID()}` } as const;
    await mappings.put(ref, { internalId: 'prop-kept' }, '2026-03-01T10:00:00.000Z', 'config');

    const again = await provision({
      dynamodb: topology.dynamodb,
      sqs: topology.sqs,
      prefix: topology.prefix,
    });

    expect(again.tables).toEqual(topology.tables);
    expect(await mappings.get(ref)).toEqual({ internalId: 'prop-kept' });
  });
});

describe('DynamoDbMappingStore', () => {
  let store: DynamoDbMappingStore;

  beforeAll(() => {
    store = new DynamoDbMappingStore(topology.dynamodb, tableOf(topology, MAPPINGS));
  });

  it('stores a mapping with its ref, time and origin as attributes, keyed scope|entity|externalId', async () => {
    const externalId = `DBL-${randomUUID()}`;
    const ref = { scope: 'cm-demo', entity: 'roomType', externalId } as const;
    await store.put(
      ref,
      { internalId: 'rt-double', propertyId: 'prop-1' },
      '2026-03-01T10:00:00.000Z',
      'mapping',
    );

    expect(await store.get(ref)).toEqual({ internalId: 'rt-double', propertyId: 'prop-1' });
    expect(await rawItem(topology, MAPPINGS, `cm-demo|roomType|${externalId}`)).toEqual({
      pk: { S: `cm-demo|roomType|${externalId}` },
      scope: { S: 'cm-demo' },
      entity: { S: 'roomType' },
      externalId: { S: externalId },
      internalId: { S: 'rt-double' },
      propertyId: { S: 'prop-1' },
      updatedAt: { S: '2026-03-01T10:00:00.000Z' },
      origin: { S: 'mapping' },
    });
  });
});

describe('DynamoDbReviewStore', () => {
  let store: DynamoDbReviewStore;

  beforeAll(() => {
    store = new DynamoDbReviewStore(topology.dynamodb, tableOf(topology, REVIEW));
  });

  it('parks an event with its searchable attributes and reads it back exactly', async () => {
    const event = reservationEvent(`evt_${randomUUID()}`);
    const waitingFor = `roomType|DBL-${randomUUID()}`;
    await store.park(parked(event, waitingFor));

    expect(await store.waitingFor(waitingFor)).toEqual([parked(event, waitingFor)]);
    const item = await rawItem(topology, REVIEW, event.eventId);
    expect(item).toMatchObject({
      event: { S: JSON.stringify(event) },
      waitingFor: { S: waitingFor },
      parkOrder: { S: versionOf(event) },
      sourceId: { S: 'pms-demo' },
      eventType: { S: 'reservation.change' },
      parkedAt: { S: '2026-03-01T10:00:01.000Z' },
    });
  });

  it('removes a parked event, and removing an unknown one is harmless', async () => {
    const event = reservationEvent(`evt_${randomUUID()}`);
    const waitingFor = `ratePlan|${randomUUID()}`;
    await store.park(parked(event, waitingFor));
    await store.remove(event.eventId);
    await store.remove(`evt_${randomUUID()}`);

    expect(await store.waitingFor(waitingFor)).toEqual([]);
    expect(await rawItem(topology, REVIEW, event.eventId)).toBeUndefined();
  });

  it('follows the index past DynamoDB’s 1 MB page when many large events wait for one key', async () => {
    const waitingFor = `property|${randomUUID()}`;
    // Five events of about 300 KB of incompressible text: stored compressed they are still about 230 KB each,
    // more than one 1 MB query page together, each under the 400 KB item limit.
    const events = Array.from({ length: 5 }, () =>
      reservationEvent(`evt_${randomUUID()}`, { note: `R-${randomBytes(225_000).toString('base64')}` }),
    );
    for (const event of events) await store.park(parked(event, waitingFor));

    const found = await store.waitingFor(waitingFor);
    expect(found.map((entry) => entry.event.eventId).sort()).toEqual(
      events.map((event) => event.eventId).sort(),
    );
  });
});

describe('DynamoDbReviewStore with events larger than a DynamoDB item', () => {
  let store: DynamoDbReviewStore;

  beforeAll(() => {
    store = new DynamoDbReviewStore(topology.dynamodb, tableOf(topology, REVIEW));
  });

  it('parks a 900 KB event compressed and reads it back exactly', async () => {
    const event = reservationEvent(`evt_${randomUUID()}`, { note: `R-${'night '.repeat(150_000)}` });
    const waitingFor = `property|${randomUUID()}`;
    expect(Buffer.byteLength(JSON.stringify(event))).toBeGreaterThan(900_000);
    await store.park(parked(event, waitingFor));

    expect(await store.waitingFor(waitingFor)).toEqual([parked(event, waitingFor)]);
    const item = await rawItem(topology, REVIEW, event.eventId);
    expect(item?.event).toBeUndefined();
    expect(item?.eventGzip?.B?.length).toBeLessThan(400_000);
    expect((await store.list(500)).items.map((entry) => entry.event.eventId)).toContain(event.eventId);
  });

  it('refuses an event that does not fit even compressed, naming it and the mapping it waits for', async () => {
    const event = reservationEvent(`evt_${randomUUID()}`, {
      note: `R-${randomBytes(450_000).toString('base64')}`,
    });
    const waitingFor = `ratePlan|${randomUUID()}`;
    await expect(store.park(parked(event, waitingFor))).rejects.toThrow(
      new RegExp(
        `Event ${event.eventId} cannot be parked for review.*waits for \\(${waitingFor.replace('|', '\\|')}\\)`,
      ),
    );
    expect(await rawItem(topology, REVIEW, event.eventId)).toBeUndefined();
  });
});

describe('DynamoDbGuestStore', () => {
  let guests: DynamoDbGuestStore;
  let reservations: DynamoDbReservationStore;
  const linkedAt = '2026-03-01T10:00:05.000Z';

  beforeAll(() => {
    guests = new DynamoDbGuestStore(topology.dynamodb, tableOf(topology, GUESTS), fixedClock(linkedAt));
    reservations = new DynamoDbReservationStore(topology.dynamodb, tableOf(topology, RESERVATIONS));
  });

  it('accumulates reservation links and stores nothing but references and bookkeeping', async () => {
    const guestId = `G-${randomUUID()}`;
    const v1 = versionOf({ occurredAt: T1, idempotencyKey: 'a' });
    const v2 = versionOf({ occurredAt: T2, idempotencyKey: 'b' });
    await guests.link('pms-demo', guestId, 'pms-demo:R-1', v1);
    await guests.link('pms-demo', guestId, 'pms-demo:R-2', v2);
    await guests.link('pms-demo', guestId, 'pms-demo:R-1', v2);

    const item = await rawItem(topology, GUESTS, `pms-demo|${guestId}`);
    expect(Object.keys(item ?? {}).sort()).toEqual(['pk', 'reservationIds', 'updatedAt', 'version']);
    expect(item?.reservationIds?.SS?.sort()).toEqual(['pms-demo:R-1', 'pms-demo:R-2']);
    expect(item?.updatedAt).toEqual({ S: linkedAt });
    expect(item?.version).toEqual({ S: v2 });
  });

  it('records a guest without a reservation, and erasing it returns no ids', async () => {
    const guestId = `G-${randomUUID()}`;
    await guests.link('pms-demo', guestId, undefined, versionOf({ occurredAt: T1, idempotencyKey: 'c' }));

    const item = await rawItem(topology, GUESTS, `pms-demo|${guestId}`);
    expect(item).toBeDefined();
    expect(item).not.toHaveProperty('reservationIds');
    expect(
      await guests.erase('pms-demo', guestId, versionOf({ occurredAt: T2, idempotencyKey: 'd' })),
    ).toEqual([]);
    // What is left is a tombstone: the guest id and when it was erased, nothing else.
    const tombstone = await rawItem(topology, GUESTS, `pms-demo|${guestId}`);
    expect(Object.keys(tombstone ?? {}).sort()).toEqual(['erasedVersion', 'pk', 'updatedAt']);
  });

  it('refuses a link from an event older than the erasure and accepts one from a newer event', async () => {
    const guestId = `G-${randomUUID()}`;
    await guests.link(
      'pms-demo',
      guestId,
      'pms-demo:R-1',
      versionOf({ occurredAt: T1, idempotencyKey: 'a' }),
    );
    expect(
      await guests.erase('pms-demo', guestId, versionOf({ occurredAt: T2, idempotencyKey: 'x' })),
    ).toEqual(['pms-demo:R-1']);
    const late = await guests.link(
      'pms-demo',
      guestId,
      'pms-demo:R-2',
      versionOf({ occurredAt: T1, idempotencyKey: 'b' }),
    );
    expect(late).toBe(false);
    const tombstone = await rawItem(topology, GUESTS, `pms-demo|${guestId}`);
    expect(tombstone).not.toHaveProperty('reservationIds');
    const T3 = new Date(Date.parse(T2) + 60_000).toISOString();
    const newer = await guests.link(
      'pms-demo',
      guestId,
      'pms-demo:R-3',
      versionOf({ occurredAt: T3, idempotencyKey: 'c' }),
    );
    expect(newer).toBe(true);
    expect((await rawItem(topology, GUESTS, `pms-demo|${guestId}`))?.reservationIds?.SS).toEqual([
      'pms-demo:R-3',
    ]);
  });

  it('erases a guest and, with the returned ids, the link from every reservation', async () => {
    const guestId = `G-${randomUUID()}`;
    const booked = [1, 2, 3].map((n) =>
      reservation(`pms-demo:R-${randomUUID()}`, 'confirmed', T1, {
        guestExternalId: guestId,
        roomNumber: `${n}`,
      }),
    );
    for (const record of booked) {
      await reservations.apply(record);
      await guests.link('pms-demo', guestId, record.id, record.version);
    }

    const linked = await guests.erase(
      'pms-demo',
      guestId,
      versionOf({ occurredAt: T2, idempotencyKey: 'e' }),
    );
    expect([...linked].sort()).toEqual(booked.map((record) => record.id).sort());
    await reservations.forgetGuest(linked, guestId);

    for (const record of booked) {
      const stored = await reservations.get(record.id);
      expect(stored).toBeDefined();
      expect(stored).not.toHaveProperty('guestExternalId');
      expect(stored?.roomNumber).toBe(record.roomNumber);
    }
    expect(await rawItem(topology, GUESTS, `pms-demo|${guestId}`)).not.toHaveProperty('reservationIds');
    expect(
      await guests.erase('pms-demo', guestId, versionOf({ occurredAt: T2, idempotencyKey: 'f' })),
    ).toEqual([]);
  });
});
