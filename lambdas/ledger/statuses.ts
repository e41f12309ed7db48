/**
 * Delivery ledger statuses. The edge writes `received` (a claim with a short lease), then `enqueued` once SQS
 * has the event, or `recorded` for types ParitySync does not act on. The apply pipeline moves `enqueued`
 * on to `applied`, `rejected`, `parked` (waiting for a mapping) or `held` (its source is on hold), and marks
 * `dead-lettered` an event whose last allowed attempt failed, on its way to the dead-letter queue.
 * It imports nothing, so that the console's page can take the list as it is without pulling in anything else.
 */
export const LEDGER_STATUSES = [
  'received',
  'enqueued',
  'recorded',
  'applied',
  'rejected',
  'parked',
  'held',
  'dead-lettered',
] as const;
export type LedgerStatus = (typeof LEDGER_STATUSES)[number];
