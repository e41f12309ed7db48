import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load';
import type { ParitySyncConfig } from '../../lambdas/config/schema';
import { createSecretResolver } from '../../lambdas/config/secrets';
import { addDays } from '../../lambdas/domain/dates';
import type {
  AuditListing,
  ParityListing,
  ParityPropertiesView,
  ReconcileRunDetailView,
  ReconcileRunListing,
  RejectionListing,
  SourceView,
} from '../../lambdas/read/wire';
import { type Demo, startDemo } from '../../local/demo';
import { freeLoopbackPort } from '../../local/emulators';
import { RECONCILE_NOW_PATH } from '../../local/reconciler';
import { sendSample } from '../../local/send';
import { senderFor } from '../../local/senders';
import { type LocalStack, startLocalStack } from '../../local/start';
import { emulatorEndpoints } from '../support/aws';
import { eventually } from '../support/eventually';
import { failingRecords } from '../support/failing-consumer';

/**
 * The operations console in a real browser (Debian's chromium, headless, driven by playwright-core) against the
 * local runtime with the demo: the provider simulator, the channel manager's webhooks and the OTA's rates,
 * reconciled once so that parity has findings. Each view is opened as an operator opens it, and its actions
 * are checked against the read API. Screenshots of every view land in test-artifacts/console.
 */

const CHANNEL_MANAGER = 'channel-manager-demo';
const PMS = 'pms-demo';
const DEAD_LETTER_PLAN = 'DLQ-CONSOLE';
/** 11 stay dates of 12 room nights each: the parity line has nights 0, 5 and 10 off by more than the tolerance. */
const DEMO_NIGHTS = 132;
const ARTIFACTS = 'test-artifacts/console';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

let stack: LocalStack;
let demo: Demo | undefined;
let config: ParitySyncConfig;
let browser: Browser;
let page: Page;
let deadLetterEventId: string;
let parkedEventId: string;
let parkedRoomType: string;
let failDeadLetterEvent = true;
/** Console errors and uncaught exceptions of the page, since the last check. */
const pageErrors: string[] = [];

async function getJson(path: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${stack.url}${path}`);
  return (await response.json()) as Record<string, unknown>;
}

async function statusOf(eventId: string): Promise<string> {
  return String((await getJson(`/deliveries/${encodeURIComponent(eventId)}`)).status);
}

async function open(view: string): Promise<void> {
  await page.goto(`${stack.url}/console#/${view}`);
  await page.locator('main h2').first().waitFor();
}

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: false });
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
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
    prefix: `e2econsole${randomBytes(4).toString('hex')}`,
    reconcileIntervalMs: 0,
    log: () => undefined,
    pollVisibilitySeconds: 1,
    wrapConsumer: (consumer) =>
      failingRecords(consumer, (body) => failDeadLetterEvent && body.includes(`"${DEAD_LETTER_PLAN}"`)),
  });
  const today = new Date().toISOString().slice(0, 10);
  deadLetterEventId = await postRateUpdate({
    rate_plan_code: DEAD_LETTER_PLAN,
    date_range: [addDays(today, 300), addDays(today, 300)],
  });
  parkedRoomType = `STE-${randomUUID().slice(0, 6)}`;
  parkedEventId = await postRateUpdate({
    room_type_external_id: parkedRoomType,
    rate_plan_code: 'BAR',
    date_range: [addDays(today, 200), addDays(today, 200)],
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
  await eventually(
    'the OTA rates to be applied',
    async () => {
      const ari = await getJson(
        `/properties/demo-hotel/ari?from=${today}&to=${addDays(today, 30)}&limit=500`,
      );
      const ota = (ari.items as { channel: string }[]).filter((night) => night.channel === 'ota-demo');
      return ota.length === seeded?.parity?.sent ? true : undefined;
    },
    60_000,
  );
  await stack.reconciler.runNow({});
  await eventually('the event to be parked', async () =>
    (await statusOf(parkedEventId)) === 'parked' ? true : undefined,
  );

  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
  await stack?.stop();
});

