import { createHmac } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { adapterFor } from '../../lambdas/adapters';
import { parseConfig } from '../../lambdas/config/load';
import { createSecretResolver } from '../../lambdas/config/secrets';
import { createIngestHttpHandler, type IngestMetrics } from '../../lambdas/ingest/http';
import { prepareSources } from '../../lambdas/ingest/sources';
import { DynamoDbRejectionLog } from '../../lambdas/ledger/dynamodb-rejections';
import { nodeCrypto } from '../../lambdas/shared/crypto';
import { INGEST_METRICS } from '../../lambdas/shared/metric-names';
import { REJECTIONS } from '../../lambdas/shared/topology';
import { DEFAULT_SETTINGS } from '../contract/harness';
import { ManualClock } from '../fakes/clock';
import { InMemoryLedger, InMemoryQueue } from '../fakes/in-memory';
import { type IsolatedTopology, provisionIsolated } from '../support/aws';

/**
 * A flood of forged deliveries through the real edge, recorded in DynamoDB Local over the real SDK client: the
 * log keeps at most the configured number per source and second and counts the rest. The clock is injected, so
 * that every request of the flood falls in one second, however long the emulator takes to answer them.
 */
const SECRET = '/Ni74w2/Vt7pImw7NaIgGnU3JC3LFocm6JUdA62usgc=';
// The flood operators are promised to survive: 5,000 forged deliveries in one second, five hundred times the
// default bound of 10, fifty at a time, so that every batch races for the second's last slots.
const FLOOD = 5_000;
const IN_FLIGHT = 50;
// A whole second an hour ahead: the records' and counters' expiries lie in the wall clock's future, which
// DynamoDB Local's TTL sweeper would otherwise act on.
const SECOND = (Math.floor(Date.now() / 1000) + 3_600) * 1000;

const config = parseConfig({
  version: 1,
  sources: [{ id: 'ota-flooded', kind: 'ota', secrets: [{ value: SECRET }] }],
});

let topology: IsolatedTopology;

beforeAll(async () => {
  topology = await provisionIsolated();
});

class CountingMetrics implements IngestMetrics {
  readonly counts = new Map<string, number>();
  addMetric(name: string, _unit: string, value: number) {
    this.counts.set(name, (this.counts.get(name) ?? 0) + value);
  }
  publish() {}
}

describe('a flood of bad signatures', () => {
  it(`records at most rejections.recordsPerSecond of ${FLOOD} refused in one second, and counts the rest`, async () => {
    const table = topology.tables[REJECTIONS.id] ?? '';
    const log = new DynamoDbRejectionLog(topology.dynamodb, table);
    const clock = new ManualClock(SECOND);
    const metrics = new CountingMetrics();
    const { recordsPerSecond } = config.rejections;
    const handle = createIngestHttpHandler(
      {
        sources: prepareSources(config, adapterFor),
        secrets: createSecretResolver({}),
        ledger: new InMemoryLedger(),
        queue: new InMemoryQueue(),
        clock,
        crypto: nodeCrypto,
        settings: DEFAULT_SETTINGS,
        rejections: {
          recorder: log,
          recordsPerSecond,
          retentionSeconds: config.rejections.retentionDays * 86_400,
        },
      },
      new Logger({ logLevel: 'SILENT' }),
      metrics,
    );
    const forged = (i: number) => {
      const body = Buffer.from(JSON.stringify({ event_id: `forged-${i}`, base_rate: 1 }));
      return handle({
        httpMethod: 'POST',
        pathParameters: { sourceId: 'ota-flooded' },
        headers: {
          'content-type': 'application/json',
          'x-ota-signature': createHmac('sha256', 'a guess at the secret').update(body).digest('hex'),
        },
        body: body.toString('base64'),
        isBase64Encoded: true,
        requestContext: { requestId: `flood-${i}`, identity: { sourceIp: '198.51.100.66' } },
      } as unknown as APIGatewayProxyEvent);
    };

    const statuses = new Map<number, number>();
    for (let start = 0; start < FLOOD; start += IN_FLIGHT) {
      // Time moves on through the flood, and never past the second's last millisecond.
      clock.set((SECOND + Math.floor((start * 1000) / FLOOD)) / 1000);
      const answers = await Promise.all(
        Array.from({ length: Math.min(IN_FLIGHT, FLOOD - start) }, (_, i) => forged(start + i)),
      );
      for (const answer of answers)
        statuses.set(answer.statusCode, (statuses.get(answer.statusCode) ?? 0) + 1);
    }
    expect(clock.now().getTime()).toBeLessThan(SECOND + 1000);
    expect([...statuses]).toEqual([[401, FLOOD]]);
    expect(metrics.counts.get(INGEST_METRICS.rejectionsNotRecorded) ?? 0).toBe(0);

    const second = { from: new Date(SECOND).toISOString(), to: new Date(SECOND + 999).toISOString() };
    const recorded = await log.list({ sourceId: 'ota-flooded', ...second, limit: 500 });
    expect(recorded.items).toHaveLength(recordsPerSecond);
    expect(recorded.cursor).toBeUndefined();
    expect(recorded.items.every((r) => r.status === 401 && r.reason === 'invalid_signature')).toBe(true);
    const day = second.from.slice(0, 10);
    expect(await log.unrecorded({ bucket: 'ota-flooded', fromDay: day, toDay: day })).toEqual([
      { bucket: 'ota-flooded', day, count: FLOOD - recordsPerSecond },
    ]);

    // The bound is per second: the next one records again.
    clock.set((SECOND + 1000) / 1000);
    expect((await forged(FLOOD)).statusCode).toBe(401);
    const next = await log.list({
      sourceId: 'ota-flooded',
      ...second,
      to: new Date(SECOND + 1000).toISOString(),
      limit: 500,
    });
    expect(next.items).toHaveLength(recordsPerSecond + 1);
  }, 240_000);
});
