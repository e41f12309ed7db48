import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  ARI_STATE,
  CONTROLS,
  GUESTS,
  MAPPINGS,
  MAPPINGS_BY_ENTITY,
  RESERVATIONS,
  REVIEW,
  STATE_TABLES,
  type TableDefinition,
} from '../lambdas/shared/topology';
import { PersonalDataKey } from './personal-data-key';
import { grantExactly, indexArn, topologyTable } from './topology-table';

export interface StateTablesProps {
  /**
   * Keep the tables and their key (and refuse table deletion through the API) when the stack is deleted or a
   * table replaced. Set `false` only for throw-away development stacks.
   * @default true
   */
  readonly retain?: boolean;
  /**
   * Days of point-in-time recovery history (1-35).
   * @default 35
   */
  readonly pointInTimeRecoveryDays?: number;
}

/** The uses of the state tables that `StateTables.grant` knows; see `StateTables.ACCESS`. */
export type StateTablesPurpose =
  | 'apply'
  | 'read'
  | 'mappingAdmin'
  | 'mappingList'
  | 'holdAdmin'
  | 'reconcile';

/** A set of actions on one table, or on one of its indexes. */
export interface TableAccess {
  readonly table: TableDefinition;
  /** A global secondary index of `table`; the actions then apply to that index only. */
  readonly index?: string;
  readonly actions: readonly string[];
}

const GET = 'dynamodb:GetItem';
const PUT = 'dynamodb:PutItem';
const UPDATE = 'dynamodb:UpdateItem';
const DELETE = 'dynamodb:DeleteItem';
const QUERY = 'dynamodb:Query';
const SCAN = 'dynamodb:Scan';
const BATCH_GET = 'dynamodb:BatchGetItem';

const REVIEW_BY_WAITING_FOR = indexOf(REVIEW, 'byWaitingFor');
const REVIEW_WAITING_IN_ORDER = indexOf(REVIEW, 'waitingInOrder');
const MAPPINGS_LISTING = indexOf(MAPPINGS, MAPPINGS_BY_ENTITY.indexName);

/**
 * The apply pipeline's state: rate/availability per room night, id mappings, events parked for review,
 * reservations and guest links, and the operator controls (holds on sources). One DynamoDB table per topology
 * definition, so the local runtime's tables have the same keys and indexes.
 */
export class StateTables extends Construct {
  /** Every table this construct creates, in topology order. */
  static readonly DEFINITIONS: readonly TableDefinition[] = STATE_TABLES;

  /** What each of the stack's functions may do with the tables, by purpose; `grant` gives one of them. */
  static readonly ACCESS: Readonly<Record<StateTablesPurpose, readonly TableAccess[]>> = {
    /**
     * The consumer: conditional last-writer-wins writes to room nights, mappings, reservations and guest links;
     * parking events and finding those waiting for a mapping; erasing a guest; reading whether a source is held.
     * No scans, no batch or table operations.
     */
    apply: [
      { table: ARI_STATE, actions: [UPDATE] },
      { table: MAPPINGS, actions: [GET, PUT] },
      { table: RESERVATIONS, actions: [PUT, UPDATE] },
      { table: GUESTS, actions: [UPDATE] },
      { table: REVIEW, actions: [PUT, DELETE] },
      { table: REVIEW, index: REVIEW_BY_WAITING_FOR, actions: [QUERY] },
      { table: CONTROLS, actions: [GET] },
    ],
    /**
     * The read API: a property's nights over a date range, one reservation, the review list. Guest links are
     * never read through it. No writes.
     */
    read: [
      { table: ARI_STATE, actions: [QUERY] },
      { table: RESERVATIONS, actions: [GET] },
      { table: REVIEW, actions: [SCAN] },
    ],
    /**
     * An operator adding a mapping: write it, then find the events waiting for it (they are re-queued; the
     * consumer clears them from review once applied).
     */
    mappingAdmin: [
      { table: MAPPINGS, actions: [PUT] },
      { table: REVIEW, index: REVIEW_BY_WAITING_FOR, actions: [QUERY] },
    ],
    /** An operator listing the stored mappings: the index by entity, never a scan of the table. */
    mappingList: [{ table: MAPPINGS, index: MAPPINGS_LISTING, actions: [QUERY] }],
    /**
     * An operator holding and resuming sources: read, set and end holds, and find a resumed source's held events
     * in the order they happened (they are re-queued; the consumer clears them from review once applied).
     */
    holdAdmin: [
      { table: CONTROLS, actions: [GET, PUT, DELETE] },
      { table: REVIEW, index: REVIEW_WAITING_IN_ORDER, actions: [QUERY] },
    ],
    /**
     * Reconciliation: read the polled nights by key and correct them with the apply pipeline's conditional
     * write, read a property's nights for the parity check, and resolve external ids. Nothing guest-linked.
     */
    reconcile: [
      { table: ARI_STATE, actions: [BATCH_GET, QUERY, UPDATE] },
      { table: MAPPINGS, actions: [GET] },
    ],
  };

