/**
 * The one description of ParitySync's tables and queues. The CDK constructs build AWS resources from it and
 * the local runtime creates the same tables and queues in the emulators from it, so the two cannot drift.
 * Each definition also names the environment variable a function learns the resource through, for the stack,
 * the local runtime and the functions' environment readers alike.
 * Pure data: imported by Lambda bundles, so it must not import aws-cdk-lib.
 */

export type AttributeType = 'S' | 'N';

export interface KeyAttribute {
  readonly name: string;
  readonly type: AttributeType;
}

export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /**
   * The attributes besides the keys that the index keeps a copy of (DynamoDB's INCLUDE projection); absent, it
   * keeps every attribute (ALL). A write touching none of them and no key of the index costs the index nothing.
   */
  readonly projection?: readonly string[];
}

export interface TableDefinition {
  /** Construct id in the stack, and the table name locally (prefixed). */
  readonly id: string;
  /** The environment variable through which a function learns the table's name, in AWS and locally. */
  readonly environmentName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly timeToLiveAttribute?: string;
  /** Global secondary indexes. */
  readonly globalSecondaryIndexes?: readonly IndexDefinition[];
  /** Holds guest-linked data: encrypted with a customer-managed key in AWS. */
  readonly personalData?: boolean;
  /** What the table's DynamoDB stream carries of each change; absent, the table has no stream. */
  readonly stream?: StreamView;
}

/** DynamoDB's stream view types. */
export type StreamView = 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';

export interface QueueDefinition {
  readonly id: string;
  /**
   * The environment variable through which a function learns the queue's URL, in AWS and locally; only queues
   * a function sends to or reads itself have one.
   */
  readonly environmentName?: string;
  /** Bytes. Set explicitly: SQS's default of 256 KiB is below the largest body the edge accepts. */
  readonly maximumMessageSizeBytes: number;
  readonly retentionSeconds: number;
  readonly visibilityTimeoutSeconds: number;
  /** Receives before a message moves to the DLQ; absent for a DLQ itself. */
  readonly maxReceiveCount?: number;
  readonly deadLetterQueue?: string;
  /**
   * How a function consumes this DLQ, read by the stack (the function's SQS event source) and the local runtime
   * (its poller) alike; absent for a DLQ that only an operator looks at. Work queues' consumers are their
   * constructs' own.
   */
  readonly consumer?: QueueConsumer;
}

/** A function taking a queue's messages: Lambda's SQS event source in AWS, a poller in the local runtime. */
export interface QueueConsumer {
  /** Messages per invocation, 1-10. */
  readonly batchSize: number;
  /** Invocations at once at most; Lambda's SQS event source takes no fewer than 2. */
  readonly maxConcurrency: number;
  /** The function's timeout: the queue hides a received message for six times as long, as AWS advises. */
  readonly timeoutSeconds: number;
}

/** What a table adds to the key layout most share; see `table`. */
type TableLayout = Partial<Omit<TableDefinition, 'id' | 'environmentName' | 'sortKey'>> & {
  /** A partition's items are kept in order of the string sort key `sk`. */
  readonly sorted?: boolean;
};

/**
 * A table laid out as most are: a string partition key `pk` and, where `sorted`, a string sort key `sk`; the
 * layout may name another partition key. The environment variable name stays a literal type, so that an
 * environment schema built from definitions types each variable it reads.
 */
function table<Name extends string>(
  id: string,
  environmentName: Name,
  { sorted = false, ...layout }: TableLayout = {},
): TableDefinition & { readonly environmentName: Name } {
  return {
    id,
    environmentName,
    partitionKey: { name: 'pk', type: 'S' },
    ...(sorted ? { sortKey: { name: 'sk', type: 'S' } } : {}),
    ...layout,
  };
}

/** Keeps the environment variable name a literal type, as `table` does. */
function namedQueue<Name extends string>(definition: QueueDefinition & { readonly environmentName: Name }) {
  return definition;
}

/** What a queue's definition chooses itself; the rest follows from whether it is a work queue or a DLQ. */
type OwnQueueSettings<Name extends string> = Pick<
  QueueDefinition,
  'id' | 'maximumMessageSizeBytes' | 'visibilityTimeoutSeconds'
> & { readonly environmentName: Name };

/**
 * A queue a function consumes, whose messages move to `deadLetterQueue` after five receives. Four days of
 * retention covers a long weekend of consumer outage before anything expires.
 */
