/**
 * The edge under load on the local stack: signed deliveries POSTed over HTTP on loopback to the runtime
 * `npm start` runs, with a fixed number of requests in flight. Next to it, in the same run and on the same
 * emulators, their own capacity for the I/O the edge performs per delivery: the ledger's conditional claim
 * (DynamoDB Local), the SendMessage (SQS emulator) and the ledger's confirmation, through the same adapter
 * classes, at the same concurrency. The ratio between the two is what the edge costs on top of its I/O, so it
 * compares across machines; nothing here asserts a duration.
 *
 * The measurement runs in a child process: the function modules keep the environment of the first local
 * stack they were loaded for, so a process that already ran one (the visibility bench) cannot start another.
 * The child's stdout is /dev/null: the edge still formats and writes its log line for every delivery, as it
 * does in Lambda, without burying the table.
 */
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PurgeQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { adapterFor } from '../lambdas/adapters';
import { loadConfigFile } from '../lambdas/config/load';
import type { SourceConfig } from '../lambdas/config/schema';
import { CANONICAL_SCHEMA_VERSION, type CanonicalEvent } from '../lambdas/domain/canonical';
import { eventIdFor } from '../lambdas/ingest/ingest';
import { DynamoDbDeliveryLedger } from '../lambdas/ledger/dynamodb-ledger';
import type { LedgerEntry } from '../lambdas/ledger/ports';
import { SqsEventQueue } from '../lambdas/queue/sqs-queue';
import { fixedClock } from '../lambdas/shared/clock';
import { nodeCrypto } from '../lambdas/shared/crypto';
import { parseStrictJson } from '../lambdas/shared/strict-json';
import { DELIVERY_LEDGER, EVENTS_QUEUE } from '../lambdas/shared/topology';
import { LOCAL_AWS } from '../local/emulators';
import { senderFor } from '../local/senders';
import { startLocalStack } from '../local/start';

export const LOAD_TARGET_RATIO = 0.6;
const IN_FLIGHT = (process.env.BENCH_LOAD_IN_FLIGHT ?? '32,64').split(',').map(Number);
/**
 * Many short alternating passes rather than a few long ones: the machine's other load shifts over seconds,
 * and each pair of passes should meet the same conditions.
 */
const DELIVERIES = Number(process.env.BENCH_LOAD_DELIVERIES ?? 500);
const ROUNDS = Number(process.env.BENCH_LOAD_ROUNDS ?? 9);
/**
 * `on` runs the apply consumer in the stack, as `npm start` does. Off by default: in AWS it runs in functions
 * of its own, while here it would take its share of this process's event loop and of DynamoDB Local.
 */
const WITH_CONSUMER = process.env.BENCH_LOAD_CONSUMER === 'on';
/** Deliveries of each side before timing: JIT, connection pools and DynamoDB Local's tables warm up. */
const WARM_UP = 500;
/** A pass that takes longer than this is broken, not slow: the bench stops rather than hang. */
const PASS_DEADLINE_MS = 120_000;
const CHILD_DEADLINE_MS = 15 * 60_000;
const SOURCE_ID = 'channel-manager-demo';
/** As the ingest function sets it; it only sizes the ledger item the baseline writes. */
const CLAIM_LEASE_MS = 15_000;
const CHILD_FLAG = '--edge-under-load';

interface Delivery {
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

interface Pass {
  /** Completed deliveries (accepted by the edge, or claimed, sent and confirmed) per second. */
  readonly perSecond: number;
  readonly latenciesMs: readonly number[];
}

interface Side {
  /** The median of the passes' rates. */
  readonly perSecond: number;
  /** Over every delivery of every pass. */
  readonly p50Ms: number;
  readonly p99Ms: number;
}

interface Row {
  readonly inFlight: number;
  readonly edge: Side;
  readonly emulators: Side;
  /** The median of the rounds' ratios, each edge pass against the emulators' pass next to it. */
  readonly ratio: number;
  readonly lowestRatio: number;
  readonly highestRatio: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/**
 * Runs `work` once per index with `inFlight` calls outstanding. Rate and latencies are those of the steady
 * state: the first `inFlight` calls of a pass open connections and arrive all at once, and the last ones
 * drain with fewer in flight, so both are left out, on either side alike.
 */
async function drive(count: number, inFlight: number, work: (index: number) => Promise<void>): Promise<Pass> {
  if (count <= 2 * inFlight)
    throw new Error(`a pass needs more than ${2 * inFlight} deliveries, not ${count}`);
  const latencies = new Array<number>(count);
  const completions: number[] = [];
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      next = count; // no new requests; the pass fails
      reject(new Error(`a pass of ${count} deliveries took longer than ${PASS_DEADLINE_MS / 1000} s`));
    }, PASS_DEADLINE_MS);
  });
  try {
    await Promise.race([
      expired,
      Promise.all(
        Array.from({ length: inFlight }, async () => {
          for (let index = next++; index < count; index = next++) {
            const sent = performance.now();
            await work(index);
            const done = performance.now();
            latencies[index] = done - sent;
            completions.push(done);
          }
        }),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
  const from = completions[inFlight - 1] ?? Number.NaN;
  const to = completions[count - inFlight - 1] ?? Number.NaN;
  return {
    perSecond: (count - 2 * inFlight) / ((to - from) / 1000),
    latenciesMs: latencies.slice(inFlight, count - inFlight),
  };
}

/** Fresh, distinct rate updates signed now, as the channel manager sends them. */
function signedDeliveries(count: number, secret: string): Delivery[] {
  const sender = senderFor('channel-manager');
  const now = new Date();
  return Array.from({ length: count }, () => {
    const body = Buffer.from(JSON.stringify(sender.sample('rate_update', now, randomUUID)));
    return { body, headers: sender.sign(body, { secret, at: now }) };
  });
}

/** POSTs one delivery; anything but an accepted, enqueued event fails the bench rather than skewing it. */
function post(agent: Agent, url: URL, delivery: Delivery): Promise<void> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { ...delivery.headers, 'content-length': String(delivery.body.length) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.once('error', reject);
        response.once('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (response.statusCode === 200 && text.includes('"enqueued"')) resolve();
          else reject(new Error(`the edge answered ${response.statusCode}: ${text}`));
        });
      },
    );
    outgoing.once('error', reject);
    outgoing.end(delivery.body);
  });
}

