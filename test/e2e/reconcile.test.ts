import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { constrainAvailability } from '../../lambdas/apply/apply';
import { parseConfig } from '../../lambdas/config/load';
import type { ParitySyncConfig } from '../../lambdas/config/schema';
import { createSecretResolver } from '../../lambdas/config/secrets';
import { toMinorUnits } from '../../lambdas/domain/money';
import { FIELD_GROUPS } from '../../lambdas/domain/state';
import { DEAD_LETTERED, type WorkMessage } from '../../lambdas/reconcile/fanout';
import type { ReconcileReport, SourceResult } from '../../lambdas/reconcile/service';
import { RECONCILE_CHECKPOINTS, RECONCILE_RUN_LOG, RECONCILE_WORK_DLQ } from '../../lambdas/shared/topology';
import { DynamoDbReconcileRunStore } from '../../lambdas/state/dynamodb-reconcile-runs';
import { type Demo, type DemoReport, startDemo } from '../../local/demo';
import { freeLoopbackPort } from '../../local/emulators';
import { reconcileNow } from '../../local/reconcile-client';
import { RECONCILE_NOW_PATH, type ReconcileStreamLine } from '../../local/reconciler';
import { nightKey, type RoomNight } from '../../local/simulator/dataset';
import { type LocalStack, startLocalStack } from '../../local/start';
import { emulatorEndpoints, localClients } from '../support/aws';
import { eventually } from '../support/eventually';

/**
 * Reconciliation, drift and parity end to end on this machine: the provider simulator and the demo's webhooks
 * (some deliberately lost) against the real stack (edge, apply pipeline, reconcile function, read API) on the
 * shared emulators, driven through the local control route the CLI uses and through the local timer.
 */

const CHANNEL_MANAGER = 'channel-manager-demo';
const OTA = 'ota-demo';
/** What the demo adds to every fifth OTA night of its parity line (see local/demo.ts). */
const PARITY_OFFSET_MINOR = 700;
const PARITY_NIGHTS = 15;
/** Six stay dates of the demo inventory (2 hotels × 3 room types × 2 rate plans): two dearer OTA nights. */
const DEMO_NIGHTS = 72;

// One JSON log line per read request would bury the test output; warnings and errors still show.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

// ---------------------------------------------------------------------------------------------------------
// Helpers

/** local.example.json with its polled sources pointed at a simulator on `simulatorPort`. */
function exampleConfigFor(simulatorPort: number): ParitySyncConfig {
  const example = JSON.parse(readFileSync('config/local.example.json', 'utf8')) as {
    sources: { polling?: Record<string, unknown> }[];
  };
  return parseConfig({
    ...example,
    sources: example.sources.map((source) =>
      source.polling
        ? { ...source, polling: { ...source.polling, baseUrl: `http://127.0.0.1:${simulatorPort}` } }
        : source,
    ),
  });
}

interface Environment {
  readonly stack: LocalStack;
  readonly demo: Demo;
  readonly seeded: DemoReport;
  readonly config: ParitySyncConfig;
}

