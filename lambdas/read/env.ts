import * as z from 'zod/mini';
import { type FunctionEnvironment, functionEnvFields, functionEnvironment } from '../config/bootstrap';
import {
  queueUrlEnvField,
  type TableNames,
  tableEnvFields,
  tableNames,
  validateEnvironment,
} from '../config/environment';
import {
  ARI_STATE,
  CONTROLS,
  DELIVERY_LEDGER,
  DLQ_REDRIVE_ENVIRONMENT,
  EVENTS_DLQ,
  EVENTS_QUEUE,
  MAPPINGS,
  OPERATION_REQUESTS,
  PARITY_FINDINGS,
  RECONCILE_DLQ,
  REJECTIONS,
  REPLAY_QUEUE,
  RESERVATIONS,
  REVIEW,
} from '../shared/topology';

/**
 * The apply function's tables less the guest links, which this function never reads, plus parity findings,
 * the controls (holds on sources) and the rejection log.
 */
const READ_TABLES = {
  ledger: DELIVERY_LEDGER,
  ari: ARI_STATE,
  mappings: MAPPINGS,
  review: REVIEW,
  reservations: RESERVATIONS,
  parity: PARITY_FINDINGS,
  controls: CONTROLS,
  rejections: REJECTIONS,
  operationRequests: OPERATION_REQUESTS,
};

const DLQ_REDRIVE_VARIABLE = DLQ_REDRIVE_ENVIRONMENT.mode;
const EVENTS_DLQ_ARN_VARIABLE = DLQ_REDRIVE_ENVIRONMENT.deadLetterQueueArn;
const EVENT_QUEUE_ARN_VARIABLE = DLQ_REDRIVE_ENVIRONMENT.sourceQueueArn;

const QueueArnSchema = z.string().check(z.regex(/^arn:[a-z-]+:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}$/));

/**
 * The read / admin API function's environment, validated once at cold start. The events queue is where events
 * parked for a mapping or a hold go back, and where dead letters are redriven to. `DLQ_REDRIVE` is `move-task`
 * in AWS, which then needs both queues' ARNs, and absent (`resend`) locally, where the SQS emulator has no move
 * task. The schema is built for the setting found, so that one error names every variable missing.
 */
function readApiEnvSchema(moveTask: boolean) {
  const arn = moveTask ? QueueArnSchema : z.optional(QueueArnSchema);
  return z.object({
    ...functionEnvFields('read'),
    ...tableEnvFields(READ_TABLES),
    ...queueUrlEnvField(EVENTS_QUEUE),
    ...queueUrlEnvField(EVENTS_DLQ),
    ...queueUrlEnvField(RECONCILE_DLQ),
    ...queueUrlEnvField(REPLAY_QUEUE),
    [DLQ_REDRIVE_VARIABLE]: z._default(z.enum(['move-task', 'resend']), 'resend'),
    [EVENTS_DLQ_ARN_VARIABLE]: arn,
    [EVENT_QUEUE_ARN_VARIABLE]: arn,
  });
}

export interface ReadApiEnvironment extends FunctionEnvironment {
  readonly tables: TableNames<typeof READ_TABLES>;
  readonly eventQueueUrl: string;
  readonly eventsDeadLetterQueueUrl: string;
  readonly reconcileDeadLetterQueueUrl: string;
  /** Where a new replay job's first work message goes. */
  readonly replayQueueUrl: string;
  /** Present when a whole-queue redrive starts an SQS move task. */
  readonly moveTask?: { readonly deadLetterQueueArn: string; readonly sourceQueueArn: string };
}

export function readReadApiEnvironment(env: NodeJS.ProcessEnv = process.env): ReadApiEnvironment {
  const moveTask = env[DLQ_REDRIVE_VARIABLE] === 'move-task';
  const data = validateEnvironment(readApiEnvSchema(moveTask), env, 'read API');
  const deadLetterQueueArn = data[EVENTS_DLQ_ARN_VARIABLE];
  const sourceQueueArn = data[EVENT_QUEUE_ARN_VARIABLE];
  return {
    ...functionEnvironment(data),
    tables: tableNames(READ_TABLES, data),
    eventQueueUrl: data[EVENTS_QUEUE.environmentName],
    eventsDeadLetterQueueUrl: data[EVENTS_DLQ.environmentName],
    reconcileDeadLetterQueueUrl: data[RECONCILE_DLQ.environmentName],
    replayQueueUrl: data[REPLAY_QUEUE.environmentName],
    ...(moveTask && deadLetterQueueArn && sourceQueueArn
      ? { moveTask: { deadLetterQueueArn, sourceQueueArn } }
      : {}),
  };
}
