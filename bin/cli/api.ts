import { randomUUID } from 'node:crypto';
import type {
  ChosenResentView,
  DeadLetterListing,
  DeadLettersDeletedView,
  DeliveryCountsView,
  DeliveryDetailView,
  DeliveryLogRowView,
  HoldView,
  MappingView,
  MappingWritten,
  Page,
  ParityListing,
  ParityNightView,
  ParkedEventView,
  ReconcileRunDetailView,
  ReconcileRunListing,
  RedriveView,
  RejectionView,
  ReplayJobView,
  ReplayRequestView,
  ReservationView,
  ResumeView,
  RoomNightView,
  SourceView,
} from '../../lambdas/read/wire';
import type { ApiTransport } from './http';

/**
 * The read / admin API as the CLI calls it: one method per route (see READ_API_ROUTES and the operations
 * design), the same against the local runtime and a deployed stack. Answers are typed as the routes answer them
 * (lambdas/read/wire.ts); the CLI prints what it does not know as it came.
 */

/** Every paginated route: `limit` and `cursor` in, `items` and `nextCursor` (null on the last page) out. */
export interface PageRequest {
  readonly limit?: number;
  readonly cursor?: string;
}

import {
  DEAD_LETTER_QUEUE_NAMES as DLQ_QUEUES,
  type DeadLetterQueueName as DlqQueue,
} from '../../lambdas/read/dead-letter-queues';

export type { Page };
export { DLQ_QUEUES, type DlqQueue };

/** `GET /reconciliation/runs`; `from` and `to` default to the last 7 days. */
export interface ReconcileRunQuery extends PageRequest {
  readonly source?: string;
  readonly from?: string;
  readonly to?: string;
}

export interface DeliveryQuery extends PageRequest {
  readonly source?: string;
  readonly status?: string;
  readonly type?: string;
  /** ISO instants on receivedAt; the API defaults to the last 24 hours. */
  readonly from?: string;
  readonly to?: string;
}

export interface RejectionQuery extends PageRequest {
  readonly source?: string;
  readonly reason?: string;
  readonly from?: string;
  readonly to?: string;
}

export interface MappingQuery extends PageRequest {
  readonly scope?: string;
  readonly entity?: string;
}

export interface ParityQuery extends PageRequest {
  readonly propertyId: string;
  readonly from: string;
  readonly to: string;
}

export interface AriQuery extends PageRequest {
  readonly from: string;
  readonly to: string;
  readonly roomType?: string;
  readonly ratePlan?: string;
}

/**
 * The API answers a repeat of an Idempotency-Key with the first answer: each call that acts sends a fresh one,
 * which the transport's retries of that call reuse. Two commands are two operations, each of which acts.
 */
export class OpsApi {
  constructor(private readonly transport: ApiTransport) {}

  get baseUrl(): string {
    return this.transport.baseUrl;
  }

  /** A POST that acts, under a fresh Idempotency-Key of its own. */
  private act<T>(path: readonly string[], body: unknown): Promise<T> {
    return this.transport.call({ method: 'POST', path, body, idempotencyKey: randomUUID() });
  }

  // Deliveries (the ledger)

  listDeliveries(query: DeliveryQuery): Promise<Page<DeliveryLogRowView>> {
    return this.transport.call({ method: 'GET', path: ['deliveries'], query: { ...query } });
  }

  countDeliveries(query: {
    readonly source?: string;
    readonly from?: string;
    readonly to?: string;
  }): Promise<DeliveryCountsView> {
    return this.transport.call({ method: 'GET', path: ['deliveries', 'counts'], query: { ...query } });
  }

  getDelivery(eventId: string): Promise<DeliveryDetailView> {
    return this.transport.call({ method: 'GET', path: ['deliveries', eventId] });
  }

  // Rejections at the edge

  listRejections(query: RejectionQuery): Promise<Page<RejectionView>> {
    return this.transport.call({ method: 'GET', path: ['rejections'], query: { ...query } });
  }

  // Dead-letter queues

  /** Up to `limit` messages from the head of the queue, each received and put back (its receive count grows). */
  listDeadLetters(queue: DlqQueue, limit?: number): Promise<DeadLetterListing> {
    return this.transport.call({ method: 'GET', path: ['dlq', queue], query: { limit } });
  }

