import { gunzipSync, gzipSync } from 'node:zlib';
import { DeleteItemCommand, PutItemCommand, paginateQuery, paginateScan } from '@aws-sdk/client-dynamodb';
import type { CanonicalEvent } from '../domain/canonical';
import type { Page } from '../domain/page';
import { decodeCursor, pageOf } from '../shared/cursor';
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
 * Events parked until a mapping arrives, one item per event id. The GSI on `waitingFor` finds every event a new
 * mapping releases. The event is kept as JSON text: it is only ever read back whole, and the text round-trips it
 * exactly, with no attribute mapping to keep in step with the canonical types.
 */
export class DynamoDbReviewStore extends DynamoDbTable implements ReviewStore {
  /** Parking an event again replaces its entry, so the latest reason and mapping key are the ones kept. */
  async park(entry: ParkedEvent): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          pk: { S: entry.event.eventId },
          ...storedEvent(entry.event, entry.waitingFor),
          ...stringAttributes(entry, PARKED_TEXT),
          sourceId: { S: entry.event.sourceId },
          eventType: { S: entry.event.type },
        },
      }),
    );
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
        `over what a DynamoDB item holds. It stays on the queue and reaches the DLQ; add the mapping it waits ` +
        `for (${waitingFor}), then redrive the DLQ.`,
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
