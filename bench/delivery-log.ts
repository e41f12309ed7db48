/**
 * The delivery log's paging on DynamoDB Local: pages of 100 through a ledger of 100,000 entries, read with
 * DynamoDbDeliveryLedger.list (one Query per page, rows mapped, cursor encoded and checked) against a bare Query
 * of the same index, the same key condition and page size, continued from DynamoDB's own LastEvaluatedKey, in the
 * same run. The result is a ratio, so it compares across machines; nothing here asserts a duration.
 */
import { randomBytes } from 'node:crypto';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  DynamoDBClient,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { LOG_ALL, type LogIndex, logAtOf, logIndexFor, sourceStatusOf } from '../lambdas/ledger/delivery-log';
import { DynamoDbDeliveryLedger } from '../lambdas/ledger/dynamodb-ledger';
import type { DeliveryLogQuery, LedgerStatus } from '../lambdas/ledger/ports';
import { DELIVERY_LEDGER } from '../lambdas/shared/topology';
import { LOCAL_AWS, startEmulators } from '../local/emulators';
import { provision } from '../local/provision';

export const DELIVERY_LOG_TARGET_RATIO = 0.7;
const ENTRIES = Number(process.env.BENCH_LOG_ENTRIES ?? 100_000);
const PAGE = 100;
/** Pages read per side and round: a walk from the newest entry down. */
const PAGES = Number(process.env.BENCH_LOG_PAGES ?? 60);
const ROUNDS = Number(process.env.BENCH_LOG_ROUNDS ?? 5);
const DAY_START = Date.parse('2026-04-10T00:00:00.000Z');
const DAY_END = DAY_START + 86_400_000;

const SOURCES = ['cm-lisbon', 'ota-booking', 'pms-main', 'hospitable'] as const;
const STATUSES: readonly LedgerStatus[] = ['applied', 'applied', 'applied', 'applied', 'parked', 'rejected'];

/**
 * An applied, parked or rejected entry as the ledger leaves it, spread over one day: the attributes the log
 * indexes copy, and a retained event of about 1 KB, as the table (not the indexes) holds it.
 */
function ledgerItem(
  index: number,
  expiresAt: number,
  entries: number,
  dayStart: number,
): Record<string, AttributeValue> {
  const eventId = `evt_${index.toString(16).padStart(8, '0')}${randomBytes(12).toString('hex')}`;
  const sourceId = SOURCES[index % SOURCES.length] ?? 'cm-lisbon';
  const status = STATUSES[index % STATUSES.length] ?? 'applied';
  const receivedAt = new Date(dayStart + Math.floor((index / entries) * 86_400_000)).toISOString();
  const S = (value: string) => ({ S: value });
  return {
    pk: S(eventId),
    eventId: S(eventId),
    sourceId: S(sourceId),
    kind: S('channel-manager'),
    idempotencyKey: S(`cm-evt-${index}`),
    providerEventType: S('rate_update'),
    canonicalType: S('ari.update'),
    status: S(status),
    occurredAt: S(receivedAt),
    receivedAt: S(receivedAt),
    updatedAt: S(receivedAt),
    settledAt: S(receivedAt),
    expiresAt: { N: String(expiresAt) },
    deliveryCount: { N: '1' },
    messageId: S(randomBytes(16).toString('hex')),
    event: S(JSON.stringify({ eventId, sourceId, data: { notes: 'x'.repeat(900) } })),
    retained: { BOOL: true },
    ...(status === 'applied' ? {} : { reason: S(`${status}: unmapped: roomType DBL`) }),
    logAll: S(LOG_ALL),
    logAt: S(logAtOf(receivedAt, eventId)),
    sourceStatus: S(sourceStatusOf(sourceId, status)),
  };
}

/** `entries` applied, parked and rejected ledger entries over the 24 h from `dayStart`, in batch writes. */
export async function fillLedger(
  client: DynamoDBClient,
  tableName: string,
  entries = ENTRIES,
  dayStart = DAY_START,
): Promise<void> {
  const expiresAt = Math.floor(Date.now() / 1000) + 86_400;
  let next = 0;
  const batches = Math.ceil(entries / 25);
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let batch = next++; batch < batches; batch = next++) {
        let requests = Array.from({ length: Math.min(25, entries - batch * 25) }, (_, i) => ({
          PutRequest: { Item: ledgerItem(batch * 25 + i, expiresAt, entries, dayStart) },
        }));
        while (requests.length > 0) {
          const { UnprocessedItems } = await client.send(
            new BatchWriteItemCommand({ RequestItems: { [tableName]: requests } }),
          );
          requests = (UnprocessedItems?.[tableName] ?? []) as typeof requests;
        }
      }
    }),
  );
}

