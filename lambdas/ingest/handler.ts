import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { adapterFor } from '../adapters';
import { AWS_CLIENT_PROFILES, awsClientConfig, worstCaseCallMs } from '../shared/aws-clients';
import { systemClock } from '../shared/clock';
import { nodeCrypto } from '../shared/crypto';
import { DEFAULT_METRICS_NAMESPACE } from '../shared/metric-names';
import { DynamoDbDeliveryLedger } from './dynamodb-ledger';
import { readIngestEnvironment } from './env';
import { createIngestHttpHandler, powertoolsIngestMetrics } from './http';
import { createSecretResolver } from './secrets';
import { prepareSources } from './sources';
import { SqsEventQueue } from './sqs-queue';

/** How long a cached Secrets Manager value is trusted; a rotated secret takes effect within this time. */
const SECRET_CACHE_SECONDS = 300;
/** Longer than the function's 10 s timeout, so that a live request is never raced by a retry. */
const CLAIM_LEASE_MS = 15_000;
/** The enqueue (SQS) and its confirmation (DynamoDB), each at its clients' bound: 6 s of the 15 s lease. */
const MIN_LEASE_LEFT_MS = 2 * worstCaseCallMs(AWS_CLIENT_PROFILES.ingest);

// Everything below runs once per cold start. The configuration is compiled into the bundle in AWS
// (the literal `process.env.PARITYSYNC_CONFIG_JSON` is replaced at build time) and set by the local runtime.
const environment = readIngestEnvironment({
  ...process.env,
  PARITYSYNC_CONFIG_JSON: process.env.PARITYSYNC_CONFIG_JSON,
});
const { config } = environment;
const logger = new Logger();
// The service dimension is POWERTOOLS_SERVICE_NAME, as for the logger.
const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || DEFAULT_METRICS_NAMESPACE,
});

const usesSecretsManager = config.sources.some((source) =>
  source.secrets.some((ref) => 'secretsManager' in ref),
);
const secretsProvider = usesSecretsManager
  ? new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient(awsClientConfig('ingest')) })
  : undefined;

export const handler = createIngestHttpHandler(
  {
    sources: prepareSources(config, adapterFor),
    secrets: createSecretResolver({
      ...(secretsProvider
        ? { fetchSecretsManager: (id: string) => secretsProvider.get(id, { maxAge: SECRET_CACHE_SECONDS }) }
        : {}),
    }),
    ledger: new DynamoDbDeliveryLedger(
      new DynamoDBClient(awsClientConfig('ingest')),
      environment.ledgerTableName,
    ),
    queue: new SqsEventQueue(new SQSClient(awsClientConfig('ingest')), environment.eventQueueUrl),
    clock: systemClock,
    crypto: nodeCrypto,
    settings: {
      maxBodyBytes: config.ingest.maxBodyBytes,
      dedupeWindowSeconds: config.ingest.dedupeWindowDays * 86_400,
      claimLeaseMs: CLAIM_LEASE_MS,
      minLeaseLeftMs: MIN_LEASE_LEFT_MS,
    },
  },
  logger,
  powertoolsIngestMetrics(metrics),
);
