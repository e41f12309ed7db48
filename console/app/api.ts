import type {
  AuditListing,
  DeadLetterListing,
  DeliveryCountsView,
  DeliveryDetailView,
  DeliveryLogPage,
  HoldView,
  MappingView,
  MappingWritten,
  Page,
  ParityListing,
  ParityPropertiesView,
  ParkedEventView,
  ReconcileRunDetailView,
  ReconcileRunListing,
  RedriveView,
  RejectionListing,
  ReplayJobView,
  ReplayRequestView,
  ResumeView,
  RoomNightView,
  SourceView,
} from '../../lambdas/read/wire';
import type { ConsoleContext } from '../context';

/**
 * The read / admin API as the console calls it: same origin, JSON in and out, typed by the API's own description
 * of its answers (lambdas/read/wire.ts). The console imports nothing of the functions' code: it only speaks HTTP.
 */

/** An answer other than 2xx: the API's machine code and its sentence, as it sent them. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

type Query = Readonly<Record<string, string | number | undefined>>;

function pathOf(segments: readonly string[], query: Query = {}): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return `/${segments.map(encodeURIComponent).join('/')}${text ? `?${text}` : ''}`;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  // Actions carry a fresh key, so that the API answers a retried request with its first answer.
  if (method !== 'GET') headers['idempotency-key'] = crypto.randomUUID();
  const response = await fetch(path, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? {} : JSON.parse(text);
  } catch {
    throw new ApiError(response.status, 'not_json', text.slice(0, 200));
  }
  if (!response.ok) {
    const problem = json as { error?: string; code?: string; message?: string };
    throw new ApiError(
      response.status,
      problem.error ?? problem.code ?? 'error',
      problem.message ?? text.slice(0, 200),
    );
  }
  return json as T;
}

export const api = {
  deliveries: (query: Query) => call<DeliveryLogPage>('GET', pathOf(['deliveries'], query)),
  delivery: (eventId: string) => call<DeliveryDetailView>('GET', pathOf(['deliveries', eventId])),
  counts: (query: Query) => call<DeliveryCountsView>('GET', pathOf(['deliveries', 'counts'], query)),
  rejections: (query: Query) => call<RejectionListing>('GET', pathOf(['rejections'], query)),
  deadLetters: (queue: string, limit = 10) =>
    call<DeadLetterListing>('GET', pathOf(['dlq', queue], { limit })),
  redrive: (queue: string, eventIds?: readonly string[]) =>
    call<RedriveView>('POST', pathOf(['dlq', queue, 'redrive']), eventIds === undefined ? {} : { eventIds }),
  sources: () => call<{ items: readonly SourceView[] }>('GET', pathOf(['sources'])),
  hold: (sourceId: string, reason?: string) =>
    call<HoldView>('POST', pathOf(['sources', sourceId, 'hold']), reason ? { reason } : {}),
  resume: (sourceId: string, cursor?: string) =>
    call<ResumeView>('POST', pathOf(['sources', sourceId, 'resume']), cursor === undefined ? {} : { cursor }),
  review: (query: Query) => call<Page<ParkedEventView>>('GET', pathOf(['review'], query)),
  mappings: (query: Query) => call<Page<MappingView>>('GET', pathOf(['mappings'], query)),
  putMapping: (
    ref: { scope: string; entity: string; externalId: string },
    target: { internalId: string; propertyId?: string },
  ) => call<MappingWritten>('PUT', pathOf(['mappings', ref.scope, ref.entity, ref.externalId]), target),
  parity: (query: Query) => call<ParityListing>('GET', pathOf(['parity'], query)),
  parityProperties: () => call<ParityPropertiesView>('GET', pathOf(['parity', 'properties'])),
  audit: (query: Query) => call<AuditListing>('GET', pathOf(['reconciliation', 'audit'], query)),
  reconcileRuns: (query: Query) =>
    call<ReconcileRunListing>('GET', pathOf(['reconciliation', 'runs'], query)),
  reconcileRun: (runId: string) =>
    call<ReconcileRunDetailView>('GET', pathOf(['reconciliation', 'runs', runId])),
  ari: (propertyId: string, query: Query) =>
    call<Page<RoomNightView>>('GET', pathOf(['properties', propertyId, 'ari'], query)),
  startReplay: (request: ReplayRequestView) => call<ReplayJobView>('POST', pathOf(['replays']), request),
  replay: (jobId: string) => call<ReplayJobView>('GET', pathOf(['replays', jobId])),
  /** Where the page runs: `{}` locally; the stack, its region and its dashboard behind `paritysync console`. */
  context: () => call<ConsoleContext>('GET', '/console/context.json'),
};

/** Every page from the first, following nextCursor, up to `max` items. */
export async function allPages<T>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
  max = 5_000,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && items.length < max);
  return items;
}
