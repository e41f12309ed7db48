import type { DeliveryRequest, Normalised, VerificationContext } from '../adapters/types';
import type { SecretResolver } from '../config/secrets';
import { receiptProblems } from '../domain/applicable';
import type { CanonicalEvent } from '../domain/canonical';
import { CANONICAL_SCHEMA_VERSION } from '../domain/canonical';
import type { DeliveryLedger, LedgerEntry, LedgerRef } from '../ledger/ports';
import type { EventQueue } from '../queue/ports';
import type { Clock } from '../shared/clock';
import type { Crypto } from '../shared/crypto';
import {
  AuthenticationError,
  DeliveryInProgressError,
  ForbiddenSenderError,
  NotDurableError,
  PayloadTooLargeError,
  SchemaViolationError,
  UnknownSourceError,
  UnsupportedMediaTypeError,
} from '../shared/errors';
import { decodeUtf8, parseStrictJson } from '../shared/strict-json';
import type { RejectionRecording } from './rejections';
import type { PreparedSource } from './sources';

export interface IngestSettings {
  readonly maxBodyBytes: number;
  /** How long a key is remembered, and how old an unsigned payload timestamp may be. */
  readonly dedupeWindowSeconds: number;
  /**
   * How long a claim owns an event before a retry may take it over. Longer than the ingest function's
   * timeout, so that a live request is never raced; short enough that a sender's next retry succeeds.
   */
  readonly claimLeaseMs: number;
  /**
   * Lease a claim must still have when it returns for the event to be queued: the longest the enqueue and its
   * confirmation can take. A claim that lands with less (the ledger stalled) is given back unqueued, because a
   * retry may take it over once the lease runs out, and the event would be queued twice.
   */
  readonly minLeaseLeftMs: number;
}

export interface IngestDependencies {
  readonly sources: ReadonlyMap<string, PreparedSource>;
  readonly secrets: SecretResolver;
  readonly ledger: DeliveryLedger;
  readonly queue: EventQueue;
  readonly clock: Clock;
  readonly crypto: Crypto;
  readonly settings: IngestSettings;
  /** Where refusals the sender must fix (4xx) are recorded; see recordRejection. */
  readonly rejections: RejectionRecording;
}

export interface IngestRequest {
  readonly sourceId: string;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly rawBody: Buffer;
  readonly sourceIp?: string;
}

/** Filled in as the pipeline advances, so that a refusal can still be logged with what was known. */
export interface IngestTrace {
  kind?: string;
  verified?: boolean;
  eventId?: string;
  providerEventType?: string;
}

export type IngestResult =
  | {
      readonly status: 'accepted';
      readonly action: 'enqueued' | 'recorded';
      readonly eventId: string;
      readonly providerEventType: string;
      readonly type?: string;
      /** True when a retry took over an earlier delivery whose enqueue had not completed. */
      readonly recovered: boolean;
      /** False when the event is durable but the ledger could not be moved past `received`. */
      readonly ledgerConfirmed: boolean;
    }
  | {
      readonly status: 'duplicate';
      readonly eventId: string;
      readonly providerEventType: string;
      readonly ledgerStatus: LedgerEntry['status'];
      readonly firstReceivedAt: string;
    }
  | { readonly status: 'verified' };

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/;

/**
 * The edge, as plain TypeScript: authenticate, parse, validate, normalise, then make the event durable
 * exactly once. Every refusal is a ParitySyncError whose class says what kind of failure it is and whose code
 * says which. Nothing is written for a refused delivery, so a sender can always fix the request and retry.
 */
