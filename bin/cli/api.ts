import { randomUUID } from 'node:crypto';
import type { ApiTransport } from './http';

/**
 * The read / admin API as the CLI calls it: one method per route (see READ_API_ROUTES and the operations
 * design), the same against the local runtime and a deployed stack. Answers are typed as the routes document
 * them; the CLI prints what it does not know as it came.
 */

/** Every paginated route: `limit` and `cursor` in, `items` and `nextCursor` (null on the last page) out. */
export interface PageRequest {
  readonly limit?: number;
  readonly cursor?: string;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

/** A source's figures in one reconciliation run (GET /reconciliation/runs). */
export interface ReconcileRunSource {
  readonly sourceId: string;
  readonly status: 'running' | 'complete';
  readonly items: { readonly planned: number; readonly done: number; readonly failed: number };
  readonly driftPercent: number;
  readonly compared: number;
  readonly mismatched: number;
  readonly silentMisses: number;
  readonly correctedGroups: number;
  readonly skippedCorrections: number;
  readonly nightsPolled: number;
  readonly throttled: number;
  readonly budgetExhausted: number;
}

export interface ReconcileRun {
  readonly runId: string;
  readonly status: 'running' | 'complete';
  readonly trigger: 'schedule' | 'manual';
  readonly startedAt: string;
  readonly completedAt: string | null;
  readonly dryRun: boolean;
  readonly thresholdPercent: number;
  readonly items: { readonly planned: number; readonly done: number; readonly failed: number };
  readonly parity: {
    readonly items: { readonly planned: number; readonly done: number; readonly failed: number };
    readonly nightsChecked: number;
    readonly violations: number;
    readonly currencyMismatches: number;
  };
  readonly sources: readonly ReconcileRunSource[];
  /** GET /reconciliation/runs/{runId} only. */
  readonly properties?: readonly {
    readonly sourceId: string;
    readonly propertyId: string;
    readonly driftPercent: number;
    readonly silentMisses: number;
    readonly actions: readonly string[];
  }[];
  readonly workItems?: readonly {
    readonly itemId: string;
    readonly status: string;
    readonly error?: string;
    readonly message?: string;
  }[];
}

export interface ReconcileRunQuery extends PageRequest {
  readonly source?: string;
  readonly from?: string;
  readonly to?: string;
}

export const DLQ_QUEUES = ['events', 'reconcile'] as const;
export type DlqQueue = (typeof DLQ_QUEUES)[number];

export interface Delivery {
  readonly eventId: string;
  readonly sourceId: string;
  readonly kind?: string;
  readonly providerEventType?: string;
  readonly canonicalType?: string;
  readonly idempotencyKey?: string;
  readonly status: string;
  readonly reason?: string;
  readonly lastError?: string;
  readonly lastErrorAt?: string;
  readonly occurredAt?: string;
  readonly receivedAt?: string;
  readonly updatedAt?: string;
  readonly deliveryCount?: number;
  readonly messageId?: string;
  readonly expiresAt?: string;
  /** False when the event was too large to keep for replay. */
  readonly retained?: boolean;
}

export interface DeliveryQuery extends PageRequest {
  readonly source?: string;
  readonly status?: string;
  readonly type?: string;
  /** ISO instants on receivedAt; the API defaults to the last 24 hours. */
  readonly from?: string;
  readonly to?: string;
}

export interface Rejection {
  readonly at: string;
  readonly sourceId: string;
  readonly senderAddress?: string;
  readonly status: number;
  readonly reason: string;
  readonly headerNames?: readonly string[];
  readonly bodyBytes?: number;
  readonly bodySha256?: string;
  readonly requestId?: string;
}

export interface RejectionQuery extends PageRequest {
  readonly source?: string;
  readonly reason?: string;
  readonly from?: string;
  readonly to?: string;
}

export interface DeadLetter {
  readonly eventId?: string;
  readonly messageId: string;
  readonly receiveCount?: number;
  readonly sentAt?: string;
  readonly lastError?: string;
}

export interface DeadLetterListing {
  readonly queue: DlqQueue;
  /** SQS's approximate count of the messages in the queue, listed or not. */
  readonly approximateCount: number;
  /** From the head of the queue; SQS has no cursor to page through the rest. */
  readonly items: readonly DeadLetter[];
  /** The latest SQS move task from the events queue, where the stack uses them. */
  readonly moveTask?: {
    readonly taskHandle?: string;
    readonly status: string;
    readonly moved: number;
    readonly toMove?: number;
    readonly startedAt?: string;
    readonly failureReason?: string;
  };
}

/**
 * `move-task`: SQS moves the whole queue in the background. `resend`: the messages received and sent back within
 * the request's time, `complete` when nothing was left to do; with chosen event ids, those it moved no message for.
 */
export type Redrive =
  | { readonly queue: DlqQueue; readonly via: 'move-task'; readonly moved: null; readonly taskHandle: string }
  | Resent;

export interface Resent {
  readonly queue: DlqQueue;
  readonly via: 'resend';
  readonly moved: number;
  readonly complete: boolean;
}

export interface ChosenResent extends Resent {
  readonly notMoved: readonly string[];
}

/** Chosen messages deleted from a dead-letter queue; `notDeleted` were not in it, or out of view. */
export interface DeadLettersDeleted {
  readonly queue: DlqQueue;
  readonly deleted: number;
  readonly complete: boolean;
  readonly notDeleted: readonly string[];
}

export interface Source {
  readonly sourceId: string;
  readonly kind: string;
  readonly displayName?: string;
  readonly held: boolean;
  readonly heldAt?: string;
  readonly heldBy?: string;
  readonly reason?: string;
}

export interface Hold extends Source {
  /** False when the source was already held: the hold in place is answered unchanged. */
  readonly created: boolean;
}

/** One step of a resume: released a page at a time, `nextCursor` continuing it until null. */
export interface Resume {
  readonly sourceId: string;
  readonly held: false;
  /** Whether this call ended a hold (false when the source was not held, or a cursor continued a resume). */
  readonly resumed: boolean;
  readonly released: number;
  readonly nextCursor: string | null;
}

export interface DeliveryCounts {
  readonly source?: string;
  readonly from: string;
  readonly to: string;
  /** Every ledger status, zero included. */
  readonly counts: Readonly<Record<string, number>>;
  readonly total: number;
}

export interface ReplayRequest {
  readonly source: string;
  readonly from: string;
  readonly to: string;
  readonly statuses: readonly string[];
}

export interface ReplayJob {
  readonly jobId: string;
  readonly status: string;
  readonly request?: ReplayRequest;
  /** Events matched, replayed, skipped and so on, as the job counts them; `total` when known. */
  readonly counts?: Readonly<Record<string, number>>;
  readonly createdAt?: string;
  readonly updatedAt?: string;
  readonly error?: string;
}

export interface Mapping {
  readonly scope: string;
  readonly entity: string;
  readonly externalId: string;
  readonly internalId: string;
  readonly propertyId?: string;
}

export interface MappingQuery extends PageRequest {
  readonly scope?: string;
  readonly entity?: string;
}

export interface ParkedEvent {
  readonly eventId: string;
  readonly sourceId: string;
  readonly kind?: string;
  readonly type?: string;
  readonly providerEventType?: string;
  readonly occurredAt?: string;
  readonly reason?: string;
  readonly waitingFor?: string;
  readonly parkedAt?: string;
}

export interface MoneyView {
  readonly amountMinor: number;
  readonly currency: string;
  readonly amount: string;
}

export interface ParityNight {
  readonly date: string;
  readonly roomTypeId: string;
  readonly ratePlanId: string;
  readonly checkedAt?: string;
  readonly findings: readonly {
    readonly kind: string;
    readonly truthChannel: string;
    readonly channel: string;
    readonly truthRate: MoneyView;
    readonly channelRate: MoneyView;
    readonly difference?: MoneyView;
    readonly percent?: number;
  }[];
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

type Json = Record<string, unknown>;

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

