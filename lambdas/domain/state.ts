import type { CanonicalEvent } from './canonical';
import type { Version } from './room-night';

// The room night's shape is room-night.ts's, which needs no Node; it is known from here too, with the functions
// that make and order versions.
export * from './room-night';

export function versionOf(event: Pick<CanonicalEvent, 'occurredAt' | 'idempotencyKey'>): Version {
  return `${event.occurredAt}#${event.idempotencyKey}`;
}

/**
 * Orders versions as DynamoDB orders strings (UTF-8 bytes), so that the reference semantics and the conditional
 * writes pick the same winner even for non-ASCII idempotency keys, where JavaScript's `<` (UTF-16) can disagree.
 */
export function compareVersions(a: Version, b: Version): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
