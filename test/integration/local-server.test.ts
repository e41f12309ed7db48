import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../lambdas/config/load';
import { buildAllowlist, ParitySyncConfigSchema, SOURCE_KINDS } from '../../lambdas/config/schema';
import { ConfigurationError } from '../../lambdas/shared/errors';
import { EVENTS_QUEUE } from '../../lambdas/shared/topology';
import { javaMajorVersion, LocalEnvironmentError, startEmulators } from '../../local/emulators';
import { sendSample } from '../../local/send';
import { type LocalApi, MAX_REQUEST_BYTES, type ProxyHandler, startLocalApi } from '../../local/server';
import {
  CONSUMER_START_PATH,
  CONSUMER_STOP_PATH,
  type LocalStack,
  readStartEnvironment,
  startLocalStack,
} from '../../local/start';
import { emulatorEndpoints, localClients } from '../support/aws';

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** A request with exact control over header lines and body bytes, which fetch does not give. */
function send(
  baseUrl: string,
  options: {
    method?: string;
    path: string;
    headers?: OutgoingHttpHeaders;
    body?: Buffer;
    declaredLength?: number;
  },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers: OutgoingHttpHeaders = { ...options.headers };
    if (options.declaredLength !== undefined) headers['content-length'] = options.declaredLength;
    else if (options.body) headers['content-length'] = options.body.length;
    const req = httpRequest(
      `${baseUrl}${options.path}`,
      { method: options.method ?? 'POST', headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.body && options.declaredLength === undefined) req.end(options.body);
    else if (options.declaredLength === undefined) req.end();
    // With a declared length and no body, the request stays open: the server must answer without reading on.
    else req.flushHeaders();
  });
}

const json = (response: RawResponse) => JSON.parse(response.body.toString('utf8')) as Record<string, unknown>;