async function startEnvironment(options: {
  readonly reconcileIntervalMs: number;
  readonly dropRate: number;
}): Promise<Environment> {
  const simulatorPort = await freeLoopbackPort();
  const config = exampleConfigFor(simulatorPort);
  const stack = await startLocalStack({
    config,
    emulators: emulatorEndpoints(),
    prefix: `e2erec${randomBytes(4).toString('hex')}`,
    reconcileIntervalMs: options.reconcileIntervalMs,
    log: () => undefined,
  });
  try {
    const demo = await startDemo({
      config,
      edgeUrl: stack.url,
      port: simulatorPort,
      secrets: createSecretResolver({}),
      now: new Date(),
      nights: DEMO_NIGHTS,
      dropRate: options.dropRate,
    });
    if (!demo) throw new Error(`the demo found no source polling port ${simulatorPort}`);
    const seeded = await demo.seeded;
    return { stack, demo, seeded, config };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}

async function stopEnvironment(environment: Environment | undefined): Promise<void> {
  await environment?.demo.stop();
  await environment?.stack.stop();
}

async function getJson(stack: LocalStack, path: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${stack.url}${path}`);
  const body = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

interface NightView {
  readonly propertyId: string;
  readonly roomTypeId: string;
  readonly ratePlanId: string;
  readonly channel: string;
  readonly date: string;
  readonly rate?: { amountMinor: number; currency: string; version: string; eventId: string };
  readonly availability?: Record<string, unknown>;
  readonly restrictions?: Record<string, unknown>;
}

function dateSpan(nights: readonly RoomNight[]): { from: string; to: string } {
  const dates = nights.map((night) => night.date).sort();
  return { from: dates[0] ?? '', to: dates[dates.length - 1] ?? '' };
}

/** Every stored room night of a property, all channels, through the read API. */
async function readAri(stack: LocalStack, propertyId: string, span: { from: string; to: string }) {
  const items: NightView[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ from: span.from, to: span.to, limit: '500' });
    if (cursor) query.set('cursor', cursor);
    const page = await getJson(stack, `/properties/${encodeURIComponent(propertyId)}/ari?${query}`);
    items.push(...(page.items as NightView[]));
    cursor = page.nextCursor as string | null;
  } while (cursor);
  return items;
}

interface ParityNightView {
  readonly date: string;
  readonly roomTypeId: string;
  readonly ratePlanId: string;
  readonly findings: readonly {
    kind: string;
    truthChannel: string;
    channel: string;
    difference?: { amountMinor: number };
  }[];
}

async function readParity(stack: LocalStack, propertyId: string, span: { from: string; to: string }) {
  const nights: ParityNightView[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ propertyId, from: span.from, to: span.to, limit: '500' });
    if (cursor) query.set('cursor', cursor);
    const page = await getJson(stack, `/parity?${query}`);
    nights.push(...(page.nights as ParityNightView[]));
    cursor = page.nextCursor as string | null;
  } while (cursor);
  return nights;
}

/** Translates the provider's codes with the configuration's mappings, as the pipeline does. */
function internalIds(config: ParitySyncConfig, night: RoomNight) {
  const mapping = config.mappings.find((candidate) => candidate.scope === '*');
  const ids = {
    propertyId: mapping?.properties[night.propertyId],
    roomTypeId: roomTypeIdOf(mapping?.roomTypes[night.roomTypeCode]),
    ratePlanId: mapping?.ratePlans[night.ratePlanCode],
  };
  if (!ids.propertyId || !ids.roomTypeId || !ids.ratePlanId) {
    throw new Error(`the configuration maps no internal ids for ${nightKey(night)}`);
  }
  return { propertyId: ids.propertyId, roomTypeId: ids.roomTypeId, ratePlanId: ids.ratePlanId };
}

function roomTypeIdOf(target: string | { readonly roomTypeId: string } | undefined): string | undefined {
  return typeof target === 'object' ? target.roomTypeId : target;
}

function channelManagerChannel(config: ParitySyncConfig): string {
  const source = config.sources.find((candidate) => candidate.id === CHANNEL_MANAGER);
  return source?.polling?.channel ?? CHANNEL_MANAGER;
}

function localKey(night: Pick<NightView, 'propertyId' | 'roomTypeId' | 'ratePlanId' | 'date'>): string {
  return `${night.propertyId}|${night.roomTypeId}|${night.ratePlanId}|${night.date}`;
}

function withoutVersion(group: Record<string, unknown> | undefined) {
  if (group === undefined) return undefined;
  const { version: _version, eventId: _eventId, ...value } = group;
  return value;
}

/** The provider's night as local state holds it: mapped ids, minor units, inventory policy applied. */
function expectedLocal(config: ParitySyncConfig, night: RoomNight) {
  const ids = internalIds(config, night);
  const amountMinor = toMinorUnits(night.baseRate, night.currency);
  if (typeof amountMinor === 'string') throw new Error(amountMinor);
  return {
    key: localKey({ ...ids, date: night.date }),
    rate: { amountMinor, currency: night.currency, amount: night.baseRate },
    availability: constrainAvailability(
      night.availability,
      config.properties.find((property) => property.propertyId === ids.propertyId),
      ids.roomTypeId,
      channelManagerChannel(config),
      CHANNEL_MANAGER,
    ),
    restrictions: night.restrictions,
  };
}

/** The channel manager's nights held locally, by key, across the demo's properties. */
async function channelManagerState(environment: Environment): Promise<Map<string, NightView>> {
  const nights = environment.demo.dataset.nights();
  const span = dateSpan(nights);
  const properties = [...new Set(nights.map((night) => internalIds(environment.config, night).propertyId))];
  const channel = channelManagerChannel(environment.config);
  const state = new Map<string, NightView>();
  for (const propertyId of properties) {
    for (const night of await readAri(environment.stack, propertyId, span)) {
      if (night.channel === channel) state.set(localKey(night), night);
    }
  }
  return state;
}

/** Every fifth of the first PARITY_NIGHTS dates of the first property / room type / rate plan: the dearer ones. */
function dearerOtaNights(nights: readonly RoomNight[]): RoomNight[] {
  const [first] = nights;
  if (!first) return [];
  return nights
    .filter(
      (night) =>
        night.propertyId === first.propertyId &&
        night.roomTypeCode === first.roomTypeCode &&
        night.ratePlanCode === first.ratePlanCode,
    )
    .sort((a, b) => (a.date < b.date ? -1 : 1))
    .slice(0, PARITY_NIGHTS)
    .filter((_, index) => index % 5 === 0);
}

function reconciled(result: SourceResult | undefined) {
  if (result?.outcome !== 'reconciled') {
    throw new Error(`the channel manager was not reconciled: ${JSON.stringify(result)}`);
  }
  return result;
}

async function postControl(stack: LocalStack, body: unknown): Promise<Response> {
  return fetch(`${stack.url}${RECONCILE_NOW_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function streamLines(response: Response): Promise<ReconcileStreamLine[]> {
  const text = await response.text();
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ReconcileStreamLine);
}

// ---------------------------------------------------------------------------------------------------------
// "Reconcile now" with the timer off

describe('reconcile now over the local stack', () => {
  let environment: Environment | undefined;
  let firstRun: ReconcileReport;

  const env = (): Environment => {
    if (!environment) throw new Error('the environment did not start');
    return environment;
  };

  beforeAll(async () => {
    // A higher drop rate than the demo's default, so that the small inventory still loses some webhooks.
    environment = await startEnvironment({ reconcileIntervalMs: 0, dropRate: 0.05 });
    const { seeded, demo } = environment;
    const [delivery] = seeded.deliveries;
    expect(delivery?.sourceId).toBe(CHANNEL_MANAGER);
    expect(delivery?.failed).toBe(0);
    expect(delivery?.droppedKeys.length).toBeGreaterThan(0);
    const dropped = new Set(delivery?.droppedKeys);
    const delivered = demo.dataset.nights().filter((night) => !dropped.has(nightKey(night)));

    // The apply pipeline has drained once every delivered night is readable with the value sent.
    await eventually('the delivered webhooks to be applied', async () => {
      const state = await channelManagerState(env());
      const applied = delivered.filter((night) => {
        const expected = expectedLocal(env().config, night);
        return state.get(expected.key)?.rate?.amountMinor === expected.rate.amountMinor;
      });
      return applied.length === delivered.length ? true : undefined;
    });
    const otaLine = dearerOtaNights(demo.dataset.nights());
    const otaProperty = otaLine[0] ? internalIds(env().config, otaLine[0]).propertyId : '';
    await eventually('the OTA rates to be applied', async () => {
      const ota = (await readAri(env().stack, otaProperty, dateSpan(demo.dataset.nights()))).filter(
        (night) => night.channel === OTA,
      );
      return ota.length === seeded.parity?.sent ? true : undefined;
    });

    firstRun = await reconcileNow(env().stack.url, {}, { progress: false });
  });

  afterAll(async () => {
    await stopEnvironment(environment);
  });

  it('measures exactly the lost webhooks as drift and corrects local state to the provider', async () => {
    const { demo, seeded, config } = env();
    const droppedNights = seeded.deliveries[0]?.droppedKeys.length ?? 0;
    const source = reconciled(firstRun.sources.find((result) => result.sourceId === CHANNEL_MANAGER));

    expect(source.nightsPolled).toBe(demo.dataset.size);
    expect(source.drift.overall.compared).toBe(demo.dataset.size * FIELD_GROUPS.length);
    expect(source.drift.overall.mismatched).toBe(droppedNights * FIELD_GROUPS.length);
    expect(source.drift.overall.driftPercent).toBeCloseTo(
      ((droppedNights * FIELD_GROUPS.length) / (demo.dataset.size * FIELD_GROUPS.length)) * 100,
      10,
    );
    expect(source.correctedGroups).toBe(droppedNights * FIELD_GROUPS.length);
    expect(source.skippedCorrections).toBe(0);

    const state = await channelManagerState(env());
    expect(state.size).toBe(demo.dataset.size);
    for (const night of demo.dataset.nights()) {
      const expected = expectedLocal(config, night);
      const local = state.get(expected.key);
      expect({
        key: expected.key,
        rate: withoutVersion(local?.rate),
        availability: withoutVersion(local?.availability),
        restrictions: withoutVersion(local?.restrictions),
      }).toEqual(expected);
    }
    // The lost nights now carry the run's correction, not an event.
    const droppedKeys = new Set(seeded.deliveries[0]?.droppedKeys);
    for (const night of demo.dataset.nights().filter((candidate) => droppedKeys.has(nightKey(candidate)))) {
      expect(state.get(expectedLocal(config, night).key)?.rate?.eventId).toBe(`reconcile:${source.runId}`);
    }

    const second = reconciled(
      (await reconcileNow(env().stack.url, {}, { progress: false })).sources.find(
        (result) => result.sourceId === CHANNEL_MANAGER,
      ),
    );
    expect(second.nightsPolled).toBeGreaterThan(0);
    expect(second.drift.overall.mismatched).toBe(0);
    expect(second.drift.overall.driftPercent).toBe(0);
    expect(second.correctedGroups).toBe(0);
  });

  it('lists exactly the nights the OTA sells dearer as parity violations, and none for the other hotel', async () => {
    const { demo, config } = env();
    const nights = demo.dataset.nights();
    const dearer = dearerOtaNights(nights);
    expect(dearer.length).toBeGreaterThan(1);
    const hotel = internalIds(config, dearer[0] as RoomNight);
    const span = dateSpan(nights);

    const findings = await readParity(env().stack, hotel.propertyId, span);
    expect(findings.map((night) => night.date)).toEqual(dearer.map((night) => night.date));
    for (const night of findings) {
      expect(night).toMatchObject({ roomTypeId: hotel.roomTypeId, ratePlanId: hotel.ratePlanId });
      expect(night.findings).toEqual([
        expect.objectContaining({
          kind: 'price',
          truthChannel: channelManagerChannel(config),
          channel: OTA,
          difference: expect.objectContaining({ amountMinor: PARITY_OFFSET_MINOR }),
        }),
      ]);
    }
    const hotelReport = firstRun.parity.find((result) => result.propertyId === hotel.propertyId);
    expect(hotelReport?.counts.violations).toBe(dearer.length);

    const otherProperties = config.parity.properties
      .map((property) => property.propertyId)
      .filter((propertyId) => propertyId !== hotel.propertyId);
    expect(otherProperties.length).toBeGreaterThan(0);
    for (const propertyId of otherProperties) {
      expect(await readParity(env().stack, propertyId, span)).toEqual([]);
      expect(firstRun.parity.find((result) => result.propertyId === propertyId)?.counts.violations).toBe(0);
    }
  });

  it('streams plan, pages, source, parity and the report in order, and refuses a second run meanwhile', async () => {
    const { stack, demo, config } = env();
    // Slow pages keep the first run going while the second request arrives.
    demo.simulator.setFaults({ slowMs: 400, slowRate: 1 });
    try {
      const first = await postControl(stack, {});
      // The stream's headers go out with the plan, which the run sends once it holds the lock.
      expect(first.status).toBe(200);
      expect(first.headers.get('content-type')).toBe('application/x-ndjson');

      const second = await postControl(stack, {});
      expect(second.status).toBe(409);
      expect(await second.json()).toMatchObject({ error: 'run_in_progress' });

      const lines = await streamLines(first);
      const types = lines.map((line) => line.type);
      const parityProperties = config.parity.properties.map((property) => property.propertyId);
      expect(types[0]).toBe('plan');
      expect(lines[0]).toEqual({ type: 'plan', sources: [CHANNEL_MANAGER], parityProperties });
      const pages = types.filter((type) => type === 'page').length;
      expect(pages).toBeGreaterThan(0);
      expect(types).toEqual([
        'plan',
        ...Array.from({ length: pages }, () => 'page'),
        'source',
        ...parityProperties.map(() => 'parity'),
        'report',
      ]);
      const last = lines[lines.length - 1];
      if (last?.type !== 'report') throw new Error('the stream did not end with the report');
      const pageNights = lines.flatMap((line) => (line.type === 'page' ? [line.progress.nights] : []));
      expect(reconciled(last.report.sources[0]).nightsPolled).toBe(pageNights[pageNights.length - 1]);
    } finally {
      demo.simulator.setFaults(undefined);
    }
    // The lock is released with the run.
    const after = await reconcileNow(stack.url, { parity: false }, { progress: false });
    expect(after.parity).toEqual([]);
  });

  it('answers a source that is not polled with unknown_polled_source and a malformed request with invalid_invocation', async () => {
    const { stack } = env();
    const unknown = await postControl(stack, { sourceIds: ['nope'] });
    expect(unknown.status).toBe(400);
    const unknownBody = (await unknown.json()) as { error: string; message: string };
    expect(unknownBody.error).toBe('unknown_polled_source');
    expect(unknownBody.message).toContain('"nope"');

    const notPolled = await postControl(stack, { sourceIds: [OTA] });
    expect(notPolled.status).toBe(400);
    expect(await notPolled.json()).toMatchObject({ error: 'unknown_polled_source' });

    const bogus = await postControl(stack, { bogus: 1 });
    expect(bogus.status).toBe(400);
    expect(await bogus.json()).toMatchObject({ error: 'invalid_invocation' });

    await expect(reconcileNow(stack.url, { sourceIds: ['nope'] }, { progress: false })).rejects.toThrow(
      /^400 unknown_polled_source: /,
    );
  });

  it('ends an item whose worker was stopped on every receive once its message reaches the work DLQ, so the next run is not held back', async () => {
    const { stack } = env();
    const clients = localClients();
    const runs = new DynamoDbReconcileRunStore(
      clients.dynamodb,
      stack.topology.tables[RECONCILE_RUN_LOG.id] ?? '',
      { retentionDays: 1 },
    );
    const startedAt = new Date().toISOString();
    const message: WorkMessage = {
      kind: 'drift',
      runId: `stopped-${randomBytes(4).toString('hex')}`,
      itemId: `drift/${CHANNEL_MANAGER}`,
      sourceId: CHANNEL_MANAGER,
      startedAt,
      dryRun: true,
    };
    await runs.create({
      runId: message.runId,
      startedAt,
      trigger: 'manual',
      dryRun: true,
      thresholdPercent: 1,
      items: [message],
    });
    // Its worker claimed it and was stopped; the lease ran out long before SQS moved the message to the DLQ.
    await runs.claim(message, 'stopped', startedAt, startedAt);
    const refused = await postControl(stack, {});
    expect(refused.status).toBe(409);
    await refused.body?.cancel();

    await clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.topology.queues[RECONCILE_WORK_DLQ.id]?.url ?? '',
        MessageBody: JSON.stringify(message),
      }),
    );
    const run = await eventually('the work DLQ consumer to end the item', async () => {
      const current = await runs.get(message.runId);
      return current?.status === 'complete' ? current : undefined;
    });
    expect(run.items).toEqual([expect.objectContaining({ status: 'failed', error: DEAD_LETTERED })]);
    await expect(reconcileNow(stack.url, { parity: false }, { progress: false })).resolves.toMatchObject({
      sources: expect.any(Array),
    });
    clients.dynamodb.destroy();
    clients.sqs.destroy();
  });
});

