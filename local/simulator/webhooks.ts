import { createHash, randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import type { SourceKind } from '../../lambdas/domain/canonical';
import { type Clock, systemClock } from '../../lambdas/shared/clock';
import { formatPath } from '../../lambdas/shared/problems';
import { senderFor } from '../senders';
import {
  canonicalRestrictions,
  nightKey,
  providerRestrictions,
  type RandomSource,
  type RoomNight,
} from './dataset';

/**
 * Pushes the simulator's changes to a ParitySync edge as a provider would (signed deliveries, one per changed
 * night, as a channel manager's `rate_update`, an OTA's rate event or a Standard Webhooks `ari.updated`)
 * while deliberately losing a seeded share of them. The data set then holds values the edge never heard
 * about: real drift, of a known size and on known keys, for reconciliation to find and correct.
 * `sendSampleEvents` drives any kind, including those that never carry room nights, as a stream of its
 * sample events with the same seeded losses.
 */

/** The kinds whose deliveries carry a room night's rate, availability and restrictions. */
export const ARI_DELIVERY_KINDS = ['channel-manager', 'ota', 'standard-webhooks'] as const;
export type AriDeliveryKind = (typeof ARI_DELIVERY_KINDS)[number];

export const DeliverySettingsSchema = z.object({
  /** Share of changes never sent, as if the provider's delivery had been lost for good. */
  dropRate: z.number().check(z.minimum(0), z.maximum(1)),
  /** The channel the updates claim to come from. */
  channelId: z._default(z.string().check(z.minLength(1), z.maxLength(200)), 'CH-SIMULATOR'),
  /** Deliveries in flight at once. */
  concurrency: z._default(z.int().check(z.minimum(1), z.maximum(64)), 4),
  /** Per-delivery timeout, in milliseconds. */
  timeoutMs: z._default(z.int().check(z.minimum(1), z.maximum(120_000)), 10_000),
});
export type DeliverySettings = z.input<typeof DeliverySettingsSchema>;

export interface DeliverySource {
  /** The source id in ParitySync's configuration: deliveries go to `/webhooks/<id>`. */
  readonly id: string;
  /**
   * The source's kind in ParitySync's configuration, which decides the payload and the signature.
   * @default 'channel-manager'
   */
  readonly kind?: AriDeliveryKind;
  /**
   * The signing secret as configured for that source: the channel manager's HMAC secret (or RSA private key
   * PEM), the OTA's HMAC secret, or the Standard Webhooks `whsec_` secret.
   */
  readonly secret: string;
}

export interface SendDeliveriesOptions extends DeliverySettings {
  /** Base URL of a running edge, e.g. `http://127.0.0.1:3000`. */
  readonly edgeUrl: string;
  readonly source: DeliverySource;
  readonly changes: readonly RoomNight[];
  /** One draw per change, in the order given: below `dropRate` means dropped. Seeded, so drops replay. */
  readonly random: RandomSource;
  /**
   * The send time (X-Channel-Timestamp, the OTA's event_timestamp, webhook-timestamp), which the edge bounds
   * against its own clock. @default systemClock
   */
  readonly clock?: Clock;
}

export interface DeliveryFailure {
  /** The night's key for room-night deliveries; the event's id for sample events. */
  readonly key: string;
  /** The edge's status, absent when no answer came (refused connection, timeout). */
  readonly status?: number;
  readonly message: string;
}

/** What a run of deliveries came to. */
export interface DeliveryTally {
  /** Accepted by the edge (2xx). */
  readonly sent: number;
  /** Deliberately not sent. */
  readonly dropped: number;
  /** Sent but not accepted: an error status or no answer; each is listed in `failures`. */
  readonly failed: number;
  readonly failures: readonly DeliveryFailure[];
}

export interface DeliveryReport extends DeliveryTally {
  /** Keys of the nights deliberately not delivered, in the order of `changes`. */
  readonly droppedKeys: readonly string[];
}

/**
 * The same change always gets the same id, so a re-send is deduplicated by the edge like a provider retry,
 * while a later change of the same night (new updated_at) is a new event.
 */
export function eventIdFor(night: RoomNight): string {
  return `sim-${createHash('sha256')
    .update(`${nightKey(night)}|${night.updatedAt}`)
    .digest('hex')
    .slice(0, 32)}`;
}

/** A channel manager's `rate_update` for one stay date. */
export function toRateUpdate(night: RoomNight, channelId: string): Record<string, unknown> {
  return {
    event_id: eventIdFor(night),
    channel_id: channelId,
    property_id: night.propertyId,
    rate_plan_code: night.ratePlanCode,
    room_type_external_id: night.roomTypeCode,
    date_range: [night.date, night.date],
    currency: night.currency,
    // Channel managers send a JSON number. Number() of a two-place decimal serialises back to the same text
    // (shortest round-trip form), so the edge, which reads numbers through that text, gets the exact amount.
    base_rate: Number(night.baseRate),
    inventory_count: night.availability,
    restrictions: providerRestrictions(night.restrictions),
  };
}

/**
 * An OTA's rate event for one stay date. The event time is the send time, as a channel manager's
 * X-Channel-Timestamp is: the edge refuses a payload dated beyond its replay window, and a data set may be
 * older than that. The event id still names the change, so a re-send is a duplicate.
 */
export function toOtaRateEvent(night: RoomNight, sentAt: Date): Record<string, unknown> {
  return {
    event_id: eventIdFor(night),
    property_id: night.propertyId,
    rate_plan_code: night.ratePlanCode,
    room_type_code: night.roomTypeCode,
    // The decimal string itself: the edge reads it exactly, with no number round trip to reason about.
    base_rate: night.baseRate,
    currency: night.currency,
    effective_date: night.date,
    event_timestamp: sentAt.toISOString(),
    availability: night.availability,
  };
}

/**
 * A Standard Webhooks `ari.updated` in ParitySync's own vocabulary for one stay date. The idempotency key
 * is the `webhook-id` header (see `eventIdFor`), not part of the payload.
 */
export function toAriUpdated(night: RoomNight, channelId: string, sentAt: Date): Record<string, unknown> {
  const { restrictions } = night;
  return {
    type: 'ari.updated',
    timestamp: sentAt.toISOString(),
    data: {
      channelId,
      propertyId: night.propertyId,
      roomTypeId: night.roomTypeCode,
      ratePlanId: night.ratePlanCode,
      dateFrom: night.date,
      dateTo: night.date,
      rate: { amount: night.baseRate, currency: night.currency },
      availability: night.availability,
      restrictions: canonicalRestrictions(restrictions),
    },
  };
}

function nightPayload(
  kind: AriDeliveryKind,
  night: RoomNight,
  channelId: string,
  sentAt: Date,
): Record<string, unknown> {
  switch (kind) {
    case 'channel-manager':
      return toRateUpdate(night, channelId);
    case 'ota':
      return toOtaRateEvent(night, sentAt);
    case 'standard-webhooks':
      return toAriUpdated(night, channelId, sentAt);
  }
}

/** Posts signed bytes; undefined when the edge accepted them (2xx). */
async function post(
  url: string,
  key: string,
  body: Buffer,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<DeliveryFailure | undefined> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    if (response.ok) return undefined;
    return { key, status: response.status, message: text.slice(0, 500) };
  } catch (error) {
    return { key, message: error instanceof Error ? error.message : String(error) };
  }
}

