import { createHash, createHmac } from 'node:crypto';
import { isoDateAfter, unixSeconds } from './signing';
import type { Sender } from './types';

/** A `whsec_` secret's key bytes; a secret without the prefix is the bare base64. */
function secretKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
}

/**
 * The message id for a body when the caller gives none: derived from the bytes, so that sending the same
 * body again is a retry of the same message, as the specification means retries to be.
 */
export function messageIdFor(body: Buffer): string {
  return `msg_${createHash('sha256').update(body).digest('hex').slice(0, 26)}`;
}

const SAMPLE_TYPES = [
  'ari.updated',
  'reservation.created',
  'reservation.updated',
  'reservation.cancelled',
  'reservation.checked_in',
  'reservation.checked_out',
  'invoice.paid',
] as const;

/**
 * Signs as a Standard Webhooks sender does: `v1,<base64 HMAC-SHA256>` over `<id>.<timestamp>.<body>` with
 * the `whsec_` secret's decoded bytes, in `webhook-signature`, next to `webhook-id` and `webhook-timestamp`.
 * Samples use ParitySync's native vocabulary, plus one type a generic sender emits that ParitySync only
 * records.
 */
export const standardWebhooksSender: Sender = {
  kind: 'standard-webhooks',
  sampleTypes: SAMPLE_TYPES,

  sign(body, { secret, at, id }) {
    const messageId = id ?? messageIdFor(body);
    const timestamp = unixSeconds(at);
    const signature = createHmac('sha256', secretKey(secret))
      .update(`${messageId}.${timestamp}.`)
      .update(body)
      .digest('base64');
    return {
      'content-type': 'application/json',
      'webhook-id': messageId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': `v1,${signature}`,
    };
  },

  sample(type, now, uniqueId) {
    const timestamp = now.toISOString();
    if (type === 'ari.updated') {
      return {
        type,
        timestamp,
        data: {
          channelId: 'direct',
          propertyId: 'HOTEL001',
          roomTypeId: 'DBL-STD',
          ratePlanId: 'BAR',
          dateFrom: isoDateAfter(now, 30),
          dateTo: isoDateAfter(now, 36),
          rate: { amount: '129.00', currency: 'EUR' },
          availability: 4,
          restrictions: { minLengthOfStay: 2, closedToArrival: false },
        },
      };
    }
    if (type.startsWith('reservation.')) {
      if (!SAMPLE_TYPES.includes(type as (typeof SAMPLE_TYPES)[number])) {
        throw new Error(`There is no ${type} sample; choose one of ${SAMPLE_TYPES.join(', ')}.`);
      }
      return {
        type,
        timestamp,
        data: {
          reservationId: `RES-${uniqueId()}`,
          propertyId: 'HOTEL001',
          roomTypeId: 'DBL-STD',
          arrivalDate: isoDateAfter(now, 21),
          departureDate: isoDateAfter(now, 24),
          channel: 'direct',
          total: { amount: '387.00', currency: 'EUR' },
        },
      };
    }
    if (type === 'invoice.paid') {
      return { type, timestamp, data: { invoiceId: `inv_${uniqueId()}`, amount: '42.00', currency: 'EUR' } };
    }
    throw new Error(`There is no ${type} sample; choose one of ${SAMPLE_TYPES.join(', ')}.`);
  },
};
