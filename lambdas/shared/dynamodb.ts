import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type QueryCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';

/**
 * What the stores share: item attributes are mapped by hand (the item shapes are fixed and small, and it keeps the
 * bundles free of marshalling libraries), so the mapping's pieces live here once.
 */

export type Item = Record<string, AttributeValue>;

/** A refused condition; carries the item as it was when ReturnValuesOnConditionCheckFailure asked for it. */
export interface ConditionalCheckFailure extends Error {
  readonly Item?: Item;
}

// By name rather than instanceof, so that a second copy of the SDK in a bundle cannot defeat the check.
export function isConditionalCheckFailure(error: unknown): error is ConditionalCheckFailure {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** The write's output, or undefined when DynamoDB refused its condition; any other failure is thrown. */
export async function unlessConditionFails<T>(write: Promise<T>): Promise<T | undefined> {
  try {
    return await write;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return undefined;
    throw error;
  }
}

/** Whether a conditional write went through: false when DynamoDB refused its condition. */
export async function conditionHeld(write: Promise<unknown>): Promise<boolean> {
  return (await unlessConditionFails(write.then(() => true))) ?? false;
}

/**
 * How long items live before DynamoDB's TTL removes them, in seconds, from a retention of whole days (1 or more).
 */
export function retentionSeconds(retentionDays: number): number {
  if (!Number.isInteger(retentionDays) || retentionDays < 1) {
    throw new RangeError(
      `retentionDays must be a whole number of days, 1 or more; received ${retentionDays}.`,
    );
  }
  return retentionDays * 86_400;
}

/** BatchWriteItem's limit per request. */
export const BATCH_WRITE_LIMIT = 25;

/** How a batch write treats the items DynamoDB leaves unprocessed, as it does when the table throttles. */
export interface UnprocessedRetry {
  /** BatchWriteItem calls per chunk of BATCH_WRITE_LIMIT before giving up on the items DynamoDB keeps returning. */
  readonly maxAttempts: number;
  /** Wait before the first retry of a chunk; doubles with each further one, giving the table room. */
  readonly backoffMs: number;
  /** What to throw on giving up: `unprocessed` items of the chunk still returned, `notTried` in later chunks. */
  readonly giveUp: (unprocessed: number, notTried: number) => Error;
}

/** A store kept in one DynamoDB table, whose items have a string partition key `pk`. */
export abstract class DynamoDbTable {
  constructor(
    protected readonly client: DynamoDBClient,
    protected readonly tableName: string,
  ) {}

  /**
   * The item under partition key `pk`, read consistently: what was just written is what is read. With
   * `attributes`, only those are read (a large attribute left out costs no read capacity).
   */
  protected async getItem(pk: string, attributes?: readonly string[]): Promise<Item | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: pk } },
        ConsistentRead: true,
        ...(attributes === undefined ? {} : projection(attributes)),
      }),
    );
    return Item;
  }

  /**
   * Writes every request, BATCH_WRITE_LIMIT per BatchWriteItem and in order, sending again what DynamoDB leaves
   * unprocessed as `retry` says.
   */
  protected async batchWriteAll(requests: readonly WriteRequest[], retry: UnprocessedRetry): Promise<void> {
    for (let start = 0; start < requests.length; start += BATCH_WRITE_LIMIT) {
      let pending = requests.slice(start, start + BATCH_WRITE_LIMIT);
      for (let attempt = 1; pending.length > 0; attempt++) {
        if (attempt > retry.maxAttempts) {
          throw retry.giveUp(pending.length, Math.max(0, requests.length - start - BATCH_WRITE_LIMIT));
        }
        if (attempt > 1) await new Promise((done) => setTimeout(done, retry.backoffMs * 2 ** (attempt - 2)));
        const response = await this.client.send(
          new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } }),
        );
        pending = response.UnprocessedItems?.[this.tableName] ?? [];
      }
    }
  }

  /**
   * Writes `item`, replacing any item under its `pk`; with `onlyNew`, DynamoDB refuses it where an item has that
   * `pk` already, and its ConditionalCheckFailedException carries the item there.
   */
  protected async putItem(item: Item, { onlyNew = false } = {}): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: item,
        ...(onlyNew
          ? {
              ConditionExpression: 'attribute_not_exists(pk)',
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }
          : {}),
      }),
    );
  }
}