describe('local API Gateway stand-in', () => {
  const calls: Array<{ event: APIGatewayProxyEvent; context: Context; remainingMs: number }> = [];
  let nextResult: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;
  const logError = vi.fn();
  let api: LocalApi;

  const recordingHandler: ProxyHandler = async (event, context) => {
    calls.push({ event, context, remainingMs: context.getRemainingTimeInMillis() });
    return nextResult(event);
  };

  beforeAll(async () => {
    api = await startLocalApi({
      port: 0,
      host: '127.0.0.1',
      routes: [{ method: 'POST', resource: '/webhooks/{sourceId}', handler: recordingHandler }],
      logError,
    });
  });
  afterAll(() => api.close());
  afterEach(() => {
    calls.length = 0;
    logError.mockClear();
    nextResult = async () => ({ statusCode: 200, body: '' });
  });

  it('builds the REST proxy event API Gateway would, with the raw body bytes intact', async () => {
    // Invalid UTF-8, a NUL, multi-byte characters and every byte value: a text round trip would mangle these.
    const body = Buffer.concat([
      Buffer.from('{"name":"Zoë 東京 🏨"}'),
      Buffer.from([0x00, 0xff, 0xfe, 0xc3, 0x28]),
      Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
    ]);
    nextResult = async () => ({
      statusCode: 202,
      body: '{"ok":true}',
      headers: { 'Content-Type': 'application/json' },
    });

    const response = await send(api.url, {
      path: '/webhooks/pms-demo?attempt=1&tag=a&tag=b',
      headers: { 'X-Signature': 'sig', 'Content-Type': 'application/json', 'X-Multi': ['one', 'two'] },
      body,
    });

    expect(response.status).toBe(202);
    expect(response.body.toString()).toBe('{"ok":true}');
    expect(calls).toHaveLength(1);
    const [{ event, context, remainingMs }] = calls as [(typeof calls)[number]];
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64').equals(body)).toBe(true);
    expect(event).toMatchObject({
      httpMethod: 'POST',
      path: '/webhooks/pms-demo',
      resource: '/webhooks/{sourceId}',
      pathParameters: { sourceId: 'pms-demo' },
      queryStringParameters: { attempt: '1', tag: 'b' },
      multiValueQueryStringParameters: { attempt: ['1'], tag: ['a', 'b'] },
      stageVariables: null,
    });
    expect(event.headers).toMatchObject({
      'X-Signature': 'sig',
      'Content-Type': 'application/json',
      'X-Multi': 'two',
      'X-Forwarded-For': '127.0.0.1',
    });
    expect(event.multiValueHeaders).toMatchObject({ 'X-Multi': ['one', 'two'], 'X-Signature': ['sig'] });
    expect(event.requestContext).toMatchObject({
      stage: 'local',
      httpMethod: 'POST',
      path: '/local/webhooks/pms-demo',
      resourcePath: '/webhooks/{sourceId}',
      identity: { sourceIp: '127.0.0.1' },
    });
    expect(event.requestContext.requestId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(Math.abs(event.requestContext.requestTimeEpoch - Date.now())).toBeLessThan(5_000);
    expect(context.awsRequestId).toBe(event.requestContext.requestId);
    expect(remainingMs).toBeGreaterThan(20_000);
  });

  it('passes an empty body as null, not base64, and no query string as null', async () => {
    await send(api.url, { path: '/webhooks/ota-demo' });
    const [{ event }] = calls as [(typeof calls)[number]];
    expect(event.body).toBeNull();
    expect(event.isBase64Encoded).toBe(false);
    expect(event.queryStringParameters).toBeNull();
    expect(event.multiValueQueryStringParameters).toBeNull();
  });

  it('appends the caller address to a client-sent X-Forwarded-For, without trusting it as the source', async () => {
    await send(api.url, { path: '/webhooks/ota-demo', headers: { 'X-Forwarded-For': '38.80.170.7' } });
    const [{ event }] = calls as [(typeof calls)[number]];
    expect(event.headers['X-Forwarded-For']).toBe('38.80.170.7, 127.0.0.1');
    expect(event.requestContext.identity.sourceIp).toBe('127.0.0.1');
  });

  it('writes the handler result back, decoding base64 bodies and sending multi-value headers', async () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]);
    nextResult = async () => ({
      statusCode: 409,
      headers: { 'Retry-After': '5' },
      multiValueHeaders: { 'X-Trace': ['a', 'b'] },
      body: bytes.toString('base64'),
      isBase64Encoded: true,
    });
    const response = await send(api.url, { path: '/webhooks/x', body: Buffer.from('{}') });
    expect(response.status).toBe(409);
    expect(response.body.equals(bytes)).toBe(true);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.headers['x-trace']).toBe('a, b');
  });

  it('answers 404 route_not_found for an unknown path or method, without invoking a handler', async () => {
    const unknownPath = await send(api.url, { path: '/hooks/pms-demo', body: Buffer.from('{}') });
    expect(unknownPath.status).toBe(404);
    expect(json(unknownPath)).toMatchObject({ error: 'route_not_found' });
    expect(String(json(unknownPath).message)).toContain('POST /webhooks/{sourceId}');

    const nestedPath = await send(api.url, { path: '/webhooks/pms-demo/extra' });
    expect(nestedPath.status).toBe(404);

    const wrongMethod = await send(api.url, { method: 'GET', path: '/webhooks/pms-demo' });
    expect(wrongMethod.status).toBe(404);
    expect(calls).toHaveLength(0);
  });

  it('answers 413 for a declared body over 10 MiB without reading it', async () => {
    const response = await send(api.url, {
      path: '/webhooks/pms-demo',
      declaredLength: MAX_REQUEST_BYTES + 1,
    });
    expect(response.status).toBe(413);
    expect(json(response)).toMatchObject({ error: 'payload_too_large' });
    expect(calls).toHaveLength(0);
  });

  it('answers 413 for a chunked body that grows past 10 MiB', async () => {
    const response = await new Promise<RawResponse>((resolve, reject) => {
      const req = httpRequest(`${api.url}/webhooks/pms-demo`, { method: 'POST' }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      });
      // The server discards the excess rather than resetting the connection, so the client reads the 413.
      req.on('error', reject);
      const chunk = Buffer.alloc(1024 * 1024, 0x61);
      for (let i = 0; i < 11; i++) req.write(chunk);
      req.end();
    });
    expect(response.status).toBe(413);
    expect(calls).toHaveLength(0);
  });

  it('answers 413 before the upload to a client that sends Expect: 100-continue, and lets smaller ones through', async () => {
    const ask = (length: number) =>
      new Promise<{ status: number; continued: boolean }>((resolve, reject) => {
        let continued = false;
        const body = Buffer.alloc(length, 0x7b);
        const req = httpRequest(`${api.url}/webhooks/pms-demo`, {
          method: 'POST',
          headers: { expect: '100-continue', 'content-length': length },
        });
        req.on('continue', () => {
          continued = true;
          req.end(body);
        });
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, continued }));
        });
        req.on('error', reject);
        req.flushHeaders();
      });
    expect(await ask(MAX_REQUEST_BYTES + 1)).toEqual({ status: 413, continued: false });
    expect(await ask(64)).toEqual({ status: 200, continued: true });
    expect(calls).toHaveLength(1);
    expect(Buffer.from(calls[0]?.event.body ?? '', 'base64')).toHaveLength(64);
  });

  it('answers 502 internal_error when the handler throws, and logs the error', async () => {
    const failure = new Error('ledger exploded');
    nextResult = async () => {
      throw failure;
    };
    const response = await send(api.url, { path: '/webhooks/pms-demo', body: Buffer.from('{}') });
    expect(response.status).toBe(502);
    expect(json(response)).toMatchObject({ error: 'internal_error' });
    expect(logError).toHaveBeenCalledWith(expect.stringContaining('/webhooks/{sourceId}'), failure);
  });

  it('answers 502 when the handler returns something that is not a proxy result', async () => {
    nextResult = async () => ({ body: 'no status' }) as unknown as APIGatewayProxyResult;
    const response = await send(api.url, { path: '/webhooks/pms-demo', body: Buffer.from('{}') });
    expect(response.status).toBe(502);
    expect(logError).toHaveBeenCalledOnce();
  });

  it('listens on 127.0.0.1 only', async () => {
    expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const externalAddresses = Object.values(networkInterfaces())
      .flat()
      .filter((info) => info !== undefined && !info.internal && info.family === 'IPv4')
      .map((info) => info?.address);
    for (const address of externalAddresses) {
      await expect(
        send(`http://${address}:${api.port}`, { path: '/webhooks/pms-demo' }),
      ).rejects.toMatchObject({
        code: 'ECONNREFUSED',
      });
    }
    await expect(send(`http://[::1]:${api.port}`, { path: '/webhooks/pms-demo' })).rejects.toHaveProperty(
      'code',
    );
  });
});

