/**
 * The operations console's first load on the local stack, with a ledger of 10,000 deliveries from the last day:
 * a headless chromium (Debian's, driven by playwright-core) opens the Deliveries view with a cold cache and waits
 * for the first row. The baseline is the same requests made bare, in the same run: the page, its script and
 * style, and the view's first API call, fetched one after the other by Node. Results are a ratio and the
 * script's size; nothing here asserts a duration.
 */
import { gzipSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { chromium } from 'playwright-core';
import { consoleAsset } from '../console/assets';
import { loadConfigFile } from '../lambdas/config/load';
import { DELIVERY_LEDGER } from '../lambdas/shared/topology';
import { LOCAL_AWS, startEmulators } from '../local/emulators';
import { startLocalStack } from '../local/start';
import { fillLedger } from './delivery-log';

export const CONSOLE_FIRST_RENDER_TARGET_MS = 1_000;
export const CONSOLE_SCRIPT_TARGET_KB = 300;
const DELIVERIES = Number(process.env.BENCH_CONSOLE_DELIVERIES ?? 10_000);
const ROUNDS = Number(process.env.BENCH_CONSOLE_ROUNDS ?? 7);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export async function consoleFirstLoad(): Promise<{
  firstRenderMs: number;
  scriptKb: number;
  meetsTarget: boolean;
}> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const emulators = await startEmulators();
  const stack = await startLocalStack({
    config: await loadConfigFile('config/local.example.json'),
    emulators,
    consumer: false,
    reconcileIntervalMs: 0,
    log: () => undefined,
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const ledger = stack.topology.tables[DELIVERY_LEDGER.id];
    if (ledger === undefined) throw new Error('the ledger table was not provisioned');
    const dynamodb = new DynamoDBClient({ ...LOCAL_AWS, endpoint: emulators.dynamodbEndpoint });
    await fillLedger(dynamodb, ledger, DELIVERIES, Date.now() - 23 * 3_600_000);
    dynamodb.destroy();

    const script = await consoleAsset('/console/app.js');
    if (script === undefined) throw new Error('the console has no script');
    const bare = async () => {
      const started = performance.now();
      for (const path of ['/console', '/console/app.js', '/console/app.css', '/deliveries?limit=100']) {
        const response = await fetch(`${stack.url}${path}`);
        if (!response.ok) throw new Error(`${path} answered ${response.status}`);
        await response.arrayBuffer();
      }
      return performance.now() - started;
    };
    const firstRender = async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      try {
        const page = await context.newPage();
        const started = performance.now();
        await page.goto(`${stack.url}/console#/deliveries`);
        await page.locator('main table tbody tr').first().waitFor({ state: 'visible', timeout: 30_000 });
        return performance.now() - started;
      } finally {
        await context.close();
      }
    };
    // One of each first, unmeasured: the server builds the assets on first request.
    await bare();
    await firstRender();
    const bareMs: number[] = [];
    const renderMs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      bareMs.push(await bare());
      renderMs.push(await firstRender());
    }
    const firstRenderMs = median(renderMs);
    const baselineMs = median(bareMs);
    const scriptKb = script.body.length / 1024;
    console.log(
      `\nConsole first load, Deliveries view, ${DELIVERIES.toLocaleString('en')} deliveries in the last day ` +
        `(median of ${ROUNDS}, cold browser cache)`,
    );
    console.table([
      {
        'first row shown ms': Math.round(firstRenderMs),
        'bare requests ms': Math.round(baselineMs),
        'ratio to bare': Number((firstRenderMs / baselineMs).toFixed(1)),
        target: `< ${CONSOLE_FIRST_RENDER_TARGET_MS} ms`,
        'script KB (minified)': Number(scriptKb.toFixed(1)),
        'script KB (gzip)': Number((gzipSync(script.body).length / 1024).toFixed(1)),
        'script target': `< ${CONSOLE_SCRIPT_TARGET_KB} KB`,
      },
    ]);
    return {
      firstRenderMs,
      scriptKb,
      meetsTarget: firstRenderMs < CONSOLE_FIRST_RENDER_TARGET_MS && scriptKb < CONSOLE_SCRIPT_TARGET_KB,
    };
  } finally {
    await browser.close();
    await stack.stop();
    await emulators.stop();
  }
}