export async function ingest(
  request: IngestRequest,
  deps: IngestDependencies,
  trace: IngestTrace = {},
): Promise<IngestResult> {
  const source = deps.sources.get(request.sourceId);
  if (!source) {
    throw new UnknownSourceError(
      'unknown_source',
      `No source with id ${JSON.stringify(request.sourceId.slice(0, 64))} is configured. Check the webhook URL.`,
    );
  }
  trace.kind = source.config.kind;
  if (source.isAllowedSender && !(request.sourceIp && source.isAllowedSender(request.sourceIp))) {
    throw new ForbiddenSenderError(
      'sender_not_allowed',
      `Deliveries for source ${source.config.id} are accepted only from its configured address ranges; ` +
        `this one came from ${request.sourceIp ?? 'an unknown address'}.`,
    );
  }
  if (request.rawBody.length > deps.settings.maxBodyBytes) {
    throw new PayloadTooLargeError(
      'payload_too_large',
      `The body is ${request.rawBody.length} bytes; at most ${deps.settings.maxBodyBytes} are accepted.`,
    );
  }

  const delivery: DeliveryRequest = { headers: request.headers, rawBody: request.rawBody };
  const secrets = await resolveSecrets(deps, source);
  const context: VerificationContext = {
    source: source.config,
    secrets,
    toleranceSeconds: source.toleranceSeconds,
    clock: deps.clock,
    crypto: deps.crypto,
  };
  if (source.adapter.isHandshake?.(delivery, context)) return { status: 'verified' };

  const { eventId, normalised, event } = prepareDelivery(delivery, source, context, deps, trace);
  return makeDurable(eventId, normalised, event, source, deps);
}

/** A delivery found authentic, well formed and applicable: all the edge needs to make it durable. */
export interface PreparedDelivery {
  readonly eventId: string;
  readonly normalised: Normalised;
  /** The canonical event to queue; absent for a type that is only recorded. */
  readonly event?: CanonicalEvent;
}

/**
 * Everything the edge does per delivery before any I/O: media type, signature, strict JSON, the kind's schema,
 * replay bounds and the applicability contract. The benchmarks time exactly this.
 */
export function prepareDelivery(
  delivery: DeliveryRequest,
  source: PreparedSource,
  context: VerificationContext,
  deps: Pick<IngestDependencies, 'clock' | 'crypto' | 'settings'>,
  trace: IngestTrace = {},
): PreparedDelivery {
  assertJsonContentType(delivery.headers['content-type']);
  trace.verified = false;
  const verified = source.adapter.verify(delivery, context);
  trace.verified = true;
  const body = parseStrictJson(decodeUtf8(delivery.rawBody));
  const normalised = source.adapter.normalise(body, delivery, verified, context);
  trace.providerEventType = normalised.providerEventType;
  const eventId = eventIdFor(deps.crypto, source.config.id, normalised.idempotencyKey);
  trace.eventId = eventId;
  if (!source.adapter.signsTimestamp) assertFreshPayload(normalised, deps, source);
  if (normalised.disposition === 'record') return { eventId, normalised };
  return {
    eventId,
    normalised,
    event: applicableEvent(eventId, normalised, source, verified.deliveryId, deps),
  };
}

/**
 * The canonical event as it will be queued, held to the applicability contract apply holds it to, so that
 * nothing is accepted that apply cannot store. `receivedAt` is now; a retry that takes over an earlier claim
 * queues it with the first delivery's time (see makeDurable).
 */
function applicableEvent(
  eventId: string,
  normalised: Normalised & { disposition: 'apply' },
  source: PreparedSource,
  deliveryId: string | undefined,
  deps: Pick<IngestDependencies, 'clock' | 'settings'>,
): CanonicalEvent {
  const { type, data } = normalised.payload;
  const event = {
    schemaVersion: CANONICAL_SCHEMA_VERSION,
    eventId,
    sourceId: source.config.id,
    kind: source.config.kind,
    providerEventType: normalised.providerEventType,
    idempotencyKey: normalised.idempotencyKey,
    ...(deliveryId ? { deliveryId } : {}),
    occurredAt: normalised.occurredAt.toISOString(),
    receivedAt: deps.clock.now().toISOString(),
    type,
    data,
  } as CanonicalEvent;
  const problems = receiptProblems(event, {
    toleranceSeconds: source.toleranceSeconds,
    dedupeWindowSeconds: deps.settings.dedupeWindowSeconds,
  });
  if (problems.length > 0) {
    const names = problems.map((p) => p.path).join(', ');
    throw new SchemaViolationError(
      'not_applicable',
      `The ${normalised.providerEventType} event is well formed but cannot be applied as sent (${names}); ` +
        'fields are named as ParitySync stores them.',
      problems,
    );
  }
  return event;
}

