import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load';
import type { ParitySyncConfig } from '../../lambdas/config/schema';
import { createSecretResolver } from '../../lambdas/config/secrets';
import { addDays } from '../../lambdas/domain/dates';
import { LEDGER_STATUSES } from '../../lambdas/ledger/ports';
import type { ReconcileReport } from '../../lambdas/reconcile/service';
import { RECONCILE_DLQ } from '../../lambdas/shared/topology';
import { type Demo, type DemoReport, startDemo } from '../../local/demo';
import { freeLoopbackPort } from '../../local/emulators';
import { senderFor } from '../../local/senders';
import { type LocalStack, startLocalStack } from '../../local/start';
import { emulatorEndpoints } from '../support/aws';
import { type CliRun, runCli, runCliProcess } from '../support/cli';
import { eventually } from '../support/eventually';
import { failingRecords } from '../support/failing-consumer';

/**
 * The operations CLI end to end against the local runtime: each command runs as the binary runs it (in this
 * process; one case starts the binary itself), against the real stack on its test worker's emulators, with the
 * provider simulator and the demo's webhooks giving reconciliation and parity something to find. What the CLI
 * prints is checked against the read API.
 */

const CHANNEL_MANAGER = 'channel-manager-demo';
const OTA = 'ota-demo';
/** Held and resumed; nothing else sends through it. */
const PMS = 'pms-demo';
/** The rate plan of the one event the consumer fails until it is dead-lettered, and then no longer. */
const DEAD_LETTER_PLAN = 'DLQ-CLI';
/** Two stay dates of the demo inventory (2 hotels × 3 room types × 2 rate plans). */
const DEMO_NIGHTS = 24;

// One JSON log line per request would bury the test output; warnings and errors still show.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

let stack: LocalStack;
let demo: Demo | undefined;
let seeded: DemoReport | undefined;
let config: ParitySyncConfig;
let deadLetterEventId: string;
let failDeadLetterEvent = true;

/** The CLI against this stack, from a home of its own. */
function cli(...args: string[]): Promise<CliRun> {
  return runCli(['--url', stack.url, ...args], { env: { HOME: process.env.HOME ?? '' } });
}

/** The same, the binary in a process of its own, as an operator starts it. */
function binary(...args: string[]): Promise<CliRun> {
  return runCliProcess(['--url', stack.url, ...args], { env: { HOME: process.env.HOME ?? '' } });
}

async function getJson(path: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${stack.url}${path}`);
  return (await response.json()) as Record<string, unknown>;
}

beforeAll(async () => {
  const simulatorPort = await freeLoopbackPort();
  const example = JSON.parse(readFileSync('config/local.example.json', 'utf8')) as {
    sources: { polling?: Record<string, unknown> }[];
  };
  config = parseConfig({
    ...example,
    sources: example.sources.map((source) =>
      source.polling
        ? { ...source, polling: { ...source.polling, baseUrl: `http://127.0.0.1:${simulatorPort}` } }
        : source,
    ),
  });
  stack = await startLocalStack({
    config,
    emulators: emulatorEndpoints(),
    prefix: `e2ecli${randomBytes(4).toString('hex')}`,
    reconcileIntervalMs: 0,
    log: () => undefined,
    // A failed receive comes back after a second: five of them, and the event is dead-lettered in seconds.
    pollVisibilitySeconds: 1,
    // The event of DEAD_LETTER_PLAN fails without being applied, so that its receives run out, until redriven.
    wrapConsumer: (consumer) =>
      failingRecords(consumer, (body) => failDeadLetterEvent && body.includes(`"${DEAD_LETTER_PLAN}"`)),
  });
  // Sent first, so that its receives run out while the demo seeds.
  deadLetterEventId = await postRateUpdate({
    property_id: 'HOTEL001',
    room_type_external_id: 'DBL',
    rate_plan_code: DEAD_LETTER_PLAN,
    channel_id: 'CH-BOOKING',
    date_range: [
      addDays(new Date().toISOString().slice(0, 10), 300),
      addDays(new Date().toISOString().slice(0, 10), 300),
    ],
    currency: 'EUR',
    base_rate: 120,
    inventory_count: 1,
    restrictions: { min_length_of_stay: 1, closed_to_arrival: false, closed_to_departure: false },
  });
  demo = await startDemo({
    config,
    edgeUrl: stack.url,
    port: simulatorPort,
    secrets: createSecretResolver({}),
    now: new Date(),
    nights: DEMO_NIGHTS,
    dropRate: 0.1,
  });
  seeded = await demo?.seeded;
  // Parity compares the OTA's rates with the channel manager's: wait until the OTA's are stored.
  const from = new Date().toISOString().slice(0, 10);
  await eventually('the OTA rates to be applied', async () => {
    const ari = await getJson(`/properties/demo-hotel/ari?from=${from}&to=${addDays(from, 30)}&limit=500`);
    const ota = (ari.items as { channel: string }[]).filter((night) => night.channel === OTA);
    return ota.length === seeded?.parity?.sent ? true : undefined;
  });
}, 90_000);

