import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load';
import { DeliveryLedger } from '../../lib/delivery-ledger';
import { EventQueues } from '../../lib/event-queues';
import { bundledConfigJson, IngestApi } from '../../lib/ingest-api';
import { RejectionLog } from '../../lib/rejection-log';
import { TEST_CONFIG } from './app';

/**
 * Bundles a stand-in handler with the ingest function's real bundling options (esbuild, local) and runs it,
 * to show the configuration is compiled in and the ES module output loads.
 */
let outdir: string;
let bundleDir: string;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'paritysync-bundle-'));
  const app = new App({ outdir, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'BundleTest');
  new IngestApi(stack, 'IngestApi', {
    config: TEST_CONFIG,
    ledger: new DeliveryLedger(stack, 'Ledger'),
    queues: new EventQueues(stack, 'Queues'),
    rejections: new RejectionLog(stack, 'Rejections'),
    entry: join(__dirname, 'fixtures', 'config-echo-handler.ts'),
  });
  app.synth();
  const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
  if (assets.length !== 1) throw new Error(`expected one asset, found ${assets.join(', ')}`);
  bundleDir = join(outdir, assets[0] as string);
}, 60_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe('ingest function bundle', () => {
  it('is an ES module with a source map', () => {
    expect(readdirSync(bundleDir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
  });

  it('carries the validated configuration compiled in, and the runtime parser accepts it', async () => {
    const module = (await import(pathToFileURL(join(bundleDir, 'index.mjs')).href)) as {
      handler: () => Promise<{ configJson: string; requireWorks: boolean }>;
    };
    const result = await module.handler();
    expect(result.configJson).toBe(bundledConfigJson(TEST_CONFIG));
    expect(parseConfig(JSON.parse(result.configJson))).toEqual(TEST_CONFIG);
    expect(result.requireWorks).toBe(true);
  });

  it('is minified and keeps no sources in its source map', () => {
    const code = readFileSync(join(bundleDir, 'index.mjs'), 'utf8');
    expect(code.split('\n').length).toBeLessThan(5);
    const map = JSON.parse(readFileSync(join(bundleDir, 'index.mjs.map'), 'utf8')) as {
      sourcesContent?: unknown;
    };
    expect(map.sourcesContent).toBeUndefined();
    expect(existsSync(join(bundleDir, 'index.js'))).toBe(false);
  });
});