async function resolveSecrets(deps: IngestDependencies, source: PreparedSource): Promise<readonly string[]> {
  try {
    return await deps.secrets.secretsFor(source.config);
  } catch (cause) {
    throw new NotDurableError(
      'secrets_unavailable',
      'The signing secrets for this source cannot be read right now, so the delivery was not accepted. Retry later.',
      { cause },
    );
  }
}

// A sender sends the same Content-Type on every delivery: the few values accepted are remembered (bounded).
const acceptedContentTypes = new Set<string>();

function assertJsonContentType(header: string | undefined): void {
  if (header !== undefined && acceptedContentTypes.has(header)) return;
  const [mediaType = '', ...parameters] = (header ?? '').split(';');
  const charset = parameters
    .map((p) => p.trim().toLowerCase())
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  if (
    !JSON_MEDIA_TYPE.test(mediaType.trim().toLowerCase()) ||
    (charset && charset !== 'utf-8' && charset !== 'utf8')
  ) {
    throw new UnsupportedMediaTypeError(
      'unsupported_media_type',
      `Content-Type ${JSON.stringify(header ?? '(none)')} is not accepted; send application/json (UTF-8).`,
    );
  }
  if (header !== undefined && acceptedContentTypes.size < 64) acceptedContentTypes.add(header);
}

/**
 * Kinds whose signature covers no timestamp can be replayed byte for byte. The ledger catches a replay while
 * it remembers the key; beyond that window, the payload's own timestamp must vouch for its age.
 */
function assertFreshPayload(
  normalised: Normalised,
  deps: Pick<IngestDependencies, 'clock' | 'settings'>,
  source: PreparedSource,
): void {
  const ageSeconds = (deps.clock.now().getTime() - normalised.occurredAt.getTime()) / 1000;
  if (ageSeconds > deps.settings.dedupeWindowSeconds) {
    throw new AuthenticationError(
      'stale_event',
      `The event is dated ${normalised.occurredAt.toISOString()}, older than the ${Math.round(
        deps.settings.dedupeWindowSeconds / 86_400,
      )}-day replay window for a source whose signature carries no timestamp.`,
    );
  }
  if (-ageSeconds > source.toleranceSeconds) {
    throw new AuthenticationError(
      'timestamp_out_of_tolerance',
      `The event is dated ${normalised.occurredAt.toISOString()}, more than ${source.toleranceSeconds} s in the future. ` +
        'Check the sender clock.',
    );
  }
}

/** Deterministic, so every retry of an event is answered with the same id; URL-safe for the read API. */
export function eventIdFor(crypto: Crypto, sourceId: string, idempotencyKey: string): string {
  // One string, one argument: the port's one-shot digest path, without joining parts.
  return `evt_${crypto.sha256Hex(`${sourceId}\n${idempotencyKey}`).slice(0, 32)}`;
}

