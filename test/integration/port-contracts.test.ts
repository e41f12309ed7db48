import { randomUUID } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { beforeAll } from 'vitest';
import { DynamoDbDeliveryLedger } from '../../lambdas/ledger/dynamodb-ledger';
import { DynamoDbRejectionLog } from '../../lambdas/ledger/dynamodb-rejections';
import { DynamoDbReplayJobStore } from '../../lambdas/ledger/dynamodb-replay-jobs';
import { SqsRedrivableDeadLetterQueue } from '../../lambdas/queue/sqs-dead-letters';
import { SqsEventQueue, SqsReplayWorkQueue } from '../../lambdas/queue/sqs-queue';
import { fixedClock, systemClock } from '../../lambdas/shared/clock';
import {
  ARI_STATE,
  CONTROLS,
  DELIVERY_LEDGER,
  EVENTS_QUEUE,
  GUESTS,
  MAPPINGS,
  REJECTIONS,
  RESERVATIONS,
  REVIEW,
  type TableDefinition,
} from '../../lambdas/shared/topology';
import { DynamoDbAriStore } from '../../lambdas/state/dynamodb-ari-store';
import { DynamoDbControlStore } from '../../lambdas/state/dynamodb-controls';
import { DynamoDbGuestStore } from '../../lambdas/state/dynamodb-guests';
import { DynamoDbMappingStore } from '../../lambdas/state/dynamodb-mappings';
import { DynamoDbReservationStore } from '../../lambdas/state/dynamodb-reservations';
import { DynamoDbReviewStore } from '../../lambdas/state/dynamodb-review';
import {
  InMemoryApplyLedger,
  InMemoryAriStore,
  InMemoryGuestStore,
  InMemoryMappingStore,
  InMemoryReservationStore,
  InMemoryReviewStore,
} from '../fakes/apply-memory';
import { InMemoryHoldStore } from '../fakes/controls-memory';
import { InMemoryDeadLetterQueue } from '../fakes/dead-letters-memory';
import { InMemoryLedger, InMemoryQueue } from '../fakes/in-memory';
import { InMemoryRejectionLog } from '../fakes/rejections';
import { InMemoryReplayJobStore, InMemoryReplayWorkQueue } from '../fakes/replay-memory';
import { applyLedgerContract } from '../ports/apply-ledger.contract';
import { ariStoreContract } from '../ports/ari-store.contract';
import { deadLetterQueueContract, type QueuedMessage } from '../ports/dead-letter-queue.contract';
import { deliveryLedgerContract, entryAt, T0 } from '../ports/delivery-ledger.contract';
import { deliveryLogContract } from '../ports/delivery-log.contract';
import { eventQueueContract, type ReceivedEvent } from '../ports/event-queue.contract';
import { guestStoreContract } from '../ports/guest-store.contract';
import { holdStoreContract } from '../ports/hold-store.contract';
import { mappingStoreContract } from '../ports/mapping-store.contract';
import { rejectionLogContract } from '../ports/rejection-log.contract';
import { replayJobStoreContract } from '../ports/replay-job-store.contract';
import { replayWorkQueueContract } from '../ports/replay-work-queue.contract';
import { reservationStoreContract } from '../ports/reservation-store.contract';
import { reviewStoreContract } from '../ports/review-store.contract';
import { type IsolatedTopology, provisionIsolated } from '../support/aws';

// Each port's contract suite runs against its DynamoDB adapter on DynamoDB Local and against the in-memory fake
// the unit tests use, so that the fake cannot drift from what production does.

let topology: IsolatedTopology;

beforeAll(async () => {
  topology = await provisionIsolated();
});

function tableOf(definition: TableDefinition, of: IsolatedTopology = topology): string {
  const name = of.tables[definition.id];
  if (name === undefined) throw new Error(`table ${definition.id} was not provisioned`);
  return name;
}

const ledger = () => new DynamoDbDeliveryLedger(topology.dynamodb, tableOf(DELIVERY_LEDGER));

deliveryLedgerContract('DynamoDbDeliveryLedger', ledger, async (_ledger, eventId) => {
  const { Item } = await topology.dynamodb.send(
    new GetItemCommand({
      TableName: tableOf(DELIVERY_LEDGER),
      Key: { pk: { S: eventId } },
      ConsistentRead: true,
    }),
  );
  return Item?.event?.S;
});
deliveryLedgerContract(
  'InMemoryLedger',
  () => new InMemoryLedger(),
  async (fake, eventId) => (fake as InMemoryLedger).events.get(eventId),
);

