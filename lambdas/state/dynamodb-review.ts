import { gunzipSync, gzipSync } from 'node:zlib';
import { DeleteItemCommand, paginateQuery, paginateScan, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { CanonicalEvent } from '../domain/canonical';
import type { Page } from '../domain/page';
import { versionOf } from '../domain/state';
import { decodeCursor, encodeCursor, InvalidCursorError, pageOf } from '../shared/cursor';
import {
  allItems,
  DynamoDbTable,
  describeItem,
  firstItems,
  type Item,
  requiredString,
  requiredStrings,
  stringAttributes,
} from '../shared/dynamodb';
import { REVIEW } from '../shared/topology';
import type { ParkedEvent, ReviewStore } from './ports';

const WAITING_FOR_INDEX = indexName('byWaitingFor');
const WAITING_IN_ORDER_INDEX = indexName('waitingInOrder');
/**
 * DynamoDB caps an item at 400 KB, names and index copies included, while the queue accepts events up to 1 MiB.
 * Events above this size are stored gzip-compressed (canonical JSON compresses several-fold); one that still
 * does not fit is refused with an error that says so, and goes to the DLQ with its reason noted.
 */
const COMPRESS_ABOVE_BYTES = 64 * 1024;
const MAX_STORED_EVENT_BYTES = 350 * 1024;
// A table key is a few hundred bytes at most; anything much longer was not issued by list().
const MAX_CURSOR_LENGTH = 2048;
/** The entry's fields besides the event, stored as string attributes of the same names. */
const PARKED_TEXT = ['reason', 'waitingFor', 'parkedAt'] as const satisfies readonly (keyof ParkedEvent)[];

/**
 * Events parked until a mapping arrives or their source's hold ends, one item per event id. The GSI on
 * `waitingFor` finds every event a new mapping releases; `waitingInOrder` pages through those a resume releases,
 * in version order. The event is kept as JSON text: it is only ever read back whole, and the text round-trips it
 * exactly, with no attribute mapping to keep in step with the canonical types.
 */
export class DynamoDbReviewStore extends DynamoDbTable implements ReviewStore {
  /** Parking an event again replaces its entry, so the latest reason and mapping key are the ones kept. */
  async park(entry: ParkedEvent): Promise<void> {
    await this.putItem({
      pk: { S: entry.event.eventId },
      ...storedEvent(entry.event, entry.waitingFor),
      ...stringAttributes(entry, PARKED_TEXT),
      parkOrder: { S: versionOf(entry.event) },
      sourceId: { S: entry.event.sourceId },
      eventType: { S: entry.event.type },
    });
  }

  async waitingFor(mappingKey: string): Promise<readonly ParkedEvent[]> {
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        IndexName: WAITING_FOR_INDEX,
        KeyConditionExpression: 'waitingFor = :waitingFor',
        ExpressionAttributeValues: { ':waitingFor': { S: mappingKey } },
      },
    );
    return (await allItems(pages)).map(toParkedEvent);
  }

  /** Reads one item beyond the page, as `list` does, so that the last page carries no cursor. */
  async waitingInOrder(key: string, limit: number, cursor?: string): Promise<Page<ParkedEvent>> {
    assertPageSize(limit);
    const items: Item[] = [];
    let startKey = cursor === undefined ? undefined : orderedStartKey(cursor, key);
    do {
      const { Items, LastEvaluatedKey } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: WAITING_IN_ORDER_INDEX,
          KeyConditionExpression: 'waitingFor = :waitingFor',
          ExpressionAttributeValues: { ':waitingFor': { S: key } },
          Limit: limit + 1 - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(Items ?? []));
      startKey = LastEvaluatedKey;
    } while (startKey !== undefined && items.length <= limit);

    const page = items.slice(0, limit);
    const last = page.at(-1);
    const lastKey = { pk: last?.pk?.S, waitingFor: last?.waitingFor?.S, parkOrder: last?.parkOrder?.S };
    if (items.length <= limit || !isComplete(lastKey)) return { items: page.map(toParkedEvent) };
    return { items: page.map(toParkedEvent), cursor: encodeCursor(lastKey) };
  }

  async remove(eventId: string): Promise<void> {
    await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: { pk: { S: eventId } } }));
  }

  /**
   * Reads one item beyond the page, so that a cursor is handed out only when another page really exists:
   * DynamoDB alone answers a LastEvaluatedKey whenever the limit is reached, even at the very end.
   */
  async list(limit: number, cursor?: string): Promise<Page<ParkedEvent>> {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(`The page size must be a positive integer, received ${limit}`);
    }
    const startKey =
      cursor === undefined ? undefined : { pk: { S: decodeCursor(cursor, ['pk'], MAX_CURSOR_LENGTH).pk } };
    const pages = paginateScan(
      { client: this.client, pageSize: limit + 1, startingToken: startKey },
      { TableName: this.tableName },
    );
    return pageOf(await firstItems(pages, limit), ['pk'], toParkedEvent);
  }
}

function assertPageSize(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`The page size must be a positive integer, received ${limit}`);
  }
}

function isComplete(key: Record<string, string | undefined>): key is Record<string, string> {
  return Object.values(key).every((value) => value !== undefined);
}

/** The index key a `waitingInOrder` cursor encodes, accepted only for the key it was issued for. */
function orderedStartKey(cursor: string, key: string): Item {
  const decoded = decodeCursor(cursor, ['pk', 'waitingFor', 'parkOrder'], MAX_CURSOR_LENGTH);
  if (decoded.waitingFor !== key) throw new InvalidCursorError('it was issued for another key');
  return {
    pk: { S: decoded.pk },
    waitingFor: { S: decoded.waitingFor },
    parkOrder: { S: decoded.parkOrder },
  };
}

function indexName(name: string): string {
  const index = REVIEW.globalSecondaryIndexes?.find((candidate) => candidate.indexName === name);
  if (index === undefined)
    throw new Error(`The Review table defines no index ${name} (lambdas/shared/topology.ts)`);
  return index.indexName;
}

function storedEvent(event: CanonicalEvent, waitingFor: string): Item {
  const json = JSON.stringify(event);
  const bytes = Buffer.byteLength(json);
  if (bytes <= COMPRESS_ABOVE_BYTES) return { event: { S: json } };
  const compressed = gzipSync(json);
  if (compressed.length > MAX_STORED_EVENT_BYTES) {
    throw new Error(
      `Event ${event.eventId} cannot be parked for review: it is ${bytes} bytes (${compressed.length} compressed), ` +
        `over what a DynamoDB item holds. It stays on the queue and reaches the DLQ; once what it waits for ` +
        `(${waitingFor}) is in place, the mapping added or the hold ended, redrive the DLQ.`,
    );
  }
  return { eventGzip: { B: compressed } };
}

function toParkedEvent(item: Item): ParkedEvent {
  const where = describeItem(item, 'Review');
  let event: unknown;
  try {
    const compressed = item.eventGzip?.B;
    event = JSON.parse(
      compressed === undefined
        ? requiredString(item, 'event', 'Review')
        : gunzipSync(compressed).toString('utf8'),
    );
  } catch (error) {
    throw new Error(`${where} holds an event that is not valid JSON`, { cause: error });
  }
  if (
    typeof event !== 'object' ||
    event === null ||
    (event as { eventId?: unknown }).eventId !== item.pk?.S
  ) {
    throw new Error(`${where} holds an event whose eventId does not match the item's key`);
  }
  return { event: event as CanonicalEvent, ...requiredStrings(item, PARKED_TEXT, 'Review') };
}
