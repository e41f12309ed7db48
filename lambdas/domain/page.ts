/** One page of a listing, in the one pagination vocabulary every store and route uses. */
export interface Page<T> {
  readonly items: readonly T[];
  /** Opaque; absent on the last page. */
  readonly cursor?: string;
}
