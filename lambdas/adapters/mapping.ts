import * as z from 'zod/mini';
import type { MappingChange } from '../domain/canonical';
import { IsoInstantSchema } from '../domain/dates';
import { InvalidRequestError } from '../shared/errors';
import {
  anyHmacMatches,
  checkTokenHeader,
  checkUnixTimestamp,
  decodeHex,
  forEachEntry,
  invalidSignature,
  parseWithSchema,
  requiredHeader,
  signatureHeader,
  unknownEventType,
} from './common';
import { ExternalIdSchema, TextSchema } from './rate-fields';
import type { ProviderAdapter } from './types';

/**
 * The hotel-mapping service. It signs `<t>.<body>` and sends `X-Webhook-Signature: t=<unix>,v1=<hex>`,
 * with one `v1` entry per active secret while it rotates, plus the event type and the delivery-attempt id
 * in their own headers. Its envelope `id` changes on every retry; `eventId` is the stable key.
 */

const SIGNATURE_HEADER = 'X-Webhook-Signature';
const EVENT_HEADER = 'X-Webhook-Event';
const DELIVERY_HEADER = 'X-Webhook-Delivery';

const EVENT_TYPES = ['mapping.error.resolved', 'inventory.duplicate.resolved', 'mapping.completed'] as const;
type MappingEventType = (typeof EVENT_TYPES)[number];

const CHANGE_BY_TYPE: Record<MappingEventType, MappingChange['change']> = {
  'mapping.error.resolved': 'error_resolved',
  'inventory.duplicate.resolved': 'duplicate_resolved',
  'mapping.completed': 'completed',
};

/** Header values end up in canonical events and logs: printable ASCII, bounded. */
const MAX_TOKEN_LENGTH = 200;

const Id = ExternalIdSchema;
// The sender may write null for a reference it does not have; that means "absent", not "invalid".
const OptionalId = z.nullish(Id);

const REFERENCE_FIELDS = [
  'partnerHotelId',
  'partnerInventoryId',
  'referenceHotelId',
  'reportId',
  'resolution',
] as const satisfies readonly (keyof MappingChange)[];

const referenceShape = {
  partnerHotelId: OptionalId,
  partnerInventoryId: OptionalId,
  referenceHotelId: OptionalId,
  reportId: OptionalId,
  resolution: z.nullish(TextSchema(100)),
};

function envelope<T extends z.core.$ZodType>(type: MappingEventType, data: T) {
  // Unknown fields are dropped, not refused: the service adds fields over time (resolvedAt, for one).
  return z.object({
    id: Id,
    eventId: Id,
    type: z.literal(type),
    // Not used for routing; tolerated when absent so that the older mapping.completed export still fits.
    apiVersion: z.optional(z.string().check(z.minLength(1), z.maxLength(50))),
    organizationId: OptionalId,
    occurredAt: IsoInstantSchema,
    data,
  });
}

const ENVELOPES = {
  'mapping.error.resolved': envelope(
    'mapping.error.resolved',
    z.object({ ...referenceShape, partnerHotelId: Id }),
  ),
  // A resolved duplicate concerns a reference hotel: without its id nothing can be invalidated.
  'inventory.duplicate.resolved': envelope(
    'inventory.duplicate.resolved',
    z.object({ ...referenceShape, referenceHotelId: Id }),
  ),
  'mapping.completed': envelope('mapping.completed', z.object(referenceShape)),
};

const AnyEnvelope = z.object({ type: z.enum(EVENT_TYPES) });

function isKnownType(type: string): type is MappingEventType {
  return Object.hasOwn(CHANGE_BY_TYPE, type);
}

/** The canonical change: the reference fields the event sets to a string. */
function mappingChange(type: MappingEventType, source: Readonly<Record<string, unknown>>): MappingChange {
  const data: { -readonly [K in keyof MappingChange]: MappingChange[K] } = { change: CHANGE_BY_TYPE[type] };
  for (const field of REFERENCE_FIELDS) {
    const value = source[field];
    if (typeof value === 'string') data[field] = value;
  }
  return data;
}