afterAll(async () => {
  await demo?.stop();
  await stack?.stop();
});

describe('paritysync against the local runtime', { timeout: 90_000 }, () => {
  it('sends a signed sample and shows its delivery once applied', async () => {
    const sent = await cli('send', CHANNEL_MANAGER);
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);
    const eventId = /"eventId":"([^"]+)"/.exec(sent.stdout)?.[1];
    expect(sent.stdout).toMatch(
      new RegExp(`^POST ${stack.url}/webhooks/${CHANNEL_MANAGER} \\(channel-manager \\S+\\) → 200 `),
    );
    if (eventId === undefined) throw new Error(`no event id in ${sent.stdout}`);
    await eventually('the sample to be applied', async () =>
      (await getJson(`/deliveries/${eventId}`)).status === 'applied' ? true : undefined,
    );

    const json = await cli('deliveries', 'show', eventId, '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(await getJson(`/deliveries/${eventId}`));

    const text = await cli('deliveries', 'show', eventId);
    expect(text.stdout.split('\n').slice(0, 2)).toEqual([
      `eventId            ${eventId}`,
      'status             applied',
    ]);
  });

  it("the binary prints the API's error for an unknown event and exits 1, and an answer and exits 0", async () => {
    const run = await binary('deliveries', 'show', 'evt_nope');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^404 delivery_not_found: No delivery ledger entry for "evt_nope"/);

    const listed = await binary('sources', 'list', '--json');
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual(await getJson('/sources'));
  });

  it('lists a parked event for review, and releases it with mappings put', async () => {
    const night = addDays(new Date().toISOString().slice(0, 10), 200);
    const eventId = await postRateUpdate({
      property_id: 'HOTEL001',
      room_type_external_id: 'STE-NEW',
      rate_plan_code: 'BAR',
      channel_id: 'CH-BOOKING',
      date_range: [night, night],
      currency: 'EUR',
      base_rate: 310,
      inventory_count: 2,
      restrictions: { min_length_of_stay: 1, closed_to_arrival: false, closed_to_departure: false },
    });
    await eventually('the event to be parked', async () =>
      (await getJson(`/deliveries/${eventId}`)).status === 'parked' ? true : undefined,
    );

    const review = await cli('review', 'list', '--limit', '500');
    expect(review.code).toBe(0);
    const lines = review.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^PARKED AT\s+EVENT ID\s+SOURCE ID\s+TYPE\s+WAITING FOR\s+REASON$/);
    const row = lines.find((line) => line.includes(eventId));
    expect(row?.split(/\s{2,}/).slice(1, 5)).toEqual([
      eventId,
      CHANNEL_MANAGER,
      'ari.update',
      'roomType|STE-NEW',
    ]);

    const reviewJson = await cli('review', 'list', '--all', '--limit', '1', '--json');
    const items = (JSON.parse(reviewJson.stdout) as { items: { eventId: string }[]; nextCursor: null }).items;
    expect(items.map((item) => item.eventId)).toContain(eventId);

    const put = await cli('mappings', 'put', '*', 'roomType', 'STE-NEW', 'suite');
    expect(put.stderr).toBe('');
    expect(put.stdout.trim()).toBe(
      'Mapped roomType "STE-NEW" (scope *) to "suite"; 1 parked event(s) queued again.',
    );
    await eventually('the released event to be applied', async () =>
      (await getJson(`/deliveries/${eventId}`)).status === 'applied' ? true : undefined,
    );
  });

  it('reconciles now with progress lines, then lists the parity findings the run left', async () => {
    const run = await cli('reconcile', '--json');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as ReconcileReport;
    expect(report.sources.find((source) => source.sourceId === CHANNEL_MANAGER)?.outcome).toBe('reconciled');
    const parity = report.parity.find((property) => property.propertyId === 'demo-hotel');
    expect(parity?.counts.violations).toBeGreaterThan(0);
    // --json leaves stderr to errors alone.
    expect(run.stderr).toBe('');

    const from = new Date().toISOString().slice(0, 10);
    const to = addDays(from, 30);
    const listed = await cli(
      'parity',
      'list',
      '--property',
      'demo-hotel',
      '--from',
      from,
      '--to',
      to,
      '--json',
    );
    expect(listed.code).toBe(0);
    const direct = await getJson(`/parity?propertyId=demo-hotel&from=${from}&to=${to}`);
    expect(JSON.parse(listed.stdout)).toEqual({ items: direct.nights, nextCursor: null });

    const table = await cli('parity', 'list', '--property', 'demo-hotel', '--from', from, '--to', to);
    const rows = table.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^DATE\s+ROOM TYPE\s+RATE PLAN\s+FINDING\s+CHANNEL\s+RATE\s+TRUTH\s+DIFFERENCE$/);
    const findings = (direct.nights as { findings: unknown[] }[]).flatMap((night) => night.findings);
    expect(rows).toHaveLength(1 + findings.length);
    expect(findings.length).toBeGreaterThanOrEqual(parity?.counts.violations ?? 1);
  });

  it('prints a summary and a progress line per step when stderr is not a terminal', async () => {
    const run = await cli('reconcile', '--source', CHANNEL_MANAGER, '--no-parity', '--dry-run');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Reconciliation \(dry run\) from /);
    expect(run.stdout).toContain(`  ${CHANNEL_MANAGER}: complete`);
    const progress = run.stderr.trim().split('\n');
    expect(progress[0]).toBe(`reconcile: 0/1 ${CHANNEL_MANAGER} (starting)`);
    expect(progress.at(-1)).toBe(`reconcile: 1/1 ${CHANNEL_MANAGER} (complete)`);
  });

  it('lists the runs the reconciliations left, newest first, and shows one with its work items', async () => {
    const listed = await cli('reconcile', 'runs', '--source', CHANNEL_MANAGER, '--json');
    expect(listed.code).toBe(0);
    const page = JSON.parse(listed.stdout) as {
      items: { runId: string; status: string; sources: unknown[] }[];
    };
    // The two runs of the tests above, the later first, each with the channel manager's figures alone.
    expect(page.items.length).toBeGreaterThanOrEqual(2);
    expect(page.items.every((run) => run.status === 'complete' && run.sources.length === 1)).toBe(true);
    const direct = await getJson(`/reconciliation/runs?source=${CHANNEL_MANAGER}`);
    expect(page).toEqual({ items: direct.items, nextCursor: null });

    const [latest] = page.items;
    const shown = await cli('reconcile', 'runs', latest?.runId ?? '');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`^Reconciliation run ${latest?.runId} \\(dry run\\) complete: `));
    expect(shown.stdout).toContain(`  ${CHANNEL_MANAGER}: items 1/1; `);

    const table = await cli('reconcile', 'runs');
    expect(rowsOf(table.stdout)[0]).toEqual(['RUN', 'STARTED', 'STATUS', 'ITEMS']);
    const bySource = await cli('reconcile', 'runs', '--source', CHANNEL_MANAGER);
    expect(rowsOf(bySource.stdout)[0]).toEqual([
      'RUN',
      'STARTED',
      'STATUS',
      'ITEMS',
      'SOURCE',
      'NIGHTS',
      'DRIFT %',
      'SILENT MISSES',
      'CORRECTED',
    ]);
  });

  it("prints the runtime's refusal of a source that is not polled", async () => {
    const run = await cli('reconcile', '--source', 'nope');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^400 unknown_polled_source: /);
  });
});