  redriveQueue(queue: DlqQueue): Promise<RedriveView> {
    return this.act(['dlq', queue, 'redrive'], {});
  }

  redriveEvents(queue: DlqQueue, eventIds: readonly string[]): Promise<ChosenResentView> {
    return this.act(['dlq', queue, 'redrive'], { eventIds });
  }

  deleteDeadLetters(queue: DlqQueue, messageIds: readonly string[]): Promise<DeadLettersDeletedView> {
    return this.act(['dlq', queue, 'delete'], { messageIds });
  }

  // Sources and holds

  /** Every configured source: a short list, not paginated. */
  listSources(): Promise<{ items: readonly SourceView[] }> {
    return this.transport.call({ method: 'GET', path: ['sources'] });
  }

  holdSource(sourceId: string, reason?: string): Promise<HoldView> {
    return this.act(['sources', sourceId, 'hold'], reason === undefined ? {} : { reason });
  }

  /** Ends the hold and releases what it held, as much as one request has time for; `cursor` continues. */
  resumeSource(sourceId: string, cursor?: string): Promise<ResumeView> {
    return this.act(['sources', sourceId, 'resume'], cursor === undefined ? {} : { cursor });
  }

  // Replays

  startReplay(request: ReplayRequestView): Promise<ReplayJobView> {
    return this.act(['replays'], request);
  }

  getReplay(jobId: string): Promise<ReplayJobView> {
    return this.transport.call({ method: 'GET', path: ['replays', jobId] });
  }

  cancelReplay(jobId: string): Promise<ReplayJobView> {
    return this.transport.call({ method: 'POST', path: ['replays', jobId, 'cancel'], body: {} });
  }

  // Reconciliation runs

  listReconcileRuns(query: ReconcileRunQuery): Promise<ReconcileRunListing> {
    return this.transport.call({ method: 'GET', path: ['reconciliation', 'runs'], query: { ...query } });
  }

  getReconcileRun(runId: string): Promise<ReconcileRunDetailView> {
    return this.transport.call({ method: 'GET', path: ['reconciliation', 'runs', runId] });
  }

  // Mappings and the events parked for want of one

  listMappings(query: MappingQuery): Promise<Page<MappingView>> {
    return this.transport.call({ method: 'GET', path: ['mappings'], query: { ...query } });
  }

  putMapping(
    ref: { readonly scope: string; readonly entity: string; readonly externalId: string },
    target: { readonly internalId: string; readonly propertyId?: string },
  ): Promise<MappingWritten> {
    return this.transport.call({
      method: 'PUT',
      path: ['mappings', ref.scope, ref.entity, ref.externalId],
      body: target,
    });
  }

  listReview(page: PageRequest): Promise<Page<ParkedEventView>> {
    return this.transport.call({ method: 'GET', path: ['review'], query: { ...page } });
  }

  // State and parity

  async listParity(query: ParityQuery): Promise<Page<ParityNightView>> {
    const answer = await this.transport.call<ParityListing>({
      method: 'GET',
      path: ['parity'],
      query: { ...query },
    });
    return { items: answer.nights, nextCursor: answer.nextCursor };
  }

  readAri(propertyId: string, query: AriQuery): Promise<Page<RoomNightView>> {
    return this.transport.call({
      method: 'GET',
      path: ['properties', propertyId, 'ari'],
      query: { ...query },
    });
  }

  getReservation(id: string): Promise<ReservationView> {
    return this.transport.call({ method: 'GET', path: ['reservations', id] });
  }
}

/** One page, or with `all` every page from `cursor` on, following `nextCursor`; `limit` is the page size. */
export async function collectPages<T>(
  fetchPage: (page: PageRequest) => Promise<Page<T>>,
  options: { readonly limit?: number; readonly cursor?: string; readonly all?: boolean },
): Promise<Page<T>> {
  const items: T[] = [];
  let cursor = options.cursor;
  for (;;) {
    const page = await fetchPage({
      ...(options.limit === undefined ? {} : { limit: options.limit }),
      ...(cursor === undefined ? {} : { cursor }),
    });
    items.push(...page.items);
    const next = page.nextCursor ?? null;
    if (!options.all || next === null) return { items, nextCursor: next };
    cursor = next;
  }
}
