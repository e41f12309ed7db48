import * as z from 'zod/mini';
import { ApplicableIdSchema } from '../domain/applicable';
import { daysBetween, IsoDateSchema, IsoInstantSchema } from '../domain/dates';
import { LEDGER_STATUSES } from '../ledger/ports';
import {
  type FieldProblem,
  InvalidRequestError,
  MethodNotAllowedError,
  NotFoundError,
} from '../shared/errors';
import { formatPath } from '../shared/problems';
import { parseStrictJson } from '../shared/strict-json';
import { READ_API_ROUTES } from '../shared/topology';
import { AUDIT_ACTIONS } from '../state/audit';
import { MAPPING_ENTITIES } from '../state/ports';
import type { ReconcileRunStore } from '../state/reconcile-runs';
import {
  DEAD_LETTER_QUEUE_NAMES,
  deleteDeadLetters,
  listDeadLetters,
  MAX_CHOSEN_MESSAGES,
  redriveDeadLetters,
} from './dead-letters';
import {
  countDeliveries,
  getDelivery,
  getReservation,
  listDeliveries,
  listRejections,
  putMapping,
  type ReadApiDependencies,
} from './read';
import { cancelReplay, getReplay, type ReplayControlDependencies, startReplay } from './replays';
import { holdSource, listSources, resumeSource } from './sources';
import {
  auditEntryView,
  continuation,
  deadLetterView,
  deliveryCountsView,
  deliveryDetailView,
  deliveryLogRowView,
  mappingView,
  moveTaskView,
  nightView,
  parityNightView,
  parityPropertiesView,
  parkedView,
  reconcileRunDetailView,
  reconcileRunView,
  rejectionView,
  replayJobView,
  reservationView,
  sourceView,
  unrecordedView,
} from './views';
import type {
  AuditListing,
  DeadLetterListing,
  DeadLettersDeletedView,
  DeliveryCountsView,
  DeliveryLogPage,
  HoldView,
  MappingView,
  MappingWritten,
  Page,
  ParityListing,
  ParkedEventView,
  ReconcileRunDetailView,
  ReconcileRunListing,
  RedriveView,
  RejectionListing,
  ResumeView,
  RoomNightView,
  SourceView,
} from './wire';

/**
 * The read / admin API's routes, as API Gateway resources. The stack and the local runtime both build their
 * routes from this list, so that the two cannot drift.
 */
export { READ_API_ROUTES };

export type ReadApiResource = (typeof READ_API_ROUTES)[number]['resource'];

export const MAX_ARI_DATES = 366;
export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 100;

export interface ReadRequest {
  readonly method: string;
  readonly resource: ReadApiResource;
  readonly pathParameters: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, string | undefined>>;
  /** The request body as text, if any. */
  readonly body?: string;
  /** Recorded as the origin of a mapping written through the API. */
  readonly requestId?: string;
  /** Who is asking: the caller's IAM identity in AWS. Recorded as who put a source on hold. */
  readonly caller?: string;
  /** The Idempotency-Key header, when the client sent one: a retry of an action sends the same (see once.ts). */
  readonly idempotencyKey?: string;
}

/** What a route answers when it succeeds, one of the shapes of wire.ts; every other outcome is a thrown ParitySyncError. */
export type ReadAnswer = object;

// ---------------------------------------------------------------------------------------------------------
// Request schemas

const PathIdSchema = z.string().check(z.minLength(1), z.maxLength(512));
// Mapped ids become parts of room-night keys: the applicability contract's id rule.
const InternalIdSchema = ApplicableIdSchema;
const CursorSchema = z.string().check(z.minLength(1), z.maxLength(4096));

function limitSchema(least: number) {
  const range = `must be a whole number from ${least} to ${MAX_PAGE_SIZE}`;
  return z._default(
    z.pipe(
      z.pipe(z.string().check(z.regex(/^\d{1,6}$/, range)), z.transform(Number)),
      z
        .number()
        .check(
          z.minimum(least, range),
          z.maximum(
            MAX_PAGE_SIZE,
            `must be at most ${MAX_PAGE_SIZE}; page through larger results with the cursor`,
          ),
        ),
    ),
    DEFAULT_PAGE_SIZE,
  );
}
const LimitSchema = limitSchema(1);

