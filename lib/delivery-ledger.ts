import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ConfigurationError } from '../lambdas/shared/errors';
import { DELIVERY_LEDGER, type TableDefinition } from '../lambdas/shared/topology';
import { grantExactly, indexArns, topologyTable } from './topology-table';

export interface DeliveryLedgerProps {
  /**
   * Keep the table (and refuse deletion through the API) when the stack is deleted or the table replaced.
   * Set `false` only for throw-away development stacks: the ledger is what makes deliveries exactly-once.
   * @default true
   */
  readonly retain?: boolean;
  /**
   * Days of point-in-time recovery history (1-35).
   * @default 35
   */
  readonly pointInTimeRecoveryDays?: number;
  /**
   * How many of the delivery log's indexes to create, in the order the topology lists them. CloudFormation adds
   * at most one global secondary index to a table per deployment, so a ledger deployed before the log gains its
   * indexes over several deployments: 1, 2, 3, then all. Until then the log answers only the filters whose index
   * exists.
   * @default all of them
   */
  readonly logIndexes?: number;
}

/** The uses of the ledger's items that `DeliveryLedger.grant` knows; see `DeliveryLedger.ACCESS`. */
export type DeliveryLedgerPurpose = 'deduplicate' | 'settle' | 'read';

/**
 * The edge's deduplication store: one item per delivered event, written with a conditional put, expired by
 * DynamoDB TTL after the dedupe window. Built from the shared topology so that the local runtime's table has
 * the same keys. The AWS managed key (aws/dynamodb) rather than a customer-managed one: the ledger holds event
 * ids, idempotency keys and statuses, not guest data, so a key policy of our own would add cost and a failure
 * mode (a disabled or deleted key makes every delivery fail) without protecting anything more. Unlike the
 * default DynamoDB-owned key, every use of the AWS managed key is visible in CloudTrail.
 */
export class DeliveryLedger extends Construct {
  /**
   * The actions on the table's items each use of the ledger needs, by purpose; `grant` gives one of them. The
   * delivery log's queries are `grantReadLog`'s.
   */
  static readonly ACCESS: Readonly<Record<DeliveryLedgerPurpose, readonly string[]>> = {
    /** The edge: claim (conditional put), confirm/release (update), and read a claimed entry back; never scan, query or delete. */
    deduplicate: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    /** The apply pipeline: read an entry's status, then move it on (applied, rejected, parked); never create, delete, scan or query. */
    settle: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    /** A reader of delivery outcomes: one entry by its event id, and nothing else. */
    read: ['dynamodb:GetItem'],
  };
  /** Actions the delivery log needs, on its indexes only: pages of entries by source, status and time. */
  static readonly LOG_ACTIONS: readonly string[] = ['dynamodb:Query'];

  readonly table: dynamodb.TableV2;
  /** The ledger as deployed: the topology's table with the indexes `logIndexes` allows. */
  private readonly definition: TableDefinition;

  constructor(scope: Construct, id: string, props: DeliveryLedgerProps = {}) {
    super(scope, id);
    this.definition = withIndexes(DELIVERY_LEDGER, props.logIndexes);
    this.table = topologyTable(this, this.definition, {
      id: 'Table',
      retain: props.retain ?? true,
      ...(props.pointInTimeRecoveryDays === undefined
        ? {}
        : { pointInTimeRecoveryDays: props.pointInTimeRecoveryDays }),
    });
  }

  /** What `purpose` lists, on the table's items alone: `table.grant` would add every index of the table to it. */
  grant(grantee: iam.IGrantable, purpose: DeliveryLedgerPurpose): iam.Grant {
    return grantExactly(grantee, DeliveryLedger.ACCESS[purpose], [this.table.tableArn]);
  }

  /**
   * Lets the grantee query the delivery log's indexes, and nothing else: not the table itself (whose items hold
   * the retained events), and no scan. `table.grant` would add the table to the indexes.
   */
  grantReadLog(grantee: iam.IGrantable): iam.Grant {
    return grantExactly(grantee, DeliveryLedger.LOG_ACTIONS, indexArns(this.table, this.definition));
  }
}

function withIndexes(definition: TableDefinition, count: number | undefined): TableDefinition {
  const all = definition.globalSecondaryIndexes ?? [];
  if (count === undefined) return definition;
  if (!Number.isInteger(count) || count < 0 || count > all.length) {
    throw new ConfigurationError(
      `logIndexes must be a whole number from 0 to ${all.length} (the delivery log's indexes); received ${count}.`,
    );
  }
  return { ...definition, globalSecondaryIndexes: all.slice(0, count) };
}
