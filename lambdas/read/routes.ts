import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { type ApplyDependencies, releaseParked } from '../apply/apply';
import type { FailureNote } from '../apply/ledger-notes';
import type { RoomNightState, VersionedGroup } from '../apply/model';
import type {
  AriStore,
  MappingEntity,
  ParkedEvent,
  ReservationRecord,
  ReservationStore,
  ReviewStore,
} from '../apply/ports';
import { type MappingResolver, mappingKey } from '../apply/resolver';
import { ApplicableIdSchema } from '../domain/applicable';
import { daysBetween, IsoDateSchema } from '../domain/dates';
import { formatMinorUnits, type Money } from '../domain/money';
import type { LedgerEntry } from '../ingest/ports';
import type { ParityFinding, ParityRecord, ParityStore } from '../reconcile/ports';
import type { Clock } from '../shared/clock';
import {
  BadRequestError,
  type FieldProblem,
  MethodNotAllowedError,
  ParitySyncError,
  StoreUnavailableError,
} from '../shared/errors';
import { decodeUtf8, parseStrictJson } from '../shared/strict-json';
import { isTransientAwsError } from '../shared/transient';
import { READ_API_ROUTES } from '../topology';

// Messages that say what was expected, whichever module configured zod first.
z.config(en());

/**
 * The read / admin API's routes, as API Gateway resources. The stack and the local runtime both build their
 * routes from this list, so that the two cannot drift.
 */
export { READ_API_ROUTES };

export type ReadApiResource = (typeof READ_API_ROUTES)[number]['resource'];

export const MAX_ARI_DATES = 366;
export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 100;

/** A ledger entry with the failure note the consumer keeps on it. */
export type DeliveryRecord = LedgerEntry & FailureNote;

export interface ReadApiDependencies {
  readonly ari: Pick<AriStore, 'readNights'>;
  readonly reservations: Pick<ReservationStore, 'get'>;
  readonly deliveries: { get(eventId: string): Promise<DeliveryRecord | undefined> };
  readonly review: ReviewStore;
  /** Current rate-parity findings per room night, as the reconciliation's parity check left them. */
  readonly parity: Pick<ParityStore, 'list'>;
  readonly mappings: Pick<MappingResolver, 'put'>;
  readonly requeue: ApplyDependencies['requeue'];
  readonly clock: Clock;
  /** The configured source ids: a mapping's scope is one of them, or `*` for every source. */
  readonly sourceIds: ReadonlySet<string>;
  readonly signal?: ApplyDependencies['signal'];
}

export interface ReadRequest {
  readonly method: string;
  readonly resource: ReadApiResource;
  readonly pathParameters: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, string | undefined>>;
  /** The request body as text, if any. */
  readonly body?: string;
  /** Recorded as the origin of a mapping written through the API. */
  readonly requestId?: string;
}

export interface ReadResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** 400 for a query, path or body that names its offending fields, in the edge's `{error, message, fields}` shape. */
export class InvalidRequestError extends BadRequestError {
  constructor(
    code: string,
    message: string,
    readonly fields: readonly FieldProblem[],
  ) {
    super(code, message);
  }

  override toBody(): Record<string, unknown> {
    return { ...super.toBody(), fields: this.fields };
  }
}

/** 404: the id names nothing ParitySync holds (or held: ledger entries expire after the dedupe window). */
export class NotFoundError extends ParitySyncError {
  readonly status = 404;
}

// ---------------------------------------------------------------------------------------------------------
// Request schemas

const PathIdSchema = z.string().check(z.minLength(1), z.maxLength(512));
// Mapped ids become parts of room-night keys: the applicability contract's id rule.
const InternalIdSchema = ApplicableIdSchema;
const CursorSchema = z.string().check(z.minLength(1), z.maxLength(4096));

const LimitSchema = z._default(
  z.pipe(
    z.pipe(
      z.string().check(z.regex(/^\d{1,6}$/, `must be a whole number from 1 to ${MAX_PAGE_SIZE}`)),
      z.transform(Number),
    ),
    z
      .number()
      .check(
        z.minimum(1, `must be a whole number from 1 to ${MAX_PAGE_SIZE}`),
        z.maximum(
          MAX_PAGE_SIZE,
          `must be at most ${MAX_PAGE_SIZE}; page through larger results with the cursor`,
        ),
      ),
  ),
  DEFAULT_PAGE_SIZE,
);

