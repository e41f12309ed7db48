import { randomBytes, randomUUID } from 'node:crypto';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARI_STATE, localName, REVIEW } from '../../lambdas/shared/topology';
import { DynamoDbReviewStore } from '../../lambdas/state/dynamodb-review';
import { type Emulators, LOCAL_AWS, startEmulators } from '../../local/emulators';
import { provision } from '../../local/provision';
import { parked, reservationEvent } from '../ports/review-store.contract';

/**
 * `npm start` on a data directory from an older topology, with emulators of its own as `npm start` has: DynamoDB
 * Local shared with the rest of the suite can leave an index added to a table that holds items backfilling for
 * minutes while other files write, which says nothing about the upgrade.
 */
let emulators: Emulators;
let dynamodb: DynamoDBClient;
let sqs: SQSClient;

beforeAll(async () => {
  emulators = await startEmulators();
  const { region, credentials } = LOCAL_AWS;
  dynamodb = new DynamoDBClient({ endpoint: emulators.dynamodbEndpoint, region, credentials });
  sqs = new SQSClient({ endpoint: emulators.sqsEndpoint, region, credentials });
}, 60_000);

afterAll(async () => {
  await emulators?.stop();
});

// Provisioning creates every table and queue of the topology: a second alone, far longer on a busy machine, where
// DynamoDB Local has been seen to take over 30 s to make an added index ACTIVE.
describe('provisioning a kept topology', { timeout: 120_000 }, () => {
  it('adds an index the topology gained to a table kept from before, keeping its items', async () => {
    const prefix = `t${randomBytes(5).toString('hex')}`;
    const name = localName(REVIEW, prefix);
    // The review table as an older topology created it: the byWaitingFor index alone.
    await dynamodb.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'waitingFor', AttributeType: 'S' },
        ],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byWaitingFor',
            KeySchema: [{ AttributeName: 'waitingFor', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
    const old = new DynamoDbReviewStore(dynamodb, name);
    const event = reservationEvent(`evt_${randomUUID()}`);
    await old.park(parked(event, 'roomType|KEPT'));

    await provision({ dynamodb, sqs, prefix });

    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: name }));
    expect(
      Table?.GlobalSecondaryIndexes?.map((index) => [index.IndexName, index.IndexStatus]).sort(),
    ).toEqual([
      ['byWaitingFor', 'ACTIVE'],
      ['waitingInOrder', 'ACTIVE'],
    ]);
    expect(await old.waitingFor('roomType|KEPT')).toEqual([parked(event, 'roomType|KEPT')]);
    expect((await old.waitingInOrder('roomType|KEPT', 10)).items).toEqual([parked(event, 'roomType|KEPT')]);
  });

  it('gives a table kept from before its stream when the topology gained one', async () => {
    const prefix = `t${randomBytes(5).toString('hex')}`;
    const name = localName(ARI_STATE, prefix);
    await dynamodb.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    );

    await provision({ dynamodb, sqs, prefix });

    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: name }));
    expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: ARI_STATE.stream });
    expect(Table?.LatestStreamArn).toBeDefined();
  });
});
