import { mappingSender } from '../../../local/senders/mapping';
import type { KindFixture } from '../fixture';

const CURRENT_SECRET = '368aJIgCiAOZyjxvPya3XvlexNoj4dfpvxu/tulUiUY=';
const NEXT_SECRET = 'MdctmhHMIrAthKhQWh2UnHtABBgxCeib7jAHSx4NysM=';

const errorResolved = {
  id: '9a2c0f0a-7d1e-4b8c-9f3e-2a6b1c0d4e5f',
  eventId: '5e1b3c7d-0f2a-4e6b-8c9d-1a2b3c4d5e6f',
  type: 'mapping.error.resolved',
  apiVersion: '2026-06-01',
  occurredAt: '2026-06-01T12:34:56Z',
  organizationId: 'org_4821',
  data: {
    reportId: 'rep_20260601_0042',
    partnerInventoryId: 'INV-DBL-STD',
    partnerHotelId: 'EXP-12345',
    referenceHotelId: 'ref_8841207',
    resolution: 'FIXED',
    resolvedAt: '2026-06-01T12:34:56Z',
  },
};

const duplicateResolved = {
  id: '0b7e4c1a-3f2d-4a9b-8e6c-5d4c3b2a1f0e',
  eventId: 'c4d2e8f1-6a3b-4c5d-9e7f-0a1b2c3d4e5f',
  type: 'inventory.duplicate.resolved',
  apiVersion: '2026-06-01',
  occurredAt: '2026-06-02T08:00:00+02:00',
  organizationId: 'org_4821',
  // A duplicate is a property of the reference data set: the organisation may have no partner hotel in it.
  data: { reportId: 'dup_771', referenceHotelId: 'ref_8841207', partnerHotelId: null, resolution: 'MERGED' },
};

// The older export webhook, migrated onto the signed pipeline: no apiVersion, only references.
const completed = {
  id: 'e1f2a3b4-c5d6-4e7f-8091-a2b3c4d5e6f7',
  eventId: 'f7e6d5c4-b3a2-4190-8f7e-6d5c4b3a2f1e',
  type: 'mapping.completed',
  occurredAt: '2026-06-03T00:00:00.250Z',
  organizationId: 'org_4821',
  data: { partnerHotelId: 'EXP-12345', referenceHotelId: 'ref_8841207', rowsMapped: 1204 },
};

function without<T extends Record<string, unknown>>(value: T, key: keyof T): Record<string, unknown> {
  const { [key]: _dropped, ...rest } = value;
  return rest;
}

