import { hexBodyHmacSign, isoDateAfter } from './signing';
import type { Sender } from './types';

/** Signs as the OTA does: lower-case hex HMAC-SHA256 of the raw body, no timestamp header. */
export const otaSender: Sender = {
  kind: 'ota',
  sampleTypes: ['rate_update'],

  sign: hexBodyHmacSign('X-OTA-Signature'),

  sample(type, now, uniqueId) {
    if (type !== 'rate_update') throw new Error(`The OTA sends only rate_update, not ${type}.`);
    return {
      event_id: uniqueId(),
      property_id: 'HOTEL001',
      rate_plan_code: 'BAR',
      room_type_code: 'DBL-STD',
      base_rate: '149.00',
      currency: 'EUR',
      effective_date: isoDateAfter(now, 14),
      event_timestamp: now.toISOString(),
      availability: 4,
    };
  },
};