function workQueue<Name extends string>(settings: OwnQueueSettings<Name>, deadLetterQueue: QueueDefinition) {
  return namedQueue({
    ...settings,
    retentionSeconds: 4 * 24 * 3600,
    maxReceiveCount: 5,
    deadLetterQueue: deadLetterQueue.id,
  });
}

/**
 * Kept fourteen days, SQS's longest, for an operator to look at. Nothing consumes it on its own unless `consumer`
 * says how a function does; the queue then hides a received message for six times that function's timeout, as
 * AWS advises for a Lambda event source.
 */
function deadLetterQueue<Name extends string>(
  settings: Omit<OwnQueueSettings<Name>, 'visibilityTimeoutSeconds'>,
  consumer?: QueueConsumer,
) {
  return namedQueue({
    ...settings,
    retentionSeconds: 14 * 24 * 3600,
    visibilityTimeoutSeconds: consumer === undefined ? 30 : 6 * consumer.timeoutSeconds,
    ...(consumer === undefined ? {} : { consumer }),
  });
}

/**
 * What a row of the delivery log shows, and so what every log index copies: a status change rewrites these in
 * each index, while the retained event, the lease and the failure notes stay in the table alone.
 */
const DELIVERY_LOG_FIELDS = [
  'sourceId',
  'status',
  'kind',
  'providerEventType',
  'canonicalType',
  'reason',
  'occurredAt',
  'receivedAt',
  'updatedAt',
  'deliveryCount',
  'retained',
] as const;

/** Sorted by `logAt` = `<receivedAt>#<eventId>`: time order, unique per event. */
function deliveryLogIndex<const Name extends string, const Key extends string>(
  indexName: Name,
  partitionKey: Key,
) {
  return {
    indexName,
    partitionKey: { name: partitionKey, type: 'S' },
    sortKey: { name: 'logAt', type: 'S' },
    projection: DELIVERY_LOG_FIELDS.filter((field) => field !== partitionKey),
  } as const satisfies IndexDefinition;
}

/**
 * The delivery log's indexes over the ledger, one per combination of the equality filters `GET /deliveries`
 * takes, so that every page is one Query: every entry (`logAll` holds the constant `ledger`), by source, by
 * status, and by both (`sourceStatus` = `<sourceId>#<status>`).
 */
export const DELIVERY_LOG_INDEXES = {
  all: deliveryLogIndex('logAll', 'logAll'),
  bySource: deliveryLogIndex('logBySource', 'sourceId'),
  byStatus: deliveryLogIndex('logByStatus', 'status'),
  bySourceStatus: deliveryLogIndex('logBySourceStatus', 'sourceStatus'),
} as const;

export const DELIVERY_LEDGER = table('DeliveryLedger', 'LEDGER_TABLE_NAME', {
  timeToLiveAttribute: 'expiresAt',
  globalSecondaryIndexes: Object.values(DELIVERY_LOG_INDEXES),
});

/**
 * Rate, availability and restrictions per room night and channel. One partition per internal property, so that
 * a date-range read is one Query; the sort key `date#roomType#ratePlan#channel` keeps a property's nights in
 * date order. Each field group carries its own last-writer-wins version.
 * Its stream drives parity on change. Keys only: the key names the night, and the check reads every channel of
 * it anyway, so an image would only make each stream record larger.
 */
export const ARI_STATE = table('AriState', 'ARI_TABLE_NAME', { sorted: true, stream: 'KEYS_ONLY' });

/**
 * `GET /mappings` reads the mappings of one entity (property, room type or rate plan) in item-key order
 * (`<scope>|<entity>|<externalId>`), so a listing is one Query per entity and a scope is a key prefix. Both keys
 * are attributes every mapping item already carries, so the index holds the mappings stored before it existed.
 * A put that adds a mapping or changes its target writes the index once more; one that rewrites the same target
 * (only `updatedAt` and `origin` change) does not touch it.
 */
export const MAPPINGS_BY_ENTITY = {
  indexName: 'mappingsByEntity',
  partitionKey: { name: 'entity', type: 'S' },
  sortKey: { name: 'pk', type: 'S' },
  projection: ['scope', 'externalId', 'internalId', 'propertyId'],
} as const satisfies IndexDefinition;

/** External ids (per source, or global) → internal property, room type and rate plan ids. */
export const MAPPINGS = table('Mappings', 'MAPPINGS_TABLE_NAME', {
  globalSecondaryIndexes: [MAPPINGS_BY_ENTITY],
});

