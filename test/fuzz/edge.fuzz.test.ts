import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createConsumer } from '../../lambdas/apply/consumer';
import { parseConfig } from '../../lambdas/config/load';
import type { ParitySyncConfigInput } from '../../lambdas/config/schema';
import { DEFAULT_TOLERANCE_SECONDS } from '../../lambdas/config/schema';
import type { CanonicalEvent, SourceKind } from '../../lambdas/domain/canonical';
import {
  describeCase,
  FAMILIES,
  type Family,
  type FuzzCase,
  type FuzzPlan,
  type FuzzTarget,
  materialise,
  planArbitrary,
  replacementPlan,
  samplePlan,
} from '../../local/fuzz/generators';
import { judgeAnswer, judgeSettlement, queueRefusal } from '../../local/fuzz/invariants';
import { senderFor } from '../../local/senders';
import { createEdge, DEFAULT_SETTINGS } from '../contract/harness';
import { consumerFakes } from '../fakes/apply-set';

/**
 * Hostile senders against the real edge, in process: every provider kind, every family of mutation, each
 * delivery signed correctly over its mutated bytes. Each 200 that queued an event is then applied by the real
 * consumer over in-memory stores, with the demo configuration's mapping seeds (plus the samples' one unmapped
 * property), so that events apply rather than park. A failure shrinks to a minimal delivery, printed with its
 * exact bytes and headers; FUZZ_SEED and FUZZ_RUNS replay or widen a run.
 */

const DEMO_CONFIG = 'config/local.example.json';
const RUNS_PER_PROPERTY = Number(process.env.FUZZ_RUNS ?? 100);
const SEED = Number(process.env.FUZZ_SEED ?? 20_260_601);

const input = JSON.parse(readFileSync(DEMO_CONFIG, 'utf8')) as ParitySyncConfigInput;
const config = parseConfig(input);
const settings = {
  ...DEFAULT_SETTINGS,
  maxBodyBytes: config.ingest.maxBodyBytes,
  dedupeWindowSeconds: config.ingest.dedupeWindowDays * 86_400,
};
const seeds = [
  ...config.mappings,
  // The platform's sample property, so that its merges apply rather than park.
  { scope: '*', properties: { 'prop-seaside-loft': 'seaside-loft' }, roomTypes: {}, ratePlans: {} },
];

function targetFor(kind: SourceKind): FuzzTarget {
  const source = config.sources.find((s) => s.kind === kind);
  const secret = source?.secrets[0];
  if (!source || !secret || !('value' in secret))
    throw new Error(`${DEMO_CONFIG} has no ${kind} source with a value secret`);
  return {
    sourceId: source.id,
    kind,
    secret: secret.value,
    bounds: {
      toleranceSeconds: source.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS,
      dedupeWindowSeconds: settings.dedupeWindowSeconds,
    },
  };
}

const KINDS: readonly SourceKind[] = [
  'channel-manager',
  'ota',
  'pms',
  'mapping',
  'hospitable',
  'standard-webhooks',
];

/** The ledger or queue failing on this delivery, so that the 503 paths are reached too. */
type Fault = 'none' | 'ledger' | 'queue';
// One delivery in nine; a number rather than a oneof, so that a failure shrinks to `none` when it can.
const faults = fc.nat({ max: 17 }).map((n): Fault => (n === 16 ? 'ledger' : n === 17 ? 'queue' : 'none'));

let logger: Logger;
let metrics: Metrics;
beforeAll(() => {
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
  logger = new Logger({ logLevel: 'SILENT' });
  metrics = new Metrics({ namespace: 'ParitySyncFuzz', serviceName: 'paritysync-fuzz' });
});
// Test files share their worker's process (isolate: false): the next file must not inherit the stub.
afterAll(() => {
  vi.unstubAllEnvs();
});

function sqsRecord(event: CanonicalEvent, messageId: string): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: JSON.stringify(event),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: '000000000000',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: { eventId: { dataType: 'String', stringValue: event.eventId } },
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:paritysync-events',
    awsRegion: 'us-east-1',
  };
}