/** Every paginated route takes these: `cursor` is the `nextCursor` of the page before. */
const PAGE_QUERY = { limit: LimitSchema, cursor: z.optional(CursorSchema) };

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
    ...PAGE_QUERY,
  })
  .check(dateRangeCheck);

const ParityQuerySchema = z
  .strictObject({ propertyId: InternalIdSchema, from: IsoDateSchema, to: IsoDateSchema, ...PAGE_QUERY })
  .check(dateRangeCheck);

const ReviewQuerySchema = z.strictObject(PAGE_QUERY);

const AuditQuerySchema = z
  .strictObject({
    propertyId: InternalIdSchema,
    from: IsoDateSchema,
    to: IsoDateSchema,
    action: z.optional(z.enum(AUDIT_ACTIONS, { error: `must be one of ${AUDIT_ACTIONS.join(', ')}` })),
    ...PAGE_QUERY,
  })
  .check(dateRangeCheck);

/** A configured source id: the log and the counts name one of them, never a guess that matches nothing. */
function configuredSourceSchema(sourceIds: ReadonlySet<string>) {
  return z.string().check(
    z.refine((source) => sourceIds.has(source), {
      message: `must be a configured source id (${[...sourceIds].join(', ')})`,
    }),
  );
}

/** Instants of receipt; the window between them is checked against the dedupe window once defaults apply. */
const LOG_WINDOW_QUERY = { from: z.optional(IsoInstantSchema), to: z.optional(IsoInstantSchema) };

function deliveriesQuerySchema(sourceIds: ReadonlySet<string>) {
  return z.strictObject({
    source: z.optional(configuredSourceSchema(sourceIds)),
    status: z.optional(z.enum(LEDGER_STATUSES, { error: `must be one of ${LEDGER_STATUSES.join(', ')}` })),
    // The event type rule of the edge's own schemas: what a provider can send as a type.
    type: z.optional(
      z
        .string()
        .check(
          z.regex(
            /^[A-Za-z0-9_.:-]{1,100}$/,
            'must be a provider event type (reservation.created) or a canonical type (ari.update): 1-100 ' +
              'characters of letters, digits, "_", ".", ":" and "-"',
          ),
        ),
    ),
    ...LOG_WINDOW_QUERY,
    ...PAGE_QUERY,
  });
}

function deliveryCountsQuerySchema(sourceIds: ReadonlySet<string>) {
  return z.strictObject({ source: z.optional(configuredSourceSchema(sourceIds)), ...LOG_WINDOW_QUERY });
}

/** `source` as the refused request's path named it, so any text a path segment can carry, within reason. */
const RejectionsQuerySchema = z.strictObject({
  source: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  reason: z.optional(
    z.string().check(z.regex(/^[a-z0-9_]{1,64}$/, 'must be an error code such as invalid_signature')),
  ),
  from: z.optional(IsoInstantSchema),
  to: z.optional(IsoInstantSchema),
  ...PAGE_QUERY,
});

/** A configured source id, or `*` for the mappings every source shares. */
function mappingScopeSchema(sourceIds: ReadonlySet<string>) {
  return z.string().check(
    z.refine((scope) => scope === '*' || sourceIds.has(scope), {
      message: `must be a configured source id (${[...sourceIds].join(', ')}) or * for every source`,
    }),
  );
}

const MappingEntitySchema = z.enum(MAPPING_ENTITIES, {
  error: `must be one of ${MAPPING_ENTITIES.join(', ')}`,
});

function mappingPathSchema(sourceIds: ReadonlySet<string>) {
  return z.object({
    scope: mappingScopeSchema(sourceIds),
    entity: MappingEntitySchema,
    externalId: ApplicableIdSchema,
  });
}