describe('config/local.example.json', () => {
  const raw = JSON.parse(readFileSync(join(__dirname, '../../config/local.example.json'), 'utf8')) as unknown;
  const config = ParitySyncConfigSchema.parse(raw);

  it('has one demo source of every kind', () => {
    expect(config.sources.map((source) => source.kind).sort()).toEqual([...SOURCE_KINDS].sort());
    expect(config.sources.map((source) => source.id)).toEqual([
      'channel-manager-demo',
      'ota-demo',
      'pms-demo',
      'mapping-demo',
      'hospitable-demo',
      'standard-webhooks-demo',
    ]);
    for (const source of config.sources) {
      expect(source.secrets.length, source.id).toBeGreaterThan(0);
      expect(source.secrets.every((ref) => 'value' in ref)).toBe(true);
    }
  });

  it('lets the local machine and Hospitable’s published range send to the hospitable demo', () => {
    const hospitable = config.sources.find((source) => source.kind === 'hospitable');
    const allowed = buildAllowlist(hospitable?.allowedCidrs ?? []);
    expect(['127.0.0.1', '::1', '38.80.170.12'].map(allowed)).toEqual([true, true, true]);
    expect(allowed('203.0.113.9')).toBe(false);
  });

  it('gives the Standard Webhooks demo a whsec_ secret of at least 24 random bytes', () => {
    const source = config.sources.find((s) => s.kind === 'standard-webhooks');
    const secret = source?.secrets[0];
    const value = secret && 'value' in secret ? secret.value : '';
    expect(value).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(value.slice('whsec_'.length), 'base64').length).toBeGreaterThanOrEqual(24);
  });
});

