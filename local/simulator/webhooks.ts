import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { formatPath } from '../../lambdas/config/load';
import { type Clock, systemClock } from '../../lambdas/shared/clock';
import { channelManagerSender } from '../senders/channel-manager';
import { nightKey, type RandomSource, type RoomNight } from './dataset';

/**
 * Pushes the simulator's changes to a ParitySync edge as a channel manager would (signed `rate_update`
 * deliveries, one per changed night) while deliberately losing a seeded share of them. The data set then
 * holds values the edge never heard about: real drift, of a known size and on known keys, for
 * reconciliation to find and correct.
 */

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
  /** The channel manager's HMAC secret (or RSA private key PEM), as configured for that source. */
  readonly secret: string;
}

export interface SendDeliveriesOptions extends DeliverySettings {
  /** Base URL of a running edge, e.g. `http://127.0.0.1:3000`. */
  readonly edgeUrl: string;
  readonly source: DeliverySource;
  readonly changes: readonly RoomNight[];
  /** One draw per change, in the order given: below `dropRate` means dropped. Seeded, so drops replay. */
  readonly random: RandomSource;
  /** The send time in X-Channel-Timestamp, which the edge bounds against its own clock. @default systemClock */
  readonly clock?: Clock;
}

export interface DeliveryFailure {
  readonly key: string;
  /** The edge's status, absent when no answer came (refused connection, timeout). */
  readonly status?: number;
  readonly message: string;
}

export interface DeliveryReport {
  /** Accepted by the edge (2xx). */
  readonly sent: number;
  /** Deliberately not sent. */
  readonly dropped: number;
  /** Sent but not accepted: an error status or no answer; each is listed in `failures`. */
  readonly failed: number;
  /** Keys of the nights deliberately not delivered, in the order of `changes`. */
  readonly droppedKeys: readonly string[];
  readonly failures: readonly DeliveryFailure[];
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
  const { restrictions } = night;
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
    restrictions: {
      min_length_of_stay: restrictions.minLengthOfStay,
      ...(restrictions.maxLengthOfStay === undefined
        ? {}
        : { max_length_of_stay: restrictions.maxLengthOfStay }),
      closed_to_arrival: restrictions.closedToArrival,
      closed_to_departure: restrictions.closedToDeparture,
      stop_sell: restrictions.stopSell,
    },
  };
}

async function deliver(
  url: string,
  night: RoomNight,
  options: { source: DeliverySource; channelId: string; clock: Clock; timeoutMs: number },
): Promise<DeliveryFailure | undefined> {
  const key = nightKey(night);
  const body = Buffer.from(JSON.stringify(toRateUpdate(night, options.channelId)));
  const headers = channelManagerSender.sign(body, { secret: options.source.secret, at: options.clock.now() });
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    const text = await response.text();
    if (response.ok) return undefined;
    return { key, status: response.status, message: text.slice(0, 500) };
  } catch (error) {
    return { key, message: error instanceof Error ? error.message : String(error) };
  }
}

export async function sendDeliveries(options: SendDeliveriesOptions): Promise<DeliveryReport> {
  const parsed = z.safeParse(DeliverySettingsSchema, options);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
    throw new RangeError(`Invalid delivery options: ${problems.join('; ')}`);
  }
  const settings = parsed.data;
  const url = `${options.edgeUrl.replace(/\/+$/, '')}/webhooks/${encodeURIComponent(options.source.id)}`;
  const clock = options.clock ?? systemClock;

  // Drops are decided up front, in order, so they depend on the seed alone and not on delivery timing.
  const droppedKeys: string[] = [];
  const toSend: RoomNight[] = [];
  for (const night of options.changes) {
    if (options.random() < settings.dropRate) droppedKeys.push(nightKey(night));
    else toSend.push(night);
  }

  const failures: DeliveryFailure[] = [];
  let next = 0;
  const worker = async () => {
    while (next < toSend.length) {
      const night = toSend[next++] as RoomNight;
      const failure = await deliver(url, night, {
        source: options.source,
        channelId: settings.channelId,
        clock,
        timeoutMs: settings.timeoutMs,
      });
      if (failure) failures.push(failure);
    }
  };
  await Promise.all(Array.from({ length: Math.min(settings.concurrency, toSend.length) }, worker));

  return {
    sent: toSend.length - failures.length,
    dropped: droppedKeys.length,
    failed: failures.length,
    droppedKeys,
    failures,
  };
}
