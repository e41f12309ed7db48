/**
 * `npm run soak`: the local stack under a steady signed load while scripted faults hit it (DynamoDB Local paused,
 * the consumer switched off, the runtime killed and restarted on its data directory), then every event the edge
 * answered 200 is checked against the ledger and the runtime's logs. Exits 1 when a target is missed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { loadConfigFile } from '../../lambdas/config/load';
import { LOCAL_AWS } from '../emulators';
import { type Delivery, deliveryFactory, type SendPolicy, send } from './load';
import { type DeliveryOutcome, emptyLogTally, formatReport, soakReport, tallyLogLine } from './report';
import {
  isAlive,
  type RuntimeOptions,
  type RuntimeProcess,
  residentMiB,
  startRuntime,
  switchConsumer,
} from './runtime';

const REPOSITORY = resolve(__dirname, '..', '..');
const CONFIG_PATH = join(REPOSITORY, 'config/local.example.json');
/** Longer than the edge's SDK bound (3 s per call), so that claims and confirmations time out mid-delivery. */
const DYNAMODB_PAUSE_MS = 8_000;
/** A killed runtime's Java must be gone within this; the kernel kills it as soon as its parent dies. */
const ORPHAN_GRACE_MS = 5_000;
/**
 * Retries still due when the load and the faults are over get this long before they count as given up: a 5xx
 * asks for 30 s, and a backlog may need a few rounds to clear.
 */
const RETRY_GRACE_MS = 120_000;
const DRAIN_TIMEOUT_MS = 60_000;
/** A sender waits as long as API Gateway lets a request run (29 s), so that it sees every answer the edge gives. */
const ATTEMPT_TIMEOUT_MS = 30_000;

/**
 * Modest: DynamoDB Local on a data directory commits every write to disk, about 25 a second on a busy two-core
 * machine, and a delivery costs about eight writes from claim to applied night.
 */
const DEFAULT_RATE = 10;

const USAGE = `Usage: npm run soak -- [--duration SECONDS] [--rate PER_SECOND] [--quick] [--keep]
  --duration  seconds of load (default 120)
  --rate      deliveries started per second (default 10)
  --quick     30 s of load, about a minute in all (for CI)
  --keep      keep the data directory and logs even when the run passes`;

interface Options {
  readonly durationMs: number;
  readonly rate: number;
  readonly keep: boolean;
}

function readOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      duration: { type: 'string' },
      rate: { type: 'string' },
      quick: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const number = (name: string, raw: string | undefined, fallback: number, max: number) => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0 || value > max) {
      throw new Error(
        `--${name} ${JSON.stringify(raw)} must be a number above 0 and at most ${max}.\n${USAGE}`,
      );
    }
    return value;
  };
  const seconds = number('duration', values.duration, values.quick ? 30 : 120, 3600);
  if (seconds < 20) throw new Error(`--duration must be at least 20 s to fit the faults.\n${USAGE}`);
  return {
    durationMs: seconds * 1000,
    rate: number('rate', values.rate, DEFAULT_RATE, 100),
    keep: values.keep,
  };
}