/** Rows of a table the CLI printed, split on its column gaps; the header row first. */
function rowsOf(stdout: string): string[][] {
  return stdout
    .trim()
    .split('\n')
    .map((line) => line.split(/\s{2,}/));
}

// Listings that change nothing another test reads: their commands run side by side.
describe.concurrent('paritysync listings against the local runtime', { timeout: 90_000 }, () => {
  it("deliveries list: one page of a source's applied deliveries, newest first, and how to get the next", async () => {
    const [json, table] = await Promise.all([
      cli('deliveries', 'list', '--source', CHANNEL_MANAGER, '--status', 'applied', '--limit', '2', '--json'),
      cli('deliveries', 'list', '--source', CHANNEL_MANAGER, '--status', 'applied', '--limit', '2'),
    ]);
    expect(json.code).toBe(0);
    const page = JSON.parse(json.stdout) as { items: Record<string, unknown>[]; nextCursor: string | null };
    expect(page.items).toHaveLength(2);
    for (const item of page.items)
      expect(item).toMatchObject({ sourceId: CHANNEL_MANAGER, status: 'applied' });
    expect(String(page.items[0]?.receivedAt) >= String(page.items[1]?.receivedAt)).toBe(true);
    expect(page.nextCursor).toEqual(expect.any(String));

    const rows = rowsOf(table.stdout);
    expect(rows[0]).toEqual(['RECEIVED AT', 'EVENT ID', 'SOURCE ID', 'TYPE', 'STATUS', 'WHY']);
    expect(rows.slice(1, 3).map((row) => [row[2], row[4]])).toEqual([
      [CHANNEL_MANAGER, 'applied'],
      [CHANNEL_MANAGER, 'applied'],
    ]);
    expect(table.stdout).toMatch(/\nMore: add --all, or --cursor \S+\n$/);
  });

  it('deliveries counts: every status of a source, zero included, and their total', async () => {
    const [json, text] = await Promise.all([
      cli('deliveries', 'counts', '--source', OTA, '--json'),
      cli('deliveries', 'counts', '--source', OTA),
    ]);
    expect(json.code).toBe(0);
    const answer = JSON.parse(json.stdout) as { counts: Record<string, number>; total: number };
    expect(Object.keys(answer.counts)).toEqual([...LEDGER_STATUSES]);
    expect(answer.counts.applied).toBeGreaterThanOrEqual(seeded?.parity?.sent ?? 1);
    expect(answer.total).toBe(Object.values(answer.counts).reduce((sum, count) => sum + count, 0));

    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^Deliveries of ${OTA}, received from \\S+ to \\S+:$`));
    expect(lines.slice(1).map((line) => line.split(/\s+/)[0])).toEqual([
      'STATUS',
      ...LEDGER_STATUSES,
      'total',
    ]);
  });

  it('rejections list: a forged delivery, by its source, as the API lists it', async () => {
    const forged = await fetch(`${stack.url}/webhooks/${OTA}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-ota-signature': randomBytes(32).toString('hex') },
      body: '{"forged":true}',
    });
    expect(forged.status).toBe(401);
    const listed = await eventually('the forged delivery in rejections list', async () => {
      const run = await cli('rejections', 'list', '--source', OTA, '--json');
      const page = JSON.parse(run.stdout) as { items: Record<string, unknown>[]; nextCursor: null };
      return page.items.length > 0 ? page : undefined;
    });
    expect(listed).toEqual({ items: (await getJson(`/rejections?source=${OTA}`)).items, nextCursor: null });
    expect(listed.items[0]).toMatchObject({ sourceId: OTA, status: 401, reason: 'invalid_signature' });

    const rows = rowsOf((await cli('rejections', 'list', '--source', OTA)).stdout);
    expect(rows[0]).toEqual(['AT', 'SOURCE ID', 'STATUS', 'REASON', 'SENDER ADDRESS', 'BODY BYTES']);
    expect(rows[1]?.slice(1, 4)).toEqual([OTA, '401', 'invalid_signature']);
  });

  it('sources list: every configured source in configuration order, none held', async () => {
    const [json, table] = await Promise.all([cli('sources', 'list', '--json'), cli('sources', 'list')]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(await getJson('/sources'));
    const rows = rowsOf(table.stdout);
    expect(rows[0]).toEqual(['SOURCE ID', 'KIND', 'HELD', 'HELD AT', 'HELD BY', 'REASON']);
    expect(rows.slice(1).map((row) => row.slice(0, 4))).toEqual(
      config.sources.map((source) => [source.id, source.kind, 'no', '-']),
    );
  });

  it('mappings list: the mappings of a scope and entity, following nextCursor page by page', async () => {
    const externalIds = ['RP-C', 'RP-A', 'RP-B'].map((id) => `${id}-${randomUUID().slice(0, 8)}`);
    await Promise.all(
      externalIds.map(async (externalId) => {
        const put = await fetch(`${stack.url}/mappings/${OTA}/ratePlan/${externalId}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ internalId: externalId.toLowerCase() }),
        });
        expect(put.status).toBe(200);
      }),
    );
    const [json, table] = await Promise.all([
      cli('mappings', 'list', '--scope', OTA, '--entity', 'ratePlan', '--limit', '1', '--all', '--json'),
      cli('mappings', 'list', '--scope', OTA),
    ]);
    expect(json.code).toBe(0);
    const expected = [...externalIds].sort().map((externalId) => ({
      scope: OTA,
      entity: 'ratePlan',
      externalId,
      internalId: externalId.toLowerCase(),
    }));
    expect(JSON.parse(json.stdout)).toEqual({ items: expected, nextCursor: null });
    expect(await getJson(`/mappings?scope=${OTA}&entity=ratePlan`)).toEqual({
      items: expected,
      nextCursor: null,
    });

    expect(rowsOf(table.stdout)).toEqual([
      ['SCOPE', 'ENTITY', 'EXTERNAL ID', 'INTERNAL ID', 'PROPERTY ID'],
      ...expected.map((mapping) => [OTA, 'ratePlan', mapping.externalId, mapping.internalId, '-']),
    ]);
  });
});

describe('paritysync operator actions against the local runtime', { timeout: 90_000 }, () => {
  it("dlq list: the dead-lettered event, its receives and the queue's count", async () => {
    const json = await eventually('the event to be dead-lettered', async () => {
      const run = await cli('dlq', 'list', '--json');
      const listing = JSON.parse(run.stdout) as { approximateCount: number; items: { eventId: string }[] };
      // The count is read while the listing's receive waits: a listing during which the event arrived lists it
      // without counting it. The next one does both.
      return listing.approximateCount > 0 && listing.items.some((item) => item.eventId === deadLetterEventId)
        ? listing
        : undefined;
    });
    expect(json).toMatchObject({ queue: 'events', approximateCount: 1 });
    expect(json.items).toEqual([
      {
        eventId: deadLetterEventId,
        messageId: expect.any(String),
        receiveCount: expect.any(Number),
        sentAt: expect.any(String),
        lastError: null,
      },
    ]);

    // One listing at a time: SQS has no peek, so a listing hides what it reads from another for a moment.
    const rows = rowsOf((await cli('dlq', 'list')).stdout);
    expect(rows[0]).toEqual(['SENT AT', 'EVENT ID', 'MESSAGE ID', 'RECEIVE COUNT', 'LAST ERROR']);
    expect(rows.slice(1).map((row) => row[1])).toEqual([deadLetterEventId]);
  });

  it('dlq redrive: moves the event back, and it is applied this time', async () => {
    failDeadLetterEvent = false;
    const run = await cli('dlq', 'redrive', '--event', deadLetterEventId, 'evt_not_dead');
    expect(run.stdout.trim()).toBe(
      'Moved 1 of 2 requested message(s) from the events dead-letter queue; not moved (not in it, or out of ' +
        'view): evt_not_dead.',
    );
    expect(run.code).toBe(1);
    // Its rate plan is not mapped: applying it parks it for review.
    await eventually('the redriven event to be applied', async () =>
      (await getJson(`/deliveries/${deadLetterEventId}`)).status === 'parked' ? true : undefined,
    );
    expect((await cli('dlq', 'list')).stdout.trim()).toBe('The events dead-letter queue is empty.');
  });

  it('dlq delete: removes a failed reconciliation run, by message id, and names what it did not find', async () => {
    const queueUrl = stack.topology.queues[RECONCILE_DLQ.id]?.url;
    if (queueUrl === undefined) throw new Error('the reconcile dead-letter queue was not provisioned');
    const sqs = new SQSClient({
      endpoint: stack.endpoints.sqsEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify({ trigger: 'schedule', eventId: randomUUID() }),
      }),
    );
    const listing = await eventually('the failed run to be listed', async () => {
      const run = await cli('dlq', 'list', '--queue', 'reconcile', '--json');
      const parsed = JSON.parse(run.stdout) as { items: { messageId: string }[] };
      return parsed.items.length === 1 ? parsed : undefined;
    });
    const messageId = listing.items[0]?.messageId as string;

    const run = await cli('dlq', 'delete', '--queue', 'reconcile', messageId, 'not-a-message');

    expect(run.stdout.trim()).toBe(
      'Deleted 1 message(s) from the reconcile dead-letter queue; not deleted (not in it, or out of view): ' +
        'not-a-message.',
    );
    expect(run.code).toBe(1);
    expect((await cli('dlq', 'list', '--queue', 'reconcile')).stdout.trim()).toBe(
      'The reconcile dead-letter queue is empty.',
    );
  });

  it("sources hold parks a source's events as held, and sources resume releases them", async () => {
    const hold = await cli('sources', 'hold', PMS, '--reason', 'migrating the PMS');
    expect(hold.code).toBe(0);
    const [sentence, ...record] = hold.stdout.trim().split('\n');
    expect(sentence).toBe(`Holding ${PMS}: its events wait as held until \`sources resume ${PMS}\`.`);
    expect(Object.fromEntries(record.map((line) => line.split(/\s{2,}/)))).toMatchObject({
      sourceId: PMS,
      held: 'true',
      heldAt: expect.any(String),
      reason: 'migrating the PMS',
      created: 'true',
    });

    const sent = await cli('send', PMS);
    const eventId = /"eventId":"([^"]+)"/.exec(sent.stdout)?.[1];
    if (eventId === undefined) throw new Error(`no event id in ${sent.stdout}`);
    await eventually('the event to be held', async () =>
      (await getJson(`/deliveries/${eventId}`)).status === 'held' ? true : undefined,
    );

    const resume = await cli('sources', 'resume', PMS);
    expect(resume.code).toBe(0);
    expect(resume.stdout.trim()).toBe(`Resumed ${PMS}; 1 held event(s) queued again.`);
    await eventually('the released event to be applied', async () =>
      (await getJson(`/deliveries/${eventId}`)).status === 'held' ? undefined : true,
    );
    const again = await cli('sources', 'resume', PMS, '--json');
    expect(JSON.parse(again.stdout)).toEqual({ sourceId: PMS, held: false, resumed: false, released: 0 });
  });
});

