import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface TableBackupProps {
  /** Every table the plan backs up. */
  readonly tables: readonly dynamodb.ITableV2[];
  /** Encrypts the vault: the backups hold guest-linked data. */
  readonly encryptionKey: kms.IKey;
  /**
   * Keep the vault (and its recovery points) when the stack is deleted.
   * @default true
   */
  readonly retain?: boolean;
}

/**
 * An AWS Backup plan for the tables: a daily backup kept 35 days, in a vault of its own under the personal-data
 * key. Point-in-time recovery already covers the same 35 days inside DynamoDB; this adds copies that outlive a
 * deleted table and are managed, and audited, with the account's other backups.
 */
export class TableBackup extends Construct {
  readonly vault: backup.BackupVault;
  readonly plan: backup.BackupPlan;

  constructor(scope: Construct, id: string, props: TableBackupProps) {
    super(scope, id);
    this.vault = new backup.BackupVault(this, 'Vault', {
      encryptionKey: props.encryptionKey,
      removalPolicy: (props.retain ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.plan = backup.BackupPlan.daily35DayRetention(this, 'Plan', this.vault);
    const selection = this.plan.addSelection('Tables', {
      resources: props.tables.map((table) => backup.BackupResource.fromArn(table.tableArn)),
    });
    Validations.of(selection).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
      reason: "AWS Backup's own service-role policy, the documented role for backup jobs, maintained by AWS",
    });
  }
}