/**
 * Events parked because an id did not map or their source is on hold, indexed by the key they wait for
 * (`byWaitingFor`), and by that key in version order (`waitingInOrder`, sort key `parkOrder` = the event's
 * version), so that a resume releases a long hold a page at a time, oldest first.
 */
export const REVIEW = table('Review', 'REVIEW_TABLE_NAME', {
  globalSecondaryIndexes: [
    { indexName: 'byWaitingFor', partitionKey: { name: 'waitingFor', type: 'S' } },
    {
      indexName: 'waitingInOrder',
      partitionKey: { name: 'waitingFor', type: 'S' },
      sortKey: { name: 'parkOrder', type: 'S' },
    },
  ],
  // A parked reservation or guest event carries guest references until it is applied.
  personalData: true,
});

/** One record per reservation, last-writer-wins on the provider's occurredAt. Guest references only. */
export const RESERVATIONS = table('Reservations', 'RESERVATIONS_TABLE_NAME', { personalData: true });

/** Guest id → the reservations it is linked to, so that guest.deleted can erase every link. No names, no contacts. */
export const GUESTS = table('Guests', 'GUESTS_TABLE_NAME', { personalData: true });

/**
 * Where each polled source's next reconciliation run starts (one checkpoint per source, or per source and
 * property), each source's saved circuit breaker, and the rate-limit buckets every reconcile worker shares.
 */
export const RECONCILE_CHECKPOINTS = table('ReconcileCheckpoints', 'CHECKPOINTS_TABLE_NAME');

/**
 * Scheduled reconciliation runs already started, keyed by the EventBridge event that asked for them: Powertools
 * idempotency records, so that an event EventBridge delivers twice starts one run. Attribute names are
 * Powertools' defaults; records expire a day after the run.
 */
export const RECONCILE_RUNS = table('ReconcileRuns', 'RECONCILE_RUNS_TABLE_NAME', {
  partitionKey: { name: 'id', type: 'S' },
  timeToLiveAttribute: 'expiration',
});

/**
 * Operator requests that act through the read / admin API (a replay job, a hold, a resume, a dead-letter redrive
 * or delete), keyed by their Idempotency-Key header or, for a replay without one, by what it replays: Powertools
 * idempotency records, so that a repeat within their lifetime answers the first answer instead of acting again.
 * Attribute names are Powertools' defaults.
 */
export const OPERATION_REQUESTS = table('OperationRequests', 'OPERATION_REQUESTS_TABLE_NAME', {
  partitionKey: { name: 'id', type: 'S' },
  timeToLiveAttribute: 'expiration',
});

/**
 * What reconciliation overwrote (or saw and left alone) per room night: one partition per internal property,
 * sorted by night and then time, so an operator reads a night's history with one Query. Expires after the
 * configured audit retention.
 */
export const RECONCILE_AUDIT = table('ReconcileAudit', 'AUDIT_TABLE_NAME', {
  sorted: true,
  timeToLiveAttribute: 'expiresAt',
});

/**
 * Current rate-parity findings per room night, one partition per internal property sorted by stay date, for
 * `GET /parity`. A night that became clean is deleted; past nights expire.
 */
export const PARITY_FINDINGS = table('ParityFindings', 'PARITY_TABLE_NAME', {
  sorted: true,
  timeToLiveAttribute: 'expiresAt',
});

/**
 * Requests the edge refused for good (4xx), for an operator to see who sends what: one partition per source id
 * as given in the path, sorted by time then request id. Per source, a counter per second bounds what is recorded,
 * and a counter per day holds how many were refused beyond that bound. The `rejectionsAll` index lists every
 * source's records newest first (constant `all` = `rejection`) and every day counter (`all` = `unrecorded`).
 * Items expire after the configured retention.
 */
export const REJECTIONS = table('Rejections', 'REJECTIONS_TABLE_NAME', {
  sorted: true,
  timeToLiveAttribute: 'expiresAt',
  globalSecondaryIndexes: [
    {
      indexName: 'rejectionsAll',
      partitionKey: { name: 'all', type: 'S' },
      sortKey: { name: 'sk', type: 'S' },
    },
  ],
});

/**
 * Operator controls, one item per control: `hold#<sourceId>` while a source is on hold (heldAt, by, reason);
 * `replay#<jobId>` for a replay job. Read by apply once per source per batch, written by the read / admin API.
 */
export const CONTROLS = table('Controls', 'CONTROLS_TABLE_NAME');

/**
 * The delivery ledger and the applied state, under the names both the apply function, which writes them, and the
 * read / admin API, which reads them (and writes mappings and holds), bind them to.
 */
