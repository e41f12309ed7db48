import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load';
import { addDays } from '../../lambdas/domain/dates';
import { ARI_STATE, PARITY_FINDINGS } from '../../lambdas/shared/topology';
import { DynamoDbAriStore } from '../../lambdas/state/dynamodb-ari-store';
import { DynamoDbParityStore } from '../../lambdas/state/dynamodb-parity';
import type { ParityRecord } from '../../lambdas/state/ports';
import { type LocalStack, startLocalStack } from '../../local/start';
import { emulatorEndpoints, localClients } from '../support/aws';
import { eventually } from '../support/eventually';

/**
 * Parity on change on the local stack: a rate written to the ARI table reaches the parity function through
 * DynamoDB Local's stream, with no reconciliation run, as the stream event source delivers it in AWS.
 */

const TRUTH = 'channel-manager-demo:CH-SIMULATOR';
const clients = localClients();
let stack: LocalStack;
let ari: DynamoDbAriStore;
let findings: DynamoDbParityStore;

beforeAll(async () => {
  const config = parseConfig(JSON.parse(readFileSync('config/local.example.json', 'utf8')));
  stack = await startLocalStack({
    config,
    emulators: emulatorEndpoints(),
    prefix: `e2epar${randomBytes(4).toString('hex')}`,
    reconcileIntervalMs: 0,
  });
  ari = new DynamoDbAriStore(clients.dynamodb, stack.topology.tables[ARI_STATE.id] ?? '');
  findings = new DynamoDbParityStore(clients.dynamodb, stack.topology.tables[PARITY_FINDINGS.id] ?? '');
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe('parity on change, locally', () => {
  it('flags a channel rate out of parity within seconds of the change, and clears it when the rate comes back', async () => {
    const date = addDays(new Date().toISOString().slice(0, 10), 1);
    const night = { propertyId: 'demo-hotel', roomTypeId: 'rt-e2e', ratePlanId: 'bar', date };
    const flagged = (): Promise<readonly ParityRecord[]> =>
      findings.list({ propertyId: 'demo-hotel', from: date, to: date, limit: 10 }).then((page) => page.items);

    await ari.writeNight(
      { ...night, channel: TRUTH },
      { rate: { amountMinor: 10_000, currency: 'EUR' } },
      'v1',
      'e1',
    );
    await ari.writeNight(
      { ...night, channel: 'ota-demo' },
      { rate: { amountMinor: 10_500, currency: 'EUR' } },
      'v2',
      'e2',
    );
    const [record] = await eventually('a parity finding for the night', async () => {
      const records = await flagged();
      return records.length > 0 ? records : undefined;
    });
    expect(record?.findings).toEqual([
      expect.objectContaining({ kind: 'price', channel: 'ota-demo', truthChannel: TRUTH, difference: 500 }),
    ]);

    await ari.writeNight(
      { ...night, channel: 'ota-demo' },
      { rate: { amountMinor: 10_050, currency: 'EUR' } },
      'v3',
      'e3',
    );
    await eventually('the finding cleared', async () => ((await flagged()).length === 0 ? true : undefined));
  }, 30_000);
});
