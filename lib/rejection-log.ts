import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { REJECTIONS } from '../lambdas/shared/topology';
import { grantExactly, indexArns, topologyTable } from './topology-table';

export interface RejectionLogProps {
  /**
   * Keep the table (and refuse its deletion through the API) when the stack is deleted or the table replaced.
   * @default true
   */
  readonly retain?: boolean;
}

/**
 * The requests the edge refused for good (4xx), a bounded number per source and second, with a count per day of
 * the rest; expired by DynamoDB TTL after the configured retention. Built from the shared topology, so the local
 * runtime's table has the same keys and index. Operational data without guest data or secrets: the AWS managed
 * key, as for the ledger.
 */
export class RejectionLog extends Construct {
  /** The edge: count against the second's bound, then write the record or the day's count. Nothing else. */
  static readonly RECORD_ACTIONS: readonly string[] = ['dynamodb:PutItem', 'dynamodb:UpdateItem'];
  /** The read API: one source's partition, or every source's through the index. Nothing else. */
  static readonly LIST_ACTIONS: readonly string[] = ['dynamodb:Query'];

  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: RejectionLogProps = {}) {
    super(scope, id);
    this.table = topologyTable(this, REJECTIONS, { retain: props.retain ?? true });
  }

  /** Lets the grantee record rejections and count them; never read, scan or delete them. */
  grantRecord(grantee: iam.IGrantable): iam.Grant {
    return grantExactly(grantee, RejectionLog.RECORD_ACTIONS, [this.table.tableArn]);
  }

  /** Lets the grantee query the table and its index; never write, get, scan or delete. */
  grantList(grantee: iam.IGrantable): iam.Grant {
    return grantExactly(grantee, RejectionLog.LIST_ACTIONS, [
      this.table.tableArn,
      ...indexArns(this.table, REJECTIONS),
    ]);
  }

  /** The table's name under the environment variable the functions read it from. */
  environment(): Record<string, string> {
    return { [REJECTIONS.environmentName]: this.table.tableName };
  }
}
