import { hospitableSender } from '../../../local/senders/hospitable';
import type { KindFixture } from '../fixture';

const CURRENT_SECRET = '2ra8aE40PZSGaO4elOf8MlODqmYSTx9naEKwSIdsaDQ=';
const NEXT_SECRET = 'p5NCEJ+o+YGsmeQDvjUJxXjh09IhhGU5el5s3696Pmc=';

const guest = {
  first_name: 'Ada',
  last_name: 'Example',
  email: 'ada.example@example.com',
  phone_numbers: ['+15555550100'],
};

const reservationCreated = {
  id: '01HZX4K9V6Q3M8T2R5N7P1W0YB',
  action: 'reservation.created',
  data: {
    id: 'b6f1c2d3-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
    platform: 'airbnb',
    platform_id: 'HMABCD1234',
    // Local check-in and check-out times: the stay dates are the dates as written, not their UTC dates.
    arrival_date: '2026-06-14T16:00:00-04:00',
    departure_date: '2026-06-17T23:30:00-04:00',
    nights: 3,
    reservation_status: { current: { category: 'accepted', sub_category: null }, history: [] },
    properties: [{ id: 'prop-seaside-loft', name: 'Seaside Loft' }],
    guest,
  },
  created: '2026-06-01T09:35:24Z',
  version: '1.0',
};

const reservationCancelled = {
  id: '01HZX4KA2B3C4D5E6F7G8H9J0K',
  action: 'reservation.updated',
  data: {
    id: 'b6f1c2d3-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
    property_id: 'prop-seaside-loft',
    platform: 'homeaway',
    arrival_date: '2026-06-14',
    departure_date: '2026-06-17',
    reservation_status: { current: { category: 'cancelled', sub_category: 'cancelled_by_guest' } },
    guest,
  },
  created: '2026-06-02T10:00:00Z',
  version: '1.0',
};

const reservationCheckedIn = {
  id: '01HZX4KB0000000000000000ZZ',
  action: 'reservation.updated',
  data: { id: 'c7a2d3e4-5f60-4b7c-9d8e-0f1a2b3c4d5e', status: 'checked_in' },
  created: '2026-06-14T20:05:00Z',
  version: '1.0',
};

const propertyUpdated = {
  id: '01HZX4KC5S6T7V8W9X0Y1Z2A3B',
  action: 'property.updated',
  data: { id: 'prop-seaside-loft', name: 'Seaside Loft', timezone: 'America/New_York', listed: true },
  created: '2026-06-03T07:00:00Z',
  version: '1.0',
};

const propertyMerged = {
  id: '01HZX4KD9E8F7G6H5J4K3M2N1P',
  action: 'property.merged',
  data: {
    id: 'prop-seaside-loft',
    merged_property_ids: [{ id: 'prop-old-listing' }, { id: 'prop-vrbo-copy' }],
  },
  created: '2026-06-04T07:00:00Z',
  version: '1.0',
};

const messageCreated = {
  id: '01HZX4KE1Q2R3S4T5V6W7X8Y9Z',
  action: 'message.created',
  data: {
    reservation_id: 'b6f1c2d3-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
    platform: 'airbnb',
    sender_type: 'guest',
    sender: { first_name: 'Ada', email: 'ada.example@example.com' },
    body: 'Hi! Could we check in an hour early? Call me on +15555550100.',
  },
  created: '2026-06-05T12:00:00Z',
  version: '1.0',
};

/**
 * The kind's published sender range (38.80.170.0/24) is applied by default, and the contract suite
 * delivers from inside it, so the source sets no allowlist of its own.
 */