/** Pages per second through `PAGES` pages, each read after the one before. */
async function walk(
  readPage: (cursor: unknown) => Promise<{ rows: number; next: unknown }>,
): Promise<number> {
  const started = process.hrtime.bigint();
  let cursor: unknown;
  for (let page = 0; page < PAGES; page++) {
    const { rows, next } = await readPage(cursor);
    if (rows !== PAGE || next === undefined)
      throw new Error(`page ${page} held ${rows} rows, or was the last`);
    cursor = next;
  }
  return PAGES / (Number(process.hrtime.bigint() - started) / 1e9);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export async function deliveryLogPaging(): Promise<{ ratio: number; meetsTarget: boolean }> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const emulators = await startEmulators();
  const dynamodb = new DynamoDBClient({ ...LOCAL_AWS, endpoint: emulators.dynamodbEndpoint });
  const sqs = new SQSClient({ ...LOCAL_AWS, endpoint: emulators.sqsEndpoint });
  try {
    const { tables } = await provision({ dynamodb, sqs, prefix: `bench${randomBytes(4).toString('hex')}` });
    const tableName = tables[DELIVERY_LEDGER.id];
    if (tableName === undefined) throw new Error('the ledger table was not provisioned');
    const filled = performance.now();
    await fillLedger(dynamodb, tableName);
    console.log(
      `\nDelivery log: ${ENTRIES.toLocaleString('en')} ledger entries written in ` +
        `${((performance.now() - filled) / 1000).toFixed(0)} s`,
    );
    const ledger = new DynamoDbDeliveryLedger(dynamodb, tableName);
    const window = { from: new Date(DAY_START).toISOString(), to: new Date(DAY_END).toISOString() };

    const cases: ReadonlyArray<{ name: string; filter: Pick<DeliveryLogQuery, 'sourceId' | 'status'> }> = [
      { name: 'every entry (logAll)', filter: {} },
      {
        name: 'one source, applied (logBySourceStatus)',
        filter: { sourceId: 'pms-main', status: 'applied' },
      },
    ];
    const rows: Record<string, string | number>[] = [];
    const ratios: number[] = [];
    for (const { name, filter } of cases) {
      const index: LogIndex = logIndexFor(filter);
      const log = (cursor: unknown) =>
        ledger
          .list({
            ...filter,
            ...window,
            limit: PAGE,
            ...(cursor === undefined ? {} : { cursor: cursor as string }),
          })
          .then((page) => ({ rows: page.items.length, next: page.cursor }));
      const bare = (cursor: unknown) =>
        dynamodb
          .send(
            new QueryCommand({
              TableName: tableName,
              IndexName: index.indexName,
              KeyConditionExpression: '#key = :key AND logAt BETWEEN :from AND :to',
              ExpressionAttributeNames: { '#key': index.keyName },
              ExpressionAttributeValues: {
                ':key': { S: index.keyValue },
                ':from': { S: window.from },
                ':to': { S: window.to },
              },
              ScanIndexForward: false,
              Limit: PAGE,
              ExclusiveStartKey: cursor as Record<string, AttributeValue> | undefined,
            }),
          )
          .then((page) => ({ rows: page.Items?.length ?? 0, next: page.LastEvaluatedKey }));

      // Warm both paths (the SDK's connections, DynamoDB Local's JIT) before timing.
      await walk(bare);
      await walk(log);
      const rounds: { bare: number; log: number }[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate which side goes first, so that neither always runs on the warmer emulator.
        if (round % 2 === 0) {
          const b = await walk(bare);
          rounds.push({ bare: b, log: await walk(log) });
        } else {
          const l = await walk(log);
          rounds.push({ bare: await walk(bare), log: l });
        }
      }
      const ratio = median(rounds.map((r) => r.log / r.bare));
      ratios.push(ratio);
      rows.push({
        filter: name,
        'bare Query pages/s': Math.round(median(rounds.map((r) => r.bare))),
        'delivery-log pages/s': Math.round(median(rounds.map((r) => r.log))),
        ratio: Number(ratio.toFixed(2)),
        range: `${Math.min(...rounds.map((r) => r.log / r.bare)).toFixed(2)}–${Math.max(...rounds.map((r) => r.log / r.bare)).toFixed(2)}`,
        target: `≥ ${DELIVERY_LOG_TARGET_RATIO}`,
      });
    }
    console.log(
      `Delivery-log page of ${PAGE} over ${ENTRIES.toLocaleString('en')} ledger entries (DynamoDB Local, ` +
        `${PAGES} pages × ${ROUNDS} rounds a side): pages/s, and ratio to a bare Query of the same index`,
    );
    console.table(rows);
    const ratio = Math.min(...ratios);
    return { ratio, meetsTarget: ratio >= DELIVERY_LOG_TARGET_RATIO };
  } finally {
    dynamodb.destroy();
    sqs.destroy();
    await emulators.stop();
  }
}
