import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load';
import type { SourceConfig } from '../../lambdas/config/schema';
import { createSecretResolver } from '../../lambdas/config/secrets';
import { senderFor } from '../../local/senders';
import { childProcesses, isAlive } from '../../local/soak/runtime';
import { type LocalStack, startLocalStack } from '../../local/start';
import { eventually } from '../support/eventually';

/**
 * The local runtime with emulators of its own (not the run's shared ones), so that DynamoDB Local can be killed
 * as it would die on a developer's machine: out of memory, or by hand. The three scenarios share nothing and
 * spend most of their time waiting for Java to start, so they run side by side.
 */

/** The environment before the in-process runtime sets its functions' variables: what `npm start` is run with. */
const launchEnvironment = { ...process.env };

const config = parseConfig(
  JSON.parse(readFileSync(join(__dirname, '../../config/local.example.json'), 'utf8')),
);
const source = config.sources.find((s) => s.id === 'channel-manager-demo') as SourceConfig;

/** A freshly signed sample delivery, answered as the sender sees it: status, headers and body. */
async function deliver(baseUrl: string): Promise<{ status: number; retryAfter: string | null; body: Body }> {
  const sender = senderFor(source.kind);
  const type = sender.sampleTypes[0] ?? '';
  const now = new Date();
  const [secret = ''] = await createSecretResolver({}).secretsFor(source);
  const body = Buffer.from(JSON.stringify(sender.sample(type, now, randomUUID)));
  const response = await fetch(`${baseUrl}/webhooks/${source.id}`, {
    method: 'POST',
    headers: sender.sign(body, { secret, at: now }),
    body,
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as Body,
  };
}

type Body = Record<string, unknown>;

describe.concurrent('a supervised local runtime', () => {
  const reported: string[] = [];
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack({
      config,
      reconcileIntervalMs: 0,
      supervision: { report: (line) => reported.push(line) },
    });
  }, 60_000);
  afterAll(() => stack?.stop(), 30_000);

  it('says so when DynamoDB Local dies, answers 503 with Retry-After meanwhile, and recovers by itself', async () => {
    const killed = stack.dynamodbPid();
    if (killed === undefined) throw new Error('the stack runs no DynamoDB Local of its own');
    const endpoint = stack.endpoints.dynamodbEndpoint;
    process.kill(killed, 'SIGKILL');

    const refused = await deliver(stack.url);
    expect(refused.status).toBe(503);
    expect(refused.body.error).toBe('ledger_unavailable');
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);

    const read = await fetch(`${stack.url}/deliveries/evt_whatever`);
    expect(read.status).toBe(503);
    expect(Number(read.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await read.json()).toMatchObject({ error: 'store_unavailable' });

    expect(reported[0]).toMatch(
      new RegExp(
        `^DynamoDB Local \\(pid ${killed}, ${endpoint}\\) exited unexpectedly with signal SIGKILL\\. ` +
          'Its in-memory tables are lost\\..*Restarting it on the same port',
      ),
    );

    const accepted = await eventually(
      'a delivery accepted after the restart',
      async () => {
        const answer = await deliver(stack.url);
        return answer.status === 200 ? answer : undefined;
      },
      60_000,
    );
    expect(accepted.body).toMatchObject({ status: 'accepted', action: 'enqueued' });
    // The edge accepts as soon as the restarted emulator has the ledger table again, which can be while the
    // rest of the topology is still being provisioned, before the supervisor reports it back.
    await eventually(
      'DynamoDB Local reported back',
      async () => reported.find((line) => line.startsWith(`DynamoDB Local is back on ${endpoint} `)),
      30_000,
    );
    const restarted = stack.dynamodbPid();
    expect(restarted).toBeDefined();
    expect(restarted).not.toBe(killed);

    const entry = await eventually(
      'the delivery applied',
      async () => {
        const response = await fetch(`${stack.url}/deliveries/${String(accepted.body.eventId)}`);
        const body = (await response.json()) as Body;
        return body.status === 'applied' ? body : undefined;
      },
      30_000,
    );
    expect(entry).toMatchObject({ sourceId: source.id, canonicalType: 'ari.update' });
  }, 120_000);
});

