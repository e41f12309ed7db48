import type { SourceConfig } from '../config/schema';
import type { CanonicalPayload, SourceKind } from '../domain/canonical';
import type { Clock } from '../shared/clock';
import type { Crypto } from '../shared/crypto';

/** One HTTP delivery as the edge received it. Header names are lower-case; the body is the exact bytes sent. */
export interface DeliveryRequest {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly rawBody: Buffer;
}

/** What an adapter needs to check authenticity. Secrets are resolved values, never references. */
export interface VerificationContext {
  readonly source: SourceConfig;
  readonly secrets: readonly string[];
  readonly toleranceSeconds: number;
  readonly clock: Clock;
  readonly crypto: Crypto;
}

/** What verification learned from the headers, for normalisation and replay checks. */
export interface VerifiedDelivery {
  /** The signed (or signature-bound) send time, when the scheme has one. Its tolerance is already checked. */
  readonly signedAt?: Date;
  /** The provider's delivery-attempt id, when it sends one. */
  readonly deliveryId?: string;
  /** A message id carried in a header (Standard Webhooks' `webhook-id`), used as the idempotency key. */
  readonly messageId?: string;
}

interface NormalisedCommon {
  /** The event name in the provider's vocabulary. */
  readonly providerEventType: string;
  /** Stable across retries of the same event; scoped to the source by the edge. */
  readonly idempotencyKey: string;
  readonly occurredAt: Date;
}

/**
 * `apply`: ParitySync acts on it and enqueues the canonical payload.
 * `record`: a type the provider defines but ParitySync does not act on; accepted and recorded, not enqueued.
 */
export type Normalised =
  | (NormalisedCommon & { readonly disposition: 'apply'; readonly payload: CanonicalPayload })
  | (NormalisedCommon & { readonly disposition: 'record' });

/**
 * One module per provider kind implements this. `verify` runs on the raw bytes before anything is parsed
 * and throws AuthenticationError or InvalidRequestError; `normalise` receives the strictly parsed JSON and
 * throws SchemaViolationError naming the fields.
 */
export interface ProviderAdapter {
  readonly kind: SourceKind;
  /** Every event type the provider documents, acted on or not. Anything else is a schema violation. */
  readonly eventTypes: readonly string[];
  /** True when the kind's headers carry a signed timestamp, so the edge need not bound the payload's own. */
  readonly signsTimestamp: boolean;
  verify(request: DeliveryRequest, context: VerificationContext): VerifiedDelivery;
  normalise(
    body: unknown,
    request: DeliveryRequest,
    verified: VerifiedDelivery,
    context: VerificationContext,
  ): Normalised;
  /**
   * A provider's endpoint-verification probe (the PMS sends one when a webhook is configured). When this
   * returns true the edge answers 200 without ledger or queue side effects.
   */
  isHandshake?(request: DeliveryRequest, context: VerificationContext): boolean;
}
