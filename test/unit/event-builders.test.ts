import { describe, expect, it } from 'vitest';
import { type ApplicabilityLimits, checkApplicable } from '../../lambdas/domain/applicable';
import { eventIdFor } from '../../lambdas/ingest/ingest';
import { nodeCrypto } from '../../lambdas/shared/crypto';
import {
  ariUpdate,
  EVENT_RECEIVED_AT,
  guestChange,
  mappingChange,
  propertyChange,
  reservationChange,
  serviceNotice,
} from '../support/events';

// The edge's narrowest sensible limits: what passes these passes everywhere.
const EDGE_LIMITS: ApplicabilityLimits = { toleranceSeconds: 0, dedupeWindowSeconds: 60 };

const BUILDERS = [
  ['ariUpdate', ariUpdate, 'ari.update', 'channel-manager', 'rate_update'],
  ['reservationChange', reservationChange, 'reservation.change', 'pms', 'reservation.created'],
  ['guestChange', guestChange, 'guest.change', 'pms', 'guest.deleted'],
  ['mappingChange', mappingChange, 'mapping.change', 'mapping', 'mapping.completed'],
  ['propertyChange', propertyChange, 'property.change', 'hospitable', 'property.updated'],
  ['serviceNotice', serviceNotice, 'service.notice', 'pms', 'service.token_expired'],
] as const;

describe('canonical event builders', () => {
  it.each(BUILDERS)(
    '%s builds an applicable event by default',
    (_name, builder, type, kind, providerType) => {
      const event = builder();
      expect(event).toMatchObject({
        schemaVersion: 1,
        type,
        kind,
        sourceId: `${kind}-demo`,
        providerEventType: providerType,
        receivedAt: EVENT_RECEIVED_AT,
        occurredAt: '2026-06-01T11:59:58.000Z',
      });
      expect(event.eventId).toBe(eventIdFor(nodeCrypto, event.sourceId, event.idempotencyKey));
      expect(checkApplicable(event, EDGE_LIMITS)).toEqual({ ok: true, event });
    },
  );

  it.each(BUILDERS)('%s stays applicable for any time of receipt', (_name, builder) => {
    for (const receivedAt of ['2024-02-29T00:00:00.000Z', '2027-12-31T23:59:59.999Z']) {
      const event = builder({ receivedAt });
      expect(checkApplicable(event, EDGE_LIMITS)).toEqual({ ok: true, event });
    }
  });

  it('gives each event its own key, in the order built, and so its own id', () => {
    const [first, second] = [ariUpdate(), ariUpdate()];
    expect(first.idempotencyKey < second.idempotencyKey).toBe(true);
    expect(first.eventId).not.toBe(second.eventId);
  });

  it('replaces envelope fields and merges data over the defaults', () => {
    const event = ariUpdate({
      sourceId: 'cm',
      eventId: 'evt_given',
      idempotencyKey: 'upd-1',
      deliveryId: 'attempt-2',
      receivedAt: '2026-03-01T10:00:00.000Z',
      data: { roomTypeExternalId: 'TWN', availability: 2 },
    });
    expect(event).toEqual({
      schemaVersion: 1,
      eventId: 'evt_given',
      sourceId: 'cm',
      kind: 'channel-manager',
      providerEventType: 'rate_update',
      idempotencyKey: 'upd-1',
      deliveryId: 'attempt-2',
      occurredAt: '2026-03-01T09:59:58.000Z',
      receivedAt: '2026-03-01T10:00:00.000Z',
      type: 'ari.update',
      data: {
        roomTypeExternalId: 'TWN',
        ratePlanExternalId: 'BAR',
        dateFrom: '2026-04-01',
        dateTo: '2026-04-03',
        availability: 2,
      },
    });
  });

  it('sends a rate update its default rate only when no field group is named', () => {
    expect(ariUpdate().data.rate).toEqual({ amountMinor: 12_950, currency: 'EUR' });
    expect(ariUpdate({ data: { restrictions: { stopSell: true } } }).data).not.toHaveProperty('rate');
    const none = ariUpdate({ data: { rate: undefined } });
    expect(checkApplicable(none, EDGE_LIMITS)).toMatchObject({ ok: false, problems: [{ path: 'data' }] });
  });

  it('names the provider event after the payload', () => {
    expect(reservationChange({ data: { status: 'cancelled' } }).providerEventType).toBe(
      'reservation.cancelled',
    );
    expect(guestChange({ data: { change: 'created' } }).providerEventType).toBe('guest.created');
    expect(mappingChange({ data: { change: 'error_resolved' } }).providerEventType).toBe(
      'mapping.error.resolved',
    );
    expect(propertyChange({ data: { change: 'merged' } }).providerEventType).toBe('property.merged');
    expect(serviceNotice({ data: { notice: 'access_revoked' } }).providerEventType).toBe(
      'service.access_revoked',
    );
  });
});