interface Sequence {
  readonly entry: LedgerEntry;
  readonly event: CanonicalEvent;
}

/**
 * What the edge hands to the ledger and the queue for each delivery, derived before timing by the same
 * adapter, so that the baseline writes items and messages of the same size and shape.
 */
function sequences(
  deliveries: readonly Delivery[],
  source: SourceConfig,
  secret: string,
  dedupeWindowSeconds: number,
): Sequence[] {
  const adapter = adapterFor(source.kind);
  const now = new Date();
  const context = {
    source,
    secrets: [secret],
    toleranceSeconds: 300,
    clock: fixedClock(now),
    crypto: nodeCrypto,
  };
  const at = now.toISOString();
  return deliveries.map(({ body, headers }) => {
    const lowerCased = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    const delivery = { headers: lowerCased, rawBody: body };
    const verified = adapter.verify(delivery, context);
    const normalised = adapter.normalise(parseStrictJson(body.toString('utf8')), delivery, verified, context);
    if (normalised.disposition !== 'apply')
      throw new Error('the bench sample must be an event the edge enqueues');
    const eventId = eventIdFor(nodeCrypto, source.id, normalised.idempotencyKey);
    const occurredAt = normalised.occurredAt.toISOString();
    return {
      entry: {
        eventId,
        sourceId: source.id,
        kind: source.kind,
        idempotencyKey: normalised.idempotencyKey,
        providerEventType: normalised.providerEventType,
        canonicalType: normalised.payload.type,
        status: 'received',
        occurredAt,
        receivedAt: at,
        updatedAt: at,
        leaseUntil: now.getTime() + CLAIM_LEASE_MS,
        deliveryCount: 1,
        expiresAt: Math.floor(now.getTime() / 1000) + dedupeWindowSeconds,
      },
      event: {
        schemaVersion: CANONICAL_SCHEMA_VERSION,
        eventId,
        sourceId: source.id,
        kind: source.kind,
        providerEventType: normalised.providerEventType,
        idempotencyKey: normalised.idempotencyKey,
        occurredAt,
        receivedAt: at,
        ...normalised.payload,
      } as CanonicalEvent,
    };
  });
}