/** An inclusive `from`..`to` range of stay dates, at most MAX_ARI_DATES long. */
const dateRangeCheck = z.superRefine((query: { from: string; to: string }, ctx) => {
  // NaN when either date is invalid: those fields already carry their own issue.
  const span = daysBetween(query.from, query.to);
  if (span < 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['to'],
      message: `must not be before from (${query.from}); the range is inclusive, so from = to reads one date`,
    });
  } else if (span + 1 > MAX_ARI_DATES) {
    ctx.addIssue({
      code: 'custom',
      path: ['to'],
      message: `the range covers ${span + 1} dates; at most ${MAX_ARI_DATES} are read at once, split it`,
    });
  }
});

const AriQuerySchema = z
  .strictObject({
    from: IsoDateSchema,
    to: IsoDateSchema,
    roomType: z.optional(InternalIdSchema),
    ratePlan: z.optional(InternalIdSchema),
    limit: LimitSchema,
    cursor: z.optional(CursorSchema),
  })
  .check(dateRangeCheck);

const ParityQuerySchema = z
  .strictObject({
    propertyId: InternalIdSchema,
    from: IsoDateSchema,
    to: IsoDateSchema,
    limit: LimitSchema,
    cursor: z.optional(CursorSchema),
  })
  .check(dateRangeCheck);

const PageQuerySchema = z.strictObject({ limit: LimitSchema, cursor: z.optional(CursorSchema) });

const MAPPING_ENTITIES = ['property', 'roomType', 'ratePlan'] as const satisfies readonly MappingEntity[];

function mappingPathSchema(sourceIds: ReadonlySet<string>) {
  return z.object({
    scope: z.string().check(
      z.refine((scope) => scope === '*' || sourceIds.has(scope), {
        message: `must be a configured source id (${[...sourceIds].join(', ')}) or * for every source`,
      }),
    ),
    entity: z.enum(MAPPING_ENTITIES),
    externalId: ApplicableIdSchema,
  });
}

const MappingBodySchema = z.strictObject({
  internalId: InternalIdSchema,
  /** For a room type whose events carry no property id: the internal property it belongs to. */
  propertyId: z.optional(InternalIdSchema),
});

function validate<S extends z.ZodMiniType>(
  schema: S,
  input: unknown,
  code: string,
  what: string,
): z.output<S> {
  const result = z.safeParse(schema, input);
  if (result.success) return result.data;
  const fields: FieldProblem[] = result.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: key, message: `is not a ${what} of this route` }))
      : [
          {
            path: issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)',
            message: issue.message,
          },
        ],
  );
  throw new InvalidRequestError(
    code,
    `The ${what}s are not valid (${fields.map((field) => field.path).join(', ')}); see fields for how to fix each.`,
    fields,
  );
}

// ---------------------------------------------------------------------------------------------------------
// Routes

/** Answers one request of the read / admin API. Throws ParitySyncError for every answer that is not 200. */
export async function handleReadRequest(
  request: ReadRequest,
  deps: ReadApiDependencies,
): Promise<ReadResponse> {
  const route = READ_API_ROUTES.find((candidate) => candidate.resource === request.resource);
  if (route === undefined) {
    throw new NotFoundError('route_not_found', `No route ${request.resource}.`);
  }
  if (route.method !== request.method.toUpperCase()) {
    throw new MethodNotAllowedError(
      'method_not_allowed',
      `${request.resource} answers ${route.method} only; received ${request.method}.`,
    );
  }
  switch (route.resource) {
    case '/properties/{propertyId}/ari':
      return readAri(request, deps);
    case '/reservations/{id}':
      return readReservation(request, deps);
    case '/deliveries/{eventId}':
      return readDelivery(request, deps);
    case '/review':
      return readReview(request, deps);
    case '/mappings/{scope}/{entity}/{externalId}':
      return putMapping(request, deps);
    case '/parity':
      return readParity(request, deps);
  }
}

