import { randomBytes, randomUUID } from 'node:crypto';
import { DescribeTableCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidCursorError } from '../../lambdas/apply/dynamodb-ari-store';
import { DynamoDbGuestStore } from '../../lambdas/apply/dynamodb-guests';
import { DynamoDbMappingStore } from '../../lambdas/apply/dynamodb-mappings';
import { DynamoDbReservationStore } from '../../lambdas/apply/dynamodb-reservations';
import { DynamoDbReviewStore } from '../../lambdas/apply/dynamodb-review';
import { versionOf } from '../../lambdas/apply/model';
import type { ParkedEvent, ReservationRecord } from '../../lambdas/apply/ports';
import type { CanonicalEvent } from '../../lambdas/domain/canonical';
import { fixedClock } from '../../lambdas/shared/clock';
import {
  ARI_STATE,
  GUESTS,
  MAPPINGS,
  RESERVATIONS,
  REVIEW,
  type TableDefinition,
} from '../../lambdas/topology';
import { provision } from '../../local/provision';
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

let topology: IsolatedTopology;

beforeAll(async () => {
  topology = await provisionIsolated();
});

describe('provisioning', () => {
  it('creates the review table on demand with its byWaitingFor index projecting every attribute', async () => {
    const { Table } = await topology.dynamodb.send(
      new DescribeTableCommand({ TableName: tableOf(topology, REVIEW) }),
    );
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(Table?.GlobalSecondaryIndexes).toHaveLength(1);
    expect(Table?.GlobalSecondaryIndexes?.[0]).toMatchObject({
      IndexName: 'byWaitingFor',
      KeySchema: [{ AttributeName: 'waitingFor', KeyType: 'HASH' }],
      Projection: { ProjectionType: 'ALL' },
      IndexStatus: 'ACTIVE',
    });
    expect(Table?.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'waitingFor', AttributeType: 'S' },
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

  it('answers undefined for an unmapped id, and keeps scopes and entities apart', async () => {
    const externalId = `H-${randomUUID()}`;
    await store.put({ scope: '*', entity: 'property', externalId }, { internalId: 'prop-global' }, 't', 'o');

    expect(await store.get({ scope: '*', entity: 'property', externalId })).toEqual({
      internalId: 'prop-global',
    });
    expect(await store.get({ scope: 'cm-demo', entity: 'property', externalId })).toBeUndefined();
    expect(await store.get({ scope: '*', entity: 'ratePlan', externalId })).toBeUndefined();
  });

  it('replaces a mapping whole, dropping a property id the new target lacks', async () => {
    const ref = { scope: 'ota-demo', entity: 'roomType', externalId: `STD-${randomUUID()}` } as const;
    await store.put(
      ref,
      { internalId: 'rt-old', propertyId: 'prop-1' },
      '2026-03-01T10:00:00.000Z',
      'config',
    );
    await store.put(ref, { internalId: 'rt-new' }, '2026-03-02T10:00:00.000Z', 'mapping');

    expect(await store.get(ref)).toEqual({ internalId: 'rt-new' });
  });
});

function reservationEvent(eventId: string, overrides: Partial<{ sourceId: string; note: string }> = {}) {
  const event: CanonicalEvent = {
    schemaVersion: 1,
    eventId,
    sourceId: overrides.sourceId ?? 'pms-demo',
    kind: 'pms',
    providerEventType: 'reservation.created',
    idempotencyKey: `key-${eventId}`,
    occurredAt: '2026-03-01T09:59:58.000Z',
    receivedAt: '2026-03-01T10:00:00.000Z',
    type: 'reservation.change',
    data: {
      reservationExternalId: overrides.note ?? 'R-1',
      propertyExternalId: 'HOTEL-9',
      roomTypeExternalId: 'DBL',
      status: 'confirmed',
      arrivalDate: '2026-04-01',
      departureDate: '2026-04-03',
      total: { amountMinor: 25_900, currency: 'EUR' },
    },
  };
  return event;
}

function parked(event: CanonicalEvent, waitingFor: string, reason = `unmapped: ${waitingFor}`): ParkedEvent {
  return { event, reason, waitingFor, parkedAt: '2026-03-01T10:00:01.000Z' };
}

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
      sourceId: { S: 'pms-demo' },
      eventType: { S: 'reservation.change' },
      parkedAt: { S: '2026-03-01T10:00:01.000Z' },
    });
  });

  it('finds only the events waiting for the given mapping key', async () => {
    const wanted = `roomType|${randomUUID()}`;
    const other = `ratePlan|${randomUUID()}`;
    const first = reservationEvent(`evt_${randomUUID()}`);
    const second = reservationEvent(`evt_${randomUUID()}`, { sourceId: 'ota-demo' });
    const elsewhere = reservationEvent(`evt_${randomUUID()}`);
    await Promise.all([
      store.park(parked(first, wanted)),
      store.park(parked(second, wanted)),
      store.park(parked(elsewhere, other)),
    ]);

    const found = await store.waitingFor(wanted);
    expect(found.map((entry) => entry.event.eventId).sort()).toEqual([first.eventId, second.eventId].sort());
    expect((await store.waitingFor(other)).map((entry) => entry.event)).toEqual([elsewhere]);
    expect(await store.waitingFor(`property|${randomUUID()}`)).toEqual([]);
  });

  it('re-parking replaces the reason and moves the event to the new mapping key', async () => {
    const event = reservationEvent(`evt_${randomUUID()}`);
    const before = `property|${randomUUID()}`;
    const after = `roomType|${randomUUID()}`;
    await store.park(parked(event, before, 'unmapped property'));
    await store.park(parked(event, after, 'unmapped room type'));

    expect(await store.waitingFor(before)).toEqual([]);
    expect(await store.waitingFor(after)).toEqual([parked(event, after, 'unmapped room type')]);
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

describe('DynamoDbReviewStore.list', () => {
  let store: DynamoDbReviewStore;
  let eventIds: string[];

  beforeAll(async () => {
    // A table of its own, so that the pages hold exactly the events parked here.
    const own = await provisionIsolated();
    store = new DynamoDbReviewStore(own.dynamodb, tableOf(own, REVIEW));
    eventIds = Array.from({ length: 5 }, () => `evt_${randomUUID()}`);
    await Promise.all(
      eventIds.map((eventId, index) => store.park(parked(reservationEvent(eventId), `roomType|RT-${index}`))),
    );
  });

  it('pages through every parked event once, with a cursor on every page but the last', async () => {
    const pages = [];
    let cursor: string | undefined;
    do {
      const page = await store.list(2, cursor);
      pages.push(page);
      cursor = page.cursor;
    } while (cursor !== undefined && pages.length < 10);

    expect(pages.map((page) => page.items.length)).toEqual([2, 2, 1]);
    expect(pages.map((page) => page.cursor !== undefined)).toEqual([true, true, false]);
    const listed = pages.flatMap((page) => page.items.map((entry) => entry.event.eventId));
    expect(listed.sort()).toEqual([...eventIds].sort());
    expect(pages[0]?.items[0]?.event).toEqual(reservationEvent(pages[0]?.items[0]?.event.eventId ?? ''));
  });

  it('hands out no cursor when the page holds exactly the remaining events', async () => {
    const page = await store.list(5);
    expect(page.items).toHaveLength(5);
    expect(page.cursor).toBeUndefined();
    expect((await store.list(50)).items).toHaveLength(5);
  });

  it('rejects a cursor it did not issue with a 400 invalid_cursor error', async () => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const forged = [
      'not base64url!',
      Buffer.from('not json').toString('base64url'),
      encode(['pk']),
      encode({ pk: { N: '1' } }),
      encode({ pk: 'evt_1' }),
      encode({ pk: { S: 'evt_1' }, sk: { S: 'x' } }),
      encode({ id: { S: 'evt_1' } }),
      'A'.repeat(5000),
    ];
    for (const cursor of forged) {
      const attempt = store.list(2, cursor);
      await expect(attempt).rejects.toBeInstanceOf(InvalidCursorError);
      await expect(attempt).rejects.toMatchObject({ status: 400, code: 'invalid_cursor' });
    }
  });

  it('rejects a page size below one', async () => {
    await expect(store.list(0)).rejects.toBeInstanceOf(RangeError);
    await expect(store.list(1.5)).rejects.toBeInstanceOf(RangeError);
  });
});

const T1 = '2026-03-01T09:00:00.000Z';
const T2 = '2026-03-01T10:00:00.000Z';
const T3 = '2026-03-01T11:00:00.000Z';

function reservation(
  id: string,
  status: ReservationRecord['status'],
  occurredAt: string,
  overrides: Partial<ReservationRecord> = {},
): ReservationRecord {
  const eventId = `evt_${randomUUID()}`;
  return {
    id,
    sourceId: 'pms-demo',
    reservationExternalId: id.split(':')[1] ?? id,
    propertyId: 'prop-1',
    propertyExternalId: 'HOTEL-9',
    status,
    arrivalDate: '2026-04-01',
    departureDate: '2026-04-03',
    roomTypeExternalId: 'DBL',
    channel: 'booking.com',
    guestExternalId: 'G-1',
    total: { amountMinor: 25_900, currency: 'EUR' },
    version: versionOf({ occurredAt, idempotencyKey: eventId }),
    eventId,
    ...overrides,
  };
}

describe('DynamoDbReservationStore', () => {
  let store: DynamoDbReservationStore;
  const newId = () => `pms-demo:R-${randomUUID()}`;

  beforeAll(() => {
    store = new DynamoDbReservationStore(topology.dynamodb, tableOf(topology, RESERVATIONS));
  });

  it('stores a new reservation and reads every field back', async () => {
    const record = reservation(newId(), 'confirmed', T1, { roomNumber: '204' });
    expect(await store.apply(record)).toBe(true);
    expect(await store.get(record.id)).toEqual(record);
    expect(await store.get(newId())).toBeUndefined();
  });

  it('keeps the newest version whatever the order updates arrive in', async () => {
    const id = newId();
    const older = reservation(id, 'modified', T1, { departureDate: '2026-04-04' });
    const newer = reservation(id, 'modified', T2, { departureDate: '2026-04-05' });

    expect(await store.apply(newer)).toBe(true);
    expect(await store.apply(older)).toBe(false);
    expect(await store.apply(newer)).toBe(false);
    expect(await store.get(id)).toEqual(newer);

    const newest = reservation(id, 'checked_in', T3, { roomNumber: '311' });
    expect(await store.apply(newest)).toBe(true);
    expect(await store.get(id)).toEqual(newest);
  });

  it('replaces the record whole: fields the newer event lacks are gone', async () => {
    const id = newId();
    await store.apply(reservation(id, 'confirmed', T1, { roomNumber: '204' }));
    const { total: _total, roomNumber: _room, channel: _channel, ...bare } = reservation(id, 'modified', T2);
    expect(await store.apply(bare)).toBe(true);
    expect(await store.get(id)).toEqual(bare);
  });

  it('keeps a reservation cancelled when its creation arrives late with an older timestamp', async () => {
    const id = newId();
    const cancellation = reservation(id, 'cancelled', T2);
    expect(await store.apply(cancellation)).toBe(true);
    expect(await store.apply(reservation(id, 'confirmed', T1))).toBe(false);
    expect(await store.get(id)).toEqual(cancellation);
  });

  it('keeps a reservation cancelled when its creation arrives late with a newer timestamp', async () => {
    const id = newId();
    const cancellation = reservation(id, 'cancelled', T2);
    expect(await store.apply(cancellation)).toBe(true);
    expect(await store.apply(reservation(id, 'confirmed', T3))).toBe(false);
    expect(await store.get(id)).toEqual(cancellation);
  });

  it('lets a cancellation newer than the creation win', async () => {
    const id = newId();
    await store.apply(reservation(id, 'confirmed', T1));
    const cancellation = reservation(id, 'cancelled', T2);
    expect(await store.apply(cancellation)).toBe(true);
    expect((await store.get(id))?.status).toBe('cancelled');
  });

  it('lets a newer non-creation change follow a cancellation, as last-writer-wins says', async () => {
    const id = newId();
    await store.apply(reservation(id, 'cancelled', T1));
    const reinstated = reservation(id, 'modified', T2);
    expect(await store.apply(reinstated)).toBe(true);
    expect(await store.get(id)).toEqual(reinstated);
  });

  it('forgets the guest only on reservations that still name that guest', async () => {
    const mine = reservation(newId(), 'confirmed', T1, { guestExternalId: 'G-erase' });
    const someoneElses = reservation(newId(), 'confirmed', T1, { guestExternalId: 'G-other' });
    const unknown = newId();
    await Promise.all([store.apply(mine), store.apply(someoneElses)]);

    await store.forgetGuest([mine.id, someoneElses.id, unknown], 'G-erase');

    const { guestExternalId: _erased, ...withoutGuest } = mine;
    expect(await store.get(mine.id)).toEqual(withoutGuest);
    expect(await store.get(someoneElses.id)).toEqual(someoneElses);
    expect(await store.get(unknown)).toBeUndefined();
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

  it('keeps guests of different sources apart', async () => {
    const guestId = `G-${randomUUID()}`;
    await guests.link('pms-a', guestId, 'pms-a:R-1', 'v');
    await guests.link('pms-b', guestId, 'pms-b:R-9', 'v');

    expect(await guests.erase('pms-a', guestId, 'w')).toEqual(['pms-a:R-1']);
    expect(await guests.erase('pms-b', guestId, 'w')).toEqual(['pms-b:R-9']);
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
