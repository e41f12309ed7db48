import type { App } from 'aws-cdk-lib';
import { ConfigurationError } from '../lambdas/shared/errors';
import type { ParitySyncStackProps } from './paritysync-stack';

/** What `cdk deploy -c …` decides, apart from the configuration file's content. */
export interface AppSettings {
  readonly configPath: string;
  readonly stackName: string;
  readonly props: Omit<ParitySyncStackProps, 'config'>;
}

/**
 * Reads the app's context keys (set in cdk.json or with `cdk synth -c key=value`):
 * - `paritysync:config`: configuration file, JSON or a TS/JS module (default config/aws.example.json)
 * - `paritysync:stackName`: stack name (default ParitySync)
 * - `paritysync:retainData`: `false` for throw-away development stacks (default true)
 * - `paritysync:createApiGatewayAccountLogRole`: `true` in a region whose API Gateway has no logging role yet
 * - `paritysync:reconciliationSchedule`: `false` deploys the reconciliation schedule disabled (default true)
 * - `paritysync:alarmEmails`: addresses subscribed to a new alarm topic, comma-separated (or a JSON array in
 *   cdk.json)
 * - `paritysync:alarmTopicArn`: an existing SNS topic the alarms notify instead
 * - `paritysync:ledgerIndexes`: how many of the delivery log's indexes to create (default all), to add them to a
 *   deployed ledger one deployment at a time
 * - `paritysync:tracing`: `false` turns X-Ray tracing off on the functions and the API stage (default true)
 * - `paritysync:waf`: `false` deploys the webhook stage without its AWS WAF web ACL (default true)
 * - `paritysync:wafRateLimit`: requests per sender address and 5 minutes before WAF answers 429 (default 6000)
 * - `paritysync:ingestReservedConcurrency`: the ingest function's reserved concurrency (default 100), or `none`
 *   in an account whose concurrency quota leaves no room for it
 * - `paritysync:backup`: `true` adds an AWS Backup plan for every table (default false)
 */
export function appSettings(app: App): AppSettings {
  const alarmEmails = contextList(app, 'paritysync:alarmEmails');
  const alarmTopicArn = contextString(app, 'paritysync:alarmTopicArn');
  const ledgerLogIndexes = contextInteger(app, 'paritysync:ledgerIndexes');
  const wafRateLimit = contextInteger(app, 'paritysync:wafRateLimit');
  const ingestReservedConcurrency =
    app.node.tryGetContext('paritysync:ingestReservedConcurrency') === 'none'
      ? 'none'
      : contextInteger(app, 'paritysync:ingestReservedConcurrency');
  return {
    configPath: contextString(app, 'paritysync:config') ?? 'config/aws.example.json',
    stackName: contextString(app, 'paritysync:stackName') ?? 'ParitySync',
    props: {
      retain: contextBoolean(app, 'paritysync:retainData') ?? true,
      createApiGatewayAccountLogRole:
        contextBoolean(app, 'paritysync:createApiGatewayAccountLogRole') ?? false,
      reconciliationScheduleEnabled: contextBoolean(app, 'paritysync:reconciliationSchedule') ?? true,
      tracing: contextBoolean(app, 'paritysync:tracing') ?? true,
      webApplicationFirewall: contextBoolean(app, 'paritysync:waf') ?? true,
      ...(wafRateLimit === undefined ? {} : { wafRateLimitPer5Minutes: wafRateLimit }),
      ...(ingestReservedConcurrency === undefined ? {} : { ingestReservedConcurrency }),
      backup: contextBoolean(app, 'paritysync:backup') ?? false,
      ...(alarmEmails === undefined ? {} : { alarmEmails }),
      ...(alarmTopicArn === undefined ? {} : { alarmTopicArn }),
      ...(ledgerLogIndexes === undefined ? {} : { ledgerLogIndexes }),
      description:
        'ParitySync: signed hospitality webhooks in, applied exactly once, reconciled against providers, parity watched',
    },
  };
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

/** `-c key=2` arrives as the string "2"; cdk.json gives a number. */
function contextInteger(app: App, key: string): number | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 0) {
    throw new ConfigurationError(`Context ${key} must be a whole number; received ${JSON.stringify(value)}`);
  }
  return number;
}

/** `-c key=a,b` arrives as one string; cdk.json may give a JSON array of strings. */
function contextList(app: App, key: string): string[] | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') {
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
  throw new ConfigurationError(
    `Context ${key} must be a comma-separated string or a list of strings; received ${JSON.stringify(value)}`,
  );
}