/** Reads only `attributes`, by placeholder names, so that reserved words such as `status` can be among them. */
function projection(attributes: readonly string[]): {
  ProjectionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
} {
  const names = attributes.map((name, index) => [`#a${index}`, name] as const);
  return {
    ProjectionExpression: names.map(([placeholder]) => placeholder).join(', '),
    ExpressionAttributeNames: Object.fromEntries(names),
  };
}

/** An item as error messages name it: its kind and its key. */
export function describeItem(item: Item, itemKind: string): string {
  const sk = item.sk?.S;
  return `${itemKind} item ${item.pk?.S ?? '(no pk)'}${sk === undefined ? '' : ` ${sk}`}`;
}

/**
 * A string attribute a table's item must carry. A missing one means the item was not written by this code (or
 * by an older shape of it), so the error names the table's kind of item, its keys and the attribute.
 */
export function requiredString(item: Item, name: string, itemKind: string): string {
  const value = item[name]?.S;
  if (value === undefined)
    throw new Error(`${describeItem(item, itemKind)} has no string attribute "${name}"`);
  return value;
}

/** The string attributes `names`, each of which the item must carry (see requiredString). */
export function requiredStrings<const N extends string>(
  item: Item,
  names: readonly N[],
  itemKind: string,
): Record<N, string> {
  const values = {} as Record<N, string>;
  for (const name of names) values[name] = requiredString(item, name, itemKind);
  return values;
}

/** Those of the string attributes `names` the item carries; absent ones are left out, not set to undefined. */
export function optionalStrings<const N extends string>(
  item: Item,
  names: readonly N[],
): Partial<Record<N, string>> {
  const values: Partial<Record<N, string>> = {};
  for (const name of names) {
    const value = item[name]?.S;
    if (value !== undefined) values[name] = value;
  }
  return values;
}

/** A string attribute for each of the fields `names` that `source` sets; unset ones are left out. */
export function stringAttributes<const N extends string>(
  source: Readonly<Partial<Record<N, string>>>,
  names: readonly N[],
): Item {
  const item: Item = {};
  for (const name of names) {
    const value = source[name];
    if (value !== undefined) item[name] = { S: value };
  }
  return item;
}

/**
 * One sort-key component. Percent-encoding turns every '#' inside an id into "%23" and every character into
 * ASCII, so the separator cannot be forged, two different id tuples never share a key, and '\uffff' bounds
 * every suffix (see sortKeyRange).
 */
export function keyPart(id: string): string {
  return encodeURIComponent(id);
}

/** Sorts after every sort-key suffix, which is all ASCII: the components in it are percent-encoded. */
const AFTER_EVERY_SUFFIX = '#\uffff';

/** The items of partition `pk` whose sort key's first component lies from `lower` to `upper`, both included. */
export interface SortKeyRange {
  readonly pk: string;
  readonly lower: string;
  /** `upper` with every suffix it may have: the sort-key bound a query and a cursor are checked against. */
  readonly upper: string;
}

export function sortKeyRange(pk: string, lower: string, upper: string): SortKeyRange {
  return { pk, lower, upper: `${upper}${AFTER_EVERY_SUFFIX}` };
}

/** The key condition of a query for the items in `range`. */
export function rangeCondition(
  range: SortKeyRange,
): Required<
  Pick<QueryCommandInput, 'KeyConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>
> {
  return {
    KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
    ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
    ExpressionAttributeValues: {
      ':pk': { S: range.pk },
      ':from': { S: range.lower },
      ':to': { S: range.upper },
    },
  };
}

/** A page of a query or scan, as the SDK's paginators yield them. */
interface ItemPage {
  readonly Items?: Item[];
}

/** Every item of every page, in order. */
export async function allItems(pages: AsyncIterable<ItemPage>): Promise<Item[]> {
  const items: Item[] = [];
  for await (const page of pages) items.push(...(page.Items ?? []));
  return items;
}

/**
 * The first `limit` items, and whether another follows them. The pages must be asked for `limit + 1` items:
 * DynamoDB answers a LastEvaluatedKey whenever a page is full, even at the very end, so only the extra item says
 * that another page really exists. A second page is read only when DynamoDB stops at its 1 MB page size first.
 */
export async function firstItems(
  pages: AsyncIterable<ItemPage>,
  limit: number,
): Promise<{ items: Item[]; more: boolean }> {
  const items: Item[] = [];
  for await (const page of pages) {
    items.push(...(page.Items ?? []));
    if (items.length > limit) break;
  }
  return { items: items.slice(0, limit), more: items.length > limit };
}
