/** One page of a listing, in the one pagination vocabulary every store and route uses. */
export interface Page<T> {
  readonly items: readonly T[];
  /** Opaque; absent on the last page. */
  readonly cursor?: string;
}

/** A page of one property's nights from `from` to `to` inclusive, as the read API asks for it. */
export interface NightRangeQuery {
  readonly from: string;
  readonly to: string;
  readonly limit: number;
  readonly cursor?: string;
}
