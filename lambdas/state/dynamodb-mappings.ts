import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbTable, optionalStrings, requiredStrings, stringAttributes } from '../shared/dynamodb';
import type { MappingRef, MappingStore, MappingTarget } from './ports';

/** The item key of a mapping: scope, entity and external id, so that one consistent GetItem resolves it. */
export function mappingItemKey(ref: MappingRef): string {
  return `${ref.scope}|${ref.entity}|${ref.externalId}`;
}

/**
 * External id → internal id mappings in DynamoDB, one item per (scope, entity, external id). The ref's parts are
 * also stored as attributes of their own, so that the table can be read and audited without parsing keys.
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
}
