import type { Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks, type NagPack, NIST80053R5Checks, ServerlessChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import type { ParitySyncStackProps } from '../../lib/paritysync-stack';
import { synthStack } from './app';

/** The packs `cdk synth` runs (bin/app.ts): AWS Solutions, Serverless and NIST 800-53 rev 5. */
const packs = (): NagPack[] => [new AwsSolutionsChecks(), new ServerlessChecks(), new NIST80053R5Checks()];

/** Every unacknowledged finding, as `pack rule at path`. */
function findings(stack: Stack): string[] {
  return packs().flatMap((pack) =>
    pack
      .validateScope(stack)
      .violations.flatMap((violation) =>
        violation.violatingResources.map(
          (resource) => `${violation.ruleName} at ${resource.constructPath ?? resource.resourceLogicalId}`,
        ),
      ),
  );
}

const variants: ReadonlyArray<readonly [string, Partial<ParitySyncStackProps>]> = [
  ['the default stack', {}],
  [
    'alarms to new email subscriptions, with the backup plan',
    { alarmEmails: ['ops@example.com'], backup: true },
  ],
  ['alarms to an existing topic', { alarmTopicArn: 'arn:aws:sns:eu-west-1:111122223333:ops' }],
  [
    'an account on the initial concurrency quota, without web ACL or tracing',
    { ingestReservedConcurrency: 'none', webApplicationFirewall: false, tracing: false },
  ],
];

describe('cdk-nag', () => {
  it.each(variants)('finds nothing unacknowledged in %s', (_name, overrides) => {
    expect(findings(synthStack(overrides).stack)).toEqual([]);
  });

  it('still reports a finding nobody acknowledged', () => {
    const { stack } = synthStack();
    new logs.LogGroup(stack, 'Unencrypted', { retention: logs.RetentionDays.ONE_DAY });
    expect(findings(stack)).toEqual([
      'NIST.800.53.R5-CloudWatchLogGroupEncrypted at ParitySyncTest/Unencrypted/Resource',
    ]);
  });
});