  listDeliveries(query: DeliveryQuery): Promise<Page<Delivery>> {
    return this.transport.call({ method: 'GET', path: ['deliveries'], query: { ...query } });
  }

  countDeliveries(query: {
    readonly source?: string;
    readonly from?: string;
    readonly to?: string;
  }): Promise<DeliveryCounts> {
    return this.transport.call({ method: 'GET', path: ['deliveries', 'counts'], query: { ...query } });
  }

  getDelivery(eventId: string): Promise<Delivery> {
    return this.transport.call({ method: 'GET', path: ['deliveries', eventId] });
  }

  // Rejections at the edge

  listRejections(query: RejectionQuery): Promise<Page<Rejection>> {
    return this.transport.call({ method: 'GET', path: ['rejections'], query: { ...query } });
  }

  // Dead-letter queues

  /** Up to `limit` messages from the head of the queue, each received and put back (its receive count grows). */
  listDeadLetters(queue: DlqQueue, limit?: number): Promise<DeadLetterListing> {
    return this.transport.call({ method: 'GET', path: ['dlq', queue], query: { limit } });
  }

  redriveQueue(queue: DlqQueue): Promise<Redrive> {
    return this.act(['dlq', queue, 'redrive'], {});
  }

  redriveEvents(queue: DlqQueue, eventIds: readonly string[]): Promise<ChosenResent> {
    return this.act(['dlq', queue, 'redrive'], { eventIds });
  }

