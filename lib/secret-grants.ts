import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { secretGrantTarget } from './deploy-config';

/**
 * `secretsmanager:GetSecretValue` on exactly the secrets named (see `secretGrantTarget`). Not
 * `Secret.grantRead`: that adds DescribeSecret, which reading a value never needs. Secrets encrypted with a
 * customer-managed KMS key also need kms:Decrypt, granted on that key by whoever owns it.
 */
export function grantSecretValues(
  grantee: iam.IGrantable & IConstruct,
  references: readonly string[],
): iam.Grant | undefined {
  const stack = Stack.of(grantee);
  const resourceArns = references.flatMap((reference) => {
    const target = secretGrantTarget(reference);
    if (target.by === 'arn') return target.resourceArns;
    return [
      stack.formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: `${target.name}-??????`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    ];
  });
  if (resourceArns.length === 0) return undefined;
  return iam.Grant.addToPrincipal({ grantee, actions: ['secretsmanager:GetSecretValue'], resourceArns });
}
