import { Duration, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { dlqMoveTaskEnvironment } from '../lambdas/config/environment';
import type { ParitySyncConfig } from '../lambdas/config/schema';
import {
  ARI_STATE,
  CONTROLS,
  DELIVERY_LEDGER,
  EVENTS_DLQ,
  EVENTS_QUEUE,
  MAPPINGS,
  OPERATION_REQUESTS,
  PARITY_DLQ,
  PARITY_FINDINGS,
  READ_API_ROUTES,
  RECONCILE_AUDIT,
  RECONCILE_DLQ,
  RECONCILE_RUN_LOG,
  REPLAY_QUEUE,
  RESERVATIONS,
  REVIEW,
} from '../lambdas/shared/topology';
import type { DeliveryLedger } from './delivery-ledger';
import type { EventQueues } from './event-queues';
import type { ParityOnChange } from './parity-on-change';
import { hostedFunctionProps, ParitySyncFunction } from './paritysync-function';
import type { Reconciliation } from './reconciliation';
import type { RejectionLog } from './rejection-log';
import type { ReplayJobs } from './replay-jobs';
import type { StateTables } from './state-tables';

export interface ReadRoute {
  readonly method: 'GET' | 'PUT' | 'POST';
  /** API Gateway resource path, `{name}` for a path parameter. */
  readonly path: string;
}

/**
 * The state read and operator routes, all served by one function and all requiring SigV4: the same list the
 * local runtime serves them from.
 */
export const READ_ROUTES: readonly ReadRoute[] = READ_API_ROUTES.map((route) => ({
  method: route.method,
  path: route.resource,
}));

export interface ReadApiProps {
  /** The REST API the webhooks are served from; the routes are added to it, on the same stage. */
  readonly api: apigateway.RestApi;
  /** The validated configuration, compiled into the function (source ids for mapping scopes, mapping seeds). */
  readonly config: ParitySyncConfig;
  readonly state: StateTables;
  readonly ledger: DeliveryLedger;
  readonly queues: EventQueues;
  /** Owns the parity findings `GET /parity` reads and the audit `GET /reconciliation/audit` reads. */
  readonly reconciliation: Reconciliation;
  /** Its stream failure destination is listed and emptied by `GET /dlq/parity` and `POST /dlq/parity/delete`. */
  readonly parityOnChange: ParityOnChange;
  /** What `GET /rejections` reads. */
  readonly rejections: RejectionLog;
  /** `POST /replays` stores a job and sends its first work message; requests that start work are kept here. */
  readonly replays: ReplayJobs;
  /**
   * Retention of the function's logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Keep the log group when the stack is deleted. Set `false` only for throw-away development stacks.
   * @default true
   */
  readonly retain?: boolean;
  /**
   * X-Ray tracing of the function.
   * @default true
   */
  readonly tracing?: boolean;
  /**
   * The function's handler module (must export `handler`).
   * @default lambdas/read/handler.ts in this project
   */
  readonly entry?: string;
}

/**
 * Read access to the applied state, delivery outcomes and the review list, and the operator writes: adding a
 * mapping, which re-queues the events parked waiting for it; holding and resuming a source; listing, redriving
 * and deleting dead letters. Every route is IAM-authorised: the
 * caller signs with SigV4 and needs `execute-api:Invoke` on the route in its own identity policy (see
 * `grantInvoke`). The API's resource policy allows the public webhook route only, so it grants nothing here;
 * see `resourcePolicy` in ingest-api.ts for how the two combine.
 */
export class ReadApi extends Construct {
  readonly function: ParitySyncFunction;
  readonly methods: readonly apigateway.Method[];
  private readonly api: apigateway.RestApi;

  constructor(scope: Construct, id: string, props: ReadApiProps) {
    super(scope, id);
    this.api = props.api;

    this.function = new ParitySyncFunction(this, 'Function', {
      ...hostedFunctionProps(props, 'read'),
      logEncryptionKey: props.state.personalDataKey,
      metrics: false,
      memorySize: 256,
      timeout: Duration.seconds(10),
      environment: {
        [DELIVERY_LEDGER.environmentName]: props.ledger.table.tableName,
        // Not the guest links: this function never reads them.
        ...props.state.environment([ARI_STATE, MAPPINGS, REVIEW, RESERVATIONS, CONTROLS]),
        ...props.reconciliation.environment([PARITY_FINDINGS, RECONCILE_AUDIT, RECONCILE_RUN_LOG]),
        ...props.rejections.environment(),
        [EVENTS_QUEUE.environmentName]: props.queues.queue.queueUrl,
        [EVENTS_DLQ.environmentName]: props.queues.deadLetterQueue.queueUrl,
        [RECONCILE_DLQ.environmentName]: props.reconciliation.deadLetterQueue.queueUrl,
        [PARITY_DLQ.environmentName]: props.parityOnChange.deadLetterQueue.queueUrl,
        [REPLAY_QUEUE.environmentName]: props.replays.queue.queueUrl,
        [OPERATION_REQUESTS.environmentName]: props.replays.operationRequests.tableName,
        // In AWS a whole-queue redrive is SQS's own move task; the local runtime, whose emulator lacks it, resends.
        ...dlqMoveTaskEnvironment({
          deadLetterQueueArn: props.queues.deadLetterQueue.queueArn,
          sourceQueueArn: props.queues.queue.queueArn,
        }),
      },
    });

    Validations.of(this.function).acknowledge({
      id: 'NIST.800.53.R5-LambdaConcurrency',
      reason:
        "Operator traffic only, IAM-authorised and bounded by the stage's throttling; a reservation would take " +
        'concurrency from the ingest edge for nothing',
    });

    props.state.grant(this.function, 'read');
    props.state.grant(this.function, 'mappingAdmin');
    // GET /mappings: the mappings' index by entity, one Query per entity, never a scan of the table.
    props.state.grant(this.function, 'mappingList');
    props.ledger.grant(this.function, 'read');
    // GET /deliveries and /deliveries/counts: the log's indexes, never a scan of the table.
    props.ledger.grantReadLog(this.function);
    props.reconciliation.grantReadParity(this.function);
    props.reconciliation.grantReadAudit(this.function);
    // GET /reconciliation/runs: the run log's index by time, and a run's own partition; never a scan.
    props.reconciliation.grantReadRuns(this.function);
    props.rejections.grantList(this.function);
    props.state.grant(this.function, 'holdAdmin');
    // Events parked for a mapping or a hold go back on the queue once an operator adds it or resumes the source;
    // redriven dead letters go back there too.
    props.queues.grantRequeue(this.function);
    props.queues.grantDeadLetterRedrive(this.function);
    props.reconciliation.grantDeadLetterInspect(this.function);
    props.parityOnChange.grantDeadLetterInspect(this.function);
    props.replays.grantJobs(this.function, props.state);
    props.replays.grantStart(this.function);
    props.replays.grantOperationRequests(this.function);

    const integration = new apigateway.LambdaIntegration(this.function, { proxy: true });
    this.methods = READ_ROUTES.map((route) =>
      props.api.root.resourceForPath(route.path).addMethod(route.method, integration, {
        authorizationType: apigateway.AuthorizationType.IAM,
      }),
    );
  }

  /**
   * Lets a principal of this account call the read routes on the deployed stage. The webhook route is not
   * included: it is public and authenticated by the senders' signatures.
   */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: READ_ROUTES.map((route) =>
        this.api.arnForExecuteApi(
          route.method,
          route.path.replace(/\{[^}]+\}/g, '*'),
          this.api.deploymentStage.stageName,
        ),
      ),
    });
  }
}
