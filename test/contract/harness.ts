import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { adapterFor } from '../../lambdas/adapters';
import { parseConfig } from '../../lambdas/config/load';
import type { ParitySyncConfigInput } from '../../lambdas/config/schema';
import { createSecretResolver } from '../../lambdas/config/secrets';
import { createIngestHttpHandler } from '../../lambdas/ingest/http';
import type { IngestSettings } from '../../lambdas/ingest/ingest';
import { prepareSources } from '../../lambdas/ingest/sources';
import { nodeCrypto } from '../../lambdas/shared/crypto';
import { ManualClock } from '../fakes/clock';
import { InMemoryLedger, InMemoryQueue } from '../fakes/in-memory';
import { InMemoryRejectionLog } from '../fakes/rejections';

export const DEFAULT_SETTINGS: IngestSettings = {
  maxBodyBytes: 1_048_576,
  dedupeWindowSeconds: 30 * 86_400,
  claimLeaseMs: 15_000,
  minLeaseLeftMs: 6_000,
};

/** The configuration's defaults: 10 records per source and second, kept 7 days. */
export const DEFAULT_REJECTIONS = { recordsPerSecond: 10, retentionSeconds: 7 * 86_400 } as const;

export interface Delivery {
  readonly sourceId: string;
  readonly body: Buffer;
  readonly headers: Record<string, string>;
  readonly sourceIp?: string;
}

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly json: Record<string, unknown>;
}

/** The real edge (adapters, strict JSON, HTTP mapping) over in-memory ledger and queue. */
export function createEdge(
  sources: ParitySyncConfigInput['sources'],
  settings: IngestSettings = DEFAULT_SETTINGS,
) {
  const config = parseConfig({ version: 1, sources });
  const ledger = new InMemoryLedger();
  const queue = new InMemoryQueue();
  const rejections = new InMemoryRejectionLog();
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const handle = createIngestHttpHandler(
    {
      sources: prepareSources(config, adapterFor),
      secrets: createSecretResolver({}),
      ledger,
      queue,
      clock,
      crypto: nodeCrypto,
      settings,
      rejections: { recorder: rejections, ...DEFAULT_REJECTIONS },
    },
    new Logger({ logLevel: 'SILENT' }),
  );

  async function deliver(delivery: Delivery): Promise<Answer> {
    const event = {
      httpMethod: 'POST',
      path: `/webhooks/${delivery.sourceId}`,
      resource: '/webhooks/{sourceId}',
      pathParameters: { sourceId: delivery.sourceId },
      headers: delivery.headers,
      multiValueHeaders: {},
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      body: delivery.body.length ? delivery.body.toString('base64') : null,
      isBase64Encoded: true,
      requestContext: { identity: { sourceIp: delivery.sourceIp ?? '38.80.170.10' } },
    } as unknown as APIGatewayProxyEvent;
    const result = await handle(event);
    return {
      status: result.statusCode,
      headers: (result.headers ?? {}) as Record<string, string>,
      json: JSON.parse(result.body) as Record<string, unknown>,
    };
  }

  return { config, ledger, queue, rejections, clock, deliver };
}
