import { environmentReader } from '../config/bootstrap';
import { APPLIED_STATE_TABLES, EVENTS_QUEUE, GUESTS } from '../shared/topology';

/**
 * The apply (SQS consumer) function's environment, validated once at cold start. In AWS the stack sets these;
 * locally the runtime does. SDK endpoints for the emulators come from the SDK's AWS_ENDPOINT_URL_<SERVICE>.
 * Mapping seeds and property settings are read from the configuration. The events queue is where parked events
 * go back once their mapping exists; the controls table says which sources are on hold.
 */
export const readApplyEnvironment = environmentReader('apply', 'apply', {
  tables: { ...APPLIED_STATE_TABLES, guests: GUESTS },
  queues: { events: EVENTS_QUEUE },
});

export type ApplyEnvironment = ReturnType<typeof readApplyEnvironment>;
