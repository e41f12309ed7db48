import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PlannedRun } from '../../lambdas/reconcile/fanout';
import { runCli, runCliProcess } from '../support/cli';
import type { TestCredentials } from '../support/sigv4';
import { type StackCall, type StackStub, startStackStub } from '../support/stack-stub';

/**
 * The operations CLI against a deployed stack, run as a child process exactly as an operator runs it, with the
 * AWS SDK pointed at a loopback stand-in for CloudFormation, Lambda and the IAM-authorised read API that verifies
 * the SigV4 signature of every request it receives. The SDK takes credentials, region and endpoints from the
 * process's environment and ~/.aws, so each case has a process of its own; the local cases run in this one.
 */

const STACK = 'paritysync-test';
const REGION = 'us-east-1';
const FUNCTION = 'paritysync-test-Reconcile-abc123';

const OPERATOR: TestCredentials = {
  accessKeyId: 'AKIAOPERATOR00000001',
  secretAccessKey: 'operator/secret/key/0000000000000000000',
  sessionToken: 'operator-session-token',
};
/** Known to AWS, but its identity may not invoke the read API. */
const READONLY: TestCredentials = {
  accessKeyId: 'AKIAREADONLY00000002',
  secretAccessKey: 'readonly/secret/key/0000000000000000000',
};

/** Long-lived keys, as a profile of the shared credentials file holds them. */
const PROFILED: TestCredentials = {
  accessKeyId: 'AKIAPROFILED00000003',
  secretAccessKey: 'profiled/secret/key/0000000000000000000',
};

const DELIVERY = {
  eventId: 'evt_1',
  sourceId: 'channel-manager-demo',
  kind: 'channel-manager',
  providerEventType: 'rate_update',
  canonicalType: 'ari.update',
  status: 'dead-lettered',
  lastError: 'dead-lettered after 5 receives: ValidationException',
  receivedAt: '2025-06-01T09:00:00.000Z',
};

/** What the reconcile function answers a manual invocation: the run it planned. */
const PLANNED = {
  outcome: 'planned',
  runId: 'run-1',
  startedAt: '2025-06-01T09:00:00.000Z',
  dryRun: true,
  driftItems: 1,
  parityItems: 2,
  scans: ['channel-manager-demo'],
  parityProperties: ['demo-hotel'],
} satisfies PlannedRun;

const items = (planned: number, done: number, failed = 0) => ({ planned, done, failed });

/** The run as GET /reconciliation/runs/run-1 answers it once the workers completed it. */
const RUN = {
  runId: 'run-1',
  status: 'complete',
  trigger: 'manual',
  startedAt: '2025-06-01T09:00:00.000Z',
  completedAt: '2025-06-01T09:01:00.000Z',
  dryRun: true,
  thresholdPercent: 0.5,
  items: items(3, 3),
  parity: { items: items(2, 2), nightsChecked: 30, violations: 3, currencyMismatches: 0 },
  sources: [
    {
      sourceId: 'channel-manager-demo',
      status: 'complete',
      items: items(1, 1),
      driftPercent: 2,
      compared: 300,
      mismatched: 6,
      silentMisses: 6,
      correctedGroups: 0,
      skippedCorrections: 0,
      nightsPolled: 100,
      nightsSkipped: 0,
      requests: 5,
      throttled: 0,
      retries: 0,
      budgetExhausted: 0,
    },
  ],
  properties: [
    {
      sourceId: 'channel-manager-demo',
      propertyId: 'demo-hotel',
      compared: 300,
      mismatched: 6,
      silentMisses: 6,
      driftPercent: 2,
      actions: ['dry_run'],
    },
  ],
  workItems: [],
};

let stub: StackStub;
let home: string;