export const APPLIED_STATE_TABLES = {
  ledger: DELIVERY_LEDGER,
  ari: ARI_STATE,
  mappings: MAPPINGS,
  review: REVIEW,
  reservations: RESERVATIONS,
  controls: CONTROLS,
};

/** Events whose receives ran out; the read / admin API lists them and sends them back to the events queue. */
export const EVENTS_DLQ = deadLetterQueue({
  id: 'EventsDlq',
  environmentName: 'EVENTS_DLQ_URL',
  maximumMessageSizeBytes: 1_048_576,
});

/**
 * How the read / admin API sends a whole events DLQ back: with SQS's message move task (`move-task`, from the
 * DLQ's ARN to the events queue's) where the stack sets these variables, by receiving and resending where they are
 * unset, as in the local runtime, whose SQS emulator has no move task.
 */
export const DLQ_REDRIVE_ENVIRONMENT = {
  mode: 'DLQ_REDRIVE',
  deadLetterQueueArn: 'EVENTS_DLQ_ARN',
  sourceQueueArn: 'EVENT_QUEUE_ARN',
} as const;

export const EVENTS_QUEUE = workQueue(
  {
    id: 'Events',
    environmentName: 'EVENT_QUEUE_URL',
    maximumMessageSizeBytes: 1_048_576,
    // At least six times the consumer's timeout, as AWS recommends for Lambda event sources.
    visibilityTimeoutSeconds: 180,
  },
  EVENTS_DLQ,
);

/**
 * Scheduled reconciliation runs that failed (the function threw or timed out after its retries): the event that
 * started the run, kept for an operator to look at (and delete) through the read / admin API. Nothing consumes
 * it automatically.
 */
export const RECONCILE_DLQ = deadLetterQueue({
  id: 'ReconcileDlq',
  environmentName: 'RECONCILE_DLQ_URL',
  maximumMessageSizeBytes: 262_144,
});

/** The apply pipeline's state: created by the StateTables construct. */
export const STATE_TABLES: readonly TableDefinition[] = [
  ARI_STATE,
  MAPPINGS,
  REVIEW,
  RESERVATIONS,
  GUESTS,
  CONTROLS,
];

/** Replay work messages whose receives ran out: the job they carry stays `running` until an operator looks. */
export const REPLAY_DLQ = deadLetterQueue({
  id: 'ReplayWorkDlq',
  environmentName: 'REPLAY_DLQ_URL',
  maximumMessageSizeBytes: 262_144,
});

/**
 * Replay jobs' work: each message is `{ "jobId": … }`, and the replay worker handles one page of the job's
 * delivery log per message before it sends the next. A worker that dies mid-page leaves the message to come back
 * after the visibility timeout, and the job resumes from the cursor it last saved.
 */
export const REPLAY_QUEUE = workQueue(
  {
    id: 'ReplayWork',
    environmentName: 'REPLAY_QUEUE_URL',
    maximumMessageSizeBytes: 262_144,
    // At least six times the worker's timeout, as AWS recommends for Lambda event sources.
    visibilityTimeoutSeconds: 360,
  },
  REPLAY_DLQ,
);

/** The ARI table's stream records that parity on change failed on after its retries, for an operator to look at. */
export const PARITY_DLQ = deadLetterQueue({
  id: 'ParityOnChangeDlq',
  environmentName: 'PARITY_DLQ_URL',
  maximumMessageSizeBytes: 262_144,
});

/**
 * Runs of `RECONCILE_RUN_LOG` listed newest first: a run's header (`runScope` = `all`) and each of its sources'
 * figures (`runScope` = `source#<sourceId>`), sorted by `runAt` = `<startedAt>#<runId>`. "Recent runs" and "runs of
 * one source over time" are each one Query.
 */
export const RECONCILE_RUNS_BY_TIME = {
  indexName: 'runsByTime',
  partitionKey: { name: 'runScope', type: 'S' },
  sortKey: { name: 'runAt', type: 'S' },
} as const satisfies IndexDefinition;

/**
 * Fanned-out reconciliation runs: one partition per run (`pk` = `run#<runId>`) holding its header (`sk` = `run`),
 * its figures per source (`source#<sourceId>`, summed as work items finish) and one item per work item
 * (`item#<itemId>`: claimed, then done or failed with its result). Expires after the audit retention.
 */
