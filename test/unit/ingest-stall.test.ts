import { createHmac } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AWS_CLIENT_PROFILES, worstCaseCallMs } from '../../lambdas/shared/aws-clients';

/**
 * The real ingest function module, its SDK clients built as in AWS, with DynamoDB behind a loopback server that
 * accepts connections and never answers: a stalled ledger must cost the sender a prompt 503, not a hung request,
 * and a stalled rejection log must leave a refusal a prompt 4xx.
 */
const SECRET = 'ota-secret-for-stall-tests-4d2f8a91c7';

let server: Server;
const sockets = new Set<Socket>();
let connections = 0;
let handler: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

beforeAll(async () => {
  server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no loopback port');

  vi.stubEnv(
    'PARITYSYNC_CONFIG_JSON',
    JSON.stringify({ version: 1, sources: [{ id: 'ota-1', kind: 'ota', secrets: [{ value: SECRET }] }] }),
  );
  vi.stubEnv('LEDGER_TABLE_NAME', 'stalled-ledger');
  vi.stubEnv('REJECTIONS_TABLE_NAME', 'stalled-rejections');
  // Never reached: the claim comes first.
  vi.stubEnv('EVENT_QUEUE_URL', 'http://127.0.0.1:9/000000000000/events');
  vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', `http://127.0.0.1:${address.port}`);
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
  ({ handler } = await import('../../lambdas/ingest/handler'));
});

afterAll(async () => {
  vi.unstubAllEnvs();
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

describe('the ingest function while DynamoDB stalls', () => {
  it('answers 503 ledger_unavailable with Retry-After within the edge bound, instead of hanging', async () => {
    const raw = JSON.stringify({
      property_id: 'HOTEL-1',
      rate_plan_code: 'BAR',
      room_type_code: 'DBL',
      base_rate: 129.99,
      currency: 'EUR',
      // Today: stay dates must lie near the real clock's day.
      effective_date: new Date().toISOString().slice(0, 10),
      event_timestamp: new Date().toISOString(),
      event_id: 'ota-stall-1',
    });
    const started = Date.now();
    const answer = await handler({
      httpMethod: 'POST',
      pathParameters: { sourceId: 'ota-1' },
      headers: {
        'content-type': 'application/json',
        'x-ota-signature': createHmac('sha256', SECRET).update(raw).digest('hex'),
      },
      body: raw,
      isBase64Encoded: false,
      requestContext: { identity: { sourceIp: '38.80.170.10' } },
    } as unknown as APIGatewayProxyEvent);
    const elapsed = Date.now() - started;

    expect(answer.statusCode).toBe(503);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'ledger_unavailable' });
    expect(answer.headers?.['retry-after']).toMatch(/^\d+$/);
    expect(connections).toBeGreaterThan(0);
    expect(elapsed).toBeLessThan(worstCaseCallMs(AWS_CLIENT_PROFILES.ingest) + 2_000);
  }, 15_000);

  it('still answers a bad signature 401 within the edge bound when the rejection log cannot be written', async () => {
    const raw = JSON.stringify({ event_id: 'ota-stall-2' });
    const before = connections;
    const started = Date.now();
    const answer = await handler({
      httpMethod: 'POST',
      pathParameters: { sourceId: 'ota-1' },
      headers: { 'content-type': 'application/json', 'x-ota-signature': '00'.repeat(32) },
      body: raw,
      isBase64Encoded: false,
      requestContext: { identity: { sourceIp: '38.80.170.10' } },
    } as unknown as APIGatewayProxyEvent);
    const elapsed = Date.now() - started;

    expect(answer.statusCode).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'invalid_signature' });
    // The log was tried, and given up on at the clients' bound for one call: the counter write never answered.
    expect(connections).toBeGreaterThan(before);
    expect(elapsed).toBeGreaterThanOrEqual(AWS_CLIENT_PROFILES.ingest.requestTimeoutMs);
    expect(elapsed).toBeLessThan(worstCaseCallMs(AWS_CLIENT_PROFILES.ingest) + 2_000);
  }, 15_000);
});
