import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { secretResolver } from '../config/bootstrap-secrets';
import { bootstrapTracedFunction } from '../config/bootstrap-tracing';
import { readReconcileEnvironment } from './env';
import { createReconcileFunction, onceForScheduledEvent } from './function';
import { createReconcileRuntime } from './runtime';

/** Tokens are re-read after this long, so a rotated token is picked up without a deploy. */
const TOKEN_CACHE_SECONDS = 300;

// Runs once per cold start.
const fn = bootstrapTracedFunction('reconcile', readReconcileEnvironment);
const { config, environment } = fn;

/** Shared by every invocation of this container: polling clients (breakers) live as long as it. */
export const reconcileRuntime = createReconcileRuntime({
  config,
  tables: environment.tables,
  dynamodb: fn.client(DynamoDBClient),
  // Several instances may poll one provider at once: its quota is kept where all of them see it.
  sharedRateLimits: true,
  secrets: secretResolver(
    'reconcile',
    config.sources.flatMap((source) => (source.polling ? [source.polling.token] : [])),
    TOKEN_CACHE_SECONDS,
  ),
});

export const handler = onceForScheduledEvent(
  createReconcileFunction(reconcileRuntime, fn.logger, fn.metrics),
  new DynamoDBPersistenceLayer({
    tableName: environment.tables.runs,
    awsSdkV3Client: fn.client(DynamoDBClient),
  }),
);
