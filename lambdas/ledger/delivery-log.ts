import { compareVersions } from '../domain/state';
import { decodeCursor, encodeCursor, InvalidCursorError } from '../shared/cursor';
import { DELIVERY_LOG_INDEXES } from '../shared/topology';
import type { LedgerStatus } from './ports';

/**
 * The delivery log's keys, shared by the DynamoDB ledger and its in-memory fake: which index a query reads, the
 * attributes that place an entry in each index, and the cursor that carries a query from page to page.
 */

/** `logAll`'s one partition: every entry of the ledger. */
export const LOG_ALL = 'ledger';

/** Sorts by time of receipt, newest last, and is unique per event. */
export function logAtOf(receivedAt: string, eventId: string): string {
  return `${receivedAt}#${eventId}`;
}

export function sourceStatusOf(sourceId: string, status: LedgerStatus): string {
  return `${sourceId}#${status}`;
}

/** The index a query reads, and the value of that index's partition key. */
export interface LogIndex {
  readonly indexName: string;
  readonly keyName: string;
  readonly keyValue: string;
}

/** The index whose partition holds exactly the entries with the query's source and status, each optional. */
export function logIndexFor(filter: {
  readonly sourceId?: string;
  readonly status?: LedgerStatus;
}): LogIndex {
  const { sourceId, status } = filter;
  const at = (index: { indexName: string; partitionKey: { name: string } }, keyValue: string): LogIndex => ({
    indexName: index.indexName,
    keyName: index.partitionKey.name,
    keyValue,
  });
  if (sourceId !== undefined && status !== undefined) {
    return at(DELIVERY_LOG_INDEXES.bySourceStatus, sourceStatusOf(sourceId, status));
  }
  if (sourceId !== undefined) return at(DELIVERY_LOG_INDEXES.bySource, sourceId);
  if (status !== undefined) return at(DELIVERY_LOG_INDEXES.byStatus, status);
  return at(DELIVERY_LOG_INDEXES.all, LOG_ALL);
}

/** A window of receipt: `from` inclusive, `to` exclusive, both as Date#toISOString writes them. */
export interface LogWindow {
  readonly from: string;
  readonly to: string;
}

/** Where a page ended: the last entry it read, in the index it read. */
export interface LogPosition {
  readonly eventId: string;
  readonly logAt: string;
}

/**
 * The cursor is the index's key of the last entry read (DynamoDB's ExclusiveStartKey) and the window it was
 * read in, so that the next page reads the same window even when the first one was "the last 24 hours".
 */
export function encodeLogCursor(index: LogIndex, window: LogWindow, last: LogPosition): string {
  return encodeCursor({
    pk: last.eventId,
    [index.keyName]: index.keyValue,
    logAt: last.logAt,
    from: window.from,
    to: window.to,
  });
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The window and position a cursor carries, accepted only for the index `index` and, when given, the window
 * `window`: a cursor of another source, status or window is refused rather than read from.
 */
export function decodeLogCursor(
  cursor: string,
  index: LogIndex,
  window?: LogWindow,
): { readonly window: LogWindow; readonly position: LogPosition } {
  const decoded: Record<string, string> = decodeCursor(cursor, ['pk', index.keyName, 'logAt', 'from', 'to']);
  const field = (name: string): string => decoded[name] ?? '';
  if (field(index.keyName) !== index.keyValue) {
    throw new InvalidCursorError('it was issued for another source or status');
  }
  const key = { pk: field('pk'), logAt: field('logAt') };
  const issued = { from: field('from'), to: field('to') };
  if (!ISO_INSTANT.test(issued.from) || !ISO_INSTANT.test(issued.to) || issued.from >= issued.to) {
    throw new InvalidCursorError('its window is not a range of instants');
  }
  if (window !== undefined && (window.from !== issued.from || window.to !== issued.to)) {
    throw new InvalidCursorError(`it was issued for from=${issued.from} and to=${issued.to}`);
  }
  // DynamoDB orders strings by UTF-8 bytes, as compareVersions does.
  if (
    !key.logAt.endsWith(`#${key.pk}`) ||
    compareVersions(key.logAt, issued.from) < 0 ||
    compareVersions(key.logAt, issued.to) >= 0
  ) {
    throw new InvalidCursorError('it does not name an entry of its window');
  }
  return { window: issued, position: { eventId: key.pk, logAt: key.logAt } };
}

/** The position's ExclusiveStartKey attributes in `index`. */
export function logStartKey(index: LogIndex, position: LogPosition): Record<string, string> {
  return { pk: position.eventId, [index.keyName]: index.keyValue, logAt: position.logAt };
}
