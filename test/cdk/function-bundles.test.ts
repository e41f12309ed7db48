import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { afterAll, describe, expect, it } from 'vitest';
import { ApplyPipeline } from '../../lib/apply-pipeline';
import { DeliveryLedger } from '../../lib/delivery-ledger';
import { EventQueues } from '../../lib/event-queues';
import { bundledConfigJson } from '../../lib/lambda-bundling';
import { ParityOnChange } from '../../lib/parity-on-change';
import { ReadApi } from '../../lib/read-api';
import { Reconciliation } from '../../lib/reconciliation';
import { RejectionLog } from '../../lib/rejection-log';
import { ReplayJobs } from '../../lib/replay-jobs';
import { StateTables } from '../../lib/state-tables';
import { TEST_CONFIG } from './app';

/**
 * Bundles a stand-in handler with the apply consumer's, the read function's and the reconcile function's real
 * bundling options (esbuild, local) and runs it, to show each gets the same compiled-in configuration as the
 * ingest function.
 */
const ECHO_HANDLER = join(__dirname, 'fixtures', 'config-echo-handler.ts');
const outdirs: string[] = [];

afterAll(() => {
  for (const outdir of outdirs) rmSync(outdir, { recursive: true, force: true });
});

type Build = (
  stack: Stack,
  parts: { state: StateTables; ledger: DeliveryLedger; queues: EventQueues },
) => void;

const builds: ReadonlyArray<readonly [string, Build]> = [
  [
    'apply consumer',
    (stack, parts) =>
      new ApplyPipeline(stack, 'Apply', { config: TEST_CONFIG, ...parts, entry: ECHO_HANDLER }),
  ],
  [
    'read function',
    (stack, parts) => {
      const api = new apigateway.RestApi(stack, 'Api');
      // Same entry and options: one asset serves both functions.
      const reconciliation = new Reconciliation(stack, 'Reconcile', {
        config: TEST_CONFIG,
        state: parts.state,
        entry: ECHO_HANDLER,
        workerEntry: ECHO_HANDLER,
        workDeadLettersEntry: ECHO_HANDLER,
      });
      const rejections = new RejectionLog(stack, 'Rejections');
      const replays = new ReplayJobs(stack, 'Replays', {
        config: TEST_CONFIG,
        ...parts,
        entry: ECHO_HANDLER,
      });
      const parityOnChange = new ParityOnChange(stack, 'Parity', {
        config: TEST_CONFIG,
        state: parts.state,
        findings: reconciliation.parityFindings,
        entry: ECHO_HANDLER,
      });
      new ReadApi(stack, 'Read', {
        api,
        config: TEST_CONFIG,
        ...parts,
        reconciliation,
        parityOnChange,
        rejections,
        replays,
        entry: ECHO_HANDLER,
      });
    },
  ],
  [
    'reconcile function',
    (stack, parts) =>
      new Reconciliation(stack, 'Reconcile', {
        config: TEST_CONFIG,
        state: parts.state,
        entry: ECHO_HANDLER,
        workerEntry: ECHO_HANDLER,
        workDeadLettersEntry: ECHO_HANDLER,
      }),
  ],
];

/** Synthesises a stack with bundling on and returns the directory of its only asset. */
function bundle(build: Build): string {
  const outdir = mkdtempSync(join(tmpdir(), 'paritysync-bundle-'));
  outdirs.push(outdir);
  const app = new App({ outdir, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'BundleTest');
  build(stack, {
    state: new StateTables(stack, 'State'),
    ledger: new DeliveryLedger(stack, 'Ledger'),
    queues: new EventQueues(stack, 'Queues'),
  });
  app.synth();
  const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
  if (assets.length !== 1) throw new Error(`expected one asset, found ${assets.join(', ')}`);
  return join(outdir, assets[0] as string);
}

describe.each(builds)('%s bundle', (_name, build) => {
  it('is an ES module carrying the validated configuration compiled in', async () => {
    const bundleDir = bundle(build);
    expect(readdirSync(bundleDir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    const module = (await import(pathToFileURL(join(bundleDir, 'index.mjs')).href)) as {
      handler: () => Promise<{ configJson: string; requireWorks: boolean }>;
    };
    const result = await module.handler();
    expect(result.configJson).toBe(bundledConfigJson(TEST_CONFIG));
    expect(result.requireWorks).toBe(true);
  }, 60_000);
});