describe('paritysync replay against the local runtime', { timeout: 90_000 }, () => {
  it('replay start --follow runs a job to done; replay status and replay cancel show it as it ended', async () => {
    // The window starts now: only the event sent here is in it.
    const from = new Date().toISOString();
    const sent = await cli('send', PMS);
    const eventId = /"eventId":"([^"]+)"/.exec(sent.stdout)?.[1];
    if (eventId === undefined) throw new Error(`no event id in ${sent.stdout}`);
    const settled = await eventually('the event to settle', async () => {
      const { status } = await getJson(`/deliveries/${eventId}`);
      return ['received', 'enqueued'].includes(String(status)) ? undefined : String(status);
    });
    const to = new Date(Date.now() + 1_000).toISOString();

    const started = await cli(
      'replay',
      'start',
      '--source',
      PMS,
      '--from',
      from,
      '--to',
      to,
      '--status',
      settled,
      '--follow',
      '--interval',
      '0.2',
      '--json',
    );
    expect(started.code, started.stderr).toBe(0);
    const job = JSON.parse(started.stdout) as { jobId: string; status: string; counts: unknown };
    expect(job).toMatchObject({
      status: 'done',
      request: { source: PMS, from, to, statuses: [settled] },
      counts: { matched: 1, replayed: 1, notRetained: 0 },
    });

    const status = await cli('replay', 'status', job.jobId);
    expect(status.code).toBe(0);
    expect(
      Object.fromEntries(
        status.stdout
          .trim()
          .split('\n')
          .map((line) => line.split(/\s{2,}/)),
      ),
    ).toMatchObject({
      jobId: job.jobId,
      status: 'done',
      source: PMS,
      counts: 'matched 1, replayed 1, notRetained 0',
    });

    // A finished job is answered as it is: cancel stops only a running one.
    const cancel = await cli('replay', 'cancel', job.jobId, '--json');
    expect(cancel.code).toBe(0);
    expect(JSON.parse(cancel.stdout)).toMatchObject({ jobId: job.jobId, status: 'done' });
    const unknown = await cli('replay', 'cancel', 'no-such-job');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('replay_not_found');
    expect((await getJson(`/deliveries/${eventId}`)).status).toBe(settled);
  });
});

async function postRateUpdate(overrides: Record<string, unknown>): Promise<string> {
  const sender = senderFor('channel-manager');
  const now = new Date();
  const body = Buffer.from(
    JSON.stringify({ ...sender.sample('rate_update', now, randomUUID), ...overrides }),
  );
  const source = config.sources.find((candidate) => candidate.id === CHANNEL_MANAGER);
  const secret = source?.secrets[0];
  if (!secret || !('value' in secret)) throw new Error('demo source has no literal secret');
  // As a provider does: a 409 (the edge still accepting an earlier try, slow on a cold stack) is sent again.
  const { status, json } = await eventually('the edge to accept the update', async () => {
    const response = await fetch(`${stack.url}/webhooks/${CHANNEL_MANAGER}`, {
      method: 'POST',
      headers: sender.sign(body, { secret: secret.value, at: now }),
      body,
    });
    const answer = { status: response.status, json: (await response.json()) as Record<string, unknown> };
    return answer.status === 409 ? undefined : answer;
  });
  expect(status, JSON.stringify(json)).toBe(200);
  return String(json.eventId);
}
