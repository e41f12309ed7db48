import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCredentials } from '../support/sigv4';
import { type StackCall, type StackStub, startStackStub } from '../support/stack-stub';

/**
 * `paritysync console --stack`: the console served on loopback, run as an operator runs it, in a child process
 * whose AWS SDK is pointed at a loopback stand-in for CloudFormation and the IAM-authorised read API; the
 * stand-in verifies the SigV4 signature of every call the console forwards.
 */

const STACK = 'paritysync-console';
const REGION = 'eu-west-1';
const OPERATOR: TestCredentials = {
  accessKeyId: 'AKIACONSOLE000000001',
  secretAccessKey: 'console/secret/key/00000000000000000000',
  sessionToken: 'console-session-token',
};

let stub: StackStub;
let home: string;
let child: ChildProcess;
let consoleUrl: string;

function api(call: StackCall) {
  const route = `${call.method} ${call.operation}`;
  if (route === 'GET /deliveries')
    return { status: 200, body: { items: [], nextCursor: null, query: call.query } };
  if (route === 'PUT /mappings/%2A/roomType/STE-NEW') {
    return { status: 200, body: { mapping: JSON.parse(call.body), released: 1 } };
  }
  return { status: 404, body: { error: 'route_not_found', message: route } };
}

beforeAll(async () => {
  stub = await startStackStub({
    credentials: [OPERATOR],
    stacks: new Map([[STACK, { ReadApiUrl: '{stub}', DashboardName: 'paritysync-console-ops' }]]),
    api,
  });
  home = mkdtempSync(join(tmpdir(), 'paritysync-console-'));
  const root = resolve(__dirname, '../..');
  child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bin/paritysync.ts', '--stack', STACK, '--region', REGION, 'console', '--port', '0'],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: home,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        AWS_CONFIG_FILE: join(home, 'no-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
        AWS_EC2_METADATA_DISABLED: 'true',
        // Every AWS endpoint goes to the stub: never to AWS.
        AWS_ENDPOINT_URL: stub.url,
        AWS_ENDPOINT_URL_CLOUDFORMATION: stub.url,
        AWS_ACCESS_KEY_ID: OPERATOR.accessKeyId,
        AWS_SECRET_ACCESS_KEY: OPERATOR.secretAccessKey,
        AWS_SESSION_TOKEN: OPERATOR.sessionToken ?? '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  consoleUrl = await new Promise<string>((found, failed) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const url = /Operations console for stack \S+ in \S+: (http:\/\/127\.0\.0\.1:\d+\/console)/.exec(
        stdout,
      )?.[1];
      if (url) found(url);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('exit', (code) => failed(new Error(`paritysync console exited with ${code}: ${stderr}`)));
  });
}, 60_000);

afterAll(async () => {
  child?.kill('SIGTERM');
  await stub?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('paritysync console --stack', () => {
  it('serves the console page and its script from loopback', async () => {
    const page = await fetch(consoleUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script src="/console/app.js"');
    const script = await fetch(`${consoleUrl}/app.js`);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(stub.calls.filter((call) => call.service === 'execute-api')).toEqual([]);
  });

  it('tells the page the stack, its region and its CloudWatch dashboard, asking the API nothing', async () => {
    const response = await fetch(`${consoleUrl}/context.json`);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({
      stack: STACK,
      region: REGION,
      dashboardUrl:
        'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/paritysync-console-ops',
    });
    expect(stub.calls.filter((call) => call.service === 'execute-api')).toEqual([]);
  });

  it("forwards a listing to the stack's read API, signed with the operator's credentials", async () => {
    const origin = new URL(consoleUrl).origin;
    const response = await fetch(`${origin}/deliveries?status=dead-lettered&source=pms-demo`, {
      headers: { accept: 'application/json', cookie: 'session=not-for-aws' },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      items: [],
      nextCursor: null,
      query: { status: 'dead-lettered', source: 'pms-demo' },
    });
    const call = stub.calls.find((candidate) => candidate.operation === '/deliveries');
    expect(call).toMatchObject({ service: 'execute-api', accessKeyId: OPERATOR.accessKeyId, region: REGION });
    expect(call?.headers.cookie).toBeUndefined();
    expect(stub.refused).toEqual([]);
  });

  it('forwards an action with its body and idempotency key, both under the signature', async () => {
    const origin = new URL(consoleUrl).origin;
    const response = await fetch(`${origin}/mappings/*/roomType/STE-NEW`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'key-1', origin },
      body: JSON.stringify({ internalId: 'suite' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ mapping: { internalId: 'suite' }, released: 1 });
    const call = stub.calls.find((candidate) => candidate.operation === '/mappings/%2A/roomType/STE-NEW');
    expect(call?.headers['idempotency-key']).toBe('key-1');
    expect(call?.headers.authorization).toMatch(/SignedHeaders=[^,]*idempotency-key/);
    expect(stub.refused).toEqual([]);
  });

  it('refuses a request from another origin without forwarding it', async () => {
    const origin = new URL(consoleUrl).origin;
    const before = stub.calls.length;
    const response = await fetch(`${origin}/sources/pms-demo/hold`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: '{}',
    });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: string }).error).toBe('foreign_origin');
    expect(stub.calls.length).toBe(before);
  });
});
