import type { Page } from '../../lambdas/domain/page';
import { compareVersions } from '../../lambdas/domain/state';
import {
  type RecordBound,
  type RecordOutcome,
  type Rejection,
  type RejectionQuery,
  type RejectionReader,
  type RejectionRecorder,
  type UnrecordedCount,
  type UnrecordedQuery,
  utcDay,
} from '../../lambdas/ledger/rejections';
import { decodeCursor, encodeCursor, InvalidCursorError } from '../../lambdas/shared/cursor';

/**
 * The rejection log in memory, with the DynamoDB log's contract (test/ports/rejection-log.contract.ts): the same
 * bound per bucket and second, the same day counts, the same order and cursors. Each record call checks and
 * counts with no await in between, so concurrent calls cannot both take the last place of a second.
 * `failNextRecords` makes the next calls throw, as a throttled or unreachable table would.
 */
export class InMemoryRejectionLog implements RejectionRecorder, RejectionReader {
  /** By `<sourceId>\n<at>#<requestId>`, as the table keys them. */
  readonly records = new Map<string, Rejection>();
  private readonly perSecond = new Map<string, number>();
  private readonly perDay = new Map<string, UnrecordedCount>();
  failNextRecords = 0;

  async record(rejection: Rejection, bound: RecordBound): Promise<RecordOutcome> {
    if (this.failNextRecords > 0) {
      this.failNextRecords--;
      throw new Error('ProvisionedThroughputExceededException: injected');
    }
    const second = `${bound.bucket}\n${Math.floor(Date.parse(rejection.at) / 1000)}`;
    const recorded = this.perSecond.get(second) ?? 0;
    if (recorded >= bound.perSecond) {
      const day = utcDay(rejection.at);
      const key = `${bound.bucket}\n${day}`;
      const count = this.perDay.get(key)?.count ?? 0;
      this.perDay.set(key, { bucket: bound.bucket, day, count: count + 1 });
      return 'counted';
    }
    this.perSecond.set(second, recorded + 1);
    this.records.set(`${rejection.sourceId}\n${sortKey(rejection)}`, {
      ...rejection,
      headerNames: [...rejection.headerNames],
    });
    return 'recorded';
  }

  async list(query: RejectionQuery): Promise<Page<Rejection>> {
    if (compareVersions(query.from, query.to) > 0) return { items: [] };
    const upper = `${query.to}#\uffff`;
    const bySource = query.sourceId !== undefined;
    let after: { pk: string; sk: string } | undefined;
    if (query.cursor !== undefined) {
      const key: Record<string, string> = decodeCursor(
        query.cursor,
        bySource ? ['pk', 'sk'] : ['all', 'pk', 'sk'],
      );
      if (bySource ? key.pk !== query.sourceId : key.all !== 'rejection') {
        throw new InvalidCursorError('it was issued for another source');
      }
      const sk = key.sk ?? '';
      if (compareVersions(sk, query.from) < 0 || compareVersions(sk, upper) > 0) {
        throw new InvalidCursorError('it lies outside the requested time window');
      }
      after = { pk: key.pk ?? '', sk };
    }
    const newestFirst = [...this.records.values()]
      .filter((r) => query.sourceId === undefined || r.sourceId === query.sourceId)
      .filter((r) => compareVersions(sortKey(r), query.from) >= 0 && compareVersions(sortKey(r), upper) <= 0)
      .sort((a, b) => compareVersions(sortKey(b), sortKey(a)) || compareVersions(b.sourceId, a.sourceId))
      .filter(
        (r) =>
          after === undefined ||
          (compareVersions(sortKey(r), after.sk) || compareVersions(r.sourceId, after.pk)) < 0,
      );
    const matching = newestFirst.filter((r) => query.reason === undefined || r.reason === query.reason);
    const items = matching.slice(0, query.limit).map((r) => ({ ...r, headerNames: [...r.headerNames] }));
    if (matching.length <= query.limit) return { items };
    const last = matching[query.limit - 1] as Rejection;
    const key = { pk: last.sourceId, sk: sortKey(last) };
    return { items, cursor: encodeCursor(bySource ? key : { all: 'rejection', ...key }) };
  }

  async unrecorded(query: UnrecordedQuery): Promise<readonly UnrecordedCount[]> {
    return [...this.perDay.values()]
      .filter((c) => query.bucket === undefined || c.bucket === query.bucket)
      .filter((c) => c.day >= query.fromDay && c.day <= query.toDay)
      .sort((a, b) => compareVersions(a.day, b.day) || compareVersions(a.bucket, b.bucket));
  }
}

function sortKey(rejection: Rejection): string {
  return `${rejection.at}#${rejection.requestId}`;
}
