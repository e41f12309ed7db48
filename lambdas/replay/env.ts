import { environmentReader } from '../config/bootstrap';
import { CONTROLS, DELIVERY_LEDGER, EVENTS_QUEUE, REPLAY_QUEUE } from '../shared/topology';

/**
 * The replay worker's environment: the ledger (its log and retained events), the Controls table (the jobs), the
 * events queue events go back to, and its own work queue, for the next page.
 */
export const readReplayEnvironment = environmentReader('replay', 'replay worker', {
  tables: { ledger: DELIVERY_LEDGER, controls: CONTROLS },
  queues: { events: EVENTS_QUEUE, work: REPLAY_QUEUE },
});
