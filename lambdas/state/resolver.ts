import type { MappingSeed } from '../config/schema';
import type { Page } from '../domain/page';
import type { Clock } from '../shared/clock';
import type {
  MappingEntity,
  MappingQuery,
  MappingRef,
  MappingStore,
  MappingTarget,
  StoredMapping,
} from './ports';

/**
 * The key a parked event waits for: entity and external id, without the scope, so that a mapping added for the
 * source or globally (`*`) both release it.
 */
export function mappingKey(entity: MappingEntity, externalId: string): string {
  return `${entity}|${externalId}`;
}

const CACHE_TTL_MS = 60_000;

/**
 * Resolves external ids: the mapping table first (source scope, then global), then the configuration's seeds.
 * Hits are cached briefly per container; misses are not, so a mapping added at run time takes effect at once.
 */
export class MappingResolver {
  private readonly seeds = new Map<string, MappingTarget>();
  private readonly cache = new Map<string, { target: MappingTarget; until: number }>();

  constructor(
    private readonly store: MappingStore,
    seeds: readonly MappingSeed[],
    private readonly clock: Clock,
  ) {
    for (const seed of seeds) {
      for (const [externalId, internalId] of Object.entries(seed.properties)) {
        this.seeds.set(refKey({ scope: seed.scope, entity: 'property', externalId }), { internalId });
      }
      for (const [externalId, target] of Object.entries(seed.roomTypes)) {
        this.seeds.set(
          refKey({ scope: seed.scope, entity: 'roomType', externalId }),
          typeof target === 'string'
            ? { internalId: target }
            : { internalId: target.roomTypeId, propertyId: target.propertyId },
        );
      }
      for (const [externalId, internalId] of Object.entries(seed.ratePlans)) {
        this.seeds.set(refKey({ scope: seed.scope, entity: 'ratePlan', externalId }), { internalId });
      }
    }
  }

  async resolve(
    sourceId: string,
    entity: MappingEntity,
    externalId: string,
  ): Promise<MappingTarget | undefined> {
    for (const scope of [sourceId, '*']) {
      const ref = { scope, entity, externalId };
      const key = refKey(ref);
      const cached = this.cache.get(key);
      if (cached && cached.until > this.clock.now().getTime()) return cached.target;
      const stored = (await this.store.get(ref)) ?? this.seeds.get(key);
      if (stored) {
        this.cache.set(key, { target: stored, until: this.clock.now().getTime() + CACHE_TTL_MS });
        return stored;
      }
    }
    return undefined;
  }

  async put(ref: MappingRef, target: MappingTarget, at: string, origin: string): Promise<void> {
    await this.store.put(ref, target, at, origin);
    this.cache.delete(refKey(ref));
  }

  /** The mappings stored at run time; the configuration's seeds are not stored, so not listed. */
  list(query: MappingQuery): Promise<Page<StoredMapping>> {
    return this.store.list(query);
  }

  /** A hotel id changed meaning (a duplicate was resolved upstream): forget every cached property mapping. */
  invalidateProperties(): void {
    for (const key of this.cache.keys()) if (key.includes('|property|')) this.cache.delete(key);
  }
}

function refKey(ref: MappingRef): string {
  return `${ref.scope}|${ref.entity}|${ref.externalId}`;
}
