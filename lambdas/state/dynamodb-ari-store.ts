import {
  type AttributeValue,
  BatchGetItemCommand,
  paginateQuery,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { Restrictions } from '../domain/canonical';
import { isCalendarDate } from '../domain/dates';
import type { Money } from '../domain/money';
import type { Page } from '../domain/page';
import {
  type AvailabilityValue,
  compareVersions,
  FIELD_GROUPS,
  type FieldGroup,
  type NightWrite,
  type RoomNightKey,
  type RoomNightState,
  type Version,
  type VersionedGroup,
} from '../domain/state';
import { cursorAt, InvalidCursorError } from '../shared/cursor';
import {
  allItems,
  DynamoDbTable,
  describeItem,
  type Item,
  isConditionalCheckFailure,
  keyPart,
  rangeCondition,
  requiredString,
  requiredStrings,
} from '../shared/dynamodb';
import { InvalidRequestError } from '../shared/errors';
import { withoutUndefined } from '../shared/objects';
import { nightRange } from './night-range';
import type { AriQuery, AriStore, ParityNightKey } from './ports';

export { InvalidCursorError };

/** BatchGetItem's limit per request. */
const BATCH_GET_LIMIT = 100;
const MAX_BATCH_GET_ATTEMPTS = 8;

/** A read whose date range or page size cannot be served. */
export class InvalidAriQueryError extends InvalidRequestError {
  constructor(message: string) {
    super('invalid_ari_query', message);
  }
}

/** Concurrent writers kept overtaking this one; each overtake is a newer write, so this is very unlikely. */
const MAX_WRITE_ATTEMPTS = 5;
/** Round trips one readNights may make to fill a page when filters skip most of a property's nights. */
const MAX_QUERY_ROUND_TRIPS = 5;

/** The attributes an item keeps its room night's key in, the ARI table's and the reconciliation audit's alike. */
export const ROOM_NIGHT_KEY_ATTRIBUTES = [
  'propertyId',
  'roomTypeId',
  'ratePlanId',
  'channel',
  'date',
] as const satisfies readonly (keyof RoomNightKey)[];

/**
 * Rate, availability and restrictions in the ARI_STATE table: one item per room night and channel, in the
 * property's partition (`pk` = `P#<propertyId>`) under `sk` = `<date>#<roomTypeId>#<ratePlanId>#<channel>`.
 * Each field group is a map attribute with its own `<group>Version` and `<group>EventId`, so that groups are
 * versioned independently, exactly as mergeNight (lww.ts) defines. Attribute values are mapped by hand, like
 * the delivery ledger's.
 */
export class DynamoDbAriStore extends DynamoDbTable implements AriStore {
  /**
   * The first attempt is ONE UpdateItem for every group in the write, conditioned on each of them being absent or
   * older than `version`: events that arrive in order cost one write per room night. If any group is already as
   * new or newer, DynamoDB refuses the whole update and returns the stored item; the retry then writes only the
   * groups that are still older. So a late or partial event never overwrites a newer value of any group, yet its
   * other groups still land. A retry can be refused again only if another writer stored a newer group meanwhile,
   * and each retry has fewer groups to write.
   */
  async writeNight(
    key: RoomNightKey,
    write: NightWrite,
    version: Version,
    eventId: string,
  ): Promise<readonly FieldGroup[]> {
    if (!isCalendarDate(key.date)) {
      // Date-range reads rely on the sort key starting with a fixed-width date.
      throw new Error(`Room night ${describeKey(key)} has date "${key.date}"; expected YYYY-MM-DD.`);
    }
    let groups = FIELD_GROUPS.filter((group) => write[group] !== undefined);
    for (let attempt = 1; groups.length > 0; attempt += 1) {
      try {
        await this.client.send(this.conditionalUpdate(key, write, groups, version, eventId));
        return groups;
      } catch (error) {
        if (!isConditionalCheckFailure(error)) throw error;
        const stored = error.Item ?? {};
        groups = groups.filter((group) => isOlder(stored[`${group}Version`]?.S, version));
        if (groups.length > 0 && attempt === MAX_WRITE_ATTEMPTS) {
          throw new Error(
            `Writing ${groups.join(', ')} of room night ${describeKey(key)} at version ${version} was refused ` +
              `${attempt} times by concurrent newer writes; the event should be retried.`,
            { cause: error },
          );
        }
      }
    }
    return [];
  }

  private conditionalUpdate(
    key: RoomNightKey,
    write: NightWrite,
    groups: readonly FieldGroup[],
    version: Version,
    eventId: string,
  ): UpdateItemCommand {
    const names: Record<string, string> = {};
    const values: Item = { ':version': { S: version }, ':eventId': { S: eventId } };
    const set: string[] = [];
    for (const field of ROOM_NIGHT_KEY_ATTRIBUTES) {
      names[`#${field}`] = field;
      values[`:${field}`] = { S: key[field] };
      set.push(`#${field} = :${field}`);
    }
    const conditions: string[] = [];
    for (const group of groups) {
      names[`#${group}`] = group;
      names[`#${group}Version`] = `${group}Version`;
      names[`#${group}EventId`] = `${group}EventId`;
      values[`:${group}`] = groupAttribute(group, write);
      set.push(`#${group} = :${group}`, `#${group}Version = :version`, `#${group}EventId = :eventId`);
      conditions.push(`(attribute_not_exists(#${group}Version) OR #${group}Version < :version)`);
    }
    return new UpdateItemCommand({
      TableName: this.tableName,
      Key: { pk: { S: partitionKey(key.propertyId) }, sk: { S: sortKey(key) } },
      UpdateExpression: `SET ${set.join(', ')}`,
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  }

  async readNightsByKey(keys: readonly RoomNightKey[]): Promise<readonly RoomNightState[]> {
    const states: RoomNightState[] = [];
    const unique = new Map<string, Item>();
    for (const key of keys) {
      const item = { pk: { S: partitionKey(key.propertyId) }, sk: { S: sortKey(key) } };
      unique.set(`${item.pk.S}\n${item.sk.S}`, item);
    }
    const all = [...unique.values()];
    for (let start = 0; start < all.length; start += BATCH_GET_LIMIT) {
      let pending: Item[] = all.slice(start, start + BATCH_GET_LIMIT);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= MAX_BATCH_GET_ATTEMPTS) {
          throw new Error(`DynamoDB left ${pending.length} keys unprocessed after ${attempt} attempts`);
        }
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
        const response = await this.client.send(
          new BatchGetItemCommand({
            RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } },
          }),
        );
        for (const item of response.Responses?.[this.tableName] ?? []) states.push(toRoomNightState(item));
        // Throttled or oversized batches come back as unprocessed keys, to be asked for again.
        pending = (response.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Item[];
      }
    }
    return states;
  }

  /**
   * Nights of one property from `from` to `to` inclusive, in date order. Filters are applied by DynamoDB after
   * reading, so a page is filled with further round trips (up to a bound) rather than coming back short; the
   * cursor is the key of the last night returned.
   */
  async readNights(query: AriQuery): Promise<Page<RoomNightState>> {
    const pk = partitionKey(query.propertyId);
    const { range, startKey: cursorKey } = nightRange(
      pk,
      query,
      (message) => new InvalidAriQueryError(message),
    );
    let startKey = cursorKey;
    const condition = rangeCondition(range);
    const names = { ...condition.ExpressionAttributeNames };
    const values = { ...condition.ExpressionAttributeValues };
    const filters: string[] = [];
    for (const field of ['roomTypeId', 'ratePlanId'] as const) {
      const wanted = query[field];
      if (wanted === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = { S: wanted };
      filters.push(`#${field} = :${field}`);
    }

    const items: RoomNightState[] = [];
    let lastKey: Item | undefined;
    for (let trip = 0; trip < MAX_QUERY_ROUND_TRIPS && items.length < query.limit; trip += 1) {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: condition.KeyConditionExpression,
          FilterExpression: filters.length > 0 ? filters.join(' AND ') : undefined,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ExclusiveStartKey: startKey,
          Limit: query.limit,
        }),
      );
      const matched = page.Items ?? [];
      const room = query.limit - items.length;
      for (const item of matched.slice(0, room)) items.push(toRoomNightState(item));
      if (matched.length > room) {
        // The page is full before this batch ends: resume after the last night returned, not after the batch.
        lastKey = matched[room - 1];
        break;
      }
      lastKey = page.LastEvaluatedKey;
      if (lastKey === undefined) break;
      startKey = lastKey;
    }
    return lastKey === undefined ? { items } : { items, cursor: cursorAt(lastKey, ['pk', 'sk']) };
  }

  /**
   * Every channel's state of one room night: one strongly consistent Query of the sort-key prefix
   * `<date>#<roomTypeId>#<ratePlanId>#`, so it reads one item per channel whatever the property's calendar holds.
   * Strongly consistent, because it answers a change just written.
   */
  async readNightChannels(key: ParityNightKey): Promise<readonly RoomNightState[]> {
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
        ExpressionAttributeValues: {
          ':pk': { S: partitionKey(key.propertyId) },
          ':prefix': { S: `${key.date}#${keyPart(key.roomTypeId)}#${keyPart(key.ratePlanId)}#` },
        },
        ConsistentRead: true,
      },
    );
    return (await allItems(pages)).map(toRoomNightState);
  }
}