/** The measurement itself, in the child process. */
async function measure(): Promise<Row[]> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const config = await loadConfigFile('config/local.example.json');
  const source = config.sources.find((s) => s.id === SOURCE_ID);
  const secretRef = source?.secrets[0];
  if (!source || !secretRef || !('value' in secretRef)) {
    throw new Error(`config/local.example.json must define ${SOURCE_ID} with a literal secret`);
  }
  const secret = secretRef.value;
  const stack = await startLocalStack({
    config,
    port: 0,
    prefix: `load${randomBytes(4).toString('hex')}`,
    consumer: WITH_CONSUMER,
    reconcileIntervalMs: 0,
  });
  const dynamodb = new DynamoDBClient({ ...LOCAL_AWS, endpoint: stack.endpoints.dynamodbEndpoint });
  const sqs = new SQSClient({ ...LOCAL_AWS, endpoint: stack.endpoints.sqsEndpoint });
  try {
    const table = stack.topology.tables[DELIVERY_LEDGER.id];
    const queueUrl = stack.topology.queues[EVENTS_QUEUE.id]?.url;
    if (table === undefined || queueUrl === undefined)
      throw new Error('the ledger or the events queue is missing');
    const ledger = new DynamoDbDeliveryLedger(dynamodb, table);
    const queue = new SqsEventQueue(sqs, queueUrl);
    const url = new URL(`${stack.url}/webhooks/${SOURCE_ID}`);
    // Every pass starts on an empty queue, so that neither side sends into the other's backlog.
    const emptyQueue = () => sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));

    // A sender's connections per pass: kept across passes, they would sit idle past the local server's
    // keep-alive timeout during the other side's pass, and a request racing the server's close gets a reset.
    const edge = async (count: number, inFlight: number) => {
      const deliveries = signedDeliveries(count, secret);
      const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
      try {
        return await drive(count, inFlight, (index) => post(agent, url, deliveries[index] as Delivery));
      } finally {
        agent.destroy();
        await emptyQueue();
      }
    };
    const emulators = async (count: number, inFlight: number) => {
      const work = sequences(
        signedDeliveries(count, secret),
        source,
        secret,
        config.ingest.dedupeWindowDays * 86_400,
      );
      try {
        return await drive(count, inFlight, async (index) => {
          const { entry, event } = work[index] as Sequence;
          const now = new Date();
          const claim = await ledger.claim(entry, now.getTime());
          if (claim.outcome !== 'claimed') throw new Error(`claim of ${entry.eventId}: ${claim.outcome}`);
          const { messageId, body } = await queue.enqueue(event);
          await ledger.confirm(entry, 'enqueued', now.toISOString(), messageId, body);
        });
      } finally {
        await emptyQueue();
      }
    };

    const rows: Row[] = [];
    for (const inFlight of IN_FLIGHT) {
      await emulators(WARM_UP, inFlight);
      await edge(WARM_UP, inFlight);
      const rounds: { edge: Pass; emulators: Pass }[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate which side goes first, so that neither always meets a warmer or fuller emulator.
        if (round % 2 === 0) {
          const bare = await emulators(DELIVERIES, inFlight);
          rounds.push({ emulators: bare, edge: await edge(DELIVERIES, inFlight) });
        } else {
          const edged = await edge(DELIVERIES, inFlight);
          rounds.push({ edge: edged, emulators: await emulators(DELIVERIES, inFlight) });
        }
      }
      const summary = (side: 'edge' | 'emulators'): Side => {
        const latencies = rounds.flatMap((r) => r[side].latenciesMs).sort((a, b) => a - b);
        return {
          perSecond: median(rounds.map((r) => r[side].perSecond)),
          p50Ms: percentile(latencies, 0.5),
          p99Ms: percentile(latencies, 0.99),
        };
      };
      const ratios = rounds.map((r) => r.edge.perSecond / r.emulators.perSecond);
      rows.push({
        inFlight,
        edge: summary('edge'),
        emulators: summary('emulators'),
        ratio: median(ratios),
        lowestRatio: Math.min(...ratios),
        highestRatio: Math.max(...ratios),
      });
    }
    return rows;
  } finally {
    dynamodb.destroy();
    sqs.destroy();
    await stack.stop();
  }
}

/** Runs the measurement in a child process and prints its table. */
export async function edgeUnderLoad(): Promise<{
  readonly ratios: readonly { readonly inFlight: number; readonly ratio: number }[];
  readonly meetsTarget: boolean;
}> {
  const child = fork(__filename, [CHILD_FLAG], {
    execArgv: process.execArgv,
    // The runtime's own level, whatever an earlier part of the bench quietened: the log line is part of the cost.
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'INFO' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    timeout: CHILD_DEADLINE_MS,
  });
  const rows = await new Promise<Row[]>((resolve, reject) => {
    let received: Row[] | undefined;
    child.once('message', (message) => {
      received = message as Row[];
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (received && code === 0) resolve(received);
      else reject(new Error(`the load measurement failed (exit ${code ?? signal}); its error is above`));
    });
  });

  console.log(
    `\nEdge under load: ${ROUNDS} rounds of ${DELIVERIES} signed deliveries over HTTP, against the ` +
      'emulators alone doing its claim + SendMessage + confirm at the same concurrency ' +
      '(steady state of each pass: median rates, latency over all passes)',
  );
  console.log(
    WITH_CONSUMER
      ? '(apply consumer running in the same process during both, as under npm start)'
      : '(apply consumer not running during either: in AWS it has functions of its own; ' +
          'BENCH_LOAD_CONSUMER=on runs it)',
  );
  console.table(
    rows.map((row) => ({
      'in flight': row.inFlight,
      'edge accepted/s': Math.round(row.edge.perSecond),
      'edge p50 ms': Math.round(row.edge.p50Ms),
      'edge p99 ms': Math.round(row.edge.p99Ms),
      'emul. seq/s': Math.round(row.emulators.perSecond),
      'emul. p50 ms': Math.round(row.emulators.p50Ms),
      'emul. p99 ms': Math.round(row.emulators.p99Ms),
      ratio: Number(row.ratio.toFixed(2)),
      'rounds range': `${row.lowestRatio.toFixed(2)}–${row.highestRatio.toFixed(2)}`,
      target: `≥ ${LOAD_TARGET_RATIO}`,
    })),
  );
  return {
    ratios: rows.map(({ inFlight, ratio }) => ({ inFlight, ratio })),
    meetsTarget: rows.every((row) => row.ratio >= LOAD_TARGET_RATIO),
  };
}

if (process.argv.includes(CHILD_FLAG)) {
  measure().then(
    (rows) => process.send?.(rows, () => process.exit(0)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
