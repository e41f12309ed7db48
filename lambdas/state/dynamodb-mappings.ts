import { PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { Page } from '../domain/page';
import { decodeCursor, InvalidCursorError, pageOf } from '../shared/cursor';
import {
  DynamoDbTable,
  type Item,
  optionalStrings,
  requiredStrings,
  stringAttributes,
} from '../shared/dynamodb';
import { MAPPINGS_BY_ENTITY } from '../shared/topology';
import {
  MAPPING_ENTITIES,
  type MappingEntity,
  type MappingQuery,
  type MappingRef,
  type MappingStore,
  type MappingTarget,
  type StoredMapping,
} from './ports';

/** The item key of a mapping: scope, entity and external id, so that one consistent GetItem resolves it. */
export function mappingItemKey(ref: MappingRef): string {
  return `${ref.scope}|${ref.entity}|${ref.externalId}`;
}

/** What every item key of the scope and entity starts with: scopes (source ids, `*`) never hold a `|`. */
function itemKeyPrefix(scope: string, entity: MappingEntity): string {
  return `${scope}|${entity}|`;
}

/** The index key a listing's cursor encodes: the entity read last and the last item key read in it. */
const CURSOR_KEY = [MAPPINGS_BY_ENTITY.partitionKey.name, MAPPINGS_BY_ENTITY.sortKey.name] as const;

/**
 * External id → internal id mappings in DynamoDB, one item per (scope, entity, external id). The ref's parts are
 * also stored as attributes of their own, so that the table can be read and audited without parsing keys, and
 * listed through the index on `entity`.
 */
export class DynamoDbMappingStore extends DynamoDbTable implements MappingStore {
  async get(ref: MappingRef): Promise<MappingTarget | undefined> {
    // Read consistently: a mapping just added must release the events parked for it at once.
    const item = await this.getItem(mappingItemKey(ref));
    if (item === undefined) return undefined;
    return { ...requiredStrings(item, ['internalId'], 'Mapping'), ...optionalStrings(item, ['propertyId']) };
  }

  async put(ref: MappingRef, target: MappingTarget, at: string, origin: string): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          pk: { S: mappingItemKey(ref) },
          ...stringAttributes(ref, ['scope', 'entity', 'externalId']),
          ...stringAttributes(target, ['internalId', 'propertyId']),
          updatedAt: { S: at },
          origin: { S: origin },
        },
      }),
    );
  }

  /**
   * One Query per entity, the scope as a key prefix, reading one item beyond the page so that the last page
   * carries no cursor (DynamoDB answers a LastEvaluatedKey whenever a page is full, even at the very end).
   */
  async list(query: MappingQuery): Promise<Page<StoredMapping>> {
    if (!Number.isSafeInteger(query.limit) || query.limit < 1) {
      throw new RangeError(`The page size must be a positive integer, received ${query.limit}`);
    }
    const entities = query.entity === undefined ? MAPPING_ENTITIES : [query.entity];
    const after = query.cursor === undefined ? undefined : listingStart(query.cursor, query);
    const items: Item[] = [];
    for (const entity of entities.slice(after === undefined ? 0 : entities.indexOf(after.entity))) {
      let startKey: Item | undefined =
        after?.entity === entity ? { entity: { S: entity }, pk: { S: after.pk } } : undefined;
      do {
        const { Items, LastEvaluatedKey } = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: MAPPINGS_BY_ENTITY.indexName,
            KeyConditionExpression:
              query.scope === undefined
                ? '#entity = :entity'
                : '#entity = :entity AND begins_with(#pk, :prefix)',
            ExpressionAttributeNames: {
              '#entity': 'entity',
              ...(query.scope === undefined ? {} : { '#pk': 'pk' }),
            },
            ExpressionAttributeValues: {
              ':entity': { S: entity },
              ...(query.scope === undefined ? {} : { ':prefix': { S: itemKeyPrefix(query.scope, entity) } }),
            },
            Limit: query.limit + 1 - items.length,
            ExclusiveStartKey: startKey,
          }),
        );
        items.push(...(Items ?? []));
        startKey = LastEvaluatedKey;
      } while (startKey !== undefined && items.length <= query.limit);
      if (items.length > query.limit) break;
    }
    return pageOf(
      { items: items.slice(0, query.limit), more: items.length > query.limit },
      CURSOR_KEY,
      storedMapping,
    );
  }
}

/** Where a listing's cursor resumes, accepted only for the scope and entity it was issued for. */
function listingStart(cursor: string, query: MappingQuery): { entity: MappingEntity; pk: string } {
  const key = decodeCursor(cursor, CURSOR_KEY);
  const entity = MAPPING_ENTITIES.find((candidate) => candidate === key.entity);
  if (entity === undefined || (query.entity !== undefined && entity !== query.entity)) {
    throw new InvalidCursorError('it was issued for another entity');
  }
  const scope = key.pk.slice(0, key.pk.indexOf('|'));
  if (
    !key.pk.startsWith(itemKeyPrefix(scope, entity)) ||
    (query.scope !== undefined && scope !== query.scope)
  ) {
    throw new InvalidCursorError('it was issued for another scope');
  }
  return { entity, pk: key.pk };
}

function storedMapping(item: Item): StoredMapping {
  const ref = requiredStrings(item, ['scope', 'entity', 'externalId'], 'Mapping');
  const entity = MAPPING_ENTITIES.find((candidate) => candidate === ref.entity);
  if (entity === undefined)
    throw new Error(`Mapping item ${item.pk?.S} has an unknown entity "${ref.entity}"`);
  return {
    ref: { ...ref, entity },
    target: { ...requiredStrings(item, ['internalId'], 'Mapping'), ...optionalStrings(item, ['propertyId']) },
  };
}
