import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { bootstrapFunction } from '../config/bootstrap';
import { DynamoDbDeliveryLedger } from '../ledger/dynamodb-ledger';
import { DynamoDbReplayJobStore } from '../ledger/dynamodb-replay-jobs';
import { SqsEventQueue, SqsReplayWorkQueue } from '../queue/sqs-queue';
import { systemClock } from '../shared/clock';
import { REPLAY_QUEUE } from '../shared/topology';
import { createReplayConsumer } from './consumer';
import { readReplayEnvironment } from './env';

/** Delivery log rows per work message: a page's reads and sends fit well inside the worker's timeout. */
export const REPLAY_PAGE_SIZE = 100;

// Runs once per cold start.
const fn = bootstrapFunction('replay', readReplayEnvironment);
const { tables, queues } = fn.environment;
const dynamodb = fn.client(DynamoDBClient);
const sqs = fn.client(SQSClient);
const ledger = new DynamoDbDeliveryLedger(dynamodb, tables.ledger);

export const handler = createReplayConsumer(
  {
    jobs: new DynamoDbReplayJobStore(dynamodb, tables.controls),
    log: ledger,
    retained: ledger,
    events: new SqsEventQueue(sqs, queues.events),
    work: new SqsReplayWorkQueue(sqs, queues.work),
    clock: systemClock,
    pageSize: REPLAY_PAGE_SIZE,
    maxReceiveCount: REPLAY_QUEUE.maxReceiveCount ?? 1,
  },
  fn.logger,
);
