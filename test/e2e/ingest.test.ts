import { randomBytes, randomUUID } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  type Message,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterFor } from '../../lambdas/adapters';
import { loadConfigFile } from '../../lambdas/config/load';
import type { ParitySyncConfig, SourceConfig } from '../../lambdas/config/schema';
import { fixedClock } from '../../lambdas/shared/clock';
import { nodeCrypto } from '../../lambdas/shared/crypto';
import { parseStrictJson } from '../../lambdas/shared/strict-json';
import { DELIVERY_LEDGER, EVENTS_QUEUE } from '../../lambdas/shared/topology';
import { provision } from '../../local/provision';
import { senderFor } from '../../local/senders';
import { type LocalStack, startLocalStack } from '../../local/start';
import { emulatorEndpoints, localClients } from '../support/aws';

/**
 * The whole edge over real HTTP: the local API Gateway stand-in, the real ingest handler, DynamoDB Local and the
 * SQS emulator through the real SDK clients. Every demo source of every kind sends a signed event.
 */
let stack: LocalStack;
let config: ParitySyncConfig;
let prefix: string;
const clients = () => localClients();

beforeAll(async () => {
  config = await loadConfigFile('config/local.example.json');
  prefix = `e2e${randomBytes(4).toString('hex')}`;
  // No consumer: these tests read the events queue themselves.
  stack = await startLocalStack({ config, emulators: emulatorEndpoints(), prefix, consumer: false });
});

afterAll(async () => {
  await stack?.stop();
});

function queueUrl(): string {
  const queue = stack.topology.queues[EVENTS_QUEUE.id];
  if (!queue) throw new Error('events queue not provisioned');
  return queue.url;
}

/**
 * Everything on the events queue right now, removed from it. The edge answers only once the queue has accepted
 * the message, and the emulator's short poll reads the whole queue, so an empty short poll ends the drain: a
 * long poll would only add its wait to every test.
 */
async function drainQueue(): Promise<Message[]> {
  const { sqs } = clients();
  const drained: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl(),
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return drained;
    drained.push(...Messages);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl(),
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
      }),
    );
  }
}

function secretOf(source: SourceConfig): string {
  const ref = source.secrets[0];
  if (!ref || !('value' in ref)) throw new Error(`${source.id} has no literal secret`);
  return ref.value;
}

/** A signed delivery of a fresh sample, as the provider would send it. */
function signedDelivery(source: SourceConfig, type?: string) {
  const sender = senderFor(source.kind);
  const now = new Date();
  const body = Buffer.from(
    JSON.stringify(sender.sample(type ?? sender.sampleTypes[0] ?? '', now, randomUUID)),
  );
  const sign = (at: Date, id?: string) =>
    sender.sign(body, { secret: secretOf(source), at, ...(id ? { id } : {}) });
  return { body, sign, now };
}

