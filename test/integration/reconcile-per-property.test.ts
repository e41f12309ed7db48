import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load';
import { createSecretResolver } from '../../lambdas/config/secrets';
import { DynamoDbCheckpointStore } from '../../lambdas/reconcile/dynamodb-checkpoints';
import { createReconcileRuntime } from '../../lambdas/reconcile/runtime';
import { type ProgressEvent, reconcile } from '../../lambdas/reconcile/service';
import {
  ARI_STATE,
  MAPPINGS,
  PARITY_FINDINGS,
  RECONCILE_AUDIT,
  RECONCILE_CHECKPOINTS,
} from '../../lambdas/shared/topology';
import { DynamoDbAriStore } from '../../lambdas/state/dynamodb-ari-store';
import { canonicalValues, generateDataset, seededRandom } from '../../local/simulator/dataset';
import { type Simulator, startSimulator } from '../../local/simulator/server';
import { type IsolatedTopology, provisionIsolated } from '../support/aws';

/** Reconciliation never reads signing secrets; the configuration still requires strong ones. */
const SIGNING_SECRET = 'noW14haeZIwGXEM6hqY0dhjqqO1ZnFbrRp2CwPqqgMs=';

/**
 * A provider that limits requests per property, polled property by property through the real runtime: the
 * simulator enforces the quota, the polling client keeps to it, and each property keeps its own checkpoint in
 * DynamoDB Local.
 */

const TOKEN = 'per-property-token';
// Two requests a second per property, and no more than two at once: unpaced paging would be refused.
const PER_PROPERTY_PER_MINUTE = 120;
let topology: IsolatedTopology;
let simulator: Simulator | undefined;

beforeAll(async () => {
  topology = await provisionIsolated();
});

afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
});

function table(definition: { readonly id: string }): string {
  const name = topology.tables[definition.id];
  if (name === undefined) throw new Error(`${definition.id} was not provisioned`);
  return name;
}

const ROOM_TYPES: Record<string, string> = { 'DBL-STD': 'dbl', 'TWN-STD': 'twn', 'STE-DLX': 'ste' };

/** A provider enforcing the quota, and a reconciliation of it whose client paces itself as `rateLimit` says. */
/**
 * `providerBurst`: requests a property may make back to back. 1 leaves no slack, so a client that does not pace
 * itself is refused on its second page however slowly a busy machine serves the first.
 */
async function reconcileAgainstQuota(sourceId: string, rateLimit: Record<string, number>, providerBurst = 2) {
  const dataset = generateDataset({ seed: 21, nights: 120, properties: ['H1', 'H2', 'H3'] });
  simulator = await startSimulator({
    port: 0,
    token: TOKEN,
    dataset,
    random: seededRandom(5),
    rateLimit: {
      requestsPerSecond: 1000,
      burst: 1000,
      perPropertyPerMinute: PER_PROPERTY_PER_MINUTE,
      perPropertyBurst: providerBurst,
    },
  });
  const config = parseConfig({
    version: 1,
    sources: [
      {
        id: sourceId,
        kind: 'channel-manager',
        secrets: [{ value: SIGNING_SECRET }],
        polling: {
          baseUrl: simulator.url,
          token: { value: TOKEN },
          pageSize: 10,
          rateLimit,
          // H3 is served by the provider but not listed: it is not polled.
          propertyIds: ['H1', 'H2'],
        },
      },
    ],
    mappings: [
      {
        scope: '*',
        properties: { H1: 'pp-h1', H2: 'pp-h2', H3: 'pp-h3' },
        roomTypes: { 'DBL-STD': 'dbl', 'TWN-STD': 'twn', 'STE-DLX': 'ste' },
        ratePlans: { BAR: 'bar', NRF: 'nrf' },
      },
    ],
  });
  const runtime = createReconcileRuntime({
    config,
    tables: {
      ari: table(ARI_STATE),
      mappings: table(MAPPINGS),
      checkpoints: table(RECONCILE_CHECKPOINTS),
      audit: table(RECONCILE_AUDIT),
      parity: table(PARITY_FINDINGS),
    },
    dynamodb: topology.dynamodb,
    secrets: createSecretResolver({}),
  });
  const events: ProgressEvent[] = [];

  const report = await reconcile(
    { parity: false },
    runtime((event) => events.push(event)),
  );
  const provider = simulator;
  return { dataset, report, events, provider };
}

