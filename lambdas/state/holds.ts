/**
 * The key a held source's events wait under in the review table, next to the mapping keys (`roomType|DBL`):
 * resuming the source releases them. Source ids never contain `|`, so no mapping key can collide with it.
 */
export function holdKey(sourceId: string): string {
  return `hold|${sourceId}`;
}

/** The reason an event parked for its source's hold carries, in the review table and the ledger. */
export const HELD_REASON = 'held';
