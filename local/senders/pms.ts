import { hexBodyHmacSign, isoDateAfter } from './signing';
import type { Sender } from './types';

const EVENT_TYPES = [
  'reservation.created',
  'reservation.updated',
  'reservation.cancelled',
  'reservation.checked_in',
  'reservation.checked_out',
  'guest.created',
  'guest.updated',
  'guest.deleted',
  'service.token_expired',
  'service.access_revoked',
] as const;

function dataFor(type: string, now: Date, uniqueId: () => string): Record<string, unknown> {
  const reservationId = uniqueId();
  switch (type) {
    case 'guest.created':
    case 'guest.updated':
      // Sample personal data is fictitious; it shows what the PMS sends and what the edge must drop.
      return {
        hotelCode: 'HOTEL001',
        reservationId,
        guest: {
          id: `guest-${uniqueId()}`,
          firstName: 'Jane',
          lastName: 'Example',
          email: 'jane.example@example.com',
          phone: '+15550100',
          salutation: 'Ms',
          dateOfBirth: '1985-04-12',
        },
      };
    case 'guest.deleted':
      return { hotelCode: 'HOTEL001', reservationId, guestId: `guest-${uniqueId()}` };
    case 'reservation.checked_in':
      return { hotelCode: 'HOTEL001', reservationId, checkInTime: now.toISOString(), roomNumber: '101' };
    case 'reservation.checked_out':
      return { hotelCode: 'HOTEL001', reservationId, checkOutTime: now.toISOString(), roomNumber: '101' };
    case 'service.token_expired':
      return { message: 'The service token expires in 7 days. Request a new one.' };
    case 'service.access_revoked':
      return { operation: 'reservations.read', message: 'Access to reservations.read was revoked.' };
    default:
      return {
        hotelCode: 'HOTEL001',
        reservationId,
        arrivalDate: isoDateAfter(now, 10),
        departureDate: isoDateAfter(now, 13),
        roomType: 'DBL-STD',
        channel: 'direct',
      };
  }
}

/** Signs as the PMS does: lower-case hex HMAC-SHA256 of the raw body in X-Webhook-Signature. */
export const pmsSender: Sender = {
  kind: 'pms',
  sampleTypes: EVENT_TYPES,

  sign: hexBodyHmacSign('X-Webhook-Signature'),

  sample(type, now, uniqueId) {
    if (!(EVENT_TYPES as readonly string[]).includes(type)) {
      throw new Error(`The PMS does not send ${type}; it sends ${EVENT_TYPES.join(', ')}.`);
    }
    return {
      event: type,
      timestamp: now.toISOString(),
      data: dataFor(type, now, uniqueId),
      metadata: { source: 'pms-api', version: '1.0' },
    };
  },
};