function mappingsQuerySchema(sourceIds: ReadonlySet<string>) {
  return z.strictObject({
    scope: z.optional(mappingScopeSchema(sourceIds)),
    entity: z.optional(MappingEntitySchema),
    ...PAGE_QUERY,
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
      : [{ path: formatPath(issue.path), message: issue.message }],
  );
  throw new InvalidRequestError(
    code,
    `The ${what}s are not valid (${fields.map((field) => field.path).join(', ')}); see fields for how to fix each.`,
    { fields },
  );
}

const pathOf = <S extends z.ZodMiniType>(schema: S, request: ReadRequest) =>
  validate(schema, request.pathParameters, 'invalid_path', 'path parameter');

const queryOf = <S extends z.ZodMiniType>(schema: S, request: ReadRequest) =>
  validate(schema, request.query, 'invalid_query', 'query parameter');

/**
 * A list's query as the domain's request: the same parameters, the source under the name `sourceId`. The query
 * schema leaves an absent parameter out, and so does this.
 */
function bySourceId<Q extends { readonly source?: string }>({ source, ...parameters }: Q) {
  return { ...parameters, ...(source === undefined ? {} : { sourceId: source }) };
}

// ---------------------------------------------------------------------------------------------------------
// Routes

/** Answers one request of the read / admin API. Throws ParitySyncError for every answer that is not a success. */
export async function handleReadRequest(
  request: ReadRequest,
  deps: ReadApiDependencies,
): Promise<ReadAnswer> {
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
    case '/deliveries':
      return readDeliveryLog(request, deps);
    case '/deliveries/counts':
      return readDeliveryCounts(request, deps);
    case '/review':
      return readReview(request, deps);
    case '/mappings':
      return readMappings(request, deps);
    case '/mappings/{scope}/{entity}/{externalId}':
      return writeMapping(request, deps);
    case '/parity':
      return readParity(request, deps);
    case '/parity/properties':
      queryOf(z.strictObject({}), request);
      return parityPropertiesView(deps.parityOptions);
    case '/reconciliation/audit':
      return readAudit(request, deps);
    case '/rejections':
      return readRejections(request, deps);
    case '/sources':
      return readSources(request, deps);
    case '/sources/{sourceId}/hold':
      return writeHold(request, deps);
    case '/sources/{sourceId}/resume':
      return writeResume(request, deps);
    case '/dlq/{queue}':
      return readDeadLetters(request, deps);
    case '/dlq/{queue}/redrive':
      return writeRedrive(request, deps);
    case '/dlq/{queue}/delete':
      return writeDeadLetterDeletion(request, deps);
    case '/replays':
      return writeReplay(request, deps);
    case '/replays/{jobId}':
      return readReplay(request, deps);
    case '/replays/{jobId}/cancel':
      return writeReplayCancel(request, deps);
    case '/reconciliation/runs':
      return readRuns(request, deps);
    case '/reconciliation/runs/{runId}':
      return readRun(request, deps);
  }
}

/** Routes answered with another status than 200 when they succeed: a replay job is accepted, not done. */
export const SUCCESS_STATUS: Partial<Record<ReadApiResource, number>> = { '/replays': 202 };

