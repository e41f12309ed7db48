import { createHash, createHmac } from 'node:crypto';
import { type KindFixture, type Sample, schemaBreak } from '../fixture';

const SECRETS = [
  '6wr3IQZpH9n/DjDvunaUL6Yb4VdsqkqfM8+Mx9hCTWw=',
  'g9K+86oqIo7kJVbp772x20i5vsHjPDKikGHb6X/y98o=',
] as const;

// The PMS signs no timestamp, so the edge bounds the envelope's own timestamp against its clock: the samples
// are dated a minute before the suite runs rather than at a fixed instant.
const SENT_AT = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000).toISOString();

/** Personal data the guest sample carries; none of it may appear in the canonical event. */
export const GUEST_PERSONAL_DATA = {
  firstName: 'Margarethe',
  lastName: 'Vandersloot',
  email: 'margarethe.vandersloot@example.com',
  phone: '+4915550123456',
  salutation: 'Mrs',
  dateOfBirth: '1979-08-23',
} as const;

function serialise(envelope: Record<string, unknown>): string {
  return JSON.stringify(envelope);
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const GUEST_CREATED = serialise({
  event: 'guest.created',
  timestamp: SENT_AT,
  data: {
    hotelCode: 'HOTEL001',
    reservationId: 12345,
    guest: { id: 'guest-123', ...GUEST_PERSONAL_DATA },
  },
  metadata: { source: 'pms-api', version: '1.0' },
});

const RESERVATION_CREATED = serialise({
  event: 'reservation.created',
  timestamp: SENT_AT,
  data: {
    hotelCode: 'HOTEL001',
    reservationId: 'R-2026-0042',
    arrivalDate: '2026-12-20',
    departureDate: '2026-12-23',
    roomType: 'DBL-STD',
    roomNumber: null,
    channel: 'direct',
    guest: { id: 'guest-123', lastName: GUEST_PERSONAL_DATA.lastName },
    notes: 'late arrival',
  },
  metadata: { source: 'pms-api', version: '1.0' },
});

const RESERVATION_CHECKED_IN = serialise({
  event: 'reservation.checked_in',
  timestamp: SENT_AT,
  data: { hotelCode: 'HOTEL001', reservationId: 12345, checkInTime: SENT_AT, roomNumber: 101 },
});

const GUEST_DELETED = serialise({
  event: 'guest.deleted',
  timestamp: SENT_AT,
  data: { hotelCode: 'HOTEL001', guestId: 'guest-123' },
});

const TOKEN_EXPIRED = serialise({
  event: 'service.token_expired',
  timestamp: SENT_AT,
  data: { message: 'The service token expires in 7 days.' },
  metadata: { source: 'pms-api', version: '1.0' },
});

const ACCESS_REVOKED = serialise({
  event: 'service.access_revoked',
  timestamp: SENT_AT,
  data: { operation: 'reservations.read' },
});

function applies(
  name: string,
  body: string,
  providerEventType: string,
  type: 'guest.change' | 'reservation.change' | 'service.notice',
  data: Record<string, unknown>,
): Sample {
  return {
    name,
    body,
    expect: {
      disposition: 'apply',
      providerEventType,
      type,
      data,
      idempotencyKey: sha256Hex(body),
      occurredAt: SENT_AT,
    },
  };
}

const VALID_GUEST = {
  event: 'guest.updated',
  timestamp: SENT_AT,
  data: { hotelCode: 'HOTEL001', reservationId: 12345, guest: { id: 'guest-123', ...GUEST_PERSONAL_DATA } },
};

const VALID_RESERVATION = {
  event: 'reservation.updated',
  timestamp: SENT_AT,
  data: {
    hotelCode: 'HOTEL001',
    reservationId: 12345,
    arrivalDate: '2026-12-20',
    departureDate: '2026-12-23',
  },
};

export const fixture: KindFixture = {
  kind: 'pms',
  source: { id: 'pms-main', kind: 'pms', secrets: SECRETS.map((value) => ({ value })) },
  sign(body, { secret = SECRETS[0] }) {
    return {
      'content-type': 'application/json',
      'x-webhook-signature': createHmac('sha256', secret).update(body).digest('hex'),
    };
  },
  requiredHeaders: [{ name: 'x-webhook-signature', status: 401, code: 'missing_signature' }],
  signsTimestamp: false,
  samples: [
    applies('guest created, with personal data', GUEST_CREATED, 'guest.created', 'guest.change', {
      guestExternalId: 'guest-123',
      change: 'created',
      propertyExternalId: 'HOTEL001',
      reservationExternalId: '12345',
    }),
    applies('guest deleted without a reservation', GUEST_DELETED, 'guest.deleted', 'guest.change', {
      guestExternalId: 'guest-123',
      change: 'deleted',
      propertyExternalId: 'HOTEL001',
    }),
    applies('reservation created', RESERVATION_CREATED, 'reservation.created', 'reservation.change', {
      reservationExternalId: 'R-2026-0042',
      propertyExternalId: 'HOTEL001',
      status: 'confirmed',
      arrivalDate: '2026-12-20',
      departureDate: '2026-12-23',
      roomTypeExternalId: 'DBL-STD',
      channel: 'direct',
      guestExternalId: 'guest-123',
    }),
    applies(
      'reservation checked in',
      RESERVATION_CHECKED_IN,
      'reservation.checked_in',
      'reservation.change',
      {
        reservationExternalId: '12345',
        propertyExternalId: 'HOTEL001',
        status: 'checked_in',
        roomNumber: '101',
      },
    ),
    applies('service token expiring', TOKEN_EXPIRED, 'service.token_expired', 'service.notice', {
      notice: 'token_expired',
      detail: 'The service token expires in 7 days.',
    }),
    applies('service access revoked', ACCESS_REVOKED, 'service.access_revoked', 'service.notice', {
      notice: 'access_revoked',
      detail: 'reservations.read',
    }),
  ],
  breakages: [
    {
      name: 'event type the PMS does not define',
      body: { ...VALID_GUEST, event: 'guest.merged' },
      status: 422,
      code: 'unknown_event_type',
      fields: ['event'],
    },
    schemaBreak('event not a string', { ...VALID_GUEST, event: 42 }, ['event']),
    schemaBreak('timestamp without a zone', { ...VALID_GUEST, timestamp: '2026-12-01T10:00:00' }, [
      'timestamp',
    ]),
    schemaBreak('data missing', { event: 'guest.updated', timestamp: SENT_AT }, ['data']),
    schemaBreak(
      'guest without an id',
      { ...VALID_GUEST, data: { hotelCode: 'HOTEL001', reservationId: 1, guest: { firstName: 'A' } } },
      ['data.guest.id'],
    ),
    schemaBreak(
      'hotelCode missing',
      { ...VALID_GUEST, data: { ...VALID_GUEST.data, hotelCode: undefined } },
      ['data.hotelCode'],
    ),
    schemaBreak(
      'reservationId negative',
      { ...VALID_RESERVATION, data: { ...VALID_RESERVATION.data, reservationId: -5 } },
      ['data.reservationId'],
    ),
    schemaBreak(
      'departure before arrival',
      { ...VALID_RESERVATION, data: { ...VALID_RESERVATION.data, departureDate: '2026-12-19' } },
      ['data.departureDate'],
    ),
    schemaBreak(
      'arrival date impossible',
      { ...VALID_RESERVATION, data: { ...VALID_RESERVATION.data, arrivalDate: '2026-11-31' } },
      ['data.arrivalDate'],
    ),
    schemaBreak('metadata not an object', { ...VALID_RESERVATION, metadata: 'pms-api' }, ['metadata']),
    {
      name: 'signature with a scheme prefix',
      body: VALID_RESERVATION,
      headers: (signed) => ({ ...signed, 'x-webhook-signature': `sha256=${signed['x-webhook-signature']}` }),
      status: 401,
      code: 'invalid_signature',
    },
    {
      name: 'signature truncated',
      body: VALID_RESERVATION,
      headers: (signed) => ({
        ...signed,
        'x-webhook-signature': (signed['x-webhook-signature'] ?? '').slice(2),
      }),
      status: 401,
      code: 'invalid_signature',
    },
  ],
};