function badSignatureHeader(problem: string): InvalidRequestError {
  return new InvalidRequestError(
    'bad_header',
    `The ${SIGNATURE_HEADER} header is malformed: ${problem}. Expected "t=<unix seconds>,v1=<hex HMAC-SHA256>".`,
  );
}

interface ParsedSignature {
  readonly timestamp: string;
  readonly candidates: readonly Buffer[];
}

/** Reads `t=…,v1=…[,v1=…]`; other schemes (`v0=` and the like) are ignored, as the sender documents. */
export function parseSignature(text: string): ParsedSignature {
  let timestamp: string | undefined;
  let v1Entries = 0;
  const candidates: Buffer[] = [];
  forEachEntry(text, ',', '=', (entry, value) => {
    const key = entry.trim();
    if (key === 't') {
      if (timestamp !== undefined) throw badSignatureHeader('"t" appears more than once');
      timestamp = value.trim();
    } else if (key === 'v1') {
      v1Entries++;
      // A v1 of the wrong shape is a signature that does not match, not a malformed header.
      const bytes = decodeHex(value, 32);
      if (bytes) candidates.push(bytes);
    }
  });
  if (timestamp === undefined) throw badSignatureHeader('no "t=" entry');
  if (!/^\d{1,12}$/.test(timestamp)) {
    throw badSignatureHeader(
      `"t" must be unix seconds (digits only), received ${JSON.stringify(timestamp.slice(0, 40))}`,
    );
  }
  if (v1Entries === 0) throw badSignatureHeader('no "v1=" entry');
  return { timestamp, candidates };
}

function tokenHeader(request: Parameters<ProviderAdapter['verify']>[0], name: string): string {
  return checkTokenHeader(requiredHeader(request, name), name, MAX_TOKEN_LENGTH);
}

export const mappingAdapter: ProviderAdapter = {
  kind: 'mapping',
  eventTypes: EVENT_TYPES,
  signsTimestamp: true,

  verify(request, context) {
    const header = signatureHeader(request, SIGNATURE_HEADER);
    tokenHeader(request, EVENT_HEADER);
    const deliveryId = tokenHeader(request, DELIVERY_HEADER);
    const { timestamp, candidates } = parseSignature(header);
    // Stale or future deliveries are refused before spending an HMAC on them.
    const signedAt = checkUnixTimestamp(timestamp, `The ${SIGNATURE_HEADER} timestamp`, context);
    if (!anyHmacMatches(context, candidates, [`${timestamp}.`, request.rawBody])) {
      throw invalidSignature(SIGNATURE_HEADER);
    }
    return { signedAt, deliveryId };
  },

  normalise(body, request) {
    const eventHeader = requiredHeader(request, EVENT_HEADER);
    const type = typeof body === 'object' && body !== null ? (body as { type?: unknown }).type : undefined;
    if (typeof type !== 'string') {
      parseWithSchema(AnyEnvelope, body, 'mapping delivery');
      // parseWithSchema has thrown: a body without a string `type` cannot match AnyEnvelope.
      throw unknownEventType('type', String(type), EVENT_TYPES);
    }
    // The event header is part of what the sender routes on; a body that disagrees was not meant for it.
    if (type !== eventHeader) {
      throw new InvalidRequestError(
        'bad_header',
        `The ${EVENT_HEADER} header says ${JSON.stringify(eventHeader.slice(0, 100))} but the body's type is ` +
          `${JSON.stringify(type.slice(0, 100))}. Send the same event type in both.`,
      );
    }
    if (!isKnownType(type)) throw unknownEventType('type', type, EVENT_TYPES);

    const event = parseWithSchema(ENVELOPES[type], body, `${type} delivery`);
    const data = mappingChange(type, event.data);
    return {
      disposition: 'apply',
      providerEventType: type,
      idempotencyKey: event.eventId,
      occurredAt: event.occurredAt,
      payload: { type: 'mapping.change', data },
    };
  },
};
