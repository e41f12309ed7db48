import type { ParitySyncConfigInput } from '../../lambdas/config/schema';
import type { CanonicalEventType, SourceKind } from '../../lambdas/domain/canonical';

type SourceInput = ParitySyncConfigInput['sources'][number];

/**
 * What the shared contract suite needs to know about one provider kind. The suite drives every fixture
 * through the real ingest pipeline (adapters, strict JSON, ledger and queue fakes) and asserts the exact
 * status and error code for each way a request can be broken, plus the canonical form of each valid sample.
 */
export interface KindFixture {
  readonly kind: SourceKind;
  /** A source of this kind. Its secrets must be `{ value }` refs; `secrets[0]` is the one `sign` uses. */
  readonly source: SourceInput;
  /**
   * Headers for a delivery of `body` signed at `at` (unix seconds) with `secret` (defaults to the source's
   * first secret). Include content-type. Lower- or mixed-case names are both fine.
   */
  sign(body: Buffer, options: { readonly at: number; readonly secret?: string }): Record<string, string>;
  /** Header names whose absence must be refused, with the status and code expected. */
  readonly requiredHeaders: readonly {
    readonly name: string;
    readonly status: number;
    readonly code: string;
  }[];
  /** True when the scheme signs a timestamp (stale and future timestamps must then be refused with 401). */
  readonly signsTimestamp: boolean;
  /** Valid deliveries and what they normalise to. */
  readonly samples: readonly Sample[];
  /** Kind-specific ways to break a request, beyond those the suite derives itself. */
  readonly breakages: readonly Breakage[];
}

export interface Sample {
  readonly name: string;
  /** Serialised exactly as given when a string; JSON.stringify'd otherwise. */
  readonly body: string | Record<string, unknown>;
  /** Extra headers for this sample only (e.g. an event-type header that must match the body). */
  readonly headers?: Record<string, string>;
  readonly expect:
    | {
        readonly disposition: 'apply';
        readonly providerEventType: string;
        readonly type: CanonicalEventType;
        /** The canonical `data` the sample must produce, compared with toEqual. */
        readonly data: Record<string, unknown>;
        readonly idempotencyKey?: string;
        readonly occurredAt?: string;
      }
    | {
        readonly disposition: 'record';
        readonly providerEventType: string;
        readonly idempotencyKey?: string;
      };
}

export interface Breakage {
  readonly name: string;
  /** The body to send (serialised as in Sample), signed correctly unless `headers` overrides the signature. */
  readonly body: string | Record<string, unknown>;
  /** Override or add headers after signing; a value of null removes the header. */
  readonly headers?: (signed: Record<string, string>) => Record<string, string | null>;
  readonly status: number;
  readonly code: string;
  /** For 422: field paths the error body must name. */
  readonly fields?: readonly string[];
}

/** A body the kind's schema refuses (422 schema_violation), naming the fields the error must list. */
export const schemaBreak = (name: string, body: Record<string, unknown>, fields: string[]): Breakage => ({
  name,
  body,
  status: 422,
  code: 'schema_violation',
  fields,
});