  /**
   * Encrypts the tables that hold guest-linked data, and the queues and log groups the stack gives it to. It
   * stays at this construct path: that is the logical id of the keys already deployed.
   */
  readonly personalDataKey: PersonalDataKey;
  readonly ariState: dynamodb.TableV2;
  readonly mappings: dynamodb.TableV2;
  readonly review: dynamodb.TableV2;
  readonly reservations: dynamodb.TableV2;
  readonly guests: dynamodb.TableV2;
  readonly controls: dynamodb.TableV2;

  private readonly tablesById = new Map<string, dynamodb.TableV2>();

  constructor(scope: Construct, id: string, props: StateTablesProps = {}) {
    super(scope, id);
    const retain = props.retain ?? true;

    this.personalDataKey = new PersonalDataKey(this, 'PersonalDataKey', { retain });

    for (const definition of StateTables.DEFINITIONS) {
      const table = topologyTable(this, definition, {
        retain,
        ...(props.pointInTimeRecoveryDays === undefined
          ? {}
          : { pointInTimeRecoveryDays: props.pointInTimeRecoveryDays }),
      });
      if (definition.personalData) {
        useCustomerManagedKey(table, this.personalDataKey);
      }
      this.tablesById.set(definition.id, table);
    }

    this.ariState = this.table(ARI_STATE);
    this.mappings = this.table(MAPPINGS);
    this.review = this.table(REVIEW);
    this.reservations = this.table(RESERVATIONS);
    this.guests = this.table(GUESTS);
    this.controls = this.table(CONTROLS);
  }

  /** The table built from a topology definition. */
  table(definition: TableDefinition): dynamodb.TableV2 {
    const table = this.tablesById.get(definition.id);
    if (!table) throw new Error(`StateTables has no table for the topology definition "${definition.id}"`);
    return table;
  }

  /** The tables' names under the environment variables the functions read them from. */
  environment(definitions: readonly TableDefinition[] = StateTables.DEFINITIONS): Record<string, string> {
    return Object.fromEntries(
      definitions.map((definition) => [definition.environmentName, this.table(definition).tableName]),
    );
  }

  /**
   * Grants exactly what `purpose` lists on the listed tables and indexes (not `table.grant`, which adds every
   * index to every action), plus Decrypt on the personal-data key when a table it encrypts is touched: through
   * DynamoDB only, never to decrypt arbitrary ciphertext directly, and never Encrypt (DynamoDB's own service
   * account generates the data keys).
   */
  grant(grantee: iam.IGrantable, purpose: StateTablesPurpose): iam.Grant {
    const accesses = StateTables.ACCESS[purpose];
    const grants = accesses.map((access) => {
      const tableArn = this.table(access.table).tableArn;
      return grantExactly(grantee, access.actions, [
        access.index === undefined ? tableArn : indexArn(tableArn, access.index),
      ]);
    });
    if (accesses.some((access) => access.table.personalData)) {
      grants.push(this.personalDataKey.grantDecryptVia(grantee, 'dynamodb'));
    }
    const [first, ...rest] = grants;
    if (!first) throw new Error('StateTables: a grant must name at least one table');
    return rest.reduce((combined, grant) => combined.combine(grant), first);
  }
}

/**
 * Encrypts the table's only replica with the key. This is the template `TableEncryptionV2.customerManagedKey`
 * renders, which refuses a region-agnostic stack (it needs the deployment region to tell the replicas apart)
 * and the app deploys to whatever region the CLI is pointed at.
 *
 * A key of our own for guest-linked data: its key policy and CloudTrail record who can decrypt it, and
 * disabling it or scheduling its deletion makes the data unreadable everywhere at once (crypto-shredding).
 * Rates, mappings and review entries stay on the AWS managed key (aws/dynamodb): operational data, for which
 * a key of our own would add cost and a failure mode without protecting anything more, while every use of
 * the AWS managed key is still visible in CloudTrail.
 */
function useCustomerManagedKey(table: dynamodb.TableV2, key: kms.IKey): void {
  const cfnTable = table.node.defaultChild as dynamodb.CfnGlobalTable;
  cfnTable.addPropertyOverride('Replicas.0.SSESpecification.KMSMasterKeyId', key.keyArn);
}

function indexOf(definition: TableDefinition, indexName: string): string {
  if (!definition.globalSecondaryIndexes?.some((index) => index.indexName === indexName)) {
    throw new Error(`topology: table ${definition.id} must define the global secondary index "${indexName}"`);
  }
  return indexName;
}
