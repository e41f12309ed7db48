import { type ParitySyncConfig, polledChannel, type SourceConfig } from '../lambdas/config/schema';
import type { SecretResolver } from '../lambdas/config/secrets';
import { channelIdOf } from '../lambdas/domain/channel';
import { addDays } from '../lambdas/domain/dates';
import { formatMinorUnits } from '../lambdas/domain/money';
import { polledSources } from '../lambdas/reconcile/service';
import { senderFor } from './senders';
import {
  baseRateMinor,
  type DemoDataset,
  generateDataset,
  nightKey,
  type RoomNight,
  seededRandom,
} from './simulator/dataset';
import { type Simulator, startSimulator } from './simulator/server';
import { type DeliveryReport, sendDeliveries } from './simulator/webhooks';

/**
 * What `npm start` runs beside the stack so that reconciliation and parity have something to find: the provider
 * simulator serving a demo inventory on loopback, a channel manager's webhooks for that inventory with a
 * seeded share deliberately lost (real drift), and an OTA's rates for a few nights, some of them off by more
 * than the parity tolerance (real parity violations).
 *
 * The simulator stands in for every polled source whose `polling.baseUrl` is `http://127.0.0.1:<port>`;
 * nothing else in the configuration refers to it.
 */

export interface DemoOptions {
  readonly config: ParitySyncConfig;
  /** Base URL of the running edge the webhooks go to. */
  readonly edgeUrl: string;
  readonly port: number;
  readonly secrets: Pick<SecretResolver, 'resolve'>;
  readonly now: Date;
  /** Room nights in the demo inventory. @default 360 (two hotels, three room types, two rate plans, 30 dates) */
  readonly nights?: number;
  /** Share of the channel manager's webhooks never delivered. @default 0.02 */
  readonly dropRate?: number;
}

export interface DemoReport {
  readonly simulatorUrl: string;
  readonly simulatedSources: readonly string[];
  readonly nights: number;
  readonly deliveries: readonly (DeliveryReport & { readonly sourceId: string })[];
  /** OTA rate updates sent for the parity demo, and how many of them differ beyond the tolerance. */
  readonly parity?: { readonly sourceId: string; readonly sent: number; readonly offByMore: number };
}

export interface Demo {
  readonly simulator: Simulator;
  /** What the simulator serves: the provider's side of the truth, which reconciliation converges on. */
  readonly dataset: DemoDataset;
  /** Resolves once the webhooks have been sent. */
  readonly seeded: Promise<DemoReport>;
  stop(): Promise<void>;
}

/** Every fifth OTA night is this far above the channel manager's rate: more than the demo's 1.00 tolerance. */
const PARITY_OFFSET_MINOR = 700;
const PARITY_NIGHTS = 15;

export async function startDemo(options: DemoOptions): Promise<Demo | undefined> {
  const simulatorUrl = `http://127.0.0.1:${options.port}`;
  const simulated = polledSources(options.config).filter(
    (source) => originOf(source.polling.baseUrl) === simulatorUrl,
  );
  if (simulated.length === 0) return undefined;

  const tokens = new Set(
    await Promise.all(simulated.map((source) => options.secrets.resolve(source.polling.token))),
  );
  if (tokens.size !== 1) {
    throw new Error(
      `The sources polling the simulator (${simulated.map((s) => s.id).join(', ')}) use different tokens; ` +
        'they share one simulator, so give them the same polling.token.',
    );
  }
  const [token = ''] = tokens;
  const firstDate = addDays(options.now.toISOString().slice(0, 10), 1);
  const dataset = generateDataset({
    seed: 2026,
    nights: options.nights ?? 360,
    firstDate,
    // Recent enough that every change is newer than anything a previous demo run left in local state.
    generatedAt: new Date(options.now.getTime() - 60_000).toISOString(),
    updateSpreadSeconds: 50,
  });
  const simulator = await startSimulator({
    port: options.port,
    token,
    dataset,
    random: seededRandom(11),
    // A provider's quota, so the demo shows the client pacing itself.
    rateLimit: { requestsPerSecond: 20, burst: 10 },
  });

  const seeded = (async (): Promise<DemoReport> => {
    const deliveries: (DeliveryReport & { sourceId: string })[] = [];
    for (const source of simulated) {
      if (source.kind !== 'channel-manager') continue;
      const secret = await firstSecret(source, options.secrets);
      const channelId = channelIdOf(polledChannel(source));
      const report = await sendDeliveries({
        edgeUrl: options.edgeUrl,
        source: { id: source.id, secret },
        changes: dataset.nights(),
        dropRate: options.dropRate ?? 0.02,
        ...(channelId ? { channelId } : {}),
        random: seededRandom(7),
      });
      deliveries.push({ ...report, sourceId: source.id });
    }
    const parity = await sendParityDemo(options, dataset.nights());
    return {
      simulatorUrl,
      simulatedSources: simulated.map((source) => source.id),
      nights: dataset.size,
      deliveries,
      ...(parity ? { parity } : {}),
    };
  })();

  return { simulator, dataset, seeded, stop: () => simulator.stop() };
}

