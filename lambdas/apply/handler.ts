import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDbDeliveryLedger } from '../ingest/dynamodb-ledger';
import { SqsEventQueue } from '../ingest/sqs-queue';
import { bootstrapFunction } from '../shared/bootstrap';
import { systemClock } from '../shared/clock';
import { EVENTS_QUEUE } from '../topology';
import { type ConsumerDependencies, createConsumer } from './consumer';
import { DynamoDbAriStore } from './dynamodb-ari-store';
import { DynamoDbGuestStore } from './dynamodb-guests';
import { DynamoDbMappingStore } from './dynamodb-mappings';
import { DynamoDbReservationStore } from './dynamodb-reservations';
import { DynamoDbReviewStore } from './dynamodb-review';
import { readApplyEnvironment } from './env';
import { DynamoDbLedgerFailureNotes } from './ledger-notes';
import { MappingResolver } from './resolver';

/** Room-night writes in flight per event: a year-long range finishes in a few round trips. */
const NIGHT_CONCURRENCY = 16;

// Runs once per cold start.
const fn = bootstrapFunction('apply', readApplyEnvironment);
const { config, environment } = fn;
const { tables } = environment;
const dynamodb = fn.client(DynamoDBClient);
const queue = new SqsEventQueue(fn.client(SQSClient), environment.eventQueueUrl);

const dependencies: ConsumerDependencies = {
  ari: new DynamoDbAriStore(dynamodb, tables.ari),
  mappings: new MappingResolver(
    new DynamoDbMappingStore(dynamodb, tables.mappings),
    config.mappings,
    systemClock,
  ),
  review: new DynamoDbReviewStore(dynamodb, tables.review),
  reservations: new DynamoDbReservationStore(dynamodb, tables.reservations),
  guests: new DynamoDbGuestStore(dynamodb, tables.guests, systemClock),
  ledger: new DynamoDbDeliveryLedger(dynamodb, tables.ledger),
  failures: new DynamoDbLedgerFailureNotes(dynamodb, tables.ledger),
  requeue: async (event) => {
    await queue.enqueue(event);
  },
  properties: new Map(config.properties.map((settings) => [settings.propertyId, settings])),
  clock: systemClock,
  nightConcurrency: NIGHT_CONCURRENCY,
  maxReceiveCount: EVENTS_QUEUE.maxReceiveCount ?? 1,
};

export const handler = createConsumer(dependencies, fn.logger, fn.metrics);