  deleteDeadLetters(queue: DlqQueue, messageIds: readonly string[]): Promise<DeadLettersDeleted> {
    return this.act(['dlq', queue, 'delete'], { messageIds });
  }

  // Sources and holds

  /** Every configured source: a short list, not paginated. */
  listSources(): Promise<{ items: readonly Source[] }> {
    return this.transport.call({ method: 'GET', path: ['sources'] });
  }

  holdSource(sourceId: string, reason?: string): Promise<Hold> {
    return this.act(['sources', sourceId, 'hold'], reason === undefined ? {} : { reason });
  }

  /** Ends the hold and releases what it held, as much as one request has time for; `cursor` continues. */
  resumeSource(sourceId: string, cursor?: string): Promise<Resume> {
    return this.act(['sources', sourceId, 'resume'], cursor === undefined ? {} : { cursor });
  }

  // Replays

  startReplay(request: ReplayRequest): Promise<ReplayJob> {
    return this.act(['replays'], request);
  }

  getReplay(jobId: string): Promise<ReplayJob> {
    return this.transport.call({ method: 'GET', path: ['replays', jobId] });
  }

  cancelReplay(jobId: string): Promise<ReplayJob> {
    return this.transport.call({ method: 'POST', path: ['replays', jobId, 'cancel'], body: {} });
  }

  // Reconciliation runs

  listReconcileRuns(query: ReconcileRunQuery): Promise<Page<ReconcileRun>> {
    return this.transport.call({ method: 'GET', path: ['reconciliation', 'runs'], query: { ...query } });
  }

  getReconcileRun(runId: string): Promise<ReconcileRun> {
    return this.transport.call({ method: 'GET', path: ['reconciliation', 'runs', runId] });
  }

  // Mappings and the events parked for want of one

  listMappings(query: MappingQuery): Promise<Page<Mapping>> {
    return this.transport.call({ method: 'GET', path: ['mappings'], query: { ...query } });
  }

  putMapping(
    ref: { readonly scope: string; readonly entity: string; readonly externalId: string },
    target: { readonly internalId: string; readonly propertyId?: string },
  ): Promise<{ mapping: Mapping; released: number }> {
    return this.transport.call({
      method: 'PUT',
      path: ['mappings', ref.scope, ref.entity, ref.externalId],
      body: target,
    });
  }

  listReview(page: PageRequest): Promise<Page<ParkedEvent>> {
    return this.transport.call({ method: 'GET', path: ['review'], query: { ...page } });
  }

  // State and parity

  async listParity(query: ParityQuery): Promise<Page<ParityNight>> {
    const answer = await this.transport.call<{ nights: ParityNight[]; nextCursor: string | null }>({
      method: 'GET',
      path: ['parity'],
      query: { ...query },
    });
    return { items: answer.nights, nextCursor: answer.nextCursor };
  }

  readAri(propertyId: string, query: AriQuery): Promise<Page<Json>> {
    return this.transport.call({
      method: 'GET',
      path: ['properties', propertyId, 'ari'],
      query: { ...query },
    });
  }

  getReservation(id: string): Promise<Json> {
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
