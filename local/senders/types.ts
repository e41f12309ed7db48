import type { SourceKind } from '../../lambdas/domain/canonical';

export interface SignOptions {
  /** The signing secret as configured for the source (for RSA / Ed25519 schemes: the private key PEM). */
  readonly secret: string;
  readonly at: Date;
  /** Delivery-attempt or message id, for schemes that send one; generated when absent. */
  readonly id?: string;
}

/**
 * The sending side of a provider kind: how a real sender of that kind signs a delivery, and sample events
 * of each type it sends. Used by the `send` command, the benchmarks and the provider simulator.
 */
export interface Sender {
  readonly kind: SourceKind;
  /** Headers for a delivery of exactly these bytes, content-type included. */
  sign(body: Buffer, options: SignOptions): Record<string, string>;
  /** Event names this sender can produce a sample for; the first is the default. */
  readonly sampleTypes: readonly string[];
  /** A fresh, valid sample of `type`, timestamped `now`, with ids drawn from `uniqueId`. */
  sample(type: string, now: Date, uniqueId: () => string): Record<string, unknown>;
}