async function makeDurable(
  eventId: string,
  normalised: Normalised,
  applicable: CanonicalEvent | undefined,
  source: PreparedSource,
  deps: IngestDependencies,
): Promise<IngestResult> {
  const now = deps.clock.now();
  const nowIso = now.toISOString();
  const occurredAt = applicable?.occurredAt ?? normalised.occurredAt.toISOString();
  const canonicalType = normalised.disposition === 'apply' ? normalised.payload.type : undefined;
  const leaseUntil = now.getTime() + deps.settings.claimLeaseMs;

  let claim: Awaited<ReturnType<DeliveryLedger['claim']>>;
  try {
    claim = await deps.ledger.claim(
      {
        eventId,
        sourceId: source.config.id,
        kind: source.config.kind,
        idempotencyKey: normalised.idempotencyKey,
        providerEventType: normalised.providerEventType,
        ...(canonicalType ? { canonicalType } : {}),
        status: 'received',
        occurredAt,
        receivedAt: nowIso,
        updatedAt: nowIso,
        leaseUntil,
        deliveryCount: 1,
        expiresAt: Math.floor(now.getTime() / 1000) + deps.settings.dedupeWindowSeconds,
      },
      now.getTime(),
    );
  } catch (cause) {
    throw new NotDurableError(
      'ledger_unavailable',
      'The delivery ledger could not be written, so the event was not accepted. Retry the delivery.',
      { cause },
    );
  }

  if (claim.outcome === 'duplicate') {
    return {
      status: 'duplicate',
      eventId,
      providerEventType: normalised.providerEventType,
      ledgerStatus: claim.entry.status,
      firstReceivedAt: claim.entry.receivedAt,
    };
  }
  if (claim.outcome === 'in_progress') {
    throw new DeliveryInProgressError(
      'delivery_in_progress',
      `Another delivery of event ${eventId} is being accepted right now. Retry in a few seconds.`,
    );
  }

  const recovered = claim.entry.deliveryCount > 1;
  if (applicable === undefined) {
    // No lease check: recording queues nothing, and a confirmation after a takeover changes nothing.
    await confirmOrRelease(deps, { eventId, sourceId: source.config.id }, leaseUntil, 'recorded', nowIso);
    return {
      status: 'accepted',
      action: 'recorded',
      eventId,
      providerEventType: normalised.providerEventType,
      recovered,
      ledgerConfirmed: true,
    };
  }

  const claimedAt = deps.clock.now().getTime();
  if (leaseUntil - claimedAt < deps.settings.minLeaseLeftMs) {
    // The lease was set before the write and runs on regardless; give back what is left of it, if anything.
    await deps.ledger.release(eventId, leaseUntil).catch(() => undefined);
    throw new NotDurableError(
      'ledger_too_slow',
      `The delivery ledger took ${claimedAt - now.getTime()} ms to claim event ${eventId}, leaving less than the ` +
        `${deps.settings.minLeaseLeftMs} ms of its ${deps.settings.claimLeaseMs} ms lease needed to queue it ` +
        'safely, so it was not queued. Retry the delivery; it will not be duplicated.',
    );
  }

  const event =
    claim.entry.receivedAt === applicable.receivedAt
      ? applicable
      : ({ ...applicable, receivedAt: claim.entry.receivedAt } as CanonicalEvent);

  let messageId: string;
  let body: string;
  try {
    ({ messageId, body } = await deps.queue.enqueue(event));
  } catch (cause) {
    // Give the claim back so that the sender's retry enqueues at once instead of waiting out the lease.
    await deps.ledger.release(eventId, leaseUntil).catch(() => undefined);
    throw new NotDurableError(
      'enqueue_failed',
      `Event ${eventId} could not be queued, so it was not accepted. Retry the delivery; it will not be duplicated.`,
      { cause },
    );
  }
  // The event is durable on the queue from here on. If the confirmation fails the entry stays `received`,
  // and a later retry would enqueue it again: the consumer's own idempotency absorbs that. The ledger keeps the
  // body as queued, for replay: the string SQS was sent, not a second serialisation.
  const ref = { eventId, sourceId: source.config.id };
  const ledgerConfirmed = await deps.ledger.confirm(ref, 'enqueued', nowIso, messageId, body).then(
    () => true,
    () => false,
  );
  return {
    status: 'accepted',
    action: 'enqueued',
    eventId,
    providerEventType: normalised.providerEventType,
    type: event.type,
    recovered,
    ledgerConfirmed,
  };
}

async function confirmOrRelease(
  deps: IngestDependencies,
  ref: LedgerRef,
  leaseUntil: number,
  status: 'recorded',
  at: string,
): Promise<void> {
  try {
    await deps.ledger.confirm(ref, status, at);
  } catch (cause) {
    await deps.ledger.release(ref.eventId, leaseUntil).catch(() => undefined);
    throw new NotDurableError(
      'ledger_unavailable',
      'The delivery ledger could not be updated, so the event was not accepted. Retry the delivery.',
      { cause },
    );
  }
}