/** The real consumer over fresh in-memory stores; events it puts back on the queue are applied in turn. */
function applyPipeline(clock: ReturnType<typeof createEdge>['clock']) {
  const { deps, ledger, requeued } = consumerFakes({ clock, seeds, properties: config.properties });
  const consumer = createConsumer(deps, logger, metrics);

  /** Applies `events` and whatever they release: the breaches of (b) found, and where each event ended. */
  async function apply(
    events: readonly CanonicalEvent[],
  ): Promise<{ breaches: string[]; settled: string[] }> {
    const breaches: string[] = [];
    const settled: string[] = [];
    let batch = [...events];
    for (let round = 0; batch.length > 0 && round < 10; round++) {
      const result = await consumer({
        Records: batch.map((event, i) => sqsRecord(event, `m-${round}-${i}`)),
      });
      for (const event of batch) {
        const entry = await ledger.get(event.eventId);
        const status = entry?.status ?? 'enqueued';
        settled.push(status);
        const verdict = judgeSettlement({
          status,
          ...(entry?.reason ? { reason: entry.reason } : {}),
          ...(entry?.lastError ? { lastError: entry.lastError } : {}),
        });
        breaches.push(...verdict.breaches.map((breach) => `${event.eventId}: ${breach}`));
        if (!verdict.final && verdict.breaches.length === 0) {
          breaches.push(`${event.eventId}: (b) apply left the event ${status}`);
        }
      }
      if (result.batchItemFailures.length > 0 && breaches.length === 0) {
        breaches.push(`(b) apply failed records ${JSON.stringify(result.batchItemFailures)}`);
      }
      batch = requeued.splice(0);
    }
    return { breaches, settled };
  }

  return { apply };
}

interface Delivered {
  readonly fuzzCase: FuzzCase;
  readonly outcome: string;
  readonly breaches: readonly string[];
  /** Where apply left each event the delivery queued (and any it released). */
  readonly settled: readonly string[];
}

const sharedEdge = createEdge(input.sources, settings);

/** The edge with an empty ledger and queue: building one per delivery would cost more than the delivery. */
function freshEdge(): typeof sharedEdge {
  sharedEdge.ledger.entries.clear();
  sharedEdge.ledger.failNextClaims = 0;
  sharedEdge.queue.messages.splice(0);
  sharedEdge.queue.failNextSends = 0;
  return sharedEdge;
}

/** One delivery through the real edge, then, if it queued an event, through the real apply pipeline. */
async function deliverAndApply(target: FuzzTarget, plan: FuzzPlan, fault: Fault): Promise<Delivered> {
  const edge = freshEdge();
  let next = 0;
  const fuzzCase = materialise(plan, {
    targets: [target],
    now: edge.clock.now(),
    uniqueId: () => `fz-${++next}`,
  });
  if (fault === 'ledger') edge.ledger.failNextClaims = 1;
  if (fault === 'queue') edge.queue.failNextSends = 1;

  const breaches: string[] = [];
  let outcome = '(no answer)';
  let settled: string[] = [];
  try {
    const answer = await edge.deliver({
      sourceId: fuzzCase.sourceId,
      body: fuzzCase.body,
      headers: { ...fuzzCase.headers },
    });
    const verdict = judgeAnswer({
      status: answer.status,
      headers: answer.headers,
      body: JSON.stringify(answer.json),
    });
    outcome = `${verdict.outcome}${fault === 'none' ? '' : ` (with a ${fault} failure injected)`}`;
    breaches.push(...verdict.breaches);
    const queued = edge.queue.messages;
    if (verdict.accepted?.action === 'enqueued') {
      for (const event of queued) {
        const refusal = queueRefusal(JSON.stringify(event));
        if (refusal) {
          breaches.push(
            `(b) accepted, but SQS cannot carry the event: ${refusal}; in AWS every delivery of it is answered 503 enqueue_failed`,
          );
        }
      }
      if (queued.length !== 1 || queued[0]?.eventId !== verdict.accepted.eventId) {
        breaches.push(
          `200 enqueued ${verdict.accepted.eventId} but the queue holds ${queued.length} message(s)`,
        );
      }
      const applied = await applyPipeline(edge.clock).apply(queued);
      breaches.push(...applied.breaches);
      settled = applied.settled;
    } else if (verdict.accepted?.action === 'recorded') {
      const entry = await edge.ledger.get(verdict.accepted.eventId);
      if (entry?.status !== 'recorded')
        breaches.push(`(b) 200 recorded but the ledger says ${entry?.status}`);
      settled = ['recorded'];
    } else if (queued.length > 0) {
      breaches.push(`${outcome} yet ${queued.length} event(s) were queued`);
    }
  } catch (error) {
    breaches.push(
      `the ingest handler threw instead of answering: ${error instanceof Error ? error.stack : String(error)}`,
    );
  }
  return { fuzzCase, outcome, breaches, settled };
}

