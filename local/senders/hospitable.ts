import { randomBytes } from 'node:crypto';
import { hexBodyHmacSign, isoDateAfter } from './signing';
import type { Sender } from './types';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID: 48 bits of milliseconds then 80 random bits, as 26 Crockford base32 characters. */
export function ulid(at: Date, random: Uint8Array = randomBytes(16)): string {
  let time = at.getTime();
  let text = '';
  for (let i = 0; i < 10; i++) {
    text = CROCKFORD.charAt(time % 32) + text;
    time = Math.floor(time / 32);
  }
  // 256 is a multiple of 32, so each byte's low five bits are uniformly random.
  for (let i = 0; i < 16; i++) text += CROCKFORD.charAt((random[i] ?? 0) % 32);
  return text;
}

/** Check-in and check-out as the platform writes them: a local time with the property's offset. */
function localDateTime(now: Date, days: number, time: string): string {
  return `${isoDateAfter(now, days)}T${time}-04:00`;
}

const SAMPLE_TYPES = [
  'reservation.created',
  'reservation.updated',
  'property.updated',
  'property.merged',
  'message.created',
  'review.created',
] as const;

/**
 * Signs as the short-term-rental platform does: lower-case hex HMAC-SHA256 of the raw body in `Signature`,
 * no timestamp header. Samples carry the guest details the platform really sends, so that what the edge
 * drops can be seen.
 */
export const hospitableSender: Sender = {
  kind: 'hospitable',
  sampleTypes: SAMPLE_TYPES,

  sign: hexBodyHmacSign('Signature'),

  sample(type, now, uniqueId) {
    const envelope = { id: ulid(now), action: type, created: now.toISOString(), version: '1.0' };
    const property = { id: 'prop-seaside-loft', name: 'Seaside Loft' };
    const guest = {
      first_name: 'Ada',
      last_name: 'Example',
      email: 'ada.example@example.com',
      phone_numbers: ['+15555550100'],
    };
    switch (type) {
      case 'reservation.created':
      case 'reservation.updated':
        return {
          ...envelope,
          data: {
            id: uniqueId(),
            platform: 'airbnb',
            platform_id: `HM${uniqueId()}`,
            arrival_date: localDateTime(now, 14, '16:00:00'),
            departure_date: localDateTime(now, 17, '11:00:00'),
            nights: 3,
            reservation_status: { current: { category: 'accepted', sub_category: null } },
            properties: [property],
            guest,
          },
        };
      case 'property.updated':
        return { ...envelope, data: { ...property, timezone: 'America/New_York', listed: true } };
      case 'property.merged':
        return { ...envelope, data: { ...property, merged_ids: [`prop-${uniqueId()}`] } };
      case 'message.created':
        return {
          ...envelope,
          data: {
            reservation_id: uniqueId(),
            platform: 'airbnb',
            sender_type: 'guest',
            sender: { first_name: guest.first_name, email: guest.email },
            body: 'Hi! Could we check in an hour early? My number is +15555550100.',
            created_at: now.toISOString(),
          },
        };
      case 'review.created':
        return {
          ...envelope,
          data: {
            id: uniqueId(),
            platform: 'airbnb',
            public: { rating: 5, review: 'Lovely stay, thanks Ada!' },
            guest: { first_name: guest.first_name },
          },
        };
      default:
        throw new Error(`The platform sends ${SAMPLE_TYPES.join(', ')}; it has no ${type} sample.`);
    }
  },
};