/**
 * The room night an ARI item key stands for, as a stream record carries it (`pk`, `sk`); refused when the key is
 * not laid out as this store writes it.
 */
export function roomNightKeyOfItem(pk: string | undefined, sk: string | undefined): RoomNightKey {
  const parts = sk?.split('#') ?? [];
  const [date, roomTypeId, ratePlanId, channel] = parts.map((part) => safeDecode(part));
  if (
    pk === undefined ||
    !pk.startsWith('P#') ||
    parts.length !== 4 ||
    date === undefined ||
    !isCalendarDate(date) ||
    roomTypeId === undefined ||
    ratePlanId === undefined ||
    channel === undefined
  ) {
    throw new Error(
      `ARI item key pk="${pk}", sk="${sk}" is not a room night's key; expected pk "P#<propertyId>" and sk ` +
        '"<date>#<roomTypeId>#<ratePlanId>#<channel>" with percent-encoded ids.',
    );
  }
  return { propertyId: pk.slice(2), roomTypeId, ratePlanId, channel, date };
}

function safeDecode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

function partitionKey(propertyId: string): string {
  return `P#${propertyId}`;
}

/** Ids are percent-encoded, so a '#' inside an id can never be mistaken for the separator. */
function sortKey(key: RoomNightKey): string {
  return `${key.date}#${keyPart(key.roomTypeId)}#${keyPart(key.ratePlanId)}#${keyPart(key.channel)}`;
}

