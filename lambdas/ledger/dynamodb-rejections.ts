import {
  type AttributeValue,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { Page } from '../domain/page';
import { compareVersions } from '../domain/state';
import { decodeCursor, encodeCursor, InvalidCursorError } from '../shared/cursor';
import { isConditionalCheckFailure, requiredString } from '../shared/dynamodb';
import {
  type RecordBound,
  type RecordOutcome,
  type Rejection,
  type RejectionQuery,
  type RejectionReader,
  type RejectionRecorder,
  type UnrecordedCount,
  type UnrecordedQuery,
  utcDay,
} from './rejections';

type Item = Record<string, AttributeValue>;

const ALL_INDEX = 'rejectionsAll';
/** `all` of a record, and of a day counter: the two partitions of the index. */
const RECORDS_PARTITION = 'rejection';
const COUNTS_PARTITION = 'unrecorded';
/** A second's counter is only written within its second; TTL removes it some time after this. */
const SECOND_COUNTER_SECONDS = 60;
/** Sorts after every request id that can follow `<at>#`: request ids are ASCII. */
const AFTER_EVERY_REQUEST = '#\uffff';
/** What `Date.toISOString` writes: fixed width, so key order is time order. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const CALENDAR_DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The rejection log in the REJECTIONS table. A record is keyed `pk` = source id as given, `sk` =
 * `<at>#<requestId>`; counters live beside a source's records under sort keys that start with a letter, so
 * no time range ever reads one: `rate#<epoch second>` (records kept that second) and `count#<day>` (refused
 * beyond the bound that day). Unconfigured source ids share one bucket's counters. The `rejectionsAll` index
 * holds every record (`all` = `rejection`) and every day counter (`all` = `unrecorded`), both by `sk`.
 */
export class DynamoDbRejectionLog implements RejectionRecorder, RejectionReader {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /**
   * One conditional increment of the second's counter decides: under the bound, the record is written; at it,
   * the day's count goes up instead. Two writes either way, whatever the number of function instances.
   */
  async record(rejection: Rejection, bound: RecordBound): Promise<RecordOutcome> {
    assertInstant(rejection.at, 'the rejection time');
    const second = Math.floor(Date.parse(rejection.at) / 1000);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: bound.bucket }, sk: { S: `rate#${second}` } },
          UpdateExpression: 'SET expiresAt = :expiresAt ADD #recorded :one',
          ConditionExpression: 'attribute_not_exists(#recorded) OR #recorded < :limit',
          ExpressionAttributeNames: { '#recorded': 'recorded' },
          ExpressionAttributeValues: {
            ':one': { N: '1' },
            ':limit': { N: String(bound.perSecond) },
            ':expiresAt': { N: String(second + SECOND_COUNTER_SECONDS) },
          },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
      await this.count(rejection, bound.bucket);
      return 'counted';
    }
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: toItem(rejection) }));
    return 'recorded';
  }

  private async count(rejection: Rejection, bucket: string): Promise<void> {
    const day = utcDay(rejection.at);
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: bucket }, sk: { S: `count#${day}` } },
        // The latest rejection's expiry: the count lives as long as the day's last records would have.
        UpdateExpression: 'SET #all = :all, #day = :day, expiresAt = :expiresAt ADD #count :one',
        ExpressionAttributeNames: { '#all': 'all', '#day': 'day', '#count': 'count' },
        ExpressionAttributeValues: {
          ':all': { S: COUNTS_PARTITION },
          ':day': { S: day },
          ':expiresAt': { N: String(rejection.expiresAt) },
          ':one': { N: '1' },
        },
      }),
    );
  }

  /**
   * One Query per page, of one source's partition or of the index. It asks for one item more than the page
   * holds, so that without a reason filter a cursor is handed out only when another record follows. With one,
   * DynamoDB filters after reading, so a page may come back short with a cursor to go on from.
   */
  async list(query: RejectionQuery): Promise<Page<Rejection>> {
    assertInstant(query.from, '"from" instant');
    assertInstant(query.to, '"to" instant');
    // DynamoDB refuses a BETWEEN whose bounds are reversed; such a window holds nothing.
    if (compareVersions(query.from, query.to) > 0) return { items: [] };
    const upper = `${query.to}${AFTER_EVERY_REQUEST}`;
    const partition =
      query.sourceId === undefined
        ? { attribute: 'all', value: RECORDS_PARTITION, keyNames: ['all', 'pk', 'sk'] }
        : { attribute: 'pk', value: query.sourceId, keyNames: ['pk', 'sk'] };
    const names: Record<string, string> = { '#p': partition.attribute, '#sk': 'sk' };
    const values: Item = {
      ':p': { S: partition.value },
      ':from': { S: query.from },
      ':to': { S: upper },
    };
    if (query.reason !== undefined) {
      names['#reason'] = 'reason';
      values[':reason'] = { S: query.reason };
    }
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        ...(query.sourceId === undefined ? { IndexName: ALL_INDEX } : {}),
        KeyConditionExpression: '#p = :p AND #sk BETWEEN :from AND :to',
        ...(query.reason === undefined ? {} : { FilterExpression: '#reason = :reason' }),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
        Limit: query.limit + 1,
        ...(query.cursor === undefined
          ? {}
          : {
              ExclusiveStartKey: startKey(query.cursor, partition, query.from, upper),
            }),
      }),
    );
    const items = page.Items ?? [];
    if (items.length > query.limit) {
      const last = items[query.limit - 1] ?? {};
      const key = Object.fromEntries(partition.keyNames.map((name) => [name, textOf(last, name)]));
      return { items: items.slice(0, query.limit).map(toRejection), cursor: encodeCursor(key) };
    }
    const rest = page.LastEvaluatedKey;
    return {
      items: items.map(toRejection),
      ...(rest === undefined ? {} : { cursor: encodeCursor(plainKey(rest)) }),
    };
  }

  async unrecorded(query: UnrecordedQuery): Promise<readonly UnrecordedCount[]> {
    assertDay(query.fromDay, '"from" day');
    assertDay(query.toDay, '"to" day');
    if (query.fromDay > query.toDay) return [];
    const counts: UnrecordedCount[] = [];
    let startKey: Item | undefined;
    // A handful of items per day: one per bucket that went over its bound.
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          ...(query.bucket === undefined ? { IndexName: ALL_INDEX } : {}),
          KeyConditionExpression: '#p = :p AND #sk BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#p': query.bucket === undefined ? 'all' : 'pk', '#sk': 'sk' },
          ExpressionAttributeValues: {
            ':p': { S: query.bucket ?? COUNTS_PARTITION },
            ':from': { S: `count#${query.fromDay}` },
            ':to': { S: `count#${query.toDay}` },
          },
          ExclusiveStartKey: startKey,
        }),
      );
      counts.push(...(page.Items ?? []).map(toCount));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return counts.sort((a, b) => compareVersions(a.day, b.day) || compareVersions(a.bucket, b.bucket));
  }
}