eventQueueContract('SqsEventQueue', () => {
  const queueUrl = topology.queues[EVENTS_QUEUE.id]?.url;
  if (queueUrl === undefined) throw new Error('events queue was not provisioned');
  return {
    queue: new SqsEventQueue(topology.sqs, queueUrl),
    receive: async (count) => {
      const received: ReceivedEvent[] = [];
      for (let attempt = 0; received.length < count && attempt < 10; attempt++) {
        const { Messages = [] } = await topology.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        for (const message of Messages) {
          received.push({ messageId: message.MessageId ?? '', event: JSON.parse(message.Body ?? 'null') });
          await topology.sqs.send(
            new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
          );
        }
      }
      return received;
    },
  };
});
eventQueueContract('InMemoryQueue', () => {
  const fake = new InMemoryQueue();
  let taken = 0;
  return {
    queue: fake,
    receive: async (count) => {
      // The fake numbers its message ids in the order it queued them.
      const received = fake.messages
        .slice(taken, taken + count)
        .map((event, index) => ({ messageId: `msg-${taken + index + 1}`, event }));
      taken += received.length;
      return received;
    },
  };
});

/** An apply subject over a ledger that the edge's own protocol fills, as in production. */
function claimedBy(real: DynamoDbDeliveryLedger | InMemoryLedger) {
  return {
    ledger: real,
    reader: real,
    given: async (status: 'received' | 'enqueued' | 'recorded') => {
      const entry = entryAt(T0);
      await real.claim(entry, T0);
      if (status !== 'received') {
        await real.confirm(entry, status, new Date(T0 + 50).toISOString(), 'msg-1');
      }
      return entry;
    },
    absent: async () => ({ eventId: `evt_${randomUUID()}`, sourceId: 'pms-demo' }),
  };
}
applyLedgerContract('DynamoDbDeliveryLedger', () => claimedBy(ledger()));
deliveryLogContract('DynamoDbDeliveryLedger', () => {
  const real = ledger();
  return { log: real, ledger: real };
});
deliveryLogContract('InMemoryLedger', () => {
  const fake = new InMemoryLedger();
  return { log: fake, ledger: fake };
});
applyLedgerContract('InMemoryLedger', () => claimedBy(new InMemoryLedger()));
applyLedgerContract('InMemoryApplyLedger', () => {
  const fake = new InMemoryApplyLedger();
  return {
    ledger: fake,
    reader: fake,
    given: async (status) => {
      // The fake reads an event it does not hold as enqueued; other statuses are written as the edge left them.
      const entry = entryAt(T0, status === 'received' ? {} : { status, leaseUntil: undefined });
      if (status !== 'enqueued') fake.entries.set(entry.eventId, entry);
      return entry;
    },
    absent: async () => {
      const eventId = `evt_${randomUUID()}`;
      fake.expired.add(eventId);
      return { eventId, sourceId: 'pms-demo' };
    },
  };
});

ariStoreContract('DynamoDbAriStore', () => new DynamoDbAriStore(topology.dynamodb, tableOf(ARI_STATE)));
ariStoreContract('InMemoryAriStore', () => new InMemoryAriStore());

mappingStoreContract(
  'DynamoDbMappingStore',
  () => new DynamoDbMappingStore(topology.dynamodb, tableOf(MAPPINGS)),
);
mappingStoreContract('InMemoryMappingStore', () => new InMemoryMappingStore());

reviewStoreContract(
  'DynamoDbReviewStore',
  () => new DynamoDbReviewStore(topology.dynamodb, tableOf(REVIEW)),
  async () => {
    // A table of its own, so that the listing holds exactly the events parked for it.
    const own = await provisionIsolated();
    return new DynamoDbReviewStore(own.dynamodb, tableOf(REVIEW, own));
  },
);
reviewStoreContract(
  'InMemoryReviewStore',
  () => new InMemoryReviewStore(),
  async () => new InMemoryReviewStore(),
);

reservationStoreContract(
  'DynamoDbReservationStore',
  () => new DynamoDbReservationStore(topology.dynamodb, tableOf(RESERVATIONS)),
);
reservationStoreContract('InMemoryReservationStore', () => new InMemoryReservationStore());

guestStoreContract(
  'DynamoDbGuestStore',
  () => new DynamoDbGuestStore(topology.dynamodb, tableOf(GUESTS), fixedClock('2026-03-01T10:00:05.000Z')),
);
guestStoreContract('InMemoryGuestStore', () => new InMemoryGuestStore());

