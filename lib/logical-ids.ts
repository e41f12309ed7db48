import { createHash } from 'node:crypto';

/**
 * Construct and output ids (which become CloudFormation logical ids, alphanumeric only) derived from source or
 * property ids alone, so they stay put when the configuration is reordered: `hospitable-main` with the prefix
 * `WebhookUrl` → `WebhookUrlHospitableMain`. Two ids that collapse to the same form (`a-1`, `a1`) both get a
 * suffix hashed from the full id.
 */
export function logicalIds(prefix: string, ids: readonly string[]): ReadonlyMap<string, string> {
  const base = (id: string) =>
    `${prefix}${id
      .split(/[^A-Za-z0-9]+/)
      .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
      .join('')}`;
  const counts = new Map<string, number>();
  for (const id of new Set(ids)) counts.set(base(id), (counts.get(base(id)) ?? 0) + 1);
  return new Map(
    ids.map((id) => {
      const plain = base(id);
      const unique =
        (counts.get(plain) ?? 0) > 1
          ? `${plain}${createHash('sha256').update(id).digest('hex').slice(0, 8)}`
          : plain;
      return [id, unique];
    }),
  );
}
