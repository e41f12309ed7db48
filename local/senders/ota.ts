import { createHmac } from 'node:crypto';
import type { Sender } from './types';

const DAY_MS = 86_400_000;

/** Signs as the OTA does: lower-case hex HMAC-SHA256 of the raw body, no timestamp header. */
export const otaSender: Sender = {
  kind: 'ota',
  sampleTypes: ['rate_update'],

  sign(body, { secret }) {
    return {
      'Content-Type': 'application/json',
      'X-OTA-Signature': createHmac('sha256', secret).update(body).digest('hex'),
    };
  },

  sample(type, now, uniqueId) {
    if (type !== 'rate_update') throw new Error(`The OTA sends only rate_update, not ${type}.`);
    return {
      event_id: uniqueId(),
      property_id: 'HOTEL001',
      rate_plan_code: 'BAR',
      room_type_code: 'DBL-STD',
      base_rate: '149.00',
      currency: 'EUR',
      effective_date: new Date(now.getTime() + 14 * DAY_MS).toISOString().slice(0, 10),
      event_timestamp: now.toISOString(),
      availability: 4,
    };
  },
};