function describeKey(key: RoomNightKey): string {
  return `${key.propertyId}/${key.roomTypeId}/${key.ratePlanId}/${key.channel}/${key.date}`;
}

/**
 * Whether a stored version is older than `version` in DynamoDB's own order (UTF-8 bytes), which is what the
 * condition used; JavaScript's `<` compares UTF-16 units and disagrees for some non-ASCII text, which would make
 * the retry loop ask again for a write DynamoDB will keep refusing.
 */
function isOlder(stored: string | undefined, version: Version): boolean {
  return stored === undefined || compareVersions(stored, version) < 0;
}

// ---------------------------------------------------------------------------------------------------------
// Attribute mapping

function groupAttribute(group: FieldGroup, write: NightWrite): AttributeValue {
  switch (group) {
    case 'rate': {
      const rate = write.rate as Money;
      return { M: { amountMinor: number(rate.amountMinor), currency: { S: rate.currency } } };
    }
    case 'availability': {
      const availability = write.availability as AvailabilityValue;
      const map: Item = { rooms: number(availability.rooms) };
      if (availability.requested !== undefined) map.requested = number(availability.requested);
      if (availability.cappedBy !== undefined) map.cappedBy = { S: availability.cappedBy };
      return { M: map };
    }
    case 'restrictions': {
      const restrictions = write.restrictions as Restrictions;
      const map: Item = {};
      for (const field of ['minLengthOfStay', 'maxLengthOfStay'] as const) {
        const value = restrictions[field];
        if (value !== undefined) map[field] = number(value);
      }
      for (const field of ['closedToArrival', 'closedToDeparture', 'stopSell'] as const) {
        const value = restrictions[field];
        if (value !== undefined) map[field] = { BOOL: value };
      }
      return { M: map };
    }
  }
}

function number(value: number): AttributeValue {
  if (!Number.isFinite(value)) throw new Error(`Cannot store ${value} as a DynamoDB number`);
  return { N: String(value) };
}

function toRoomNightState(item: Item): RoomNightState {
  const where = describeItem(item, 'ARI');
  const key: RoomNightKey = requiredStrings(item, ROOM_NIGHT_KEY_ATTRIBUTES, 'ARI');
  const versioned = <T>(group: FieldGroup, parse: (map: Item) => T): VersionedGroup<T> | undefined => {
    const map = item[group]?.M;
    if (map === undefined) return undefined;
    return {
      value: parse(map),
      version: requiredString(item, `${group}Version`, 'ARI'),
      eventId: requiredString(item, `${group}EventId`, 'ARI'),
    };
  };
  const requiredNumber = (map: Item, group: FieldGroup, field: string): number => {
    const value = map[field]?.N;
    if (value === undefined) throw new Error(`${where} has no number "${field}" in its ${group}`);
    return Number(value);
  };
  const optionalNumber = (map: Item, field: string): number | undefined => {
    const value = map[field]?.N;
    return value === undefined ? undefined : Number(value);
  };

  const rate = versioned<Money>('rate', (map) => {
    const currency = map.currency?.S;
    if (currency === undefined) throw new Error(`${where} has no currency in its rate`);
    return { amountMinor: requiredNumber(map, 'rate', 'amountMinor'), currency };
  });
  const availability = versioned<AvailabilityValue>('availability', (map) =>
    withoutUndefined({
      rooms: requiredNumber(map, 'availability', 'rooms'),
      requested: optionalNumber(map, 'requested'),
      cappedBy: map.cappedBy?.S,
    }),
  );
  const restrictions = versioned<Restrictions>('restrictions', (map) =>
    withoutUndefined({
      minLengthOfStay: optionalNumber(map, 'minLengthOfStay'),
      maxLengthOfStay: optionalNumber(map, 'maxLengthOfStay'),
      closedToArrival: map.closedToArrival?.BOOL,
      closedToDeparture: map.closedToDeparture?.BOOL,
      stopSell: map.stopSell?.BOOL,
    }),
  );
  // Absent groups left out, so that a state read back compares equal to what was written.
  return withoutUndefined({ key, rate, availability, restrictions });
}