function deliverNight(
  url: string,
  night: RoomNight,
  options: { kind: AriDeliveryKind; secret: string; channelId: string; clock: Clock; timeoutMs: number },
): Promise<DeliveryFailure | undefined> {
  const at = options.clock.now();
  const body = Buffer.from(JSON.stringify(nightPayload(options.kind, night, options.channelId, at)));
  // The id only reaches schemes that send one (Standard Webhooks' webhook-id, the idempotency key there).
  const headers = senderFor(options.kind).sign(body, { secret: options.secret, at, id: eventIdFor(night) });
  return post(url, nightKey(night), body, headers, options.timeoutMs);
}

function parseSettings<T extends z.core.$ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const parsed = z.safeParse(schema, input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  throw new RangeError(`Invalid ${what}: ${problems.join('; ')}`);
}

function webhookUrl(edgeUrl: string, sourceId: string): string {
  return `${edgeUrl.replace(/\/+$/, '')}/webhooks/${encodeURIComponent(sourceId)}`;
}

/**
 * Sends the items a draw of `random` below `dropRate` does not drop, at most `concurrency` at once. Drops are
 * decided up front, one draw per item in order, so that they depend on the seed alone and not on delivery timing.
 */
async function sendWithDrops<T>(
  items: Iterable<T>,
  options: { readonly random: RandomSource; readonly dropRate: number; readonly concurrency: number },
  send: (item: T) => Promise<DeliveryFailure | undefined>,
): Promise<{ tally: DeliveryTally; droppedItems: T[]; sentItems: T[] }> {
  const droppedItems: T[] = [];
  const sentItems: T[] = [];
  for (const item of items) {
    if (options.random() < options.dropRate) droppedItems.push(item);
    else sentItems.push(item);
  }
  const failures: DeliveryFailure[] = [];
  let next = 0;
  const worker = async () => {
    while (next < sentItems.length) {
      const failure = await send(sentItems[next++] as T);
      if (failure) failures.push(failure);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, sentItems.length) }, worker));
  const tally = {
    sent: sentItems.length - failures.length,
    dropped: droppedItems.length,
    failed: failures.length,
    failures,
  };
  return { tally, droppedItems, sentItems };
}

