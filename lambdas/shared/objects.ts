/**
 * The object less its undefined fields: an absent optional field stays absent rather than set to undefined, so
 * that what is stored, answered or compared holds only the fields that have a value.
 */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
