import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { bootstrapTracedFunction } from '../config/bootstrap-tracing';
import { DynamoDbDeliveryLedger } from '../ledger/dynamodb-ledger';
import { DynamoDbRejectionLog } from '../ledger/dynamodb-rejections';
import { DynamoDbReplayJobStore } from '../ledger/dynamodb-replay-jobs';
import { SqsDeadLetterQueue, SqsRedrivableDeadLetterQueue } from '../queue/sqs-dead-letters';
import { SqsEventQueue, SqsReplayWorkQueue } from '../queue/sqs-queue';
import { systemClock } from '../shared/clock';
import { DynamoDbAriStore } from '../state/dynamodb-ari-store';
import { DynamoDbAuditLog } from '../state/dynamodb-audit';
import { DynamoDbControlStore } from '../state/dynamodb-controls';
import { DynamoDbMappingStore } from '../state/dynamodb-mappings';
import { DynamoDbParityStore } from '../state/dynamodb-parity';
import { DynamoDbReconcileRunStore } from '../state/dynamodb-reconcile-runs';
import { DynamoDbReservationStore } from '../state/dynamodb-reservations';
import { DynamoDbReviewStore } from '../state/dynamodb-review';
import { MappingResolver } from '../state/resolver';
import { readReadApiEnvironment } from './env';
import { createReadApiHandler } from './http';

// Runs once per cold start.
const fn = bootstrapTracedFunction('read', readReadApiEnvironment);
const { config, environment } = fn;
const { tables } = environment;
const dynamodb = fn.client(DynamoDBClient);
const sqs = fn.client(SQSClient);
const queue = new SqsEventQueue(sqs, environment.queues.events);
const ledger = new DynamoDbDeliveryLedger(dynamodb, tables.ledger);

export const handler = createReadApiHandler(
  {
    ari: new DynamoDbAriStore(dynamodb, tables.ari),
    reservations: new DynamoDbReservationStore(dynamodb, tables.reservations),
    deliveries: ledger,
    deliveryLog: ledger,
    dedupeWindowSeconds: config.ingest.dedupeWindowDays * 86_400,
    review: new DynamoDbReviewStore(dynamodb, tables.review),
    parity: new DynamoDbParityStore(dynamodb, tables.parity),
    parityOptions: config.parity,
    audit: new DynamoDbAuditLog(dynamodb, tables.audit, {
      retentionDays: config.reconciliation.auditRetentionDays,
      clock: systemClock,
    }),
    rejections: new DynamoDbRejectionLog(dynamodb, tables.rejections),
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
    sources: config.sources.map(({ id, kind, displayName }) => ({
      id,
      kind,
      ...(displayName === undefined ? {} : { displayName }),
    })),
    holds: new DynamoDbControlStore(dynamodb, tables.controls),
    replays: new DynamoDbReplayJobStore(dynamodb, tables.controls),
    replayWork: new SqsReplayWorkQueue(sqs, environment.queues.replay),
    runs: new DynamoDbReconcileRunStore(dynamodb, tables.runLog, {
      retentionDays: config.reconciliation.auditRetentionDays,
    }),
    deadLetters: {
      events: new SqsRedrivableDeadLetterQueue(sqs, {
        queueUrl: environment.queues.eventsDeadLetters,
        sourceQueueUrl: environment.queues.events,
        clock: systemClock,
        ...(environment.moveTask === undefined ? {} : { moveTask: environment.moveTask }),
      }),
      reconcile: new SqsDeadLetterQueue(sqs, {
        queueUrl: environment.queues.reconcileDeadLetters,
        clock: systemClock,
      }),
      parity: new SqsDeadLetterQueue(sqs, {
        queueUrl: environment.queues.parityDeadLetters,
        clock: systemClock,
      }),
    },
  },
  fn.logger,
  new DynamoDBPersistenceLayer({ tableName: tables.operationRequests, awsSdkV3Client: dynamodb }),
);
