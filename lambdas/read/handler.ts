import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDbAriStore } from '../apply/dynamodb-ari-store';
import { DynamoDbMappingStore } from '../apply/dynamodb-mappings';
import { DynamoDbReservationStore } from '../apply/dynamodb-reservations';
import { DynamoDbReviewStore } from '../apply/dynamodb-review';
import { readReadApiEnvironment } from '../apply/env';
import { DynamoDbLedgerFailureNotes } from '../apply/ledger-notes';
import { MappingResolver } from '../apply/resolver';
import { DynamoDbDeliveryLedger } from '../ingest/dynamodb-ledger';
import { SqsEventQueue } from '../ingest/sqs-queue';
import { DynamoDbParityStore } from '../reconcile/dynamodb-parity';
import { awsClientConfig } from '../shared/aws-clients';
import { systemClock } from '../shared/clock';
import { createReadApiHandler } from './http';

// Runs once per cold start; the configuration arrives as in the ingest and apply functions.
const environment = readReadApiEnvironment({
  ...process.env,
  PARITYSYNC_CONFIG_JSON: process.env.PARITYSYNC_CONFIG_JSON,
});
const { config, tables } = environment;
const dynamodb = new DynamoDBClient(awsClientConfig('read'));
const queue = new SqsEventQueue(new SQSClient(awsClientConfig('read')), environment.eventQueueUrl);
const ledger = new DynamoDbDeliveryLedger(dynamodb, tables.ledger);
const failureNotes = new DynamoDbLedgerFailureNotes(dynamodb, tables.ledger);

export const handler = createReadApiHandler(
  {
    ari: new DynamoDbAriStore(dynamodb, tables.ari),
    reservations: new DynamoDbReservationStore(dynamodb, tables.reservations),
    deliveries: {
      get: async (eventId) => {
        const [entry, note] = await Promise.all([ledger.get(eventId), failureNotes.read(eventId)]);
        return entry === undefined ? undefined : { ...entry, ...note };
      },
    },
    review: new DynamoDbReviewStore(dynamodb, tables.review),
    parity: new DynamoDbParityStore(dynamodb, tables.parity),
    mappings: new MappingResolver(
      new DynamoDbMappingStore(dynamodb, tables.mappings),
      config.mappings,
      systemClock,
    ),
    requeue: async (event) => {
      await queue.enqueue(event);
    },
    clock: systemClock,
    sourceIds: new Set(config.sources.map((source) => source.id)),
  },
  new Logger({ serviceName: environment.serviceName }),
);