/**
 * The OTA's view of the first property's first room type and rate plan: the same rate as the channel manager,
 * except every fifth night, which is PARITY_OFFSET_MINOR dearer. Sent only when an `ota` source is configured.
 */
async function sendParityDemo(
  options: DemoOptions,
  nights: readonly RoomNight[],
): Promise<DemoReport['parity'] | undefined> {
  const ota = options.config.sources.find((source) => source.kind === 'ota');
  const first = nights[0];
  if (!ota || !first) return undefined;
  const secret = await firstSecret(ota, options.secrets);
  const line = nights
    .filter(
      (night) =>
        night.propertyId === first.propertyId &&
        night.roomTypeCode === first.roomTypeCode &&
        night.ratePlanCode === first.ratePlanCode,
    )
    .sort((a, b) => (a.date < b.date ? -1 : 1))
    .slice(0, PARITY_NIGHTS);
  let offByMore = 0;
  for (const [index, night] of line.entries()) {
    const amountMinor = baseRateMinor(night) + (index % 5 === 0 ? PARITY_OFFSET_MINOR : 0);
    if (index % 5 === 0) offByMore++;
    const body = Buffer.from(
      JSON.stringify({
        event_id: `demo-parity-${nightKey(night)}-${options.now.getTime()}`,
        property_id: night.propertyId,
        rate_plan_code: night.ratePlanCode,
        room_type_code: night.roomTypeCode,
        base_rate: formatMinorUnits({ amountMinor, currency: night.currency }),
        currency: night.currency,
        effective_date: night.date,
        event_timestamp: options.now.toISOString(),
      }),
    );
    const response = await fetch(`${options.edgeUrl}/webhooks/${encodeURIComponent(ota.id)}`, {
      method: 'POST',
      headers: senderFor('ota').sign(body, { secret, at: options.now }),
      body,
    });
    if (!response.ok) {
      throw new Error(
        `The edge refused a parity demo rate for ${ota.id}: ${response.status} ${await response.text()}`,
      );
    }
  }
  return { sourceId: ota.id, sent: line.length, offByMore };
}

async function firstSecret(source: SourceConfig, secrets: Pick<SecretResolver, 'resolve'>): Promise<string> {
  const [ref] = source.secrets;
  if (!ref) throw new Error(`Source ${source.id} has no signing secret for the demo to sign with.`);
  return secrets.resolve(ref);
}

function originOf(url: string): string {
  return new URL(url).origin;
}

/** What the demo did, and how to watch reconciliation and parity find it. */
export function describeDemo(report: DemoReport, url: string): string {
  const lines = [
    '',
    `Provider simulator on ${report.simulatorUrl} (polled by ${report.simulatedSources.join(', ')}): ${report.nights} room nights.`,
  ];
  for (const delivery of report.deliveries) {
    lines.push(
      `  ${delivery.sourceId}: ${delivery.sent} webhooks delivered, ${delivery.dropped} deliberately lost` +
        `${delivery.failed > 0 ? `, ${delivery.failed} refused (see the log)` : ''}: that is the drift to find.`,
    );
  }
  if (report.parity) {
    lines.push(
      `  ${report.parity.sourceId}: ${report.parity.sent} OTA rates sent, ${report.parity.offByMore} of them above the parity tolerance.`,
    );
  }
  lines.push(
    '',
    'Reconcile now, with a progress bar:  npm run cli -- reconcile',
    `Then list parity violations:          curl '${url}/parity?propertyId=<id>&from=<date>&to=<date>'`,
  );
  return lines.join('\n');
}
