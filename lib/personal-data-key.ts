import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

export interface PersonalDataKeyProps {
  /**
   * Keep the key when the stack is deleted. A retained table, queue or log group is unreadable without it,
   * so the key lives at least as long as they do. Set `false` only for throw-away development stacks.
   * @default true
   */
  readonly retain?: boolean;
}

/** The AWS services that use the key on a caller's behalf. */
export type KeyUsingService = 'dynamodb' | 'sqs';

/**
 * The customer-managed key for every store that holds guest-linked data: the guest-linked tables, the events
 * queue and its DLQ (queued events carry guest ids for up to 14 days), and the log groups. Disabling it, or
 * scheduling its deletion, makes every guest-linked byte unreadable at once (crypto-shredding); its key policy
 * and CloudTrail record every use.
 *
 * The key policy leaves use by principals of this account to their identity policies (CDK's default), and
 * lets CloudWatch Logs of this region use it for this account's log groups only. Identity grants go through
 * `grantDecryptVia` and `grantQueueSend`, always through a named service, never for direct use.
 */
export class PersonalDataKey extends kms.Key {
  constructor(scope: Construct, id: string, props: PersonalDataKeyProps = {}) {
    const stack = Stack.of(scope);
    super(scope, id, {
      description: `${stack.stackName}: encrypts ParitySync tables, queues and logs holding guest-linked data`,
      enableKeyRotation: true,
      removalPolicy: (props.retain ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(30),
    });
    // CloudWatch Logs encrypts and decrypts log events itself, under its regional service principal; the
    // encryption context pins every use to a log group of this account and region.
    this.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsOfThisAccount',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.${stack.urlSuffix}`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
          },
        },
      }),
    );
  }

  /**
   * Lets the grantee read what the service stored under the key: DynamoDB items (DynamoDB unwraps the table key
   * with the caller's credentials for writes as well as reads: a writer needs Decrypt too, never Encrypt) or SQS
   * messages.
   */
  grantDecryptVia(grantee: iam.IGrantable, service: KeyUsingService): iam.Grant {
    return this.grantVia(grantee, service, ['kms:Decrypt']);
  }

  /**
   * Lets the grantee send messages to an SQS queue encrypted with the key: SQS generates a data key with the
   * sender's credentials, and decrypts it when it reuses a cached one.
   */
  grantQueueSend(grantee: iam.IGrantable): iam.Grant {
    return this.grantVia(grantee, 'sqs', ['kms:GenerateDataKey', 'kms:Decrypt']);
  }

  /**
   * Any region, not only the stack's: a TableV2 is a global table, and a replica added in another region
   * calls KMS through that region's DynamoDB endpoint.
   */
  private grantVia(grantee: iam.IGrantable, service: KeyUsingService, actions: string[]): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions,
      resourceArns: [this.keyArn],
      conditions: { StringLike: { 'kms:ViaService': `${service}.*.${Stack.of(this).urlSuffix}` } },
    });
  }
}