describe('npm start environment', () => {
  it('defaults to the example configuration on port 3000, the simulator on 3100 and the demo on', () => {
    expect(readStartEnvironment({})).toEqual({
      configPath: 'config/local.example.json',
      port: 3000,
      simulatorPort: 3100,
      demo: true,
    });
    expect(
      readStartEnvironment({
        PORT: '8080',
        PARITYSYNC_CONFIG: 'my.json',
        SIMULATOR_PORT: '9100',
        PARITYSYNC_DEMO: 'off',
        PARITYSYNC_RECONCILE_SECONDS: '60',
      }),
    ).toEqual({ configPath: 'my.json', port: 8080, simulatorPort: 9100, demo: false, reconcileSeconds: 60 });
  });

  it('names each offending variable of the simulator, the demo and the schedule', () => {
    for (const [name, value] of [
      ['SIMULATOR_PORT', '0x10'],
      ['PARITYSYNC_DEMO', 'yes'],
      ['PARITYSYNC_RECONCILE_SECONDS', '-5'],
    ] as const) {
      let error: unknown;
      try {
        readStartEnvironment({ [name]: value });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).problems.map((p) => p.path)).toEqual([name]);
    }
  });

  it('names the offending variable', () => {
    for (const PORT of ['eighty', '70000', '']) {
      let error: unknown;
      try {
        readStartEnvironment({ PORT });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).message).toContain('PORT');
      expect((error as ConfigurationError).problems.map((p) => p.path)).toEqual(['PORT']);
    }
  });
});

