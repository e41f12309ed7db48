import type { Page } from '../domain/page';
import { compareVersions } from '../domain/state';
import type { Item } from './dynamodb';
import { InvalidRequestError } from './errors';

/**
 * Read cursors are DynamoDB ExclusiveStartKeys made opaque: base64url of the key's JSON. Every store decodes a
 * cursor back to string key attributes only, and checks them against its own query, so a client cannot steer a
 * read outside what it asked for.
 */

/** A read cursor that the store did not issue for this query: malformed, tampered with, or from another query. */
export class InvalidCursorError extends InvalidRequestError {
  constructor(reason: string) {
    super(
      'invalid_cursor',
      `The cursor is not valid for this query (${reason}). Pass back the previous page's cursor unchanged, ` +
        'with the same query, or omit it to start from the first page.',
    );
  }
}

export function encodeCursor(key: Readonly<Record<string, string>>): string {
  const attributes = Object.fromEntries(Object.entries(key).map(([name, value]) => [name, { S: value }]));
  return Buffer.from(JSON.stringify(attributes), 'utf8').toString('base64url');
}

/** The cursor that resumes after `key`: its attributes `names`, which are strings in every table's key. */
export function cursorAt(key: Item, names: readonly string[]): string {
  return encodeCursor(Object.fromEntries(names.map((name) => [name, key[name]?.S ?? ''])));
}

/**
 * A page of the items `read` turns into records; when `more` follow, its cursor resumes after the last item,
 * whose key is the attributes `keyNames`.
 */
export function pageOf<T>(
  found: { readonly items: readonly Item[]; readonly more: boolean },
  keyNames: readonly string[],
  read: (item: Item) => T,
): Page<T> {
  const items = found.items.map(read);
  const last = found.items.at(-1);
  return found.more && last !== undefined ? { items, cursor: cursorAt(last, keyNames) } : { items };
}

/** The key a cursor encodes, as plain strings, provided it names exactly `names` as string attributes. */
export function decodeCursor<const N extends string>(
  cursor: string,
  names: readonly N[],
  maxLength = 2048,
): Record<N, string> {
  if (cursor.length > maxLength) {
    throw new InvalidCursorError(`it is ${cursor.length} characters long, at most ${maxLength} are issued`);
  }
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidCursorError('it is not base64url text');
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('it does not decode to JSON');
  }
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) {
    throw new InvalidCursorError('it does not decode to a key');
  }
  const fields = Object.keys(decoded).sort();
  const expected = [...names].sort();
  if (fields.length !== expected.length || fields.some((field, i) => field !== expected[i])) {
    throw new InvalidCursorError('it does not decode to a key of this table');
  }
  const key = {} as Record<N, string>;
  for (const name of names) {
    const attribute = (decoded as Record<string, unknown>)[name];
    const entries = typeof attribute === 'object' && attribute !== null ? Object.entries(attribute) : [];
    const [only] = entries;
    if (entries.length !== 1 || only?.[0] !== 'S' || typeof only[1] !== 'string') {
      throw new InvalidCursorError('it does not decode to a key of this table');
    }
    key[name] = only[1];
  }
  return key;
}

/**
 * The `pk`/`sk` key a range read's cursor encodes, accepted only inside this partition and between `lower` and
 * `upper` (the read's sort-key bounds), in the form encodeCursor writes.
 */
export function decodeRangeCursor(cursor: string, pk: string, lower: string, upper: string): Item {
  const key = decodeCursor(cursor, ['pk', 'sk']);
  if (key.pk !== pk) throw new InvalidCursorError('it belongs to another property');
  // DynamoDB orders strings by UTF-8 bytes, as compareVersions does; JavaScript's `<` does not.
  if (compareVersions(key.sk, lower) < 0 || compareVersions(key.sk, upper) > 0) {
    throw new InvalidCursorError('it lies outside the requested date range');
  }
  return { pk: { S: key.pk }, sk: { S: key.sk } };
}