describe.concurrent('npm start', () => {
  let directory: string;
  let child: ChildProcess | undefined;

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'paritysync-java-'));
  });
  afterAll(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  });

  it('exits non-zero, saying what to do, when DynamoDB Local cannot be restarted', async () => {
    // A Java that records the pid it runs as, and refuses to start once told to, as a broken install would.
    const broken = join(directory, 'broken');
    const pidFile = join(directory, 'pid');
    const realJava = launchEnvironment.JAVA_HOME ? join(launchEnvironment.JAVA_HOME, 'bin', 'java') : 'java';
    mkdirSync(join(directory, 'bin'));
    writeFileSync(
      join(directory, 'bin', 'java'),
      [
        '#!/bin/sh',
        `if [ -e '${broken}' ]; then echo 'Error: simulated broken Java' >&2; exit 1; fi`,
        `echo $$ > '${pidFile}'`,
        `exec '${realJava}' "$@"`,
      ].join('\n'),
    );
    chmodSync(join(directory, 'bin', 'java'), 0o755);

    child = spawn(process.execPath, [require.resolve('tsx/cli'), 'local/start.ts'], {
      cwd: join(__dirname, '../..'),
      env: {
        ...launchEnvironment,
        JAVA_HOME: directory,
        PORT: String(await freePort()),
        PARITYSYNC_DEMO: 'off',
        PARITYSYNC_RECONCILE_SECONDS: '0',
        // The default (1 s, doubling) would spend 15 s waiting between the attempts this test counts.
        PARITYSYNC_RESTART_BACKOFF_MS: '20',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));

    await eventually(
      'npm start to be up',
      async () => (stdout.includes('ParitySync edge listening') ? true : undefined),
      60_000,
    );
    writeFileSync(broken, '');
    process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');

    // Five attempts, 20 + 40 + 80 + 160 ms apart, each refused at once.
    expect(await exited).toBe(1);
    expect(stderr).toMatch(/DynamoDB Local \(pid \d+, [^)]+\) exited unexpectedly with signal SIGKILL/);
    expect(stderr).toMatch(/Restarting DynamoDB Local failed \(attempt 1 of 5\): .*simulated broken Java/);
    expect(stderr).toMatch(/\(attempt 1 of 5\): .*; next attempt in 0\.02 s\./);
    expect(stderr).toMatch(
      /DynamoDB Local stopped and could not be restarted after 5 attempts .*fix it, and start it again/,
    );
  }, 120_000);
});

describe.runIf(process.platform === 'linux').concurrent('npm start killed outright (Linux)', () => {
  let directory: string;
  let child: ChildProcess | undefined;
  let java: number | undefined;

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'paritysync-kill-'));
  });
  afterAll(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (java !== undefined && isAlive(java)) process.kill(java, 'SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  });

  it('takes DynamoDB Local with it, so that a restart on the same data directory finds no Java still holding it', async () => {
    // The runtime itself, not the npm and tsx launchers in front of it: SIGKILL must hit the process that runs Java.
    child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts', '--data-dir', directory], {
      cwd: join(__dirname, '../..'),
      env: {
        ...launchEnvironment,
        PORT: String(await freePort()),
        PARITYSYNC_DEMO: 'off',
        PARITYSYNC_RECONCILE_SECONDS: '0',
      },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    const runtime = child.pid ?? 0;
    const exited = new Promise<void>((resolve) => child?.once('exit', () => resolve()));
    java = await eventually(
      'npm start to be up with DynamoDB Local',
      async () =>
        stdout.includes('ParitySync edge listening')
          ? childProcesses(runtime).find((p) => p.command.includes('DynamoDBLocal.jar'))?.pid
          : undefined,
      60_000,
    );

    child.kill('SIGKILL');
    await exited;
    const gone = java;
    await eventually('DynamoDB Local to exit', async () => (isAlive(gone) ? undefined : true), 5_000);
  }, 90_000);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