export const fixture: KindFixture = {
  kind: 'hospitable',
  source: {
    id: 'hospitable',
    kind: 'hospitable',
    secrets: [{ value: CURRENT_SECRET }, { value: NEXT_SECRET }],
  },
  sign: (body, { at, secret }) =>
    hospitableSender.sign(body, { secret: secret ?? CURRENT_SECRET, at: new Date(at * 1000) }),
  requiredHeaders: [{ name: 'Signature', status: 401, code: 'missing_signature' }],
  signsTimestamp: false,
  samples: [
    {
      name: 'reservation.created with guest details',
      body: reservationCreated,
      expect: {
        disposition: 'apply',
        providerEventType: 'reservation.created',
        type: 'reservation.change',
        data: {
          reservationExternalId: 'b6f1c2d3-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
          propertyExternalId: 'prop-seaside-loft',
          status: 'confirmed',
          arrivalDate: '2026-06-14',
          departureDate: '2026-06-17',
          channel: 'airbnb',
        },
        idempotencyKey: '01HZX4K9V6Q3M8T2R5N7P1W0YB',
        occurredAt: '2026-06-01T09:35:24.000Z',
      },
    },
    {
      name: 'reservation.updated to cancelled',
      body: reservationCancelled,
      expect: {
        disposition: 'apply',
        providerEventType: 'reservation.updated',
        type: 'reservation.change',
        data: {
          reservationExternalId: 'b6f1c2d3-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
          propertyExternalId: 'prop-seaside-loft',
          status: 'cancelled',
          arrivalDate: '2026-06-14',
          departureDate: '2026-06-17',
          channel: 'homeaway',
        },
        idempotencyKey: '01HZX4KA2B3C4D5E6F7G8H9J0K',
      },
    },
    {
      name: 'reservation.updated to checked_in (legacy status field, nothing else)',
      body: reservationCheckedIn,
      expect: {
        disposition: 'apply',
        providerEventType: 'reservation.updated',
        type: 'reservation.change',
        data: { reservationExternalId: 'c7a2d3e4-5f60-4b7c-9d8e-0f1a2b3c4d5e', status: 'checked_in' },
      },
    },
    {
      name: 'property.updated',
      body: propertyUpdated,
      expect: {
        disposition: 'apply',
        providerEventType: 'property.updated',
        type: 'property.change',
        data: { change: 'updated', propertyExternalId: 'prop-seaside-loft' },
      },
    },
    {
      name: 'property.merged',
      body: propertyMerged,
      expect: {
        disposition: 'apply',
        providerEventType: 'property.merged',
        type: 'property.change',
        data: {
          change: 'merged',
          propertyExternalId: 'prop-seaside-loft',
          mergedExternalIds: ['prop-old-listing', 'prop-vrbo-copy'],
        },
      },
    },
    {
      name: 'message.created (personal data, recorded only)',
      body: messageCreated,
      expect: {
        disposition: 'record',
        providerEventType: 'message.created',
        idempotencyKey: messageCreated.id,
      },
    },
  ],
  breakages: [
    {
      name: 'an id that is not a ULID (contains U, excluded from Crockford base32)',
      body: { ...reservationCreated, id: '01HZX4K9V6Q3M8T2R5N7P1W0YU' },
      status: 422,
      code: 'schema_violation',
      fields: ['id'],
    },
    {
      name: 'an id one character short of a ULID',
      body: { ...reservationCreated, id: '01HZX4K9V6Q3M8T2R5N7P1W0Y' },
      status: 422,
      code: 'schema_violation',
      fields: ['id'],
    },
    {
      name: 'an id beyond the 128-bit ULID range',
      body: { ...reservationCreated, id: '81HZX4K9V6Q3M8T2R5N7P1W0YB' },
      status: 422,
      code: 'schema_violation',
      fields: ['id'],
    },
    {
      name: 'an action the platform does not define',
      body: { ...reservationCreated, action: 'reservation.deleted' },
      status: 422,
      code: 'unknown_event_type',
      fields: ['action'],
    },
    {
      name: 'a created time without a zone',
      body: { ...reservationCreated, created: '2026-06-01 09:35:24' },
      status: 422,
      code: 'schema_violation',
      fields: ['created'],
    },
    {
      name: 'an envelope without version',
      body: {
        id: reservationCreated.id,
        action: 'reservation.created',
        data: reservationCreated.data,
        created: reservationCreated.created,
      },
      status: 422,
      code: 'schema_violation',
      fields: ['version'],
    },
    {
      name: 'a reservation without its id',
      body: { ...reservationCreated, data: { ...reservationCreated.data, id: undefined } },
      status: 422,
      code: 'schema_violation',
      fields: ['data.id'],
    },
    {
      name: 'a reservation whose data is an array',
      body: { ...reservationCreated, data: [reservationCreated.data] },
      status: 422,
      code: 'schema_violation',
      fields: ['data'],
    },
    {
      name: 'an arrival date that does not exist',
      body: { ...reservationCreated, data: { ...reservationCreated.data, arrival_date: '2026-02-30' } },
      status: 422,
      code: 'schema_violation',
      fields: ['data.arrival_date'],
    },
    {
      name: 'a departure before the arrival',
      body: { ...reservationCreated, data: { ...reservationCreated.data, departure_date: '2026-06-10' } },
      status: 422,
      code: 'schema_violation',
      fields: ['data.departure_date'],
    },
    {
      name: 'a merge that names no merged property',
      body: { ...propertyMerged, data: { id: 'prop-seaside-loft', merged_property_ids: [] } },
      status: 422,
      code: 'schema_violation',
      fields: ['data.merged_ids'],
    },
    {
      name: 'a signature prefixed with its algorithm',
      body: reservationCreated,
      headers: (signed) => ({ signature: `sha256=${signed.signature ?? ''}` }),
      status: 401,
      code: 'invalid_signature',
    },
  ],
};
