import { environmentReader } from '../config/bootstrap';
import { DlqRedriveSchema } from '../config/environment';
import {
  APPLIED_STATE_TABLES,
  EVENTS_DLQ,
  EVENTS_QUEUE,
  OPERATION_REQUESTS,
  PARITY_DLQ,
  PARITY_FINDINGS,
  RECONCILE_AUDIT,
  RECONCILE_DLQ,
  RECONCILE_RUN_LOG,
  REJECTIONS,
  REPLAY_QUEUE,
} from '../shared/topology';

/**
 * The read / admin API function's environment, validated once at cold start. Its tables are the apply
 * function's less the guest links, which it never reads, plus parity findings, reconciliation's audit, the
 * rejection log and the requests it answers once. The events queue is where events parked for a mapping or a hold go back, and where
 * dead letters are redriven to; a new replay job's first work message goes to the replay queue; `moveTask` is set
 * where a whole-queue redrive is SQS's move task (in AWS).
 */
export const readReadApiEnvironment = environmentReader('read', 'read API', {
  tables: {
    ...APPLIED_STATE_TABLES,
    parity: PARITY_FINDINGS,
    audit: RECONCILE_AUDIT,
    rejections: REJECTIONS,
    operationRequests: OPERATION_REQUESTS,
    runLog: RECONCILE_RUN_LOG,
  },
  queues: {
    events: EVENTS_QUEUE,
    eventsDeadLetters: EVENTS_DLQ,
    reconcileDeadLetters: RECONCILE_DLQ,
    parityDeadLetters: PARITY_DLQ,
    replay: REPLAY_QUEUE,
  },
  settings: DlqRedriveSchema,
});

export type ReadApiEnvironment = ReturnType<typeof readReadApiEnvironment>;