describe('the operations console in a browser', { timeout: 60_000 }, () => {
  it('serves its page and a script under 300 KB from the local runtime', async () => {
    const html = await fetch(`${stack.url}/console`);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    const script = await fetch(`${stack.url}/console/app.js`);
    expect(script.status).toBe(200);
    expect((await script.arrayBuffer()).byteLength).toBeLessThan(300 * 1024);
  });

  it.each([
    ['overview', 'Dead-letter queue depth'],
    ['deliveries', 'evt_'],
    ['rejections', 'Requests the edge refused'],
    ['review', 'Waiting for roomType'],
    ['dead-letters', 'dead-letter queue'],
    ['reconciliation', 'Audit of overwritten and observed values'],
    ['parity/demo-hotel', 'ota-demo'],
    ['sources', PMS],
  ])('renders %s with data and no console error', async (view, text) => {
    pageErrors.length = 0;
    await open(view);
    await page
      .locator('main')
      .getByRole('cell', { name: text })
      .or(page.locator('main').getByText(text))
      .first()
      .waitFor();
    await page.waitForLoadState('networkidle');
    await screenshot(view.split('/')[0] ?? view);
    expect(pageErrors).toEqual([]);
  });

  it('counts the open parity violations as the API does, over every property whose parity is checked', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const apiCount = async () => {
      const { items } = (await getJson('/parity/properties')) as unknown as ParityPropertiesView;
      let count = 0;
      for (const { propertyId } of items) {
        let cursor: string | null = null;
        do {
          const query = new URLSearchParams({
            propertyId,
            from: today,
            to: addDays(today, 29),
            limit: '500',
          });
          if (cursor) query.set('cursor', cursor);
          const listing = (await getJson(`/parity?${query}`)) as unknown as ParityListing;
          count += listing.nights.reduce((sum, night) => sum + night.findings.length, 0);
          cursor = listing.nextCursor;
        } while (cursor);
      }
      return count;
    };
    await open('overview');
    const card = page.getByTestId('open-violations');
    const shown = await eventually('the card to show what the API counts', async () => {
      await page.reload();
      await card.filter({ hasText: /^\d+$/ }).waitFor();
      const [text, expected] = [await card.textContent(), await apiCount()];
      return text === String(expected) ? expected : undefined;
    });
    // The demo seeds violations on three nights of its parity line.
    expect(shown).toBeGreaterThanOrEqual(3);
  });

  it('draws deliveries per outcome for one source, and measures the apply lag over a page of applied deliveries', async () => {
    await open('overview');
    const sample = page.getByTestId('apply-lag-sample');
    await sample
      .filter({ hasText: /over the newest \d+ applied deliveries of all sources in the last hour/ })
      .waitFor();
    const durations = await Promise.all(
      ['apply-lag-p50', 'apply-lag-p95'].map(async (id) => (await page.getByTestId(id).textContent()) ?? ''),
    );
    const ms = durations.map((text) => {
      const match = /^(\d+(?:\.\d)?) (ms|s|min)$/.exec(text);
      if (!match) throw new Error(`"${text}" is not a duration`);
      return Number(match[1]) * { ms: 1, s: 1_000, min: 60_000 }[match[2] as 'ms' | 's' | 'min'];
    });
    expect(ms[0]).toBeLessThanOrEqual(ms[1] as number);

    const windowTotal = page.waitForResponse((response) => {
      const url = new URL(response.url());
      const span =
        Date.parse(url.searchParams.get('to') ?? '') - Date.parse(url.searchParams.get('from') ?? '');
      return (
        url.pathname === '/deliveries/counts' &&
        url.searchParams.get('source') === CHANNEL_MANAGER &&
        span === 3_600_000
      );
    });
    await page.getByRole('combobox', { name: 'Source' }).selectOption(CHANNEL_MANAGER);
    const { total } = (await (await windowTotal).json()) as { total: number };
    expect(total).toBeGreaterThan(0);
    await page
      .getByRole('img', { name: `Deliveries of ${CHANNEL_MANAGER} per outcome (by time received)` })
      .waitFor();
    await page
      .getByTestId('deliveries-total')
      .filter({ hasText: new RegExp(`^${total}$`) })
      .waitFor();
    await screenshot('overview');
  });

  it('links no CloudWatch dashboard locally, where there is none', async () => {
    expect(await getJson('/console/context.json')).toEqual({});
    await open('overview');
    await page.getByText('infrastructure metrics').waitFor();
    expect(await page.getByRole('link', { name: /CloudWatch dashboard/ }).count()).toBe(0);
  });

  it('charts refused requests over time by source and reason', async () => {
    const refused = await fetch(`${stack.url}/webhooks/${PMS}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // An event without its signature: an empty object would be the endpoint's verification handshake.
      body: JSON.stringify({ event: 'reservation.created', timestamp: new Date().toISOString(), data: {} }),
    });
    expect(refused.status).toBe(401);
    const rejection = await eventually('the refusal to be recorded', async () => {
      const listing = (await getJson(`/rejections?source=${PMS}`)) as unknown as RejectionListing;
      return listing.items[0];
    });
    await open('rejections');
    const chart = page.getByRole('img', { name: 'Refused requests per hour, by source and reason' });
    await chart.locator('.u-legend').getByText(`${PMS} · ${rejection.reason}`).waitFor();
    await screenshot('rejections');
  });

  it("lists reconciliation's audit of a property's nights, as the API answers it", async () => {
    const today = new Date().toISOString().slice(0, 10);
    const query = new URLSearchParams({
      propertyId: 'demo-hotel',
      from: today,
      to: addDays(today, 29),
      limit: '100',
    });
    const listing = (await getJson(`/reconciliation/audit?${query}`)) as unknown as AuditListing;
    expect(listing.items.length).toBeGreaterThan(0);
    await open('reconciliation');
    const rows = page.getByRole('table', { name: 'Audit records' }).locator('tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(listing.items.length);
    const [first] = listing.items;
    const cells = await rows.first().locator('td').allTextContents();
    expect(cells.slice(0, 6)).toEqual([
      first?.date,
      first?.roomTypeId,
      first?.ratePlanId,
      first?.channel,
      first?.group,
      first?.action,
    ]);
    await screenshot('reconciliation');
  });

  it("lists a run reconciliation just made with the API's figures, opens it, and charts its source's drift", async () => {
    // As `paritysync reconcile --dry-run --no-parity` asks the local runtime: the answer ends with the run.
    const response = await fetch(`${stack.url}${RECONCILE_NOW_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dryRun: true, parity: false }),
    });
    expect(response.status).toBe(200);
    const lines = (await response.text()).trim().split('\n');
    expect(JSON.parse(lines.at(-1) ?? '{}')).toMatchObject({ type: 'report', report: { dryRun: true } });
    const listing = (await getJson('/reconciliation/runs')) as unknown as ReconcileRunListing;
    const [run] = listing.items;
    if (!run) throw new Error('the run is not listed');
    expect(run).toMatchObject({ status: 'complete', trigger: 'manual', dryRun: true });
    // The listing has no figures per source: the run's own answer and `?source=` have them.
    const full = (await getJson(`/reconciliation/runs/${run.runId}`)) as unknown as ReconcileRunDetailView;
    const source = full.sources.find((candidate) => candidate.sourceId === CHANNEL_MANAGER);
    if (!source) throw new Error(`the run did not poll ${CHANNEL_MANAGER}: ${JSON.stringify(full)}`);
    const ofSource = (await getJson(
      `/reconciliation/runs?source=${CHANNEL_MANAGER}`,
    )) as unknown as ReconcileRunListing;
    expect(ofSource.items[0]?.sources).toEqual([source]);

    pageErrors.length = 0;
    await open('reconciliation');
    // The page may have shown this view already, from before the run: the operator refreshes it.
    await page.getByRole('button', { name: 'Refresh the runs' }).click();
    await page.getByRole('button', { name: 'Refresh the charts' }).click();
    const row = page
      .getByRole('table', { name: 'Reconciliation runs' })
      .locator(`tr[data-run="${run.runId}"]`);
    await row.waitFor();
    expect(await row.locator('time').getAttribute('datetime')).toBe(run.startedAt);
    expect((await row.locator('td').allTextContents()).slice(1)).toEqual([
      'manual',
      'complete',
      String(run.items.done),
      String(run.items.failed),
      String(run.items.planned),
      'yes',
    ]);

    await row.getByRole('button', { name: `Open run ${run.runId}` }).press('Enter');
    const detail = page.getByRole('complementary', { name: 'Run detail' });
    const sourceRow = detail
      .getByRole('table', { name: 'Drift per source' })
      .locator(`tr[data-source="${CHANNEL_MANAGER}"]`);
    await sourceRow.waitFor();
    const figures = await sourceRow.locator('td').allTextContents();
    expect(figures.slice(0, 4)).toEqual([
      `${source.items.done} of ${source.items.planned} done`,
      String(source.nightsPolled),
      `${source.driftPercent.toFixed(3)} %`,
      String(source.silentMisses),
    ]);
    const properties = detail.getByRole('table', { name: 'Drift per property' }).locator('tbody tr');
    await properties.first().waitFor();
    expect(await properties.count()).toBe(full.properties.length);
    expect(full.workItems.filter((item) => item.status === 'failed')).toEqual([]);
    await detail.getByText('No work item failed.').waitFor();

    // The source's trend, read from GET /reconciliation/runs?source= over the last 7 days.
    const chart = page.getByRole('img', { name: `Drift of ${CHANNEL_MANAGER} against the threshold` });
    await chart.locator('canvas').waitFor();
    await chart.locator('.u-legend').getByText(`${CHANNEL_MANAGER} drift %`).waitFor();
    await chart.locator('.u-legend').getByText('threshold %').waitFor();
    await page
      .getByRole('img', { name: `Silent misses of ${CHANNEL_MANAGER}` })
      .locator('canvas')
      .waitFor();
    await page.waitForLoadState('networkidle');
    await screenshot('reconciliation-runs');
    await chart.scrollIntoViewIfNeeded();
    await screenshot('reconciliation-drift');
    expect(pageErrors).toEqual([]);
  });

  it('shows on the overview the last reconciliation of each source with its drift, as the API answers it', async () => {
    const ofSource = (await getJson(
      `/reconciliation/runs?source=${CHANNEL_MANAGER}&limit=1`,
    )) as unknown as ReconcileRunListing;
    const [run] = ofSource.items;
    const figures = run?.sources[0];
    if (!run || !figures) throw new Error(`no run polled ${CHANNEL_MANAGER}: ${JSON.stringify(ofSource)}`);
    pageErrors.length = 0;
    await open('overview');
    await page.reload();
    const row = page
      .getByRole('table', { name: 'The latest reconciliation run of each polled source' })
      .getByRole('row')
      .filter({ has: page.getByRole('link', { name: CHANNEL_MANAGER }) });
    await row.waitFor();
    expect(await row.getByRole('cell').allTextContents()).toEqual([
      CHANNEL_MANAGER,
      run.startedAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, ''),
      figures.status + (run.dryRun ? ' (dry run)' : ''),
      figures.driftPercent.toFixed(3),
      String(run.thresholdPercent),
      String(figures.silentMisses),
      String(figures.correctedGroups),
    ]);
    expect(pageErrors).toEqual([]);
  });

  it('opens a delivery: its ledger entry, timeline, canonical event and a replay action', async () => {
    await open(`deliveries/${encodeURIComponent(parkedEventId)}`);
    const detail = page.getByRole('complementary', { name: 'Delivery detail' });
    await detail.getByText('Ledger timeline').waitFor();
    await detail.getByText('received by the edge').waitFor();
    // The canonical event as the edge queued it, the one a replay sends again.
    const event = detail.locator('pre.canonical-event');
    await event.waitFor();
    expect(await event.textContent()).toContain(`"eventId": "${parkedEventId}"`);
    expect(await detail.getByRole('button', { name: 'Replay this delivery' }).isVisible()).toBe(true);
  });

  it('adding the mapping in Review releases the parked event', async () => {
    await open('review');
    const form = page.getByRole('form', { name: `Add the mapping for roomType "${parkedRoomType}"` });
    await form.getByLabel('Internal roomType id').fill('suite');
    await form.getByRole('button', { name: 'Add mapping and release' }).click();
    await page
      .getByText(`Mapped roomType "${parkedRoomType}" (scope *) to "suite"; 1 parked event(s) queued again.`)
      .waitFor();
    await eventually('the released event to be applied', async () =>
      (await statusOf(parkedEventId)) === 'applied' ? true : undefined,
    );
  });

  it('a redrive empties the dead-letter queue', async () => {
    failDeadLetterEvent = false;
    const checkbox = page.getByLabel(`Select ${deadLetterEventId}`);
    // A listing receives the messages it shows and puts them back: one listing at a time, a few seconds apart.
    await eventually(
      'the dead letter to be listed',
      async () => {
        await open('dead-letters');
        return checkbox.waitFor({ timeout: 5_000 }).then(
          () => true,
          () => undefined,
        );
      },
      45_000,
      1_000,
    );
    await screenshot('dead-letters');
    await page.getByRole('button', { name: 'Redrive all' }).click();
    await page.getByText(/Moved 1 message\(s\) back to the events queue/).waitFor();
    const progress = page.getByRole('progressbar', { name: 'Redrive progress' });
    // A <progress> element's value and max are properties: the page sets them, not the attributes.
    expect(await progress.evaluate((bar) => [Reflect.get(bar, 'value'), Reflect.get(bar, 'max')])).toEqual([
      1, 1,
    ]);
    await page.getByText('The events dead-letter queue is empty.').waitFor();
    await eventually('the redriven event to leave the dead letters', async () =>
      (await statusOf(deadLetterEventId)) === 'dead-lettered' ? undefined : true,
    );
  });

  it("follows a deployed stack's move task until SQS ends it, showing what it moved", async () => {
    // Only SQS runs move tasks: the API's answers of a deployed stack stand in for the local queue's here.
    const task = { taskHandle: 'task-1', startedAt: new Date().toISOString() };
    const listings = [
      { ...task, status: 'RUNNING', moved: 2, toMove: 3 },
      { ...task, status: 'COMPLETED', moved: 5, toMove: 0 },
    ];
    await page.route(/\/dlq\/events(\?|\/redrive)/, async (route) => {
      const url = new URL(route.request().url());
      if (url.pathname.endsWith('/redrive')) {
        await route.fulfill({
          json: { queue: 'events', via: 'move-task', moved: null, taskHandle: task.taskHandle },
        });
        return;
      }
      // The view follows the task with `limit=0`, which lists the queue's count and task and receives nothing.
      const moveTask =
        url.searchParams.get('limit') === '0' ? (listings.shift() ?? listings.at(-1)) : undefined;
      await route.fulfill({
        json: {
          queue: 'events',
          approximateCount: 5,
          items: [
            {
              eventId: 'evt_moving',
              messageId: 'm-1',
              receiveCount: 1,
              sentAt: task.startedAt,
              lastError: null,
            },
          ],
          ...(moveTask ? { moveTask } : {}),
        },
      });
    });
    try {
      await open('dead-letters');
      // Loaded again under the stand-in answers, whichever view the page was on.
      await page.reload();
      await page.getByRole('button', { name: 'Redrive all' }).click();
      await page.getByText('Move task COMPLETED, 5 of 5 moved.').waitFor({ timeout: 15_000 });
      const progress = page.getByRole('progressbar', { name: 'Redrive progress' });
      expect(await progress.evaluate((bar) => [Reflect.get(bar, 'value'), Reflect.get(bar, 'max')])).toEqual([
        5, 5,
      ]);
    } finally {
      await page.unrouteAll();
    }
  });

  it('hold and resume change what apply does', async () => {
    await open('sources');
    await page.getByLabel(`Reason to hold ${PMS}`).fill('migrating the PMS');
    await page.getByRole('button', { name: `Hold ${PMS}` }).click();
    await page.getByRole('button', { name: `Resume ${PMS}` }).waitFor();

    const pms = config.sources.find((source) => source.id === PMS);
    if (!pms) throw new Error('no PMS source in the demo configuration');
    const sent = await sendSample({ baseUrl: stack.url, source: pms });
    const eventId = String((sent.body as { eventId: string }).eventId);
    await eventually('the event to be held', async () =>
      (await statusOf(eventId)) === 'held' ? true : undefined,
    );

    await page.getByRole('button', { name: `Resume ${PMS}` }).click();
    await page.getByText(`Resumed ${PMS}; 1 held event(s) queued again.`).waitFor();
    await page.getByRole('button', { name: `Hold ${PMS}` }).waitFor();
    await eventually('the released event to be applied', async () =>
      (await statusOf(eventId)) === 'held' ? undefined : true,
    );
  });

  it("the parity heat map shows the demo's violations on the nights they were seeded", async () => {
    const nights = demo?.dataset.nights() ?? [];
    const first = nights[0];
    if (!first) throw new Error('the demo has no nights');
    const line = nights
      .filter(
        (night) =>
          night.propertyId === first.propertyId &&
          night.roomTypeCode === first.roomTypeCode &&
          night.ratePlanCode === first.ratePlanCode,
      )
      .map((night) => night.date)
      .sort()
      .slice(0, 15);
    const seeded = line.filter((_, index) => index % 5 === 0);

    await open('parity/demo-hotel');
    await page.locator('td[data-channel="ota-demo"]').first().waitFor();
    const cells = await page
      .locator('td[data-channel="ota-demo"]')
      .evaluateAll((elements) =>
        elements.map((element) => [
          element.getAttribute('data-night'),
          element.getAttribute('data-deviation'),
        ]),
      );
    const deviating = cells.filter(([, deviation]) => Number(deviation) > 0).map(([night]) => night);
    expect(deviating).toEqual(seeded);

    await page.getByRole('button', { name: seeded[0] }).click();
    const rates = page.getByRole('complementary', { name: `Rates of ${seeded[0]}` });
    await rates.getByRole('cell', { name: 'ota-demo' }).first().waitFor();
    await screenshot('parity-night');
  });

  it('labels every input, select and text area of every view', async () => {
    const unlabelled: string[] = [];
    for (const view of [
      'overview',
      'deliveries',
      'rejections',
      'review',
      'dead-letters',
      'reconciliation',
      'parity',
      'sources',
    ]) {
      await open(view);
      await page.waitForLoadState('networkidle');
      const found = await page
        .locator('main input, main select, main textarea')
        .evaluateAll((controls) =>
          controls
            .filter(
              (control) =>
                ((Reflect.get(control, 'labels') as { length: number } | null)?.length ?? 0) === 0 &&
                !control.getAttribute('aria-label') &&
                !control.getAttribute('aria-labelledby'),
            )
            .map((control) => control.outerHTML),
        );
      unlabelled.push(...found.map((html) => `${view}: ${html}`));
    }
    expect(unlabelled).toEqual([]);
    // As a screen reader names them.
    await open('sources');
    await page.getByRole('textbox', { name: `Reason to hold ${PMS}` }).waitFor();
    await open('overview');
    await page.getByRole('combobox', { name: 'Window' }).waitFor();
    await page.getByRole('combobox', { name: 'Source' }).waitFor();
  });

  it('holds and resumes a source with the keyboard alone, focus visible at every step', async () => {
    await page.goto(`${stack.url}/console#/overview`);
    await page.locator('main h2').first().waitFor();
    /** Tabs until the focused element has this accessible label or text, checking each stop shows its focus. */
    const tabTo = async (name: string) => {
      for (let stop = 0; stop < 60; stop++) {
        await page.keyboard.press('Tab');
        // Run in the page, where the DOM is: this project's own types know none of it.
        const focused = (await page.evaluate(`(() => {
          const element = document.activeElement;
          if (!element || element === document.body) return undefined;
          const style = getComputedStyle(element);
          return {
            name: element.getAttribute('aria-label') ?? element.textContent?.trim() ?? '',
            visible:
              element.matches(':focus-visible') && style.outlineStyle !== 'none' && style.outlineWidth !== '0px',
          };
        })()`)) as { name: string; visible: boolean } | undefined;
        if (focused === undefined) continue;
        expect(focused.visible, `focus on "${focused.name}" is not visible`).toBe(true);
        if (focused.name === name) return;
      }
      throw new Error(`Tab never reached "${name}"`);
    };
    const heldOf = async () =>
      ((await getJson('/sources')) as unknown as { items: SourceView[] }).items.find(
        (s) => s.sourceId === PMS,
      );

    await tabTo('Sources');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Sources' }).waitFor();
    await tabTo(`Reason to hold ${PMS}`);
    await page.keyboard.type('keyboard check');
    await tabTo(`Hold ${PMS}`);
    await page.keyboard.press('Space');
    await page.getByRole('button', { name: `Resume ${PMS}` }).waitFor();
    expect(await heldOf()).toMatchObject({ held: true, reason: 'keyboard check' });

    await tabTo(`Resume ${PMS}`);
    await page.keyboard.press('Enter');
    await page.getByText(`Resumed ${PMS};`).waitFor();
    expect(await heldOf()).toMatchObject({ held: false });
  });
});

async function postRateUpdate(overrides: Record<string, unknown>): Promise<string> {
  const sender = senderFor('channel-manager');
  const now = new Date();
  const body = Buffer.from(
    JSON.stringify({
      ...sender.sample('rate_update', now, randomUUID),
      property_id: 'HOTEL001',
      room_type_external_id: 'DBL',
      channel_id: 'CH-BOOKING',
      currency: 'EUR',
      base_rate: 120,
      inventory_count: 1,
      restrictions: { min_length_of_stay: 1, closed_to_arrival: false, closed_to_departure: false },
      ...overrides,
    }),
  );
  const source = config.sources.find((candidate) => candidate.id === CHANNEL_MANAGER);
  const secret = source?.secrets[0];
  if (!secret || !('value' in secret)) throw new Error('demo source has no literal secret');
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
