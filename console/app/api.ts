/**
 * The read / admin API as the console calls it: same origin, JSON in and out. The shapes mirror what the routes
 * answer (lambdas/read/views.ts); the console imports nothing from the functions, it only speaks HTTP.
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

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

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
  /** The canonical event as queued, when kept (it holds no personal data). */
  readonly event?: unknown;
  readonly occurredAt?: string;
  readonly receivedAt?: string;
  readonly updatedAt?: string;
  readonly deliveryCount?: number;
  readonly messageId?: string;
  readonly expiresAt?: string;
  readonly retained?: boolean;
}

export interface DeliveryCounts {
  readonly from: string;
  readonly to: string;
  readonly counts: Readonly<Record<string, number>>;
  readonly total: number;
}

export interface Rejection {
  readonly at: string;
  readonly sourceId: string;
  readonly senderAddress?: string;
  readonly status: number;
  readonly reason: string;
  readonly bodyBytes?: number;
  readonly requestId?: string;
}

export interface DeadLetter {
  readonly eventId: string | null;
  readonly messageId: string;
  readonly receiveCount: number;
  readonly sentAt: string;
  readonly lastError: string | null;
}

export interface DeadLetterListing {
  readonly queue: string;
  readonly approximateCount: number;
  readonly items: readonly DeadLetter[];
  readonly moveTask?: { readonly status: string; readonly moved: number; readonly toMove?: number };
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

export interface ParkedEvent {
  readonly eventId: string;
  readonly sourceId: string;
  readonly type?: string;
  readonly providerEventType?: string;
  readonly occurredAt?: string;
  readonly reason?: string;
  readonly waitingFor?: string;
  readonly parkedAt?: string;
}

export interface Mapping {
  readonly scope: string;
  readonly entity: string;
  readonly externalId: string;
  readonly internalId: string;
  readonly propertyId?: string;
}

export interface MoneyView {
  readonly amountMinor: number;
  readonly currency: string;
  readonly amount: string;
}

export interface ParityFinding {
  readonly kind: string;
  readonly truthChannel: string;
  readonly channel: string;
  readonly truthRate: MoneyView;
  readonly channelRate: MoneyView;
  readonly difference?: MoneyView;
  readonly percent?: number;
}

export interface ParityNight {
  readonly date: string;
  readonly roomTypeId: string;
  readonly ratePlanId: string;
  readonly checkedAt?: string;
  readonly findings: readonly ParityFinding[];
}

export interface AriNight {
  readonly date: string;
  readonly channel: string;
  readonly roomTypeId: string;
  readonly ratePlanId: string;
  readonly rate?: MoneyView;
}

export interface ReplayJob {
  readonly jobId: string;
  readonly status: string;
  readonly counts?: Readonly<Record<string, number>>;
  readonly error?: string;
}

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
  deliveries: (query: Query) => call<Page<Delivery>>('GET', pathOf(['deliveries'], query)),
  delivery: (eventId: string) => call<Delivery>('GET', pathOf(['deliveries', eventId])),
  counts: (query: Query) => call<DeliveryCounts>('GET', pathOf(['deliveries', 'counts'], query)),
  rejections: (query: Query) => call<Page<Rejection>>('GET', pathOf(['rejections'], query)),
  deadLetters: (queue: string, limit = 10) =>
    call<DeadLetterListing>('GET', pathOf(['dlq', queue], { limit })),
  redrive: (queue: string, eventIds?: readonly string[]) =>
    call<{ moved: number | null; complete?: boolean; notMoved?: readonly string[] }>(
      'POST',
      pathOf(['dlq', queue, 'redrive']),
      eventIds === undefined ? {} : { eventIds },
    ),
  sources: () => call<{ items: readonly Source[] }>('GET', pathOf(['sources'])),
  hold: (sourceId: string, reason?: string) =>
    call<Source>('POST', pathOf(['sources', sourceId, 'hold']), reason ? { reason } : {}),
  resume: (sourceId: string, cursor?: string) =>
    call<{ released: number; nextCursor: string | null }>(
      'POST',
      pathOf(['sources', sourceId, 'resume']),
      cursor === undefined ? {} : { cursor },
    ),
  review: (query: Query) => call<Page<ParkedEvent>>('GET', pathOf(['review'], query)),
  mappings: (query: Query) => call<Page<Mapping>>('GET', pathOf(['mappings'], query)),
  putMapping: (
    ref: { scope: string; entity: string; externalId: string },
    target: { internalId: string; propertyId?: string },
  ) =>
    call<{ mapping: Mapping; released: number }>(
      'PUT',
      pathOf(['mappings', ref.scope, ref.entity, ref.externalId]),
      target,
    ),
  parity: (query: Query) =>
    call<{ nights: readonly ParityNight[]; nextCursor: string | null }>('GET', pathOf(['parity'], query)),
  ari: (propertyId: string, query: Query) =>
    call<Page<AriNight>>('GET', pathOf(['properties', propertyId, 'ari'], query)),
  startReplay: (request: { source: string; from: string; to: string; statuses: readonly string[] }) =>
    call<ReplayJob>('POST', pathOf(['replays']), request),
  replay: (jobId: string) => call<ReplayJob>('GET', pathOf(['replays', jobId])),
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