async function readAri(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadAnswer> {
  const { propertyId } = pathOf(z.object({ propertyId: InternalIdSchema }), request);
  const query = queryOf(AriQuerySchema, request);
  const page = await deps.ari.readNights({
    propertyId,
    from: query.from,
    to: query.to,
    ...(query.roomType ? { roomTypeId: query.roomType } : {}),
    ...(query.ratePlan ? { ratePlanId: query.ratePlan } : {}),
    limit: query.limit,
    ...(query.cursor ? { cursor: query.cursor } : {}),
  });
  return { items: page.items.map(nightView), ...continuation(page) } satisfies Page<RoomNightView>;
}

/** Nights of one property with parity findings, in date order; clean nights are not listed. */
async function readParity(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadAnswer> {
  const query = queryOf(ParityQuerySchema, request);
  const page = await deps.parity.list({
    propertyId: query.propertyId,
    from: query.from,
    to: query.to,
    limit: query.limit,
    ...(query.cursor ? { cursor: query.cursor } : {}),
  });
  return {
    propertyId: query.propertyId,
    from: query.from,
    to: query.to,
    nights: page.items.map(parityNightView),
    ...continuation(page),
  } satisfies ParityListing;
}

/** What reconciliation overwrote or only observed on one property's nights: nights in date order, then by time. */
async function readAudit(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadAnswer> {
  const query = queryOf(AuditQuerySchema, request);
  if (deps.audit === undefined) throw new Error('The read API was built without the reconciliation audit');
  const page = await deps.audit.list({
    propertyId: query.propertyId,
    from: query.from,
    to: query.to,
    ...(query.action === undefined ? {} : { action: query.action }),
    limit: query.limit,
    ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
  });
  return {
    propertyId: query.propertyId,
    from: query.from,
    to: query.to,
    ...(query.action === undefined ? {} : { action: query.action }),
    items: page.items.map(auditEntryView),
    ...continuation(page),
  } satisfies AuditListing;
}

/**
 * Requests the edge refused for good, newest first, and how many more it only counted: per source and UTC day,
 * for the days the window touches.
 */
async function readRejections(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadAnswer> {
  const query = queryOf(RejectionsQuerySchema, request);
  const listing = await listRejections(bySourceId(query), deps);
  return {
    from: listing.from,
    to: listing.to,
    items: listing.page.items.map(rejectionView),
    ...continuation(listing.page),
    unrecorded: {
      total: listing.unrecorded.reduce((sum, count) => sum + count.count, 0),
      counts: listing.unrecorded.map(unrecordedView),
    },
  } satisfies RejectionListing;
}

async function readReservation(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadAnswer> {
  const { id } = pathOf(z.object({ id: PathIdSchema }), request);
  return reservationView(await getReservation(id, deps));
}

async function readDelivery(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadAnswer> {
  const { eventId } = pathOf(z.object({ eventId: PathIdSchema }), request);
  return deliveryDetailView(await getDelivery(eventId, deps));
}

/** The delivery log: one page of ledger entries, newest first, and the window it was read in. */
async function readDeliveryLog(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadAnswer> {
  const query = queryOf(deliveriesQuerySchema(deps.sourceIds), request);
  const page = await listDeliveries(bySourceId(query), deps);
  return {
    from: page.window.from,
    to: page.window.to,
    items: page.items.map(deliveryLogRowView),
    ...continuation(page),
  } satisfies DeliveryLogPage;
}

async function readDeliveryCounts(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadAnswer> {
  const query = queryOf(deliveryCountsQuerySchema(deps.sourceIds), request);
  const { window, counts } = await countDeliveries(bySourceId(query), deps);
  return {
    ...(query.source === undefined ? {} : { source: query.source }),
    from: window.from,
    to: window.to,
    ...deliveryCountsView(counts),
  } satisfies DeliveryCountsView;
}

async function readReview(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadAnswer> {
  const query = queryOf(ReviewQuerySchema, request);
  const page = await deps.review.list(query.limit, query.cursor);
  return { items: page.items.map(parkedView), ...continuation(page) } satisfies Page<ParkedEventView>;
}

/** Stored mappings, entity by entity (property, roomType, ratePlan), each in key order. */
async function readMappings(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadAnswer> {
  const query = queryOf(mappingsQuerySchema(deps.sourceIds), request);
  const page = await deps.mappings.list({
    ...(query.scope === undefined ? {} : { scope: query.scope }),
    ...(query.entity === undefined ? {} : { entity: query.entity }),
    limit: query.limit,
    ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
  });
  return {
    items: page.items.map((mapping) => mappingView(mapping.ref, mapping.target)),
    ...continuation(page),
  } satisfies Page<MappingView>;
}

async function writeMapping(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadAnswer> {
  const path = pathOf(mappingPathSchema(deps.sourceIds), request);
  if (request.body === undefined || request.body.trim() === '') {
    throw new InvalidRequestError('invalid_body', 'The request has no body.', {
      fields: [{ path: '(root)', message: 'send a JSON object such as {"internalId": "dbl"}' }],
    });
  }
  const body = validate(MappingBodySchema, parseStrictJson(request.body), 'invalid_body', 'body field');
  if (body.propertyId !== undefined && path.entity !== 'roomType') {
    throw new InvalidRequestError('invalid_body', 'Only a room type mapping names a property.', {
      fields: [{ path: 'propertyId', message: `remove it: a ${path.entity} mapping has no property` }],
    });
  }
  const ref = { scope: path.scope, entity: path.entity, externalId: path.externalId };
  const target = { internalId: body.internalId, ...(body.propertyId ? { propertyId: body.propertyId } : {}) };
  const released = await putMapping(ref, target, `api ${request.requestId ?? 'request'}`, deps);
  return { mapping: mappingView(ref, target), released } satisfies MappingWritten;
}

// ---------------------------------------------------------------------------------------------------------
// Sources on hold, and the dead-letter queues

const SourcePathSchema = z.strictObject({ sourceId: PathIdSchema });

const HoldBodySchema = z.strictObject({
  reason: z.optional(z.string().check(z.minLength(1), z.maxLength(500))),
});

const ResumeBodySchema = z.strictObject({ cursor: z.optional(CursorSchema) });

const DeadLetterPathSchema = z.strictObject({
  queue: z.enum(DEAD_LETTER_QUEUE_NAMES, {
    error: `must be one of ${DEAD_LETTER_QUEUE_NAMES.join(', ')}`,
  }),
});

// 0 answers the count and the move task alone, without receiving (and so counting a receive of) any message.
const DeadLetterQuerySchema = z.strictObject({ limit: limitSchema(0) });

/** A list of 1 to MAX_CHOSEN_MESSAGES distinct ids. */
function idListSchema(what: string) {
  return z.array(PathIdSchema).check(
    z.minLength(1, `name at least one ${what}, or leave the field out`),
    z.maxLength(MAX_CHOSEN_MESSAGES, `at most ${MAX_CHOSEN_MESSAGES} ${what}s per request; send several`),
    z.refine((ids) => new Set(ids).size === ids.length, { message: `names a ${what} more than once` }),
  );
}

const RedriveBodySchema = z.strictObject({ eventIds: z.optional(idListSchema('event id')) });
const DeleteBodySchema = z.strictObject({ messageIds: idListSchema('message id') });

/** A JSON object body; an absent or blank body reads as `{}`, for routes whose fields are all optional. */
function optionalBodyOf<S extends z.ZodMiniType>(schema: S, request: ReadRequest): z.output<S> {
  const text = request.body?.trim() ?? '';
  return validate(schema, text === '' ? {} : parseStrictJson(text), 'invalid_body', 'body field');
}

async function readSources(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadAnswer> {
  queryOf(z.strictObject({}), request);
  return { items: (await listSources(deps)).map(sourceView) } satisfies { items: readonly SourceView[] };
}

async function writeHold(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadAnswer> {
  const { sourceId } = pathOf(SourcePathSchema, request);
  const body = optionalBodyOf(HoldBodySchema, request);
  const { status, created } = await holdSource(
    sourceId,
    { by: request.caller ?? 'unknown caller', ...(body.reason === undefined ? {} : { reason: body.reason }) },
    deps,
  );
  return { ...sourceView(status), created } satisfies HoldView;
}

async function writeResume(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadAnswer> {
  const { sourceId } = pathOf(SourcePathSchema, request);
  const body = optionalBodyOf(ResumeBodySchema, request);
  const resumed = await resumeSource(sourceId, body.cursor, deps);
  return {
    sourceId,
    held: false,
    resumed: resumed.ended !== undefined,
    released: resumed.released,
    nextCursor: resumed.cursor ?? null,
  } satisfies ResumeView;
}

async function readDeadLetters(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadAnswer> {
  const { queue } = pathOf(DeadLetterPathSchema, request);
  const { limit } = queryOf(DeadLetterQuerySchema, request);
  const listing = await listDeadLetters(queue, limit, deps);
  return {
    queue,
    approximateCount: listing.approximateCount,
    items: listing.items.map(deadLetterView),
    ...(listing.moveTask === undefined ? {} : { moveTask: moveTaskView(listing.moveTask) }),
  } satisfies DeadLetterListing;
}

async function writeRedrive(request: ReadRequest, deps: ReadApiDependencies): Promise<RedriveView> {
  const { queue } = pathOf(DeadLetterPathSchema, request);
  const { eventIds } = optionalBodyOf(RedriveBodySchema, request);
  const result = await redriveDeadLetters(queue, eventIds, deps);
  if (result.via === 'move-task')
    return { queue, via: result.via, moved: null, taskHandle: result.taskHandle };
  if (result.chosen) {
    return {
      queue,
      via: result.via,
      moved: result.moved,
      complete: result.complete,
      notMoved: result.notMoved,
    };
  }
  return { queue, via: result.via, moved: result.moved, complete: result.complete };
}

async function writeDeadLetterDeletion(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadAnswer> {
  const { queue } = pathOf(DeadLetterPathSchema, request);
  if (request.body === undefined || request.body.trim() === '') {
    throw new InvalidRequestError('invalid_body', 'The request has no body.', {
      fields: [{ path: '(root)', message: 'send a JSON object such as {"messageIds": ["…"]}' }],
    });
  }
  const { messageIds } = validate(
    DeleteBodySchema,
    parseStrictJson(request.body),
    'invalid_body',
    'body field',
  );
  return { queue, ...(await deleteDeadLetters(queue, messageIds, deps)) } satisfies DeadLettersDeletedView;
}

// ---------------------------------------------------------------------------------------------------------
// Replay jobs

/**
 * A replay's body: a configured source, statuses of the ledger, and a window of receipt [from, to) no longer than
 * the dedupe window (the ledger holds nothing older).
 */
function replayBodySchema(sourceIds: ReadonlySet<string>, dedupeWindowSeconds: number) {
  const statusSchema = z.enum(LEDGER_STATUSES, { error: `must be one of ${LEDGER_STATUSES.join(', ')}` });
  return z
    .strictObject({
      source: configuredSourceSchema(sourceIds),
      from: IsoInstantSchema,
      to: IsoInstantSchema,
      statuses: z.array(statusSchema).check(
        z.minLength(1, `name at least one ledger status (${LEDGER_STATUSES.join(', ')})`),
        z.refine((statuses) => new Set(statuses).size === statuses.length, {
          message: 'names a status more than once',
        }),
      ),
    })
    .check(
      z.superRefine((body: { from: Date; to: Date }, ctx) => {
        const spanSeconds = (body.to.getTime() - body.from.getTime()) / 1000;
        if (spanSeconds <= 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['to'],
            message: `must be after from (${body.from.toISOString()}): the window runs from "from" up to, not including, "to"`,
          });
        } else if (spanSeconds > dedupeWindowSeconds) {
          ctx.addIssue({
            code: 'custom',
            path: ['from'],
            message:
              `makes a window of ${(spanSeconds / 86_400).toFixed(1)} days; the ledger keeps events for ` +
              `${dedupeWindowSeconds / 86_400} days (the dedupe window), so no longer window is replayed`,
          });
        }
      }),
    );
}

const ReplayPathSchema = z.strictObject({ jobId: PathIdSchema });

/** The replay jobs' store and work queue, which every deployed read function has; a test may leave them out. */
function replayControls(deps: ReadApiDependencies): ReplayControlDependencies {
  const { replays, replayWork } = deps;
  if (replays === undefined || replayWork === undefined) {
    throw new Error('The read API was built without the replay jobs store and work queue');
  }
  return { replays, replayWork, clock: deps.clock };
}

async function writeReplay(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadAnswer> {
  if (request.body === undefined || request.body.trim() === '') {
    throw new InvalidRequestError('invalid_body', 'The request has no body.', {
      fields: [
        {
          path: '(root)',
          message:
            'send a JSON object such as {"source": "…", "from": "…", "to": "…", "statuses": ["rejected"]}',
        },
      ],
    });
  }
  const body = validate(
    replayBodySchema(deps.sourceIds, deps.dedupeWindowSeconds),
    parseStrictJson(request.body),
    'invalid_body',
    'body field',
  );
  const job = await startReplay(
    {
      source: body.source,
      from: body.from.toISOString(),
      to: body.to.toISOString(),
      statuses: body.statuses,
    },
    replayControls(deps),
  );
  return replayJobView(job);
}

async function readReplay(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadAnswer> {
  const { jobId } = pathOf(ReplayPathSchema, request);
  return replayJobView(await getReplay(jobId, replayControls(deps)));
}

async function writeReplayCancel(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadAnswer> {
  const { jobId } = pathOf(ReplayPathSchema, request);
  optionalBodyOf(z.strictObject({}), request);
  return replayJobView(await cancelReplay(jobId, replayControls(deps)));
}

// ---------------------------------------------------------------------------------------------------------
// Reconciliation runs

/** How far back `GET /reconciliation/runs` looks when no `from` is given. */
export const DEFAULT_RUNS_WINDOW_DAYS = 7;

function runsQuerySchema(sourceIds: ReadonlySet<string>) {
  return z.strictObject({
    source: z.optional(configuredSourceSchema(sourceIds)),
    from: z.optional(IsoInstantSchema),
    to: z.optional(IsoInstantSchema),
    ...PAGE_QUERY,
  });
}

function runStore(deps: ReadApiDependencies): Pick<ReconcileRunStore, 'get' | 'list'> {
  if (deps.runs === undefined) throw new Error('The read API was built without the reconciliation run log');
  return deps.runs;
}

/**
 * Runs started in [from, to), newest first, each with its totals (`sources` empty: a run's rows per source are
 * not read for every run of the window); with `source`, only the runs that polled it, each with that source's
 * figures (its drift over time).
 */
async function readRuns(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadAnswer> {
  const query = queryOf(runsQuerySchema(deps.sourceIds), request);
  const now = deps.clock.now();
  const to = query.to ?? now;
  const from = query.from ?? new Date(to.getTime() - DEFAULT_RUNS_WINDOW_DAYS * 86_400_000);
  if (from.getTime() > to.getTime()) {
    throw new InvalidRequestError('invalid_query', 'The query parameters are not valid (to); see fields.', {
      fields: [{ path: 'to', message: `must not be before from (${from.toISOString()})` }],
    });
  }
  const page = await runStore(deps).list({
    ...(query.source === undefined ? {} : { sourceId: query.source }),
    from: from.toISOString(),
    to: to.toISOString(),
    limit: query.limit,
    ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
  });
  return {
    ...(query.source === undefined ? {} : { source: query.source }),
    from: from.toISOString(),
    to: to.toISOString(),
    items: page.items.map(reconcileRunView),
    ...continuation(page),
  } satisfies ReconcileRunListing;
}

async function readRun(request: ReadRequest, deps: ReadApiDependencies): Promise<ReadAnswer> {
  const { runId } = pathOf(z.object({ runId: PathIdSchema }), request);
  const run = await runStore(deps).get(runId);
  if (run === undefined) {
    throw new NotFoundError(
      'run_not_found',
      `No reconciliation run ${JSON.stringify(runId)}. GET /reconciliation/runs lists the recent ones; runs are ` +
        'kept as long as the audit (reconciliation.auditRetentionDays).',
    );
  }
  return reconcileRunDetailView(run) satisfies ReconcileRunDetailView;
}
