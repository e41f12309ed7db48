import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { IndexDefinition, TableDefinition } from '../lambdas/shared/topology';

export interface TopologyTableOptions {
  /** Retain the table (and turn on deletion protection) when the stack is deleted. */
  readonly retain: boolean;
  /** @default 35 */
  readonly pointInTimeRecoveryDays?: number;
  /**
   * The table's construct id, which its logical id derives from: changing it replaces a deployed table.
   * @default the definition's id
   */
  readonly id?: string;
}

/**
 * A DynamoDB table exactly as its topology definition describes it, with the settings every ParitySync table
 * shares: on-demand billing, point-in-time recovery and encryption at rest. Every construct that owns tables
 * builds them through this, so a table in AWS has the keys, indexes and TTL the local runtime creates.
 */
export function topologyTable(
  scope: Construct,
  definition: TableDefinition,
  options: TopologyTableOptions,
): dynamodb.TableV2 {
  return new dynamodb.TableV2(scope, options.id ?? definition.id, {
    partitionKey: attribute(definition.partitionKey),
    ...(definition.sortKey ? { sortKey: attribute(definition.sortKey) } : {}),
    ...(definition.timeToLiveAttribute ? { timeToLiveAttribute: definition.timeToLiveAttribute } : {}),
    ...(definition.stream ? { dynamoStream: dynamodb.StreamViewType[definition.stream] } : {}),
    globalSecondaryIndexes: (definition.globalSecondaryIndexes ?? []).map(globalSecondaryIndex),
    // Event traffic is bursty (bulk rate pushes, channel re-syncs); on-demand absorbs bursts without capacity
    // planning and costs nothing when idle.
    billing: dynamodb.Billing.onDemand(),
    pointInTimeRecoverySpecification: {
      pointInTimeRecoveryEnabled: true,
      recoveryPeriodInDays: options.pointInTimeRecoveryDays ?? 35,
    },
    // Table-level SSE is the same for both keys; a customer-managed key is named on the replica where needed.
    encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
    deletionProtection: options.retain,
    removalPolicy: options.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
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

/** The ARN of one global secondary index of a table. */
export function indexArn(tableArn: string, indexName: string): string {
  return `${tableArn}/index/${indexName}`;
}

/** The ARNs of every global secondary index the definition gives the table. */
export function indexArns(table: dynamodb.ITableV2, definition: TableDefinition): string[] {
  return (definition.globalSecondaryIndexes ?? []).map((index) => indexArn(table.tableArn, index.indexName));
}

/**
 * Exactly these actions on exactly these resources. `table.grant` would add every index of the table to a
 * grant on the table, and the table to a grant on its indexes.
 */
export function grantExactly(
  grantee: iam.IGrantable,
  actions: readonly string[],
  resourceArns: readonly string[],
): iam.Grant {
  return iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [...resourceArns] });
}
