import { createHmac, sign as rsaSign } from 'node:crypto';
import { isoDateAfter, unixSeconds } from './signing';
import type { Sender } from './types';

/**
 * Signs as a channel manager does: the raw body alone, as lower-case hex HMAC-SHA256 with the shared secret,
 * or, when the secret is a PEM private key, as base64 RSASSA-PKCS1-v1_5 SHA-256. The send time travels
 * unsigned in X-Channel-Timestamp.
 */
export const channelManagerSender: Sender = {
  kind: 'channel-manager',
  sampleTypes: ['rate_update'],

  sign(body, { secret, at }) {
    const signature = secret.includes('-----BEGIN')
      ? rsaSign('sha256', body, secret).toString('base64')
      : createHmac('sha256', secret).update(body).digest('hex');
    return {
      'Content-Type': 'application/json',
      'X-Channel-Signature': signature,
      'X-Channel-Timestamp': String(unixSeconds(at)),
    };
  },

  sample(type, now, uniqueId) {
    if (type !== 'rate_update') throw new Error(`A channel manager sends only rate_update, not ${type}.`);
    return {
      event_id: uniqueId(),
      channel_id: 'CH-BOOKING',
      property_id: 'HOTEL001',
      rate_plan_code: 'BAR',
      room_type_external_id: 'DBL-STD',
      date_range: [isoDateAfter(now, 7), isoDateAfter(now, 9)],
      currency: 'EUR',
      base_rate: 129.99,
      inventory_count: 5,
      restrictions: { min_length_of_stay: 2, closed_to_arrival: false, closed_to_departure: false },
    };
  },
};