/** What the read API behind the stub answers, per route; anything else is an unknown route to API Gateway. */
function answer(call: StackCall) {
  const route = `${call.method} ${call.operation}`;
  if (route === 'GET /deliveries/evt_1') return { status: 200, body: DELIVERY };
  if (route === 'GET /reconciliation/runs/run-1') return { status: 200, body: RUN };
  if (route === 'GET /deliveries/evt_missing') {
    return {
      status: 404,
      body: { error: 'delivery_not_found', message: 'No delivery ledger entry for "evt_missing".' },
    };
  }
  if (route === 'GET /deliveries') {
    return call.query.cursor === undefined
      ? { status: 200, body: { items: [DELIVERY], nextCursor: 'page-2' } }
      : {
          status: 200,
          body: { items: [{ ...DELIVERY, eventId: 'evt_2', status: 'parked' }], nextCursor: null },
        };
  }
  if (route === 'PUT /mappings/%2A/ratePlan/CORP') {
    const body = JSON.parse(call.body) as { internalId: string };
    return {
      status: 200,
      body: {
        mapping: { scope: '*', entity: 'ratePlan', externalId: 'CORP', internalId: body.internalId },
        released: 2,
      },
    };
  }
  if (route === 'POST /dlq/events/redrive' && !call.body.includes('eventIds')) {
    return { status: 200, body: { queue: 'events', via: 'move-task', moved: null, taskHandle: 'task-1' } };
  }
  if (route === 'POST /sources/pms-demo/resume') {
    // A long hold: released over three requests, each continuing from the cursor the one before answered.
    const cursor = (JSON.parse(call.body) as { cursor?: string }).cursor;
    const next: Record<string, string | null> = { first: 'page-2', 'page-2': 'page-3', 'page-3': null };
    return {
      status: 200,
      body: {
        sourceId: 'pms-demo',
        held: false,
        resumed: cursor === undefined,
        released: cursor === 'page-3' ? 7 : 100,
        nextCursor: next[cursor ?? 'first'],
      },
    };
  }
  if (route === 'POST /dlq/events/redrive') {
    return {
      status: 200,
      body: {
        queue: 'events',
        via: 'resend',
        moved: (JSON.parse(call.body) as { eventIds: string[] }).eventIds.length,
        complete: true,
        notMoved: [],
      },
    };
  }
  return { status: 403, body: { message: 'Missing Authentication Token' } };
}

beforeAll(async () => {
  stub = await startStackStub({
    credentials: [OPERATOR, READONLY, PROFILED],
    stacks: new Map<string, Record<string, string>>([
      [
        STACK,
        { ApiUrl: 'https://example.invalid/prod/', ReadApiUrl: '{stub}', ReconcileFunctionName: FUNCTION },
      ],
      ['paritysync-old', { ApiUrl: 'https://example.invalid/prod/' }],
    ]),
    deniedApiAccessKeys: new Set([READONLY.accessKeyId]),
    api: answer,
    invoke: (_name, payload) => {
      const sourceIds = (payload as { sourceIds?: string[] }).sourceIds ?? [];
      if (sourceIds.includes('busy')) return 'throttled';
      if (sourceIds.includes('boom')) {
        return {
          errorType: 'ReconciliationFailedError',
          errorMessage: 'Reconciliation failed: store unavailable',
        };
      }
      return { result: PLANNED };
    },
  });
  home = mkdtempSync(join(tmpdir(), 'paritysync-cli-'));
});