describe('reconciliation of a provider with a per-property quota', () => {
  it('polls each listed property on its own, within the quota, with a checkpoint per property', async () => {
    const { dataset, report, events, provider } = await reconcileAgainstQuota('cm-sim', {
      requestsPerSecond: 100,
      burst: 10,
      perPropertyPerMinute: PER_PROPERTY_PER_MINUTE,
    });

    const perProperty = (id: string) => dataset.nights().filter((night) => night.propertyId === id);
    expect(events[0]).toEqual({ type: 'plan', sources: ['cm-sim H1', 'cm-sim H2'], parityProperties: [] });
    expect(
      report.sources.map((source) => [
        source.sourceId,
        source.propertyId,
        source.outcome,
        source.outcome === 'reconciled' ? source.nightsPolled : -1,
      ]),
    ).toEqual([
      ['cm-sim', 'H1', 'reconciled', perProperty('H1').length],
      ['cm-sim', 'H2', 'reconciled', perProperty('H2').length],
    ]);
    // Several pages per property, every one admitted: the client kept to the provider's quota.
    expect(provider.stats().pagesServed).toBeGreaterThan(4);
    expect(provider.stats().rateLimited).toBe(0);

    const checkpoints = new DynamoDbCheckpointStore(topology.dynamodb, table(RECONCILE_CHECKPOINTS));
    const latest = (id: string) =>
      new Date(Math.max(...perProperty(id).map((night) => Date.parse(night.updatedAt)))).toISOString();
    expect((await checkpoints.get('cm-sim#property=H1'))?.watermark).toBe(latest('H1'));
    expect((await checkpoints.get('cm-sim#property=H2'))?.watermark).toBe(latest('H2'));
    expect(await checkpoints.get('cm-sim')).toBeUndefined();

    // Local state held nothing, so every polled night was drift and is now the provider's.
    const ari = new DynamoDbAriStore(topology.dynamodb, table(ARI_STATE));
    for (const id of ['H1', 'H2']) {
      const expected = new Map(
        perProperty(id).map((night) => {
          const key = {
            propertyId: `pp-${id.toLowerCase()}`,
            roomTypeId: ROOM_TYPES[night.roomTypeCode] ?? '',
            ratePlanId: night.ratePlanCode.toLowerCase(),
            channel: 'cm-sim',
            date: night.date,
          };
          return [JSON.stringify(key), { key, rate: canonicalValues(night).rate }];
        }),
      );
      const stored = await ari.readNightsByKey([...expected.values()].map((entry) => entry.key));
      expect(stored).toHaveLength(expected.size);
      for (const night of stored) {
        expect(night.rate?.value).toEqual(expected.get(JSON.stringify(night.key))?.rate);
      }
    }
    const unlisted = await ari.readNights({
      propertyId: 'pp-h3',
      from: '2000-01-01',
      to: '2100-01-01',
      limit: 10,
    });
    expect(unlisted.items).toEqual([]);
  });

  it('without the quota configured draws the provider’s 429s, and rides them out losing no night', async () => {
    const { dataset, report, provider } = await reconcileAgainstQuota(
      'cm-unpaced',
      { requestsPerSecond: 100, burst: 10 },
      1,
    );
    expect(provider.stats().rateLimited).toBeGreaterThan(0);
    const throttled = report.sources.reduce(
      (total, source) => total + (source.outcome === 'reconciled' ? source.throttled : 0),
      0,
    );
    expect(throttled).toBe(provider.stats().rateLimited);
    expect(report.sources.map((source) => source.outcome === 'reconciled' && source.nightsPolled)).toEqual(
      ['H1', 'H2'].map((id) => dataset.nights().filter((night) => night.propertyId === id).length),
    );
  });
});