async function readAri(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadResponse> {
  const { propertyId } = validate(
    z.object({ propertyId: InternalIdSchema }),
    request.pathParameters,
    'invalid_path',
    'path parameter',
  );
  const query = validate(AriQuerySchema, request.query, 'invalid_query', 'query parameter');
  const page = await deps.ari.readNights({
    propertyId,
    from: query.from,
    to: query.to,
    ...(query.roomType ? { roomTypeId: query.roomType } : {}),
    ...(query.ratePlan ? { ratePlanId: query.ratePlan } : {}),
    limit: query.limit,
    ...(query.cursor ? { cursor: query.cursor } : {}),
  });
  return ok({ items: page.items.map(nightView), nextCursor: page.cursor ?? null });
}

/** Nights of one property with parity findings, in date order; clean nights are not listed. */
async function readParity(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadResponse> {
  const query = validate(ParityQuerySchema, request.query, 'invalid_query', 'query parameter');
  const page = await deps.parity.list({
    propertyId: query.propertyId,
    from: query.from,
    to: query.to,
    limit: query.limit,
    ...(query.cursor ? { cursor: query.cursor } : {}),
  });
  return ok({
    propertyId: query.propertyId,
    from: query.from,
    to: query.to,
    nights: page.items.map(parityNightView),
    ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
  });
}

async function readReservation(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadResponse> {
  const { id: reservationId } = validate(
    z.object({ id: PathIdSchema }),
    request.pathParameters,
    'invalid_path',
    'path parameter',
  );
  const record = await deps.reservations.get(reservationId);
  if (!record) {
    throw new NotFoundError(
      'reservation_not_found',
      `No reservation ${JSON.stringify(reservationId)}. Reservation ids are <sourceId>:<the provider's reservation id>.`,
    );
  }
  return ok(reservationView(record));
}

async function readDelivery(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadResponse> {
  const { eventId } = validate(
    z.object({ eventId: PathIdSchema }),
    request.pathParameters,
    'invalid_path',
    'path parameter',
  );
  const entry = await deps.deliveries.get(eventId);
  if (!entry) {
    throw new NotFoundError(
      'delivery_not_found',
      `No delivery ledger entry for ${JSON.stringify(eventId)}. Event ids look like evt_… and are answered by the ` +
        'webhook endpoint; entries expire after the dedupe window.',
    );
  }
  return ok(deliveryView(entry));
}

async function readReview(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadResponse> {
  const query = validate(PageQuerySchema, request.query, 'invalid_query', 'query parameter');
  const page = await deps.review.list(query.limit, query.cursor);
  return ok({ items: page.items.map(parkedView), nextCursor: page.cursor ?? null });
}

/** Adds (or replaces) a mapping, then puts every event parked for want of it back on the queue. */
async function putMapping(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadResponse> {
  const path = validate(
    mappingPathSchema(deps.sourceIds),
    request.pathParameters,
    'invalid_path',
    'path parameter',
  );
  if (request.body === undefined || request.body.trim() === '') {
    throw new InvalidRequestError('invalid_body', 'The request has no body.', [
      { path: '(root)', message: 'send a JSON object such as {"internalId": "dbl"}' },
    ]);
  }
  const body = validate(MappingBodySchema, parseStrictJson(request.body), 'invalid_body', 'body field');
  if (body.propertyId !== undefined && path.entity !== 'roomType') {
    throw new InvalidRequestError('invalid_body', 'Only a room type mapping names a property.', [
      { path: 'propertyId', message: `remove it: a ${path.entity} mapping has no property` },
    ]);
  }
  const ref = { scope: path.scope, entity: path.entity, externalId: path.externalId };
  const target = { internalId: body.internalId, ...(body.propertyId ? { propertyId: body.propertyId } : {}) };
  await deps.mappings.put(
    ref,
    target,
    deps.clock.now().toISOString(),
    `api ${request.requestId ?? 'request'}`,
  );
  const released = await releaseParked(deps, mappingKey(path.entity, path.externalId));
  return ok({ mapping: { ...ref, ...target }, released });
}

function ok(body: Record<string, unknown>): ReadResponse {
  return { status: 200, body };
}

// ---------------------------------------------------------------------------------------------------------
// Views: what leaves the API. Money always as minor units, currency and a decimal string.

export function moneyView(money: Money) {
  return { amountMinor: money.amountMinor, currency: money.currency, amount: formatMinorUnits(money) };
}

function parityNightView(record: ParityRecord) {
  return {
    date: record.key.date,
    roomTypeId: record.key.roomTypeId,
    ratePlanId: record.key.ratePlanId,
    checkedAt: record.checkedAt,
    findings: record.findings.map(parityFindingView),
  };
}

/** Field by field, without the night's key (the night carries it once). */
function parityFindingView(finding: ParityFinding) {
  const common = {
    kind: finding.kind,
    truthChannel: finding.truthChannel,
    channel: finding.channel,
    truthRate: moneyView(finding.truthRate),
    channelRate: moneyView(finding.channelRate),
  };
  if (finding.kind === 'currency_mismatch') return common;
  return withoutUndefined({
    ...common,
    // channel − truth, in the truth's currency: negative when the channel undercuts it.
    difference: moneyView({ amountMinor: finding.difference, currency: finding.truthRate.currency }),
    percent: finding.percent,
  });
}

function versioned<T, V>(group: VersionedGroup<T> | undefined, view: (value: T) => V) {
  return group === undefined
    ? undefined
    : { ...view(group.value), version: group.version, eventId: group.eventId };
}

function nightView(night: RoomNightState) {
  return withoutUndefined({
    ...night.key,
    rate: versioned(night.rate, moneyView),
    availability: versioned(night.availability, (value) => ({ ...value })),
    restrictions: versioned(night.restrictions, (value) => ({ ...value })),
  });
}

function reservationView(record: ReservationRecord) {
  // Field by field, so that nothing added to the record later leaves the API unreviewed.
  return withoutUndefined({
    id: record.id,
    sourceId: record.sourceId,
    reservationExternalId: record.reservationExternalId,
    propertyId: record.propertyId,
    propertyExternalId: record.propertyExternalId,
    status: record.status,
    arrivalDate: record.arrivalDate,
    departureDate: record.departureDate,
    roomTypeExternalId: record.roomTypeExternalId,
    roomNumber: record.roomNumber,
    channel: record.channel,
    guestExternalId: record.guestExternalId,
    total: record.total ? moneyView(record.total) : undefined,
    version: record.version,
    eventId: record.eventId,
  });
}

function deliveryView(entry: DeliveryRecord) {
  return withoutUndefined({
    eventId: entry.eventId,
    sourceId: entry.sourceId,
    kind: entry.kind,
    providerEventType: entry.providerEventType,
    canonicalType: entry.canonicalType,
    idempotencyKey: entry.idempotencyKey,
    status: entry.status,
    reason: entry.reason,
    lastError: entry.lastError,
    lastErrorAt: entry.lastErrorAt,
    occurredAt: entry.occurredAt,
    receivedAt: entry.receivedAt,
    updatedAt: entry.updatedAt,
    deliveryCount: entry.deliveryCount,
    messageId: entry.messageId,
    expiresAt: new Date(entry.expiresAt * 1000).toISOString(),
  });
}

/** The parked event's envelope and why it waits; its payload stays in the review table. */
function parkedView(parked: ParkedEvent) {
  return {
    eventId: parked.event.eventId,
    sourceId: parked.event.sourceId,
    kind: parked.event.kind,
    type: parked.event.type,
    providerEventType: parked.event.providerEventType,
    occurredAt: parked.event.occurredAt,
    reason: parked.reason,
    waitingFor: parked.waitingFor,
    parkedAt: parked.parkedAt,
  };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

// ---------------------------------------------------------------------------------------------------------
// API Gateway proxy integration

const JSON_HEADERS = { 'content-type': 'application/json' } as const;

const COMPILED_ROUTES = READ_API_ROUTES.map((route) => {
  const names: string[] = [];
  const pattern = route.resource.replace(/\{([A-Za-z]+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { ...route, pattern: new RegExp(`^${pattern}$`), names };
});

/**
 * The route of a proxy event: its resource when API Gateway matched one of ours, otherwise its path (behind a
 * greedy `{proxy+}` resource, for example), matched against the same templates.
 */
function routeOf(event: APIGatewayProxyEvent): Pick<ReadRequest, 'resource' | 'pathParameters'> | undefined {
  const known = READ_API_ROUTES.find((route) => route.resource === event.resource);
  if (known) return { resource: known.resource, pathParameters: event.pathParameters ?? {} };
  for (const route of COMPILED_ROUTES) {
    const match = route.pattern.exec(event.path ?? '');
    if (!match) continue;
    const pathParameters: Record<string, string> = {};
    route.names.forEach((name, index) => {
      const raw = match[index + 1] ?? '';
      try {
        pathParameters[name] = decodeURIComponent(raw);
      } catch {
        pathParameters[name] = raw;
      }
    });
    return { resource: route.resource, pathParameters };
  }
  return undefined;
}

function bodyText(event: APIGatewayProxyEvent): string | undefined {
  if (event.body == null) return undefined;
  return event.isBase64Encoded ? decodeUtf8(Buffer.from(event.body, 'base64')) : event.body;
}

/** Maps API Gateway proxy events to the routes, errors to the edge's JSON error shape, one log line per request. */
export function createReadApiHandler(
  deps: ReadApiDependencies,
  logger: Logger,
): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  return async (event) => {
    const started = deps.clock.now().getTime();
    const route = routeOf(event);
    let response: ReadResponse;
    try {
      if (route === undefined) {
        throw new NotFoundError('route_not_found', `No route ${event.httpMethod} ${event.path}.`);
      }
      response = await handleReadRequest(
        {
          method: event.httpMethod,
          ...route,
          query: event.queryStringParameters ?? {},
          body: bodyText(event),
          ...(event.requestContext?.requestId ? { requestId: event.requestContext.requestId } : {}),
        },
        deps,
      );
    } catch (error) {
      const failure = error instanceof ParitySyncError ? error : storeUnavailable(error);
      if (failure) {
        if (failure instanceof StoreUnavailableError) {
          logger.warn('read API store unavailable', describeFailure(event, route, error));
        }
        response = { status: failure.status, body: failure.toBody() };
      } else {
        const requestId = event.requestContext?.requestId;
        logger.error('read API request failed', { ...describeFailure(event, route, error), requestId });
        response = {
          status: 500,
          body: {
            error: 'internal_error',
            message:
              'The read API failed on this request: a fault in ParitySync, not in the request, so retrying will ' +
              `not help. The error is in the read function's log${requestId ? ` under request id ${requestId}` : ''}.`,
          },
        };
      }
    }
    logger.info('request', {
      method: event.httpMethod,
      resource: route?.resource ?? event.path,
      status: response.status,
      ...(response.status >= 400 ? { error: response.body.error } : {}),
      latencyMs: deps.clock.now().getTime() - started,
    });
    const headers =
      response.status === 503 ? { ...JSON_HEADERS, 'retry-after': STORE_RETRY_AFTER_SECONDS } : JSON_HEADERS;
    return { statusCode: response.status, headers, body: JSON.stringify(response.body) };
  };
}

/** Long enough for throttling to ease or a restarting store to come back; short for an operator waiting. */
const STORE_RETRY_AFTER_SECONDS = '5';

function storeUnavailable(error: unknown): StoreUnavailableError | undefined {
  if (!isTransientAwsError(error)) return undefined;
  // The Node error code (ECONNREFUSED) says more than the name (Error) when there is one.
  const what =
    (error as Partial<NodeJS.ErrnoException>).code ?? (error as Partial<Error>).name ?? 'no answer';
  return new StoreUnavailableError(
    'store_unavailable',
    `The state store did not answer this request (${what}), so it could not be served. ` +
      `Retry it in ${STORE_RETRY_AFTER_SECONDS} seconds; repeating it is safe.`,
    { cause: error },
  );
}

function describeFailure(
  event: APIGatewayProxyEvent,
  route: { readonly resource: string } | undefined,
  error: unknown,
): Record<string, unknown> {
  return {
    method: event.httpMethod,
    resource: route?.resource,
    error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
  };
}