/** The start key a cursor encodes, accepted only for the partition and time window it was issued for. */
function startKey(
  cursor: string,
  partition: { readonly attribute: string; readonly value: string; readonly keyNames: readonly string[] },
  lower: string,
  upper: string,
): Item {
  const key: Record<string, string> = decodeCursor(cursor, partition.keyNames);
  if (key[partition.attribute] !== partition.value) {
    throw new InvalidCursorError('it was issued for another source');
  }
  const sk = key.sk ?? '';
  if (compareVersions(sk, lower) < 0 || compareVersions(sk, upper) > 0) {
    throw new InvalidCursorError('it lies outside the requested time window');
  }
  return Object.fromEntries(Object.entries(key).map(([name, value]) => [name, { S: value }]));
}

function plainKey(key: Item): Record<string, string> {
  return Object.fromEntries(Object.entries(key).map(([name, value]) => [name, value.S ?? '']));
}

function assertInstant(value: string, what: string): void {
  if (!ISO_INSTANT.test(value)) {
    throw new RangeError(
      `The ${what} must be an ISO instant as Date.toISOString writes it; received "${value}".`,
    );
  }
}

function assertDay(value: string, what: string): void {
  if (!CALENDAR_DAY.test(value)) {
    throw new RangeError(`The ${what} must be a UTC day YYYY-MM-DD; received "${value}".`);
  }
}

function toItem(rejection: Rejection): Item {
  return {
    pk: { S: rejection.sourceId },
    sk: { S: `${rejection.at}#${rejection.requestId}` },
    all: { S: RECORDS_PARTITION },
    at: { S: rejection.at },
    requestId: { S: rejection.requestId },
    sourceId: { S: rejection.sourceId },
    ...(rejection.senderAddress === undefined ? {} : { senderAddress: { S: rejection.senderAddress } }),
    status: { N: String(rejection.status) },
    reason: { S: rejection.reason },
    headerNames: { L: rejection.headerNames.map((name) => ({ S: name })) },
    bodyBytes: { N: String(rejection.bodyBytes) },
    bodySha256: { S: rejection.bodySha256 },
    expiresAt: { N: String(rejection.expiresAt) },
  };
}

function textOf(item: Item, name: string): string {
  return requiredString(item, name, 'Rejection');
}

function numberOf(item: Item, name: string): number {
  const value = item[name]?.N;
  if (value === undefined) {
    throw new Error(
      `Rejection item ${item.pk?.S ?? '(no pk)'} ${item.sk?.S ?? '(no sk)'} has no number "${name}"`,
    );
  }
  return Number(value);
}

function toRejection(item: Item): Rejection {
  const senderAddress = item.senderAddress?.S;
  return {
    at: textOf(item, 'at'),
    requestId: textOf(item, 'requestId'),
    sourceId: textOf(item, 'sourceId'),
    ...(senderAddress === undefined ? {} : { senderAddress }),
    status: numberOf(item, 'status'),
    reason: textOf(item, 'reason'),
    headerNames: (item.headerNames?.L ?? []).map((name) => name.S ?? ''),
    bodyBytes: numberOf(item, 'bodyBytes'),
    bodySha256: textOf(item, 'bodySha256'),
    expiresAt: numberOf(item, 'expiresAt'),
  };
}

function toCount(item: Item): UnrecordedCount {
  return { bucket: textOf(item, 'pk'), day: textOf(item, 'day'), count: numberOf(item, 'count') };
}
