import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { bootstrapFunction } from '../config/bootstrap';
import { systemClock } from '../shared/clock';
import { DynamoDbAriStore } from '../state/dynamodb-ari-store';
import { DynamoDbParityStore } from '../state/dynamodb-parity';
import { createParityConsumer } from './consumer';
import { readParityEnvironment } from './env';

// Runs once per cold start.
const fn = bootstrapFunction('parity', readParityEnvironment);
const { config, environment } = fn;
const dynamodb = fn.client(DynamoDBClient);

export const handler = createParityConsumer(
  {
    ari: new DynamoDbAriStore(dynamodb, environment.tables.ari),
    store: new DynamoDbParityStore(dynamodb, environment.tables.parity),
    clock: systemClock,
  },
  { parity: config.parity, horizonDays: config.reconciliation.parityHorizonDays },
  fn.logger,
  fn.metrics,
);
