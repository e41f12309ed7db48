import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { buildApp } from 'fauxqs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../lambdas/config/load';
import type { SourceConfig } from '../../lambdas/config/schema';
import { ConfigurationError } from '../../lambdas/shared/errors';
import { lockDataDirectory } from '../../local/data-directory';
import { LOCAL_AWS } from '../../local/emulators';
import { openQueueJournal, type SqsApp } from '../../local/queue-journal';
import { sendSample } from '../../local/send';
import { type LocalStack, readStartEnvironment, startLocalStack } from '../../local/start';
import { eventually } from '../support/eventually';

const config = parseConfig(
  JSON.parse(readFileSync(join(__dirname, '../../config/local.example.json'), 'utf8')),
);
const source = config.sources.find((s) => s.id === 'channel-manager-demo') as SourceConfig;

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

let directory: string;
beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'paritysync-data-'));
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('a local runtime started on a data directory', () => {
  let stack: LocalStack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  }, 30_000);

  /** A fresh stack on the directory: the functions read their environment when their modules load. */
  async function start(consumer: boolean): Promise<LocalStack> {
    vi.resetModules();
    stack = await startLocalStack({
      config,
      dataDirectory: join(directory, 'stack'),
      consumer,
      reconcileIntervalMs: 0,
      supervision: { report: () => {} },
    });
    return stack;
  }

  it('keeps applied room nights, ledger entries and queued events across restarts', async () => {
    // First run: a delivery is applied.
    let running = await start(true);
    const applied = await sendSample({ baseUrl: running.url, source });
    expect(applied.status).toBe(200);
    const appliedId = String((applied.body as { eventId: string }).eventId);
    const first = running;
    await eventually(
      'the first delivery applied',
      async () => {
        const { body } = await getJson(`${first.url}/deliveries/${appliedId}`);
        return body.status === 'applied' ? true : undefined;
      },
      30_000,
    );
    const ariUrl = (stack: LocalStack) => {
      const from = new Date().toISOString().slice(0, 10);
      const to = new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10);
      return `${stack.url}/properties/demo-hotel/ari?from=${from}&to=${to}`;
    };
    const nights = (await getJson(ariUrl(running))).body;
    expect((nights.items as unknown[]).length).toBeGreaterThan(0);
    await running.stop();

    // Second run, without a consumer: the state is there; a new delivery is accepted and stays queued.
    running = await start(false);
    expect(running.dataDirectory).toBe(join(directory, 'stack'));
    expect((await getJson(`${running.url}/deliveries/${appliedId}`)).body).toMatchObject({
      status: 'applied',
    });
    expect((await getJson(ariUrl(running))).body).toEqual(nights);
    const queued = await sendSample({ baseUrl: running.url, source });
    expect(queued.body).toMatchObject({ status: 'accepted', action: 'enqueued' });
    const queuedId = String((queued.body as { eventId: string }).eventId);
    await running.stop();

    // Third run: the event queued before the restart is applied.
    running = await start(true);
    const third = running;
    const entry = await eventually(
      'the queued delivery applied after the restart',
      async () => {
        const { body } = await getJson(`${third.url}/deliveries/${queuedId}`);
        return body.status === 'applied' ? body : undefined;
      },
      30_000,
    );
    expect(entry).toMatchObject({ sourceId: source.id, canonicalType: 'ari.update' });
  }, 180_000);
});

describe('the queue journal', () => {
  it('keeps a message SQS acknowledged although the process died before any snapshot of it', async () => {
    const queues = join(directory, 'journal');
    const journal = openQueueJournal(queues, (error) => {
      throw error;
    });
    const app = buildApp({ logger: false });
    journal.attach(app as SqsApp);
    const endpoint = await app.listen({ port: 0, host: '127.0.0.1' });
    await journal.checkpoint();
    const sqs = new SQSClient({ endpoint, ...LOCAL_AWS });
    try {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'paritysync-events' }));
      await sqs.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody: '{"eventId":"evt_1"}',
          MessageAttributes: {
            eventId: { DataType: 'String', StringValue: 'evt_1' },
            digest: { DataType: 'Binary', BinaryValue: Buffer.from([0, 255, 7]) },
          },
        }),
      );
      // Dies here: no checkpoint after the send, and a write cut short by the crash at the journal's end.
      const [journalFile = ''] = readdirSync(queues).filter((file) => file.startsWith('journal-'));
      appendFileSync(join(queues, journalFile), '{"queue":"paritysync-ev');
    } finally {
      sqs.destroy();
      journal.close();
      await app.close();
    }

    const reopened = openQueueJournal(queues, () => {});
    const events = reopened.recovered.find((queue) => queue.name === 'paritysync-events');
    expect(events?.messages).toEqual([
      {
        id: expect.any(String),
        body: '{"eventId":"evt_1"}',
        attributes: {
          eventId: { DataType: 'String', StringValue: 'evt_1' },
          digest: { DataType: 'Binary', BinaryValue: Buffer.from([0, 255, 7]).toString('base64') },
        },
      },
    ]);
    reopened.close();
  });
});

describe('choosing a data directory', () => {
  it('takes --data-dir over PARITYSYNC_DATA_DIR, creates it, and makes it absolute', () => {
    const flag = join(directory, 'from-flag');
    const fromBoth = readStartEnvironment({ PARITYSYNC_DATA_DIR: join(directory, 'from-env') }, [
      '--data-dir',
      flag,
    ]);
    expect(fromBoth.dataDirectory).toBe(flag);
    expect(readdirSync(directory)).toContain('from-flag');
    expect(readStartEnvironment({ PARITYSYNC_DATA_DIR: join(directory, 'from-env') }).dataDirectory).toBe(
      join(directory, 'from-env'),
    );
    expect(readStartEnvironment({}).dataDirectory).toBeUndefined();
  });

  it('names the offending setting when the path cannot be a directory, or an argument is unknown', () => {
    const file = join(directory, 'a-file');
    writeFileSync(file, '');
    const refusal = (env: NodeJS.ProcessEnv, argv: string[]) => {
      try {
        readStartEnvironment(env, argv);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const fromEnv = refusal({ PARITYSYNC_DATA_DIR: file }, []);
    expect(fromEnv).toBeInstanceOf(ConfigurationError);
    expect((fromEnv as ConfigurationError).message).toMatch(
      /PARITYSYNC_DATA_DIR=.*is a file, not a directory/,
    );
    const fromFlag = refusal({}, ['--data-dir', join(file, 'below')]);
    expect((fromFlag as ConfigurationError).problems.map((p) => p.path)).toEqual(['--data-dir']);
    const unknown = refusal({}, ['--data-directory', directory]);
    expect((unknown as ConfigurationError).message).toMatch(/--data-directory.*npm start -- --data-dir DIR/);
  });

  it('refuses a directory another runtime is using, and takes over a lock its dead owner left', () => {
    const shared = join(directory, 'locked');
    rmSync(shared, { recursive: true, force: true });
    mkdirSync(shared);
    const release = lockDataDirectory(shared);
    expect(() => lockDataDirectory(shared)).toThrow(/is in use by process \d+ \(this one\)/);
    release();
    // No process has pid 2^22 + 1 (above Linux's limit): its lock is stale.
    writeFileSync(join(shared, 'paritysync.lock'), String(4_194_305));
    lockDataDirectory(shared)();
  });
});
