import { App } from 'aws-cdk-lib';
import { loadConfigFile } from '../lambdas/config/load';
import { ConfigurationError } from '../lambdas/shared/errors';
import { assertDeployableConfig } from '../lib/deploy-config';
import { ParitySyncStack } from '../lib/paritysync-stack';

/**
 * Context keys (set in cdk.json or with `cdk synth -c key=value`):
 * - `paritysync:config`: configuration file, JSON or a TS/JS module (default config/aws.example.json)
 * - `paritysync:stackName`: stack name (default ParitySync)
 * - `paritysync:retainData`: `false` for throw-away development stacks (default true)
 * - `paritysync:createApiGatewayAccountLogRole`: `true` in a region whose API Gateway has no logging role yet
 * - `paritysync:reconciliationSchedule`: `false` deploys the reconciliation schedule disabled (default true)
 */
async function main(): Promise<void> {
  const app = new App();
  const configPath = contextString(app, 'paritysync:config') ?? 'config/aws.example.json';
  const config = await loadConfigFile(configPath);
  assertDeployableConfig(config);

  new ParitySyncStack(app, contextString(app, 'paritysync:stackName') ?? 'ParitySync', {
    config,
    retain: contextBoolean(app, 'paritysync:retainData') ?? true,
    createApiGatewayAccountLogRole: contextBoolean(app, 'paritysync:createApiGatewayAccountLogRole') ?? false,
    reconciliationScheduleEnabled: contextBoolean(app, 'paritysync:reconciliationSchedule') ?? true,
    description:
      'ParitySync: signed hospitality webhooks in, applied exactly once, reconciled against providers, parity watched',
  });
  app.synth();
}

function contextString(app: App, key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new ConfigurationError(`Context ${key} must be a string; received ${JSON.stringify(value)}`);
  }
  return value;
}

/** `-c key=false` arrives as the string "false"; cdk.json gives a real boolean. */
function contextBoolean(app: App, key: string): boolean | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ConfigurationError(`Context ${key} must be true or false; received ${JSON.stringify(value)}`);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigurationError) {
    console.error(error.message);
  } else {
    console.error(error);
  }
  process.exit(1);
});
