import { environmentReader } from '../config/bootstrap';
import {
  ARI_STATE,
  DELIVERY_LEDGER,
  EVENTS_QUEUE,
  MAPPINGS,
  PARITY_FINDINGS,
  REJECTIONS,
  RESERVATIONS,
  REVIEW,
} from '../shared/topology';

/**
 * The read / admin API function's environment, validated once at cold start: the apply function's tables less
 * the guest links, which it never reads, plus parity findings and the rejection log. The events queue is where events parked for a
 * mapping go back once an operator adds it.
 */
export const readReadApiEnvironment = environmentReader('read', 'read API', {
  tables: {
    ledger: DELIVERY_LEDGER,
    ari: ARI_STATE,
    mappings: MAPPINGS,
    review: REVIEW,
    reservations: RESERVATIONS,
    parity: PARITY_FINDINGS,
    rejections: REJECTIONS,
  },
  queues: { events: EVENTS_QUEUE },
});

export type ReadApiEnvironment = ReturnType<typeof readReadApiEnvironment>;