// ---------------------------------------------------------------------------------------------------------
// The timer

describe('the local schedule', () => {
  let environment: Environment | undefined;

  beforeAll(async () => {
    // The functions read their environment when their module loads: a fresh stack needs fresh modules.
    vi.resetModules();
    // Every channel-manager webhook is lost: only reconciliation can bring the provider's nights in.
    environment = await startEnvironment({ reconcileIntervalMs: 500, dropRate: 1 });
  });

  afterAll(async () => {
    await stopEnvironment(environment);
  });

  it('reconciles by itself: checkpoint, the provider state and the parity findings appear', async () => {
    if (!environment) throw new Error('the environment did not start');
    const { stack, demo, seeded, config } = environment;
    expect(seeded.deliveries[0]?.dropped).toBe(demo.dataset.size);

    const nights = demo.dataset.nights();
    const latestUpdatedAt = new Date(demo.dataset.latestUpdatedAtMs).toISOString();
    const { dynamodb } = localClients();
    const checkpoint = await eventually('a checkpoint of the scheduled run', async () => {
      const { Item } = await dynamodb.send(
        new GetItemCommand({
          TableName: stack.topology.tables[RECONCILE_CHECKPOINTS.id],
          Key: { pk: { S: CHANNEL_MANAGER } },
          ConsistentRead: true,
        }),
      );
      return Item;
    });
    expect(checkpoint.watermark?.S).toBe(latestUpdatedAt);

    const env = environment;
    // Written by reconciliation, the only way in: no webhook of the channel manager was delivered.
    await eventually('every provider night in local state', async () => {
      const state = await channelManagerState(env);
      const matching = nights.filter((night) => {
        const expected = expectedLocal(config, night);
        const rate = state.get(expected.key)?.rate;
        return rate?.amountMinor === expected.rate.amountMinor && rate.eventId.startsWith('reconcile:');
      });
      return matching.length === nights.length ? true : undefined;
    });

    const dearer = dearerOtaNights(nights);
    const hotel = internalIds(config, dearer[0] as RoomNight);
    await eventually('the parity findings of a scheduled run', async () => {
      const findings = await readParity(stack, hotel.propertyId, dateSpan(nights));
      const dates = findings.map((night) => night.date).join();
      return dates === dearer.map((night) => night.date).join() ? true : undefined;
    });
  });
});
