import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { DELIVERY_LEDGER, type IndexDefinition, type TableDefinition } from '../lambdas/shared/topology';

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
}

/**
 * The edge's deduplication store: one item per delivered event, written with a conditional put, expired by
 * DynamoDB TTL after the dedupe window. Built from the shared topology so that the local runtime's table has
 * the same keys.
 */
export class DeliveryLedger extends Construct {
  /** Actions the edge needs: claim (conditional put), confirm/release (update), and read a claimed entry back. */
  static readonly DEDUPLICATE_ACTIONS: readonly string[] = [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
  ];
  /** Actions the apply pipeline needs: read an entry's status, then move it on (applied, rejected, parked). */
  static readonly SETTLE_ACTIONS: readonly string[] = ['dynamodb:GetItem', 'dynamodb:UpdateItem'];
  /** Actions a reader of delivery outcomes needs: one entry by event id. */
  static readonly READ_ACTIONS: readonly string[] = ['dynamodb:GetItem'];
  /** Actions the delivery log needs, on its indexes only: pages of entries by source, status and time. */
  static readonly LOG_ACTIONS: readonly string[] = ['dynamodb:Query'];

  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: DeliveryLedgerProps = {}) {
    super(scope, id);
    const retain = props.retain ?? true;
    const definition: TableDefinition = DELIVERY_LEDGER;

    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: attribute(definition.partitionKey),
      ...(definition.sortKey ? { sortKey: attribute(definition.sortKey) } : {}),
      ...(definition.timeToLiveAttribute ? { timeToLiveAttribute: definition.timeToLiveAttribute } : {}),
      globalSecondaryIndexes: (definition.globalSecondaryIndexes ?? []).map(globalSecondaryIndex),
      // Webhook traffic is bursty (bulk rate pushes, channel re-syncs); on-demand absorbs bursts without
      // capacity planning and costs nothing when idle.
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: {
        pointInTimeRecoveryEnabled: true,
        recoveryPeriodInDays: props.pointInTimeRecoveryDays ?? 35,
      },
      // The AWS managed key (aws/dynamodb) rather than a customer-managed one: the ledger holds event ids,
      // idempotency keys and statuses, not guest data, so a key policy of our own would add cost and a
      // failure mode (a disabled or deleted key makes every delivery fail) without protecting anything more.
      // Unlike the default DynamoDB-owned key, every use of the AWS managed key is visible in CloudTrail.
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      deletionProtection: retain,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
  }

  /** Lets the grantee claim, confirm and read ledger entries; never scan, query or delete. */
  grantDeduplicate(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnTable(grantee, DeliveryLedger.DEDUPLICATE_ACTIONS);
  }

  /** Lets the grantee read an entry and record its outcome; never create, delete, scan or query entries. */
  grantSettle(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnTable(grantee, DeliveryLedger.SETTLE_ACTIONS);
  }

  /** Lets the grantee look up one entry by its event id, and nothing else. */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.grantOnTable(grantee, DeliveryLedger.READ_ACTIONS);
  }

  /**
   * Lets the grantee query the delivery log's indexes, and nothing else: not the table itself (whose items hold
   * the retained events), and no scan. `table.grant` would add the table to the indexes.
   */
  grantReadLog(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [...DeliveryLedger.LOG_ACTIONS],
      resourceArns: (DELIVERY_LEDGER.globalSecondaryIndexes ?? []).map(
        (index) => `${this.table.tableArn}/index/${index.indexName}`,
      ),
    });
  }

  /** The actions on the table's items alone: `table.grant` would add every index of the table to them. */
  private grantOnTable(grantee: iam.IGrantable, actions: readonly string[]): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [this.table.tableArn] });
  }
}

/**
 * A topology index as CDK describes it: an INCLUDE projection of the attributes it names, or every attribute
 * when it names none.
 */
export function globalSecondaryIndex(index: IndexDefinition): dynamodb.GlobalSecondaryIndexPropsV2 {
  return {
    indexName: index.indexName,
    partitionKey: attribute(index.partitionKey),
    ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
    ...(index.projection === undefined
      ? { projectionType: dynamodb.ProjectionType.ALL }
      : { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...index.projection] }),
  };
}

/** A topology key attribute as CDK describes it. */
export function attribute(key: TableDefinition['partitionKey']): dynamodb.Attribute {
  return {
    name: key.name,
    type: key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
  };
}
