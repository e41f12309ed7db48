import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '../../lambdas/domain/canonical';
import { SqsEventQueue } from '../../lambdas/queue/sqs-queue';
import { EVENTS_DLQ, EVENTS_QUEUE, localName } from '../../lambdas/shared/topology';
import { provision } from '../../local/provision';
import { emulatorEndpoints, type IsolatedTopology, provisionIsolated } from '../support/aws';
import { ariUpdate } from '../support/events';

const event = ariUpdate({
  eventId: 'evt_4f1c2b',
  idempotencyKey: 'upd-981',
  receivedAt: '2026-03-01T10:00:00.000Z',
  data: { rate: { amountMinor: 12_950, currency: 'EUR' }, availability: 4 },
});

describe('SqsEventQueue against fauxqs', () => {
  let topology: IsolatedTopology;
  let queueUrl: string;

  beforeAll(async () => {
    topology = await provisionIsolated();
    const queue = topology.queues[EVENTS_QUEUE.id];
    if (queue === undefined) throw new Error('events queue was not provisioned');
    queueUrl = queue.url;
  });

  it('enqueues the event as JSON with its id, source and type as message attributes', async () => {
    const { messageId } = await new SqsEventQueue(topology.sqs, queueUrl).enqueue(event);

    const { Messages } = await topology.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        WaitTimeSeconds: 1,
      }),
    );
    expect(Messages).toHaveLength(1);
    const [message] = Messages ?? [];
    expect(message?.MessageId).toBe(messageId);
    expect(message?.Body).toBe(JSON.stringify(event));
    expect(JSON.parse(message?.Body ?? 'null')).toEqual(event);
    expect(message?.MessageAttributes).toEqual({
      eventId: { DataType: 'String', StringValue: 'evt_4f1c2b' },
      sourceId: { DataType: 'String', StringValue: 'channel-manager-demo' },
      type: { DataType: 'String', StringValue: 'ari.update' },
    });
  });

  it('queues text outside the Basic Multilingual Plane as ASCII JSON that reads back exactly', async () => {
    const emoji: CanonicalEvent = {
      ...event,
      eventId: 'evt_emoji',
      data: { ...event.data, propertyExternalId: '🏨 Hôtel Zürich 東京', ratePlanExternalId: 'BAR\u2028🛏️' },
    } as CanonicalEvent;
    const { messageId } = await new SqsEventQueue(topology.sqs, queueUrl).enqueue(emoji);

    const { Messages } = await topology.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const message = Messages?.find((m) => m.MessageId === messageId);
    expect(message?.Body).toMatch(/^[\x20-\x7e]*$/);
    expect(message?.Body).toContain('\\ud83c\\udfe8');
    expect(JSON.parse(message?.Body ?? 'null')).toEqual(emoji);
  });

  it('provisions queue URLs on the emulator endpoint itself, so SDK clients configured from the environment reach them', () => {
    for (const queue of Object.values(topology.queues)) {
      expect(new URL(queue.url).origin).toBe(new URL(emulatorEndpoints().sqsEndpoint).origin);
    }
  });

  it('provisions the queues with the attributes and redrive policy of the topology', async () => {
    const dlq = topology.queues[EVENTS_DLQ.id];
    const { Attributes } = await topology.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }),
    );
    expect(Attributes).toMatchObject({
      MaximumMessageSize: String(EVENTS_QUEUE.maximumMessageSizeBytes),
      MessageRetentionPeriod: String(EVENTS_QUEUE.retentionSeconds),
      VisibilityTimeout: String(EVENTS_QUEUE.visibilityTimeoutSeconds),
      QueueArn: topology.queues[EVENTS_QUEUE.id]?.arn,
    });
    expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: dlq?.arn,
      maxReceiveCount: EVENTS_QUEUE.maxReceiveCount,
    });
    expect(dlq?.arn).toMatch(new RegExp(`:${localName(EVENTS_DLQ, topology.prefix)}$`));
  });

  it('provisions idempotently: a second run returns the same resources', async () => {
    const again = await provision({
      dynamodb: topology.dynamodb,
      sqs: topology.sqs,
      prefix: topology.prefix,
    });
    expect(again).toEqual({ tables: topology.tables, queues: topology.queues });
  });
});
