import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { bootstrapTracedFunction } from '../config/bootstrap-tracing';
import { DynamoDbDeliveryLedger } from '../ledger/dynamodb-ledger';
import { SqsEventQueue } from '../queue/sqs-queue';
import { systemClock } from '../shared/clock';
import { EVENTS_QUEUE } from '../shared/topology';
import { DynamoDbAriStore } from '../state/dynamodb-ari-store';
import { DynamoDbControlStore } from '../state/dynamodb-controls';
import { DynamoDbGuestStore } from '../state/dynamodb-guests';
import { DynamoDbMappingStore } from '../state/dynamodb-mappings';
import { DynamoDbReservationStore } from '../state/dynamodb-reservations';
import { DynamoDbReviewStore } from '../state/dynamodb-review';
import { MappingResolver } from '../state/resolver';
import { type ConsumerDependencies, createConsumer } from './consumer';
import { readApplyEnvironment } from './env';

/** Room-night writes in flight per event: a year-long range finishes in a few round trips. */
const NIGHT_CONCURRENCY = 16;

// Runs once per cold start.
const fn = bootstrapTracedFunction('apply', readApplyEnvironment);
const { config, environment } = fn;
const { tables } = environment;
const dynamodb = fn.client(DynamoDBClient);
const queue = new SqsEventQueue(fn.client(SQSClient), environment.queues.events);

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
  holdStore: new DynamoDbControlStore(dynamodb, tables.controls),
  requeue: async (event) => {
    await queue.enqueue(event);
  },
  properties: new Map(config.properties.map((settings) => [settings.propertyId, settings])),
  clock: systemClock,
  nightConcurrency: NIGHT_CONCURRENCY,
  maxReceiveCount: EVENTS_QUEUE.maxReceiveCount ?? 1,
};

export const handler = createConsumer(dependencies, fn.logger, fn.metrics);
