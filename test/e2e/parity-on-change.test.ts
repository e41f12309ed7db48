import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load';
import { addDays } from '../../lambdas/domain/dates';
import { ARI_STATE, PARITY_FINDINGS } from '../../lambdas/shared/topology';
import { DynamoDbAriStore } from '../../lambdas/state/dynamodb-ari-store';
import { DynamoDbParityStore } from '../../lambdas/state/dynamodb-parity';
import type { ParityRecord } from '../../lambdas/state/ports';
import { type LocalStack, startLocalStack } from '../../local/start';
import { emulatorEndpoints, localClients } from '../support/aws';
import { eventually } from '../support/eventually';

/**
 * Parity on change on the local stack: a rate written to the ARI table reaches the parity function through
 * DynamoDB Local's stream, with no reconciliation run, as the stream event source delivers it in AWS.
 */

const TRUTH = 'channel-manager-demo:CH-SIMULATOR';
const clients = localClients();
let stack: LocalStack;
let ari: DynamoDbAriStore;
let findings: DynamoDbParityStore;

beforeAll(async () => {
  const config = parseConfig(JSON.parse(readFileSync('config/local.example.json', 'utf8')));
  stack = await startLocalStack({
    config,
    emulators: emulatorEndpoints(),
    prefix: `e2epar${randomBytes(4).toString('hex')}`,
    reconcileIntervalMs: 0,
  });
  ari = new DynamoDbAriStore(clients.dynamodb, stack.topology.tables[ARI_STATE.id] ?? '');
  findings = new DynamoDbParityStore(clients.dynamodb, stack.topology.tables[PARITY_FINDINGS.id] ?? '');
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe('parity on change, locally', () => {
  it('flags a channel rate out of parity within seconds of the change, and clears it when the rate comes back', async () => {
    const date = addDays(new Date().toISOString().slice(0, 10), 1);
    const night = { propertyId: 'demo-hotel', roomTypeId: 'rt-e2e', ratePlanId: 'bar', date };
    const flagged = (): Promise<readonly ParityRecord[]> =>
      findings.list({ propertyId: 'demo-hotel', from: date, to: date, limit: 10 }).then((page) => page.items);

    await ari.writeNight(
      { ...night, channel: TRUTH },
      { rate: { amountMinor: 10_000, currency: 'EUR' } },
      'v1',
      'e1',
    );
    await ari.writeNight(
      { ...night, channel: 'ota-demo' },
      { rate: { amountMinor: 10_500, currency: 'EUR' } },
      'v2',
      'e2',
    );
    const [record] = await eventually('a parity finding for the night', async () => {
      const records = await flagged();
      return records.length > 0 ? records : undefined;
    });
    expect(record?.findings).toEqual([
      expect.objectContaining({ kind: 'price', channel: 'ota-demo', truthChannel: TRUTH, difference: 500 }),
    ]);

    await ari.writeNight(
      { ...night, channel: 'ota-demo' },
      { rate: { amountMinor: 10_050, currency: 'EUR' } },
      'v3',
      'e3',
    );
    await eventually('the finding cleared', async () => ((await flagged()).length === 0 ? true : undefined));
  }, 30_000);

  it('lists a batch it gave up on with its stream position through the operations API, refuses to redrive it and deletes it', async () => {
    // A key that names no room night fails its check every time, however often it is retried.
    await clients.dynamodb.send(
      new PutItemCommand({
        TableName: stack.topology.tables[ARI_STATE.id] ?? '',
        Item: { pk: { S: 'P#demo-hotel' }, sk: { S: `not-a-night-${randomBytes(4).toString('hex')}` } },
      }),
    );
    const listing = await eventually('the batch in the parity dead-letter queue', async () => {
      const { json } = await api('GET', '/dlq/parity');
      const items = json.items as Array<Record<string, unknown>>;
      return items.length > 0 ? items : undefined;
    });
    expect(listing).toEqual([
      {
        eventId: null,
        messageId: expect.any(String),
        receiveCount: expect.any(Number),
        sentAt: expect.any(String),
        lastError: 'RetryAttemptsExhausted',
        streamBatch: {
          shardId: expect.any(String),
          startSequenceNumber: expect.any(String),
          endSequenceNumber: expect.any(String),
          batchSize: 1,
          firstArrivedAt: expect.any(String),
          lastArrivedAt: expect.any(String),
        },
      },
    ]);

    const redrive = await api('POST', '/dlq/parity/redrive');
    expect(redrive.status).toBe(400);
    expect(redrive.json.error).toBe('redrive_not_supported');

    const messageId = listing[0]?.messageId as string;
    const deleted = await eventually('the batch deleted', async () => {
      const { json } = await api('POST', '/dlq/parity/delete', { messageIds: [messageId] });
      // A listing hides what it looked at for a moment: the delete finds it once it is back in view.
      return json.deleted === 1 ? json : undefined;
    });
    expect(deleted).toEqual({ queue: 'parity', deleted: 1, complete: true, notDeleted: [] });
  }, 30_000);
});

async function api(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}