async function post(sourceId: string, body: Buffer, headers: Record<string, string>) {
  const response = await fetch(`${stack.url}/webhooks/${sourceId}`, { method: 'POST', headers, body });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** What the adapter makes of these bytes, to check that the queue carries it intact. */
function expectedPayload(source: SourceConfig, body: Buffer, headers: Record<string, string>, now: Date) {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const context = {
    source,
    secrets: [secretOf(source)],
    toleranceSeconds: 300,
    clock: fixedClock(now),
    crypto: nodeCrypto,
  };
  const adapter = adapterFor(source.kind);
  const request = { headers: lower, rawBody: body };
  const normalised = adapter.normalise(
    parseStrictJson(body.toString('utf8')),
    request,
    adapter.verify(request, context),
    context,
  );
  if (normalised.disposition !== 'apply') throw new Error('sample is not acted on');
  return normalised;
}

describe('the local edge, end to end', () => {
  it.each([
    'channel-manager-demo',
    'ota-demo',
    'pms-demo',
    'mapping-demo',
    'hospitable-demo',
    'standard-webhooks-demo',
  ])('queues a signed %s event exactly once, in canonical form', async (sourceId) => {
    const source = config.sources.find((s) => s.id === sourceId);
    if (!source) throw new Error(`no ${sourceId} in the example configuration`);
    await drainQueue();
    const { body, sign, now } = signedDelivery(source);
    const headers = sign(now);
    const answer = await post(sourceId, body, headers);
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    expect(answer.json).toMatchObject({ status: 'accepted', action: 'enqueued' });

    const messages = await drainQueue();
    expect(messages).toHaveLength(1);
    const event = JSON.parse(messages[0]?.Body ?? '{}') as Record<string, unknown>;
    const expected = expectedPayload(source, body, headers, now);
    expect(event).toMatchObject({
      schemaVersion: 1,
      eventId: answer.json.eventId,
      sourceId,
      kind: source.kind,
      providerEventType: expected.providerEventType,
      idempotencyKey: expected.idempotencyKey,
      occurredAt: expected.occurredAt.toISOString(),
      type: expected.payload.type,
    });
    expect(event.data).toEqual(JSON.parse(JSON.stringify(expected.payload.data)));
    expect(messages[0]?.MessageAttributes?.eventId?.StringValue).toBe(answer.json.eventId);

    const { Item } = await clients().dynamodb.send(
      new GetItemCommand({
        TableName: stack.topology.tables[DELIVERY_LEDGER.id],
        Key: { pk: { S: String(answer.json.eventId) } },
        ConsistentRead: true,
      }),
    );
    expect(Item?.status?.S).toBe('enqueued');
    expect(Item?.messageId?.S).toBe(messages[0]?.MessageId);
  });

  it('queues nothing for a redelivery of the same event under a new delivery id', async () => {
    const source = config.sources.find((s) => s.kind === 'mapping');
    if (!source) throw new Error('no mapping source');
    await drainQueue();
    const { body, sign, now } = signedDelivery(source);
    const first = await post(source.id, body, sign(now, randomUUID()));
    expect(first.json.status).toBe('accepted');
    const retry = await post(source.id, body, sign(new Date(now.getTime() + 60_000), randomUUID()));
    expect(retry.status).toBe(200);
    expect(retry.json).toMatchObject({ status: 'duplicate', eventId: first.json.eventId });
    expect(await drainQueue()).toHaveLength(1);
  });

  it('loses nothing when the queue is down: 503, then the sender’s retry queues the event once', async () => {
    const source = config.sources.find((s) => s.kind === 'channel-manager');
    if (!source) throw new Error('no channel-manager source');
    await drainQueue();
    const { sqs, dynamodb } = clients();
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl() }));

    const { body, sign, now } = signedDelivery(source);
    const headers = sign(now);
    const failed = await post(source.id, body, headers);
    expect(failed.status, JSON.stringify(failed.json)).toBe(503);
    expect(failed.json.error).toBe('enqueue_failed');

    const restored = await provision({ dynamodb, sqs, prefix });
    expect(restored.queues[EVENTS_QUEUE.id]?.url).toBe(queueUrl());
    const retried = await post(source.id, body, headers);
    expect(retried.status, JSON.stringify(retried.json)).toBe(200);
    expect(retried.json.status).toBe('accepted');
    const again = await post(source.id, body, headers);
    expect(again.json.status).toBe('duplicate');

    const messages = await drainQueue();
    expect(messages).toHaveLength(1);
    expect(JSON.parse(messages[0]?.Body ?? '{}')).toMatchObject({ eventId: retried.json.eventId });
  });

  it('refuses a tampered delivery over HTTP with 401 and queues nothing', async () => {
    const source = config.sources.find((s) => s.kind === 'ota');
    if (!source) throw new Error('no ota source');
    await drainQueue();
    const { body, sign, now } = signedDelivery(source);
    const headers = sign(now);
    const tampered = Buffer.from(body.toString('utf8').replace(/"currency":"[A-Z]{3}"/, '"currency":"USD"'));
    const answer = await post(
      source.id,
      tampered.equals(body) ? Buffer.concat([body, Buffer.from(' ')]) : tampered,
      headers,
    );
    expect(answer.status).toBe(401);
    expect(answer.json.error).toBe('invalid_signature');
    expect(await drainQueue()).toHaveLength(0);
  });
});
