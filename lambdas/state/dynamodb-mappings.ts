import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { MappingRef, MappingStore, MappingTarget } from './ports';

/** The item key of a mapping: scope, entity and external id, so that one consistent GetItem resolves it. */
export function mappingItemKey(ref: MappingRef): string {
  return `${ref.scope}|${ref.entity}|${ref.externalId}`;
}

/**
 * External id → internal id mappings in DynamoDB, one item per (scope, entity, external id). The ref's parts are
 * also stored as attributes of their own, so that the table can be read and audited without parsing keys.
 */
export class DynamoDbMappingStore implements MappingStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async get(ref: MappingRef): Promise<MappingTarget | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: mappingItemKey(ref) } },
        // A mapping just added must release the events parked for it at once, not after replication.
        ConsistentRead: true,
      }),
    );
    if (Item === undefined) return undefined;
    const internalId = Item.internalId?.S;
    if (internalId === undefined) {
      throw new Error(`Mapping item ${mappingItemKey(ref)} has no string attribute "internalId"`);
    }
    const propertyId = Item.propertyId?.S;
    return propertyId === undefined ? { internalId } : { internalId, propertyId };
  }

  async put(ref: MappingRef, target: MappingTarget, at: string, origin: string): Promise<void> {
    const item: Record<string, AttributeValue> = {
      pk: { S: mappingItemKey(ref) },
      scope: { S: ref.scope },
      entity: { S: ref.entity },
      externalId: { S: ref.externalId },
      internalId: { S: target.internalId },
      updatedAt: { S: at },
      origin: { S: origin },
    };
    if (target.propertyId !== undefined) item.propertyId = { S: target.propertyId };
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item }));
  }
}