async function main(): Promise<number> {
  // The SDK's notice about Node 20, printed when a client is built, would interrupt the report.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const options = readOptions(process.argv.slice(2));
  const config = await loadConfigFile(CONFIG_PATH);
  const nextDelivery = await deliveryFactory(config);
  const directory = mkdtempSync(join(tmpdir(), 'paritysync-soak-'));
  const runtimeOptions = (instance: number): RuntimeOptions => ({
    repository: REPOSITORY,
    dataDirectory: join(directory, 'data'),
    port,
    instance,
    logDirectory: directory,
    startTimeoutMs: 120_000,
  });
  const port = await freePort();
  const faultProblems: string[] = [];
  const memory: string[] = [];
  const started = Date.now();
  const clock = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s`;
  const say = (line: string) => console.log(`[${clock()}] ${line}`);
  const sampleMemory = (when: string, runtime: RuntimeProcess) =>
    memory.push(
      `  ${when.padEnd(34)} runtime ${String(residentMiB(runtime.pid) ?? '-').padStart(5)} MiB   ` +
        `DynamoDB Local ${String(residentMiB(runtime.dynamodbPid()) ?? '-').padStart(5)} MiB`,
    );

  say(
    `soak: ${options.durationMs / 1000} s of load at ${options.rate} deliveries/s on 127.0.0.1:${port}; data and logs in ${directory}`,
  );
  let runtime = await startRuntime(runtimeOptions(1));
  const runtimes = [runtime];
  const stopEverything = async () => {
    const java = runtime.dynamodbPid();
    await runtime.stop();
    if (java !== undefined && isAlive(java)) process.kill(java, 'SIGKILL');
  };
  process.once('SIGINT', () => {
    void stopEverything().finally(() => process.exit(130));
  });

  try {
    say(`runtime up (pid ${runtime.pid}, DynamoDB Local pid ${runtime.dynamodbPid() ?? '?'})`);
    sampleMemory('before the load', runtime);
    const warmUp = await warmUpEdge(runtime.url, nextDelivery);
    say(
      `edge warm: ${warmUp.length} deliveries sent one at a time until ${WARM_IN_A_ROW} in a row took under a second`,
    );

    // Open loop: deliveries start on schedule whatever happens to the earlier ones, as real providers send.
    const loadStart = Date.now();
    const loadEnd = loadStart + options.durationMs;
    // Retries still due get a grace after the load and the last fault, whichever ends later.
    let faultsEnd = loadEnd;
    const policy: SendPolicy = {
      url: runtime.url,
      giveUpAt: () => Math.max(loadEnd, faultsEnd) + RETRY_GRACE_MS,
      maxAttempts: 20,
      attemptTimeoutMs: ATTEMPT_TIMEOUT_MS,
    };
    const inFlight: Promise<DeliveryOutcome>[] = [];
    const load = (async () => {
      const total = Math.round((options.rate * options.durationMs) / 1000);
      for (let n = 0; n < total; n += 1) {
        const due = loadStart + (n * 1000) / options.rate;
        if (due > Date.now()) await sleep(due - Date.now());
        // The URL stays the same across restarts: the runtime comes back on the same port.
        inFlight.push(send(nextDelivery(), policy));
      }
    })();

    // One fault after the other, each given its full length however long the previous one took to recover.
    const gapMs = Math.max(3_000, options.durationMs * 0.1);
    const faults = (async () => {
      await sleep(gapMs);
      const java = runtime.dynamodbPid();
      if (java === undefined) {
        faultProblems.push('no DynamoDB Local process found to pause');
      } else {
        process.kill(java, 'SIGSTOP');
        say(`fault: DynamoDB Local (pid ${java}) paused with SIGSTOP for ${DYNAMODB_PAUSE_MS / 1000} s`);
        await sleep(DYNAMODB_PAUSE_MS);
        process.kill(java, 'SIGCONT');
        say(`fault: DynamoDB Local (pid ${java}) resumed with SIGCONT`);
      }

      await sleep(gapMs);
      await switchConsumer(runtime.url, 'stop');
      const consumerOffMs = Math.max(5_000, options.durationMs * 0.15);
      say(`fault: consumer stopped (POST /_local/consumer/stop) for ${Math.round(consumerOffMs / 1000)} s`);
      await sleep(consumerOffMs);
      await switchConsumer(runtime.url, 'start');
      say('fault: consumer started again (POST /_local/consumer/start)');

      await sleep(gapMs);
      sampleMemory('before the kill', runtime);
      const killedJava = runtime.dynamodbPid();
      await runtime.kill();
      say(`fault: runtime (pid ${runtime.pid}) killed with SIGKILL, taking the SQS emulator with it`);
      if (killedJava !== undefined) {
        const deadline = Date.now() + ORPHAN_GRACE_MS;
        while (isAlive(killedJava) && Date.now() < deadline) await sleep(100);
        if (isAlive(killedJava)) {
          faultProblems.push(
            `DynamoDB Local (pid ${killedJava}) was still running ${ORPHAN_GRACE_MS / 1000} s after its runtime was killed`,
          );
          process.kill(killedJava, 'SIGKILL');
        } else {
          say(`DynamoDB Local (pid ${killedJava}) went with it`);
        }
      }
      runtime = await startRuntime(runtimeOptions(runtimes.length + 1));
      runtimes.push(runtime);
      faultsEnd = Date.now();
      say(`runtime restarted on the same data directory (pid ${runtime.pid})`);
      sampleMemory('after the restart', runtime);
    })();

    await Promise.all([load, faults]);
    say(`load sent; waiting for ${inFlight.length} deliveries to be answered (retries included)`);
    const outcomes = [...warmUp, ...(await Promise.all(inFlight))];
    say('every delivery answered or given up; waiting for the events queue to drain');
    const sqs = new SQSClient({ endpoint: new URL(runtime.eventsQueueUrl).origin, ...LOCAL_AWS });
    const drained = await waitForDrain(sqs, runtime.eventsQueueUrl);
    if (!drained) faultProblems.push(`the events queue did not drain within ${DRAIN_TIMEOUT_MS / 1000} s`);
    const deadLetterMessages = await queueDepth(sqs, runtime.deadLetterQueueUrl);
    sqs.destroy();
    sampleMemory('after the load', runtime);

    const eventIds = [
      ...new Set(
        outcomes.flatMap((o) =>
          (o.answer === 'accepted' || o.answer === 'duplicate') && o.eventId ? [o.eventId] : [],
        ),
      ),
    ];
    say(`checking ${eventIds.length} events against the ledger`);
    const ledger = await ledgerStatuses(runtime.url, eventIds);
    await stopEverything();

    const logs = emptyLogTally();
    for (const file of runtimes.flatMap((r) => r.logFiles)) {
      for (const line of readFileSync(file, 'utf8').split('\n')) tallyLogLine(logs, line);
    }
    const report = soakReport({ outcomes, ledger, logs, deadLetterMessages, faultProblems });
    console.log(`\n${formatReport(report)}\n\nResident memory:\n${memory.join('\n')}\n`);
    if (report.missed.length > 0) {
      console.log(
        `FAILED: ${report.missed.map((row) => row.label.trim()).join(', ')}. Logs and data kept in ${directory}:\n` +
          "  runtime-N.stdout.log holds each runtime instance's JSON log lines; grep an event id from the list above\n" +
          '  to follow it through the edge ("delivery") and the consumer ("event").',
      );
      return 1;
    }
    console.log(`PASSED in ${Math.round((Date.now() - started) / 1000)} s.`);
    if (options.keep) console.log(`Logs and data kept in ${directory}.`);
    else rmSync(directory, { recursive: true, force: true });
    return 0;
  } catch (error) {
    await stopEverything().catch(() => undefined);
    console.error(`The soak could not run to the end; logs are in ${directory}.`);
    throw error;
  }
}

const WARM_IN_A_ROW = 5;
const WARM_UP_MS = 60_000;

/**
 * A freshly started DynamoDB Local answers its first requests slowly (its JIT is cold), slower than the edge's
 * one-second bound on a busy machine. Deliveries sent one at a time until a few in a row are quick keep that
 * start-up out of the faults' picture; they are counted like the others.
 */
async function warmUpEdge(url: string, nextDelivery: () => Delivery): Promise<DeliveryOutcome[]> {
  const outcomes: DeliveryOutcome[] = [];
  const deadline = Date.now() + WARM_UP_MS;
  let quickInARow = 0;
  while (quickInARow < WARM_IN_A_ROW && Date.now() < deadline) {
    const began = Date.now();
    const outcome = await send(nextDelivery(), {
      url,
      giveUpAt: () => deadline + RETRY_GRACE_MS,
      maxAttempts: 20,
      attemptTimeoutMs: ATTEMPT_TIMEOUT_MS,
    });
    outcomes.push(outcome);
    quickInARow = outcome.attempts === 1 && Date.now() - began < 1_000 ? quickInARow + 1 : 0;
  }
  return outcomes;
}

async function waitForDrain(sqs: SQSClient, queueUrl: string): Promise<boolean> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  let emptyInARow = 0;
  while (Date.now() < deadline) {
    const depth = await queueDepth(sqs, queueUrl, true).catch(() => undefined);
    emptyInARow = depth === 0 ? emptyInARow + 1 : 0;
    // Twice, a second apart: a failed record is invisible for a moment before it comes back.
    if (emptyInARow >= 2) return true;
    await sleep(1_000);
  }
  return false;
}

async function queueDepth(sqs: SQSClient, queueUrl: string, inFlightToo = false): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    (inFlightToo ? Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) : 0)
  );
}

/** Each event's ledger status through the read API, a few at a time; `missing` for a 404. */
async function ledgerStatuses(url: string, eventIds: readonly string[]): Promise<Map<string, string>> {
  const statuses = new Map<string, string>();
  const queue = [...eventIds];
  const worker = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      statuses.set(id, await ledgerStatus(url, id));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return statuses;
}

async function ledgerStatus(url: string, eventId: string): Promise<string> {
  for (let attempt = 1; ; attempt += 1) {
    const response = await fetch(`${url}/deliveries/${eventId}`, { signal: AbortSignal.timeout(10_000) });
    const body = (await response.json().catch(() => ({}))) as { status?: unknown };
    if (response.status === 200 && typeof body.status === 'string') return body.status;
    if (response.status === 404) return 'missing';
    if (attempt === 5) return `unreadable (${response.status})`;
    await sleep(1_000);
  }
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? done(address.port) : fail(new Error('no port')),
      );
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
