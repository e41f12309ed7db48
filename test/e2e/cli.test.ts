import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load';
import type { ParitySyncConfig } from '../../lambdas/config/schema';
import { createSecretResolver } from '../../lambdas/config/secrets';
import { addDays } from '../../lambdas/domain/dates';
import type { ReconcileReport } from '../../lambdas/reconcile/service';
import { type Demo, startDemo } from '../../local/demo';
import { senderFor } from '../../local/senders';
import { type LocalStack, startLocalStack } from '../../local/start';
import { emulatorEndpoints } from '../support/aws';
import { type CliRun, runCli } from '../support/cli';
import { eventually } from '../support/eventually';

/**
 * The operations CLI end to end against the local runtime: each command runs in its own process, as an operator
 * runs it, against the real stack on the shared emulators, with the provider simulator and the demo's webhooks
 * giving reconciliation and parity something to find. What the CLI prints is checked against the read API.
 */

const CHANNEL_MANAGER = 'channel-manager-demo';
const OTA = 'ota-demo';
/** Two stay dates of the demo inventory (2 hotels × 3 room types × 2 rate plans). */
const DEMO_NIGHTS = 24;

// One JSON log line per request would bury the test output; warnings and errors still show.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

let stack: LocalStack;
let demo: Demo | undefined;
let config: ParitySyncConfig;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const address = server.address();
  await new Promise<void>((closed) => server.close(() => closed()));
  if (address === null || typeof address === 'string') throw new Error('no port assigned');
  return address.port;
}

/** The CLI against this stack, from a home of its own. */
function cli(...args: string[]): Promise<CliRun> {
  return runCli(['--url', stack.url, ...args], { env: { HOME: process.env.HOME ?? '' } });
}

async function getJson(path: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${stack.url}${path}`);
  return (await response.json()) as Record<string, unknown>;
}

beforeAll(async () => {
  const simulatorPort = await freePort();
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
  const seeded = await demo?.seeded;
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

// Each command starts the CLI in a fresh process (a few seconds each on a busy machine).
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

  it("prints the API's error for an unknown event", async () => {
    const run = await cli('deliveries', 'show', 'evt_nope');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^404 delivery_not_found: No delivery ledger entry for "evt_nope"/);
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
    expect(lines[0]).toMatch(/^PARKED\s+EVENT\s+SOURCE\s+TYPE\s+WAITING FOR\s+REASON$/);
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

  it("prints the runtime's refusal of a source that is not polled", async () => {
    const run = await cli('reconcile', '--source', 'nope');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^400 unknown_polled_source: /);
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
  const response = await fetch(`${stack.url}/webhooks/${CHANNEL_MANAGER}`, {
    method: 'POST',
    headers: sender.sign(body, { secret: secret.value, at: now }),
    body,
  });
  const json = (await response.json()) as Record<string, unknown>;
  expect(response.status, JSON.stringify(json)).toBe(200);
  return String(json.eventId);
}
