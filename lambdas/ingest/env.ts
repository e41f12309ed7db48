import { environmentReader } from '../config/bootstrap';
import { DELIVERY_LEDGER, EVENTS_QUEUE, REJECTIONS } from '../shared/topology';

/**
 * The ingest function's environment, validated once at cold start. In AWS the stack sets these; locally the
 * runtime does. SDK endpoints for the emulators come from the SDK's own AWS_ENDPOINT_URL_<SERVICE> variables.
 * The configuration holds source definitions and secret references, never secret values.
 */
export const readIngestEnvironment = environmentReader('ingest', 'ingest', {
  tables: { ledger: DELIVERY_LEDGER, rejections: REJECTIONS },
  queues: { events: EVENTS_QUEUE },
});

export type IngestEnvironment = ReturnType<typeof readIngestEnvironment>;