describe('startLocalStack', () => {
  const config = parseConfig(
    JSON.parse(readFileSync(join(__dirname, '../../config/local.example.json'), 'utf8')),
  );
  const emulators = emulatorEndpoints;

  it('provisions the topology and hands the ingest function its environment, restoring it on stop', async () => {
    let seen: NodeJS.ProcessEnv = {};
    const before = process.env.LEDGER_TABLE_NAME;
    const stack = await startLocalStack({
      config,
      emulators: emulators(),
      prefix: `s${Date.now().toString(36)}`,
      consumer: false,
      loadIngestHandler: async () => ({
        handler: async () => {
          seen = { ...process.env };
          return { statusCode: 204, body: '' };
        },
      }),
    });
    try {
      const response = await fetch(`${stack.url}/webhooks/pms-demo`, { method: 'POST', body: '{}' });
      expect(response.status).toBe(204);
      expect(seen).toMatchObject({
        LEDGER_TABLE_NAME: stack.topology.tables.DeliveryLedger,
        EVENT_QUEUE_URL: stack.topology.queues[EVENTS_QUEUE.id]?.url,
        AWS_ENDPOINT_URL_DYNAMODB: emulators().dynamodbEndpoint,
        AWS_ENDPOINT_URL_SQS: emulators().sqsEndpoint,
        AWS_REGION: 'us-east-1',
      });
      expect(JSON.parse(seen.PARITYSYNC_CONFIG_JSON ?? '')).toEqual(config);
    } finally {
      await stack.stop();
    }
    expect(process.env.LEDGER_TABLE_NAME).toBe(before);
    await expect(fetch(`${stack.url}/webhooks/pms-demo`, { method: 'POST', body: '{}' })).rejects.toThrow();
  });

  it('switches the consumer off and on, as an event source mapping is disabled and enabled', async () => {
    const consumed: string[] = [];
    const stack = await startLocalStack({
      config,
      emulators: emulators(),
      prefix: `k${Date.now().toString(36)}`,
      reconcileIntervalMs: 0,
      // The real ingest module would keep this stack's queue for the stacks after it in this file.
      loadIngestHandler: async () => ({ handler: async () => ({ statusCode: 204, body: '' }) }),
      loadConsumerHandler: async () => ({
        handler: async (event) => {
          consumed.push(...event.Records.map((record) => record.body));
          return { batchItemFailures: [] };
        },
      }),
    });
    const control = async (path: string) => {
      const response = await fetch(`${stack.url}${path}`, { method: 'POST' });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const { sqs } = localClients();
    const QueueUrl = stack.topology.queues[EVENTS_QUEUE.id]?.url;
    try {
      expect(await control(CONSUMER_STOP_PATH)).toEqual({ status: 200, body: { consumer: 'stopped' } });
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'while stopped' }));
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(consumed).toEqual([]);

      expect(await control(CONSUMER_START_PATH)).toEqual({ status: 200, body: { consumer: 'running' } });
      // Starting twice keeps one consumer.
      expect(await control(CONSUMER_START_PATH)).toEqual({ status: 200, body: { consumer: 'running' } });
      const deadline = Date.now() + 10_000;
      while (consumed.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(consumed).toEqual(['while stopped']);
    } finally {
      await stack.stop();
    }
  });

  it('refuses Secrets Manager references, which cannot be resolved locally', async () => {
    const awsStyle = parseConfig({
      version: 1,
      sources: [{ id: 'ota', kind: 'ota', secrets: [{ secretsManager: 'paritysync/ota' }] }],
    });
    await expect(startLocalStack({ config: awsStyle, emulators: emulators() })).rejects.toThrow(
      /sources\[0\]\.secrets\[0\].*Secrets Manager/,
    );
  });

  describe('with the real ingest function', () => {
    let stack: LocalStack;
    beforeAll(async () => {
      // No consumer: the test reads the events queue itself.
      stack = await startLocalStack({
        config,
        emulators: emulators(),
        prefix: `r${Date.now().toString(36)}`,
        consumer: false,
      });
    });
    afterAll(() => stack.stop());

    it('accepts a signed delivery and puts the canonical event on the events queue', async () => {
      const source = config.sources.find((s) => s.id === 'channel-manager-demo');
      if (!source) throw new Error('demo source missing');
      const result = await sendSample({ baseUrl: stack.url, source });
      expect(result.status).toBe(200);
      expect(result.body).toMatchObject({ status: 'accepted', action: 'enqueued' });

      const { sqs } = localClients();
      const { Messages } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: stack.topology.queues[EVENTS_QUEUE.id]?.url,
          MessageAttributeNames: ['All'],
          WaitTimeSeconds: 2,
        }),
      );
      const eventId = (result.body as { eventId: string }).eventId;
      expect(Messages?.map((m) => m.MessageAttributes?.eventId?.StringValue)).toEqual([eventId]);
      expect(JSON.parse(Messages?.[0]?.Body ?? '{}')).toMatchObject({
        eventId,
        sourceId: 'channel-manager-demo',
      });
    });

    it('says so when asked to switch a consumer it does not run', async () => {
      const response = await fetch(`${stack.url}${CONSUMER_STOP_PATH}`, { method: 'POST' });
      expect(response.status).toBe(409);
      expect(await response.json()).toMatchObject({ error: 'no_consumer' });
    });

    it('refuses an unsigned delivery', async () => {
      const response = await fetch(`${stack.url}/webhooks/channel-manager-demo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(response.status).toBe(401);
    });
  });
});

describe('emulator prerequisites', () => {
  it('reads Java major versions in both the old and the current numbering', () => {
    expect(javaMajorVersion('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(javaMajorVersion('openjdk version "21" 2023-09-19')).toBe(21);
    expect(javaMajorVersion('java version "1.8.0_392"')).toBe(8);
    expect(javaMajorVersion('bash: java: command not found')).toBeUndefined();
  });

  it('explains how to install Java when it is missing or too old', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'paritysync-java-'));
    try {
      const oldJava = join(directory, 'java');
      writeFileSync(oldJava, '#!/bin/sh\necho \'java version "1.8.0_392"\' >&2\n');
      chmodSync(oldJava, 0o755);
      for (const javaCommand of [oldJava, join(directory, 'missing-java')]) {
        const failure = startEmulators({ javaCommand });
        await expect(failure).rejects.toBeInstanceOf(LocalEnvironmentError);
        await expect(failure).rejects.toThrow(/Java 17 or newer.*apt-get install -y openjdk-17-jre-headless/);
      }
      await expect(startEmulators({ javaCommand: oldJava })).rejects.toThrow(
        /Found java version "1\.8\.0_392"/,
      );
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