export const RECONCILE_RUN_LOG = table('ReconcileRunLog', 'RECONCILE_RUN_LOG_TABLE_NAME', {
  sorted: true,
  timeToLiveAttribute: 'expiresAt',
  globalSecondaryIndexes: [RECONCILE_RUNS_BY_TIME],
});

/** The reconciliation's own tables: created by the Reconciliation construct, not by StateTables. */
export const RECONCILE_TABLES: readonly TableDefinition[] = [
  RECONCILE_CHECKPOINTS,
  RECONCILE_AUDIT,
  PARITY_FINDINGS,
  RECONCILE_RUNS,
  RECONCILE_RUN_LOG,
];

/**
 * Reconciliation work items whose receives ran out: the worker failed, or Lambda stopped it (timeout, memory), on
 * every one. Its consumer ends each item as failed in its run, unless it ended already, so that the run completes
 * rather than holding the next ones back. A batch ends some items and may send a run's parity items: well within
 * a minute.
 */
export const RECONCILE_WORK_DLQ = deadLetterQueue(
  {
    id: 'ReconcileWorkDlq',
    environmentName: 'RECONCILE_WORK_DLQ_URL',
    maximumMessageSizeBytes: 262_144,
  },
  { batchSize: 10, maxConcurrency: 2, timeoutSeconds: 60 },
);

/**
 * A reconciliation run's work: each message is one work item (a source or one of its properties to poll, or a
 * property's window of stay dates to check for parity), planned by the scheduled function and taken by as many
 * workers at once as `reconciliation.workers` allows. The visibility timeout is six times the longest worker
 * timeout the configuration admits (840 s budget + 60 s margin).
 */
export const RECONCILE_WORK = workQueue(
  {
    id: 'ReconcileWork',
    environmentName: 'RECONCILE_WORK_QUEUE_URL',
    maximumMessageSizeBytes: 262_144,
    visibilityTimeoutSeconds: 6 * 900,
  },
  RECONCILE_WORK_DLQ,
);

export const TABLES: readonly TableDefinition[] = [
  DELIVERY_LEDGER,
  ...STATE_TABLES,
  OPERATION_REQUESTS,
  ...RECONCILE_TABLES,
  REJECTIONS,
];
/** Dead-letter queues first, so that a queue's redrive target exists when it is created. */
export const QUEUES: readonly QueueDefinition[] = [
  EVENTS_DLQ,
  EVENTS_QUEUE,
  RECONCILE_DLQ,
  REPLAY_DLQ,
  REPLAY_QUEUE,
  PARITY_DLQ,
  RECONCILE_WORK_DLQ,
  RECONCILE_WORK,
];

/** Names used in the local runtime; in AWS, CloudFormation names the resources. */
export function localName(definition: { readonly id: string }, prefix = 'paritysync'): string {
  return `${prefix}-${definition.id.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}`;
}

/**
 * The read and mapping-admin routes: added to the REST API by the stack (IAM-authorised) and served on loopback
 * by the local runtime, both from this list.
 */
export const READ_API_ROUTES = [
  { method: 'GET', resource: '/properties/{propertyId}/ari' },
  { method: 'GET', resource: '/reservations/{id}' },
  { method: 'GET', resource: '/deliveries' },
  // Before /deliveries/{eventId}: a path matched against the templates in order takes the first that fits.
  { method: 'GET', resource: '/deliveries/counts' },
  { method: 'GET', resource: '/deliveries/{eventId}' },
  { method: 'GET', resource: '/review' },
  { method: 'GET', resource: '/mappings' },
  { method: 'PUT', resource: '/mappings/{scope}/{entity}/{externalId}' },
  { method: 'GET', resource: '/parity' },
  { method: 'GET', resource: '/parity/properties' },
  { method: 'GET', resource: '/reconciliation/audit' },
  { method: 'GET', resource: '/rejections' },
  { method: 'GET', resource: '/sources' },
  { method: 'POST', resource: '/sources/{sourceId}/hold' },
  { method: 'POST', resource: '/sources/{sourceId}/resume' },
  { method: 'GET', resource: '/dlq/{queue}' },
  { method: 'POST', resource: '/dlq/{queue}/redrive' },
  { method: 'POST', resource: '/dlq/{queue}/delete' },
  { method: 'POST', resource: '/replays' },
  { method: 'GET', resource: '/replays/{jobId}' },
  { method: 'POST', resource: '/replays/{jobId}/cancel' },
  { method: 'GET', resource: '/reconciliation/runs' },
  { method: 'GET', resource: '/reconciliation/runs/{runId}' },
] as const;
