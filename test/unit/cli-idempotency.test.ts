import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpsApi } from '../../bin/cli/api';
import { ApiAnswerError } from '../../bin/cli/errors';
import { ApiTransport, type OutgoingRequest } from '../../bin/cli/http';

/** The API's answers, in order, one per request; then 200 `{}`. */
let answers: { status: number; body: Record<string, unknown> }[];
let received: { method: string; url: string; headers: IncomingHttpHeaders }[];
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    received.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers });
    const answer = answers.shift() ?? { status: 200, body: {} };
    request.resume();
    request.on('end', () => {
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  answers = [];
  received = [];
});

const keys = () => received.map((request) => request.headers['idempotency-key']);

describe('the CLI sends an Idempotency-Key with each request that acts', () => {
  it('a fresh one per call, for hold, resume, redrive, delete and replay; none for reads and cancel', async () => {
    const api = new OpsApi(new ApiTransport({ baseUrl, timeoutSeconds: 5 }));
    await api.holdSource('cm-demo', 'audit');
    await api.holdSource('cm-demo', 'audit');
    await api.resumeSource('cm-demo');
    await api.redriveQueue('events');
    await api.deleteDeadLetters('reconcile', ['m-1']);
    await api.startReplay({ source: 'cm-demo', from: 'a', to: 'b', statuses: ['applied'] });
    const acting = keys();
    await api.getReplay('job-1');
    await api.cancelReplay('job-1');

    expect(acting).toHaveLength(6);
    for (const key of acting) expect(key).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(acting).size).toBe(6);
    expect(keys().slice(6)).toEqual([undefined, undefined]);
  });

  it('the same one on its retries, after a 503 and a request still in progress', async () => {
    answers = [
      { status: 503, body: { error: 'store_unavailable', message: 'retry' } },
      { status: 409, body: { error: 'request_in_progress', message: 'retry' } },
      { status: 202, body: { jobId: 'job-1', status: 'running' } },
    ];
    const api = new OpsApi(new ApiTransport({ baseUrl, timeoutSeconds: 5 }));
    const job = await api.startReplay({ source: 'cm-demo', from: 'a', to: 'b', statuses: ['applied'] });

    expect(job.jobId).toBe('job-1');
    expect(received).toHaveLength(3);
    expect(new Set(keys()).size).toBe(1);
  }, 10_000);

  it('never retries a refusal, nor a request without a key', async () => {
    answers = [
      { status: 400, body: { error: 'invalid_body', message: 'no' } },
      { status: 503, body: { error: 'store_unavailable', message: 'retry' } },
    ];
    const api = new OpsApi(new ApiTransport({ baseUrl, timeoutSeconds: 5 }));
    await expect(api.holdSource('cm-demo')).rejects.toBeInstanceOf(ApiAnswerError);
    await expect(api.getReplay('job-1')).rejects.toMatchObject({ status: 503 });
    expect(received).toHaveLength(2);
  });

  it('signed with the rest of the headers when the target is a deployed stack', async () => {
    const signed: OutgoingRequest[] = [];
    const api = new OpsApi(
      new ApiTransport({
        baseUrl,
        timeoutSeconds: 5,
        signer: async (request) => {
          signed.push(request);
          const names = Object.keys(request.headers).sort().join(';');
          return { ...request.headers, authorization: `AWS4-HMAC-SHA256 SignedHeaders=${names}` };
        },
      }),
    );
    await api.redriveEvents('events', ['e-1']);

    const [request] = signed;
    expect(request?.headers['idempotency-key']).toBe(keys()[0]);
    expect(received[0]?.headers.authorization).toContain('idempotency-key');
  });
});