afterAll(async () => {
  await stub?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

beforeEach(() => {
  stub.calls.length = 0;
  stub.refused.length = 0;
});

/** An environment with nothing of this machine's AWS set-up: only what the test gives, and the stub. */
function awsEnv(credentials?: TestCredentials, extra: Record<string, string> = {}): Record<string, string> {
  return {
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    // Every other AWS endpoint (STS, SSO) also goes to the stub, which refuses it: never to AWS.
    AWS_ENDPOINT_URL: stub.url,
    AWS_ENDPOINT_URL_CLOUDFORMATION: stub.url,
    AWS_ENDPOINT_URL_LAMBDA: stub.url,
    ...(credentials === undefined
      ? {}
      : {
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
        }),
    ...extra,
  };
}

const onStack = (...args: string[]) => ['--stack', STACK, '--region', REGION, ...args];

describe('the stand-in stack', () => {
  it('refuses unsigned, mis-signed and tampered requests as API Gateway does', async () => {
    const url = new URL('deliveries/evt_1', stub.readApiUrl);
    const unsigned = await fetch(url);
    expect(unsigned.status).toBe(403);
    expect(await unsigned.json()).toEqual({ message: 'Missing Authentication Token' });

    const sign = (credentials: TestCredentials, body: string) =>
      new SignatureV4({ credentials, region: REGION, service: 'execute-api', sha256: Sha256 }).sign({
        method: 'PUT',
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path: '/prod/mappings/%2A/ratePlan/CORP',
        query: {},
        headers: { host: url.host, 'content-type': 'application/json' },
        body,
      });
    const put = (headers: Record<string, string>, body: string) => {
      const { host: _host, ...rest } = headers;
      return fetch(new URL('mappings/%2A/ratePlan/CORP', stub.readApiUrl), {
        method: 'PUT',
        headers: rest,
        body,
      });
    };

    const body = JSON.stringify({ internalId: 'corporate' });
    const good = await sign(OPERATOR, body);
    expect((await put(good.headers, body)).status).toBe(200);

    const wrongSecret = await sign({ ...OPERATOR, secretAccessKey: 'not-the-secret' }, body);
    const misSigned = await put(wrongSecret.headers, body);
    expect(misSigned.status).toBe(403);
    expect(misSigned.headers.get('x-amzn-errortype')).toBe('InvalidSignatureException');

    const tampered = await put(good.headers, JSON.stringify({ internalId: 'someone-else' }));
    expect(tampered.status).toBe(403);
    expect(stub.refused.map((call) => call.type)).toEqual([
      'MissingAuthenticationTokenException',
      'InvalidSignatureException',
      'InvalidSignatureException',
    ]);
  });
});

// Each case starts the CLI in a fresh process (a few seconds each on a busy machine).
describe('paritysync --stack', { timeout: 60_000 }, () => {
  it("finds the read API in the stack's outputs and signs every call with the standard chain's credentials", async () => {
    const run = await runCliProcess(onStack('deliveries', 'show', 'evt_1', '--json'), {
      env: awsEnv(OPERATOR),
    });

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(DELIVERY);
    expect(stub.refused).toEqual([]);
    expect(stub.calls.map((call) => [call.service, call.operation, call.region])).toEqual([
      ['cloudformation', 'DescribeStacks', REGION],
      ['execute-api', '/deliveries/evt_1', REGION],
    ]);
    const [describeCall, apiCall] = stub.calls;
    expect(new URLSearchParams(describeCall?.body).get('StackName')).toBe(STACK);
    expect(apiCall?.headers['x-amz-security-token']).toBe(OPERATOR.sessionToken);
  });

  it('signs query strings and bodies, follows nextCursor with --all, and prints tables', async () => {
    const list = await runCliProcess(
      onStack(
        'deliveries',
        'list',
        '--all',
        '--status',
        'dead-lettered',
        '--from',
        '2025-06-01T00:00:00Z',
        '--limit',
        '1',
      ),
      { env: awsEnv(OPERATOR) },
    );
    expect(list.stderr).toBe('');
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^RECEIVED AT\s+EVENT ID\s+SOURCE ID\s+TYPE\s+STATUS\s+WHY$/);
    expect(lines.slice(1).map((line) => line.split(/\s{2,}/).slice(1, 5))).toEqual([
      ['evt_1', 'channel-manager-demo', 'ari.update', 'dead-lettered'],
      ['evt_2', 'channel-manager-demo', 'ari.update', 'parked'],
    ]);
    expect(stub.calls.filter((call) => call.service === 'execute-api').map((call) => call.query)).toEqual([
      { status: 'dead-lettered', from: '2025-06-01T00:00:00Z', limit: '1' },
      { status: 'dead-lettered', from: '2025-06-01T00:00:00Z', limit: '1', cursor: 'page-2' },
    ]);

    const put = await runCliProcess(onStack('mappings', 'put', '*', 'ratePlan', 'CORP', 'corporate'), {
      env: awsEnv(OPERATOR),
    });
    expect(put.stderr).toBe('');
    expect(put.stdout.trim()).toBe(
      'Mapped ratePlan "CORP" (scope *) to "corporate"; 2 parked event(s) queued again.',
    );
    expect(stub.refused).toEqual([]);
  });

  it('redrives chosen events in batches, with a progress line per batch when stderr is not a terminal', async () => {
    const ids = Array.from({ length: 12 }, (_, index) => `evt_${index}`);
    const run = await runCliProcess(onStack('dlq', 'redrive', '--event', ...ids), { env: awsEnv(OPERATOR) });

    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe('Moved 12 of 12 requested message(s) from the events dead-letter queue.');
    expect(run.stderr.trim().split('\n')).toEqual([
      'redrive events: 0/12 (0 moved)',
      'redrive events: 10/12 (10 moved)',
      'redrive events: 12/12 (12 moved)',
    ]);
    const bodies = stub.calls
      .filter((call) => call.operation === '/dlq/events/redrive')
      .map((call) => JSON.parse(call.body) as { eventIds: string[] });
    expect(bodies.map((body) => body.eventIds)).toEqual([ids.slice(0, 10), ids.slice(10)]);
  });

  it('resumes a long hold request after request, following nextCursor until every held event is released', async () => {
    const run = await runCliProcess(onStack('sources', 'resume', 'pms-demo'), { env: awsEnv(OPERATOR) });
    expect(run.stderr.trim().split('\n')).toEqual([
      'resume pms-demo: 100/100 (released, more to come)',
      'resume pms-demo: 200/200 (released, more to come)',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe('Resumed pms-demo; 207 held event(s) queued again.');
    const bodies = stub.calls
      .filter((call) => call.operation === '/sources/pms-demo/resume')
      .map((call) => JSON.parse(call.body) as unknown);
    expect(bodies).toEqual([{}, { cursor: 'page-2' }, { cursor: 'page-3' }]);
  });

  it('says SQS moves a whole queue back in the background, naming the move task', async () => {
    const run = await runCliProcess(onStack('dlq', 'redrive'), { env: awsEnv(OPERATOR) });
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(
      'SQS is moving the events dead-letter queue back (task task-1); `dlq list --queue events` shows its ' +
        'progress and what is still waiting.',
    );
  });

  it("prints the API's own error and exits 1", async () => {
    const run = await runCliProcess(onStack('deliveries', 'show', 'evt_missing'), { env: awsEnv(OPERATOR) });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe('404 delivery_not_found: No delivery ledger entry for "evt_missing".');
  });

  it('says a route is missing from the deployed stack when API Gateway does not know it', async () => {
    const run = await runCliProcess(onStack('sources', 'list'), { env: awsEnv(OPERATOR) });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('API Gateway has no route GET /prod/sources on this stack');
    expect(run.stderr).toContain('Deploy the current stack');
  });

  it('names the stack and the region when the stack does not exist', async () => {
    const run = await runCliProcess(['--stack', 'no-such-stack', '--region', 'eu-west-2', 'review', 'list'], {
      env: awsEnv(OPERATOR),
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('No CloudFormation stack "no-such-stack" in eu-west-2.');
    expect(stub.calls.map((call) => call.service)).toEqual(['cloudformation']);
  });

  it('says which output is missing when the stack is not a current ParitySync stack', async () => {
    const run = await runCliProcess(['--stack', 'paritysync-old', '--region', REGION, 'review', 'list'], {
      env: awsEnv(OPERATOR),
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'Stack "paritysync-old" in us-east-1 has no output ReadApiUrl (it has: ApiUrl)',
    );
  });

  it('names the credential chain, aws sso login and --profile when there are no credentials', async () => {
    const run = await runCliProcess(onStack('review', 'list'), { env: awsEnv() });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('No AWS credentials');
    expect(run.stderr).toContain('AWS_ACCESS_KEY_ID');
    expect(run.stderr).toContain('--profile <name>');
    expect(run.stderr).toContain('aws sso login');
    expect(stub.calls).toEqual([]);
  });

  it("prints API Gateway's access-denied message with the IAM action and resource to grant", async () => {
    const run = await runCliProcess(onStack('deliveries', 'show', 'evt_1'), { env: awsEnv(READONLY) });
    expect(run.code).toBe(1);
    const resource = `arn:aws:execute-api:${REGION}:********9012:stubapi/prod/GET/deliveries/evt_1`;
    expect(run.stderr).toContain(
      `Access denied: User: arn:aws:iam::123456789012:user/readonly is not authorized to perform: execute-api:Invoke on resource: ${resource}`,
    );
    expect(run.stderr).toContain(`Grant the caller's IAM identity execute-api:Invoke on ${resource}`);
  });

  it('says the credentials were refused when their secret is wrong', async () => {
    const run = await runCliProcess(onStack('review', 'list'), {
      env: awsEnv({ ...OPERATOR, secretAccessKey: 'not-the-secret' }),
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'CloudFormation refused the credentials: The request signature we calculated',
    );
    expect(run.stderr).toContain('aws sso login');
    expect(stub.refused.map((call) => [call.service, call.type])).toEqual([
      ['cloudformation', 'InvalidSignatureException'],
    ]);
  });

  it('takes credentials and region from a --profile of the shared files', async () => {
    const config = join(home, 'config');
    const credentials = join(home, 'credentials');
    writeFileSync(config, '[profile ops]\nregion = eu-west-1\n');
    writeFileSync(
      credentials,
      `[ops]\naws_access_key_id = ${PROFILED.accessKeyId}\naws_secret_access_key = ${PROFILED.secretAccessKey}\n`,
    );
    const run = await runCliProcess(
      ['--stack', STACK, '--profile', 'ops', 'deliveries', 'show', 'evt_1', '--json'],
      {
        env: awsEnv(undefined, { AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: credentials }),
      },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(stub.calls.map((call) => [call.service, call.region])).toEqual([
      ['cloudformation', 'eu-west-1'],
      ['execute-api', 'eu-west-1'],
    ]);
  });

  it('invokes the reconcile function named by the stack, follows the run it planned and prints it', async () => {
    const run = await runCliProcess(onStack('reconcile', '--source', 'channel-manager-demo', '--dry-run'), {
      env: awsEnv(OPERATOR),
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'Reconciliation run run-1 (dry run) complete: started 2025-06-01T09:00:00.000Z, completed ' +
        '2025-06-01T09:01:00.000Z; items 3/3; threshold 0.5%',
    );
    expect(run.stdout).toContain(
      'channel-manager-demo: items 1/1; 100 nights, drift 2.000% (6 of 300 fields), 6 silent misses, 0 corrected',
    );
    expect(run.stdout).toContain('demo-hotel: 2.000% → dry_run');
    expect(run.stdout).toContain(
      'parity: 2/2 windows, 3 violation(s), 0 currency mismatch(es) over 30 nights',
    );
    expect(run.stderr).toContain(`reconcile: 0/1 reconcile function of ${STACK} (invoked)`);
    expect(run.stderr).toContain(`reconcile: 1/1 reconcile function of ${STACK} (planned run run-1)`);
    expect(run.stderr).toContain('reconcile: 3/3 run run-1 (complete)');
    const invoke = stub.calls.find((call) => call.service === 'lambda');
    expect(invoke?.operation).toBe(`Invoke ${FUNCTION}`);
    expect(JSON.parse(invoke?.body ?? '')).toEqual({
      trigger: 'manual',
      sourceIds: ['channel-manager-demo'],
      dryRun: true,
      parity: true,
    });
  });

  it("reports the function's failure with the end of its log, and a run already in progress", async () => {
    const failed = await runCliProcess(onStack('reconcile', '--source', 'boom', '--json'), {
      env: awsEnv(OPERATOR),
    });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(
      `The reconcile function ${FUNCTION} failed: ReconciliationFailedError: Reconciliation failed: store unavailable`,
    );
    expect(failed.stderr).toContain('ERROR Reconciliation failed');

    const busy = await runCliProcess(onStack('reconcile', '--source', 'busy', '--json'), {
      env: awsEnv(OPERATOR),
    });
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`A reconciliation run is already in progress on ${FUNCTION}`);
    expect(stub.calls.filter((call) => call.service === 'lambda')).toHaveLength(2);
  });
});

describe('paritysync against the local runtime', { timeout: 60_000 }, () => {
  it('says to start the local runtime when nothing listens', async () => {
    const port = await closedPort();
    const run = await runCli(['--url', `http://127.0.0.1:${port}`, 'review', 'list'], {
      env: { HOME: home },
    });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(
      `Nothing is listening at http://127.0.0.1:${port} (connection refused). Start the local runtime with ` +
        '`npm start`, pass --url if it listens elsewhere, or --stack <name> to operate a deployed stack.',
    );
  });

  it('refuses --region and --profile without --stack', async () => {
    const run = await runCli(['--region', REGION, 'review', 'list'], { env: { HOME: home } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      '--region and --profile choose the AWS account and region of a deployed stack',
    );
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const address = server.address();
  await new Promise<void>((closed) => server.close(() => closed()));
  if (address === null || typeof address === 'string') throw new Error('no port assigned');
  return address.port;
}
