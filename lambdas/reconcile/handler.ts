import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createSecretResolver } from '../ingest/secrets';
import { awsClientConfig } from '../shared/aws-clients';
import { readReconcileEnvironment } from './env';
import { createReconcileFunction } from './function';
import { createReconcileRuntime } from './runtime';

/** Tokens are re-read after this long, so a rotated token is picked up without a deploy. */
const TOKEN_CACHE_SECONDS = 300;

// Runs once per cold start; the configuration is compiled into the bundle, as for the other functions.
const environment = readReconcileEnvironment({
  ...process.env,
  PARITYSYNC_CONFIG_JSON: process.env.PARITYSYNC_CONFIG_JSON,
});
const { config } = environment;
const usesSecretsManager = config.sources.some(
  (source) => source.polling && 'secretsManager' in source.polling.token,
);
const secretsProvider = usesSecretsManager
  ? new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient(awsClientConfig('reconcile')) })
  : undefined;

/** Shared by every invocation of this container: polling clients (limiters, breakers) live as long as it. */
export const reconcileRuntime = createReconcileRuntime({
  config,
  tables: environment.tables,
  dynamodb: new DynamoDBClient(awsClientConfig('reconcile')),
  secrets: createSecretResolver({
    ...(secretsProvider
      ? { fetchSecretsManager: (id: string) => secretsProvider.get(id, { maxAge: TOKEN_CACHE_SECONDS }) }
      : {}),
  }),
});

export const handler = createReconcileFunction(
  reconcileRuntime,
  new Logger({ serviceName: environment.serviceName }),
  new Metrics({ namespace: environment.metricsNamespace, serviceName: environment.serviceName }),
);
