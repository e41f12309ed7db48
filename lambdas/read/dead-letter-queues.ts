/**
 * The dead-letter queues the operations API lists, redrives and deletes from. It imports nothing, so that the
 * console's page can take the list as it is.
 */
export const DEAD_LETTER_QUEUE_NAMES = ['events', 'reconcile', 'parity'] as const;
export type DeadLetterQueueName = (typeof DEAD_LETTER_QUEUE_NAMES)[number];