rejectionLogContract(
  'DynamoDbRejectionLog',
  () => new DynamoDbRejectionLog(topology.dynamodb, tableOf(REJECTIONS)),
  async () => {
    // A table of its own, so that the all-sources listing and counts hold exactly what the test recorded.
    const own = await provisionIsolated();
    return new DynamoDbRejectionLog(own.dynamodb, tableOf(REJECTIONS, own));
  },
);
rejectionLogContract(
  'InMemoryRejectionLog',
  () => new InMemoryRejectionLog(),
  async () => new InMemoryRejectionLog(),
);
holdStoreContract(
  'DynamoDbControlStore',
  () => new DynamoDbControlStore(topology.dynamodb, tableOf(CONTROLS)),
);
holdStoreContract('InMemoryHoldStore', () => new InMemoryHoldStore());
replayJobStoreContract(
  'DynamoDbReplayJobStore',
  () => new DynamoDbReplayJobStore(topology.dynamodb, tableOf(CONTROLS)),
);
replayJobStoreContract('InMemoryReplayJobStore', () => new InMemoryReplayJobStore());

replayWorkQueueContract('SqsReplayWorkQueue', async () => {
  const { sqs } = topology;
  // A queue of its own, so that what the test takes is exactly what it sent.
  const { QueueUrl: queueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: `replay-contract-${randomUUID().slice(0, 8)}` }),
  );
  if (queueUrl === undefined) throw new Error('no URL for the replay work queue');
  return {
    queue: new SqsReplayWorkQueue(sqs, queueUrl),
    unreachable: () => new SqsReplayWorkQueue(sqs, `${queueUrl}-deleted`),
    taken: async () => {
      const bodies: unknown[] = [];
      while (true) {
        // fauxqs answers a short poll with every visible message: an empty answer means an empty queue.
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        );
        if (Messages.length === 0) return bodies;
        for (const message of Messages) {
          bodies.push(JSON.parse(message.Body ?? 'null'));
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
          );
        }
      }
    },
  };
});
replayWorkQueueContract('InMemoryReplayWorkQueue', async () => {
  const queue = new InMemoryReplayWorkQueue();
  return {
    queue,
    unreachable: () => {
      queue.failing = true;
      return queue;
    },
    // The fake keeps the job ids it was sent; each stands for the message `{ jobId }` the worker reads.
    taken: async () => queue.sent.splice(0).map((jobId) => ({ jobId })),
  };
});

deadLetterQueueContract('SqsRedrivableDeadLetterQueue', async () => {
  const { sqs } = topology;
  const name = `dlq-contract-${randomUUID().slice(0, 8)}`;
  const create = async (queueName: string) => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: queueName }));
    if (QueueUrl === undefined) throw new Error(`no URL for queue ${queueName}`);
    return QueueUrl;
  };
  const [deadLetterUrl, sourceUrl] = await Promise.all([create(`${name}-dlq`), create(name)]);
  return {
    queue: new SqsRedrivableDeadLetterQueue(sqs, {
      queueUrl: deadLetterUrl,
      sourceQueueUrl: sourceUrl,
      clock: systemClock,
      // fauxqs answers a short poll with every visible message: an empty answer already means an empty queue.
      receiveWaitSeconds: 0,
    }),
    clock: systemClock,
    add: async (messages) => {
      for (let start = 0; start < messages.length; start += 10) {
        const { Failed = [] } = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: deadLetterUrl,
            Entries: messages.slice(start, start + 10).map((message, index) => ({
              Id: String(index),
              MessageBody: message.body,
              MessageAttributes: Object.fromEntries(
                Object.entries(message.attributes).map(([key, value]) => [
                  key,
                  { DataType: 'String', StringValue: value },
                ]),
              ),
            })),
          }),
        );
        if (Failed.length > 0) throw new Error(`could not seed the DLQ: ${JSON.stringify(Failed)}`);
      }
    },
    redriven: async () => {
      const received: QueuedMessage[] = [];
      while (true) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: sourceUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
            MessageAttributeNames: ['All'],
          }),
        );
        if (Messages.length === 0) return received;
        for (const message of Messages) {
          received.push({
            body: message.Body ?? '',
            attributes: Object.fromEntries(
              Object.entries(message.MessageAttributes ?? {}).map(([key, value]) => [
                key,
                value.StringValue ?? '',
              ]),
            ),
          });
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: sourceUrl, ReceiptHandle: message.ReceiptHandle }),
          );
        }
      }
    },
  };
});
deadLetterQueueContract('InMemoryDeadLetterQueue', async () => {
  const queue = new InMemoryDeadLetterQueue(systemClock);
  return {
    queue,
    clock: systemClock,
    add: async (messages) => {
      for (const message of messages) queue.add(message);
    },
    redriven: async () => queue.redriven.splice(0),
  };
});
