import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { parseConfig } from '../../lambdas/config/load';
import type { ParitySyncConfig, ParitySyncConfigInput } from '../../lambdas/config/schema';
import { ParitySyncStack, type ParitySyncStackProps } from '../../lib/paritysync-stack';

const projectRoot = join(__dirname, '..', '..');

/**
 * An App configured like `cdk synth` (the cdk.json feature flags), minus the slow parts a unit test does not
 * need: asset bundling and CloudFormation validation.
 */
export function testApp(): App {
  const cdkJson = JSON.parse(readFileSync(join(projectRoot, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return new App({
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  });
}

export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-1';
export const COMPLETE_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:paritysync/ota/signing-AbC123`;
export const PARTIAL_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:paritysync/mapping/signing`;
export const PMS_CIDRS = ['203.0.113.0/24', '2001:db8::/32'];
export const PMS_POLLING_TOKEN = 'paritysync/pms/polling-token';
export const OTA_POLLING_TOKEN_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:paritysync/ota/polling`;

/** Settings away from the defaults, so that a test sees them reach the template. */
export const TEST_RECONCILIATION = { scheduleMinutes: 10, budgetSeconds: 300, driftThresholdPercent: 2 };

const POLLING_LIMITS = { rateLimit: { requestsPerSecond: 5, burst: 10 } };

/**
 * Sources covering every allowlist and secret-reference case the stack handles, two of them polled (token by
 * name and by ARN), and parity checked for two properties.
 */
export const TEST_CONFIG_INPUT: ParitySyncConfigInput = {
  version: 1,
  sources: [
    // Kind with a published sender range and no allowedCidrs of its own.
    {
      id: 'hospitable',
      kind: 'hospitable',
      secrets: [{ secretsManager: 'paritysync/hospitable/signing-secret' }],
    },
    // Explicit allowlist.
    {
      id: 'pms-main',
      kind: 'pms',
      secrets: [{ secretsManager: 'paritysync/pms/signing-secret' }],
      allowedCidrs: PMS_CIDRS,
      // Polled, token by secret name.
      polling: {
        baseUrl: 'https://pms.example.com/v1',
        ...POLLING_LIMITS,
        token: { secretsManager: PMS_POLLING_TOKEN },
      },
    },
    // No allowlist at all; secret by complete ARN, and a second secret shared with another source.
    {
      id: 'ota',
      kind: 'ota',
      secrets: [{ secretsManager: COMPLETE_SECRET_ARN }, { secretsManager: 'paritysync/shared/rotation' }],
      // Polled, token by partial ARN.
      polling: {
        baseUrl: 'https://ota.example.com/api',
        ...POLLING_LIMITS,
        token: { secretsManager: OTA_POLLING_TOKEN_ARN },
      },
    },
    {
      id: 'mapping',
      kind: 'mapping',
      secrets: [{ secretsManager: PARTIAL_SECRET_ARN }, { secretsManager: 'paritysync/shared/rotation' }],
    },
  ],
  reconciliation: {
    scheduleMinutes: TEST_RECONCILIATION.scheduleMinutes,
    budgetSeconds: TEST_RECONCILIATION.budgetSeconds,
    drift: { thresholdPercent: TEST_RECONCILIATION.driftThresholdPercent },
  },
  parity: {
    properties: [
      { propertyId: 'hotel-berlin', sourceOfTruth: 'pms-main' },
      { propertyId: 'hotel-lisbon', sourceOfTruth: 'pms-main', tolerance: { absoluteMinor: 100 } },
    ],
  },
};

export const TEST_CONFIG: ParitySyncConfig = parseConfig(TEST_CONFIG_INPUT);

export interface SynthesizedStack {
  readonly stack: ParitySyncStack;
  readonly template: Template;
}

export function synthStack(overrides: Partial<ParitySyncStackProps> = {}): SynthesizedStack {
  const stack = new ParitySyncStack(testApp(), 'ParitySyncTest', {
    config: TEST_CONFIG,
    env: { account: ACCOUNT, region: REGION },
    ...overrides,
  });
  return { stack, template: Template.fromStack(stack) };
}

/** The logical id of the only resource of a type. */
export function onlyResourceId(template: Template, type: string): string {
  const ids = Object.keys(template.findResources(type));
  if (ids.length !== 1) throw new Error(`expected exactly one ${type}, found ${ids.length}`);
  return ids[0] as string;
}

/** The logical id of a construct's CloudFormation resource (an L2 construct's default child). */
export function logicalId(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(construct).getLogicalId(element);
}
