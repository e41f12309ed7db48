import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { adapterFor } from '../adapters';
import { bootstrapFunction } from '../config/bootstrap';
import { secretResolver } from '../config/bootstrap-secrets';
import { DynamoDbDeliveryLedger } from '../ledger/dynamodb-ledger';
import { DynamoDbRejectionLog } from '../ledger/dynamodb-rejections';
import { SqsEventQueue } from '../queue/sqs-queue';
import { AWS_CLIENT_PROFILES, worstCaseCallMs } from '../shared/aws-clients';
import { systemClock } from '../shared/clock';
import { nodeCrypto } from '../shared/crypto';
import { readIngestEnvironment } from './env';
import { createIngestHttpHandler, powertoolsIngestMetrics } from './http';
import { prepareSources } from './sources';

/** How long a cached Secrets Manager value is trusted; a rotated secret takes effect within this time. */
const SECRET_CACHE_SECONDS = 300;
/** Longer than the function's 10 s timeout, so that a live request is never raced by a retry. */
const CLAIM_LEASE_MS = 15_000;
/** The enqueue (SQS) and its confirmation (DynamoDB), each at its clients' bound: 6 s of the 15 s lease. */
const MIN_LEASE_LEFT_MS = 2 * worstCaseCallMs(AWS_CLIENT_PROFILES.ingest);

// Runs once per cold start.
const fn = bootstrapFunction('ingest', readIngestEnvironment);
const { config, environment } = fn;
const dynamodb = fn.client(DynamoDBClient);

export const handler = createIngestHttpHandler(
  {
    sources: prepareSources(config, adapterFor),
    secrets: secretResolver(
      'ingest',
      config.sources.flatMap((source) => source.secrets),
      SECRET_CACHE_SECONDS,
    ),
    ledger: new DynamoDbDeliveryLedger(dynamodb, environment.tables.ledger),
    queue: new SqsEventQueue(fn.client(SQSClient), environment.queues.events),
    clock: systemClock,
    crypto: nodeCrypto,
    settings: {
      maxBodyBytes: config.ingest.maxBodyBytes,
      dedupeWindowSeconds: config.ingest.dedupeWindowDays * 86_400,
      claimLeaseMs: CLAIM_LEASE_MS,
      minLeaseLeftMs: MIN_LEASE_LEFT_MS,
    },
    rejections: {
      recorder: new DynamoDbRejectionLog(dynamodb, environment.tables.rejections),
      recordsPerSecond: config.rejections.recordsPerSecond,
      retentionSeconds: config.rejections.retentionDays * 86_400,
    },
  },
  fn.logger,
  powertoolsIngestMetrics(fn.metrics),
);