/** Fails with the delivery's exact reproduction when it broke an invariant. */
function assertHeld(delivered: Delivered): void {
  if (delivered.breaches.length === 0) return;
  throw new Error(
    [delivered.outcome, ...delivered.breaches.map((b) => `  - ${b}`), describeCase(delivered.fuzzCase)].join(
      '\n',
    ),
  );
}

type Replacements = Parameters<typeof replacementPlan>[2];
const nonCharacter = (path: (string | number)[]): Replacements[number] => ({
  path,
  pool: 'string',
  label: 'noncharacter U+FFFF',
});

/**
 * Cases found before, run first on every run. A noncharacter in an id or a text passes JSON, the schemas and
 * (before the contract refused it) the applicability contract, and then SQS refuses the message: every retry
 * of the delivery would be answered 503.
 */
const REGRESSIONS: Readonly<Record<SourceKind, readonly FuzzPlan[]>> = {
  'channel-manager': [
    replacementPlan('channel-manager', 'rate_update', [nonCharacter(['channel_id'])]),
    replacementPlan('channel-manager', 'rate_update', [nonCharacter(['event_id'])]),
  ],
  ota: [replacementPlan('ota', 'rate_update', [nonCharacter(['property_id'])])],
  pms: [replacementPlan('pms', 'reservation.created', [nonCharacter(['data', 'reservationId'])])],
  mapping: [
    replacementPlan('mapping', 'mapping.error.resolved', [nonCharacter(['eventId'])]),
    replacementPlan('mapping', 'mapping.error.resolved', [nonCharacter(['data', 'resolution'])]),
  ],
  hospitable: [replacementPlan('hospitable', 'reservation.created', [nonCharacter(['data', 'id'])])],
  'standard-webhooks': [
    replacementPlan('standard-webhooks', 'reservation.created', [nonCharacter(['data', 'reservationId'])]),
  ],
};

describe.each(KINDS)('a %s sender', (kind) => {
  const target = targetFor(kind);

  // The floor every mutation starts from: if the samples did not apply, the fuzzing below would prove little.
  it.each(senderFor(kind).sampleTypes)(
    'sends a valid %s sample that is accepted and applied',
    async (type) => {
      const delivered = await deliverAndApply(target, samplePlan(kind, type), 'none');
      assertHeld(delivered);
      expect(delivered.outcome).toMatch(/^200 accepted\//);
      expect(delivered.settled).not.toHaveLength(0);
      for (const status of delivered.settled) expect(['applied', 'recorded']).toContain(status);
    },
  );

  it.each(FAMILIES)(
    'signing hostile deliveries (%s mutations) gets no 500, a named 4xx for each refusal, and applies each acceptance',
    async (family: Family) => {
      await fc.assert(
        fc.asyncProperty(planArbitrary(1, family), faults, async (plan, fault) =>
          assertHeld(await deliverAndApply(target, plan, fault)),
        ),
        {
          numRuns: RUNS_PER_PROPERTY,
          seed: SEED,
          examples:
            family === 'fields' ? REGRESSIONS[kind].map((plan): [FuzzPlan, Fault] => [plan, 'none']) : [],
        },
      );
    },
  );
});

it('the ingest HTTP handler answers every hostile delivery with JSON, and never throws', async () => {
  const deliveries = fc
    .tuple(fc.constantFrom(...KINDS), fc.constantFrom(...FAMILIES))
    .chain(([kind, family]) => planArbitrary(1, family).map((plan) => ({ kind, plan })));
  await fc.assert(
    fc.asyncProperty(deliveries, async ({ kind, plan }) => {
      const edge = freshEdge();
      let next = 0;
      const fuzzCase = materialise(plan, {
        targets: [targetFor(kind)],
        now: edge.clock.now(),
        uniqueId: () => `fz-${++next}`,
      });
      // deliver() parses the answer's body as JSON: a handler that threw, or answered anything else, rejects.
      const answer = await edge.deliver({
        sourceId: fuzzCase.sourceId,
        body: fuzzCase.body,
        headers: { ...fuzzCase.headers },
      });
      expect(answer.status).toBeGreaterThanOrEqual(200);
    }),
    { numRuns: RUNS_PER_PROPERTY * 2, seed: SEED },
  );
});