export async function sendDeliveries(options: SendDeliveriesOptions): Promise<DeliveryReport> {
  const settings = parseSettings(DeliverySettingsSchema, options, 'delivery options');
  const kind = options.source.kind ?? 'channel-manager';
  if (!(ARI_DELIVERY_KINDS as readonly string[]).includes(kind)) {
    throw new RangeError(
      `A ${kind} source cannot carry room nights; use ${ARI_DELIVERY_KINDS.join(', ')}, or sendSampleEvents.`,
    );
  }
  const url = webhookUrl(options.edgeUrl, options.source.id);
  const clock = options.clock ?? systemClock;

  const { tally, droppedItems } = await sendWithDrops(
    options.changes,
    { random: options.random, dropRate: settings.dropRate, concurrency: settings.concurrency },
    (night) =>
      deliverNight(url, night, {
        kind,
        secret: options.source.secret,
        channelId: settings.channelId,
        clock,
        timeoutMs: settings.timeoutMs,
      }),
  );
  return { ...tally, droppedKeys: droppedItems.map(nightKey) };
}

export const SampleEventSettingsSchema = z.object({
  /** How many events to produce, dropped ones included. */
  count: z.int().check(z.minimum(0), z.maximum(100_000)),
  /** Share of events never sent. */
  dropRate: z.number().check(z.minimum(0), z.maximum(1)),
  /** Event types in the provider's vocabulary, used in turn; the sender's whole list when absent. */
  types: z.optional(z.array(z.string().check(z.minLength(1), z.maxLength(100))).check(z.minLength(1))),
  concurrency: z._default(z.int().check(z.minimum(1), z.maximum(64)), 4),
  timeoutMs: z._default(z.int().check(z.minimum(1), z.maximum(120_000)), 10_000),
});
export type SampleEventSettings = z.input<typeof SampleEventSettingsSchema>;

export interface SampleEventSource {
  readonly id: string;
  readonly kind: SourceKind;
  /** The signing secret (or private key PEM) as configured for that source. */
  readonly secret: string;
}

export interface SendSampleEventsOptions extends SampleEventSettings {
  readonly edgeUrl: string;
  readonly source: SampleEventSource;
  /** One draw per event, in order: below `dropRate` means dropped. Seeded, so drops replay. */
  readonly random: RandomSource;
  /** Sample timestamps and signing time. @default systemClock */
  readonly clock?: Clock;
  /** The id of each event, in order. @default `sim-<random UUID>`, so a new run never repeats an event */
  readonly eventId?: () => string;
}

/** A failure's `key` is the event's id. */
export interface SampleEventReport extends DeliveryTally {
  /** Ids of the events deliberately not sent, in order. */
  readonly droppedEventIds: readonly string[];
  /** Ids of the events sent (accepted or failed), in order. */
  readonly sentEventIds: readonly string[];
}

/**
 * Sends `count` signed sample events of the source's kind, its types in turn, losing a seeded share. Each
 * event has one id, which fills every id its sample draws and, for schemes that send one, the delivery or
 * message id header, so an event can be traced (or shown missing) on the edge's side.
 */
export async function sendSampleEvents(options: SendSampleEventsOptions): Promise<SampleEventReport> {
  const settings = parseSettings(SampleEventSettingsSchema, options, 'sample event options');
  const sender = senderFor(options.source.kind);
  const types = settings.types ?? sender.sampleTypes;
  const unknown = types.filter((type) => !sender.sampleTypes.includes(type));
  if (unknown.length > 0) {
    throw new RangeError(
      `A ${options.source.kind} source sends ${sender.sampleTypes.join(', ')}; ` +
        `${unknown.map((type) => JSON.stringify(type)).join(', ')} is not one of them.`,
    );
  }
  const url = webhookUrl(options.edgeUrl, options.source.id);
  const clock = options.clock ?? systemClock;
  const nextEventId = options.eventId ?? (() => `sim-${randomUUID()}`);

  // Generated lazily, so that each event's id is drawn just before its drop, as the caller's `eventId` expects.
  function* events() {
    for (let index = 0; index < settings.count; index++) {
      yield { id: nextEventId(), type: types[index % types.length] as string };
    }
  }
  const { tally, droppedItems, sentItems } = await sendWithDrops(
    events(),
    { random: options.random, dropRate: settings.dropRate, concurrency: settings.concurrency },
    async (event) => {
      const at = clock.now();
      const body = Buffer.from(JSON.stringify(sender.sample(event.type, at, () => event.id)));
      const headers = sender.sign(body, { secret: options.source.secret, at, id: event.id });
      return post(url, event.id, body, headers, settings.timeoutMs);
    },
  );
  return {
    ...tally,
    droppedEventIds: droppedItems.map((event) => event.id),
    sentEventIds: sentItems.map((event) => event.id),
  };
}