export const fixture: KindFixture = {
  kind: 'mapping',
  source: {
    id: 'hotel-mapping',
    kind: 'mapping',
    secrets: [{ value: CURRENT_SECRET }, { value: NEXT_SECRET }],
  },
  sign: (body, { at, secret }) =>
    mappingSender.sign(body, { secret: secret ?? CURRENT_SECRET, at: new Date(at * 1000) }),
  requiredHeaders: [
    { name: 'X-Webhook-Signature', status: 401, code: 'missing_signature' },
    { name: 'X-Webhook-Event', status: 400, code: 'missing_header' },
    { name: 'X-Webhook-Delivery', status: 400, code: 'missing_header' },
  ],
  signsTimestamp: true,
  samples: [
    {
      name: 'mapping.error.resolved',
      body: errorResolved,
      expect: {
        disposition: 'apply',
        providerEventType: 'mapping.error.resolved',
        type: 'mapping.change',
        data: {
          change: 'error_resolved',
          reportId: 'rep_20260601_0042',
          partnerInventoryId: 'INV-DBL-STD',
          partnerHotelId: 'EXP-12345',
          referenceHotelId: 'ref_8841207',
          resolution: 'FIXED',
        },
        idempotencyKey: '5e1b3c7d-0f2a-4e6b-8c9d-1a2b3c4d5e6f',
        occurredAt: '2026-06-01T12:34:56.000Z',
      },
    },
    {
      name: 'inventory.duplicate.resolved (null partner hotel, offset time)',
      body: duplicateResolved,
      expect: {
        disposition: 'apply',
        providerEventType: 'inventory.duplicate.resolved',
        type: 'mapping.change',
        data: {
          change: 'duplicate_resolved',
          reportId: 'dup_771',
          referenceHotelId: 'ref_8841207',
          resolution: 'MERGED',
        },
        idempotencyKey: 'c4d2e8f1-6a3b-4c5d-9e7f-0a1b2c3d4e5f',
        occurredAt: '2026-06-02T06:00:00.000Z',
      },
    },
    {
      name: 'mapping.completed (no apiVersion, extra fields)',
      body: completed,
      expect: {
        disposition: 'apply',
        providerEventType: 'mapping.completed',
        type: 'mapping.change',
        data: { change: 'completed', partnerHotelId: 'EXP-12345', referenceHotelId: 'ref_8841207' },
        occurredAt: '2026-06-03T00:00:00.250Z',
      },
    },
  ],
  breakages: [
    {
      name: 'an envelope without eventId',
      body: without(errorResolved, 'eventId'),
      status: 422,
      code: 'schema_violation',
      fields: ['eventId'],
    },
    {
      name: 'an event header that disagrees with the body type',
      body: errorResolved,
      headers: () => ({ 'x-webhook-event': 'mapping.completed' }),
      status: 400,
      code: 'bad_header',
    },
    {
      name: 'an event type the service does not define',
      body: { ...completed, type: 'mapping.deleted' },
      status: 422,
      code: 'unknown_event_type',
      fields: ['type'],
    },
    {
      name: 'a body without a type',
      body: without(completed, 'type'),
      status: 422,
      code: 'schema_violation',
      fields: ['type'],
    },
    {
      name: 'mapping.error.resolved without partnerHotelId',
      body: { ...errorResolved, data: without(errorResolved.data, 'partnerHotelId') },
      status: 422,
      code: 'schema_violation',
      fields: ['data.partnerHotelId'],
    },
    {
      name: 'inventory.duplicate.resolved without referenceHotelId',
      body: { ...duplicateResolved, data: { reportId: 'dup_771' } },
      status: 422,
      code: 'schema_violation',
      fields: ['data.referenceHotelId'],
    },
    {
      name: 'an occurredAt without a time zone',
      body: { ...errorResolved, occurredAt: '2026-06-01T12:34:56' },
      status: 422,
      code: 'schema_violation',
      fields: ['occurredAt'],
    },
    {
      name: 'a numeric eventId',
      body: { ...errorResolved, eventId: 42 },
      status: 422,
      code: 'schema_violation',
      fields: ['eventId'],
    },
    {
      name: 'a signature header without t=',
      body: errorResolved,
      headers: (signed) => ({
        'x-webhook-signature': (signed['x-webhook-signature'] ?? '').replace(/^t=\d+,/, ''),
      }),
      status: 400,
      code: 'bad_header',
    },
    {
      name: 'a signature header whose t is not unix seconds',
      body: errorResolved,
      headers: (signed) => ({
        'x-webhook-signature': (signed['x-webhook-signature'] ?? '').replace(
          /^t=\d+/,
          't=2026-06-01T12:00:00Z',
        ),
      }),
      status: 400,
      code: 'bad_header',
    },
    {
      name: 'a signature header with no v1= entry',
      body: errorResolved,
      headers: (signed) => ({
        'x-webhook-signature': (signed['x-webhook-signature'] ?? '').replace(',v1=', ',v0='),
      }),
      status: 400,
      code: 'bad_header',
    },
    {
      name: 'a delivery id with spaces',
      body: errorResolved,
      headers: () => ({ 'x-webhook-delivery': 'delivery 42' }),
      status: 400,
      code: 'bad_header',
    },
  ],
};
