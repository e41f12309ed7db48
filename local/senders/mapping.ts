import { createHmac, randomUUID } from 'node:crypto';
import { unixSeconds } from './signing';
import type { Sender } from './types';

const EVENT_TYPES = ['mapping.error.resolved', 'inventory.duplicate.resolved', 'mapping.completed'] as const;

/** The envelope fields the headers repeat; a body that is not a JSON object yields neither. */
function envelopeOf(body: Buffer): { type?: string; id?: string } {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { type?: unknown; id?: unknown } | null;
    return {
      ...(typeof parsed?.type === 'string' ? { type: parsed.type } : {}),
      // The attempt id travels in a header too, so only a header-safe one is repeated there.
      ...(typeof parsed?.id === 'string' && /^[\x21-\x7e]{1,200}$/.test(parsed.id) ? { id: parsed.id } : {}),
    };
  } catch {
    return {};
  }
}

/** The hotel every sample concerns, as the partner and the reference catalogue name it, and its room. */
const HOTEL = { partnerHotelId: 'EXP-12345', referenceHotelId: 'ref_8841207' };
const INVENTORY_ID = 'INV-DBL-STD';

function dataFor(type: string, now: Date, uniqueId: () => string): Record<string, unknown> {
  switch (type) {
    case 'mapping.error.resolved':
      return {
        reportId: `rep_${uniqueId()}`,
        partnerInventoryId: INVENTORY_ID,
        ...HOTEL,
        resolution: 'FIXED',
        resolvedAt: now.toISOString(),
      };
    case 'inventory.duplicate.resolved':
      return {
        reportId: `dup_${uniqueId()}`,
        referenceHotelId: HOTEL.referenceHotelId,
        resolution: 'MERGED',
        resolvedAt: now.toISOString(),
      };
    case 'mapping.completed':
      return { ...HOTEL, partnerInventoryId: INVENTORY_ID };
    default:
      throw new Error(`The mapping service sends ${EVENT_TYPES.join(', ')}; it has no ${type} sample.`);
  }
}

/**
 * Signs as the hotel-mapping service does: HMAC-SHA256 over `<t>.<body>`, hex, in
 * `X-Webhook-Signature: t=<unix>,v1=<hex>`, with the event type and the delivery-attempt id (the envelope's
 * `id`) repeated in their own headers.
 */
export const mappingSender: Sender = {
  kind: 'mapping',
  sampleTypes: EVENT_TYPES,

  sign(body, { secret, at, id }) {
    const timestamp = unixSeconds(at);
    const signature = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
    const envelope = envelopeOf(body);
    return {
      'Content-Type': 'application/json',
      'X-Webhook-Signature': `t=${timestamp},v1=${signature}`,
      // A body without a type still gets a well-formed request, so the receiver judges the body itself.
      'X-Webhook-Event': envelope.type ?? EVENT_TYPES[0],
      'X-Webhook-Delivery': id ?? envelope.id ?? randomUUID(),
    };
  },

  sample(type, now, uniqueId) {
    const envelope = {
      id: uniqueId(),
      eventId: uniqueId(),
      type,
      apiVersion: '2026-06-01',
      occurredAt: now.toISOString(),
      organizationId: 'org_paritysync_demo',
    };
    return { ...envelope, data: dataFor(type, now, uniqueId) };
  },
};
