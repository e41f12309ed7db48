import { allPages, api } from './api';

/**
 * The properties the stack knows of, as far as the API shows them: the targets of property mappings and the
 * properties of room-type mappings. The API has no list of properties of its own.
 */
export async function knownProperties(): Promise<string[]> {
  const [properties, roomTypes] = await Promise.all([
    allPages((cursor) => api.mappings({ entity: 'property', limit: 500, cursor }), 2_000),
    allPages((cursor) => api.mappings({ entity: 'roomType', limit: 500, cursor }), 2_000),
  ]);
  const ids = new Set<string>();
  for (const mapping of properties) ids.add(mapping.internalId);
  for (const mapping of roomTypes) if (mapping.propertyId) ids.add(mapping.propertyId);
  return [...ids].sort();
}
