/**
 * `npm run bench`: ingest hot-path cost per provider kind against a bare baseline measured in the same run
 * (HMAC-SHA256 + constant-time compare + JSON.parse of the same bytes), plus the ingest bundle's size and
 * cold import time. Results are ratios, so they compare across machines; nothing here asserts a duration.
 */
import { execFileSync } from 'node:child_process';
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { adapterFor } from '../lambdas/adapters';
import { parseConfig } from '../lambdas/config/load';
import type { ParitySyncConfig } from '../lambdas/config/schema';
import { SOURCE_KINDS, type SourceKind } from '../lambdas/domain/canonical';
import { type IngestSettings, prepareDelivery } from '../lambdas/ingest/ingest';
import { prepareSources } from '../lambdas/ingest/sources';
import { fixedClock } from '../lambdas/shared/clock';
import { nodeCrypto } from '../lambdas/shared/crypto';
import { senderFor } from '../local/senders';
import { APPLY_TARGET_RATIO, applyThroughput } from './apply';
import { CONSOLE_FIRST_RENDER_TARGET_MS, CONSOLE_SCRIPT_TARGET_KB, consoleFirstLoad } from './console';
import { DELIVERY_LOG_TARGET_RATIO, deliveryLogPaging } from './delivery-log';
import { edgeUnderLoad, LOAD_TARGET_RATIO } from './load';
import { type ParityBenchResult, parityCost } from './parity';
import { reconcileThroughput } from './reconcile';
import { reconcileFanout } from './reconcile-fanout';
import { VISIBILITY_TARGET_MS, visibilityLatency } from './visibility';

const TARGET_RATIO_AT_1KB = 0.4;
const BUNDLE_TARGET_KB = 250;
const SIZES = [1024, 10 * 1024] as const;
/** Seconds per timed batch, and batches per measurement (the median is reported). */
const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 0.05);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);

const SECRETS: Record<SourceKind, string> = {
  'channel-manager': 'bench-channel-manager-secret-7Hq2Xv9LmT4',
  ota: 'bench-ota-secret-Rk3Wz8PnV1cY6sJd0Qb5',
  pms: 'bench-pms-secret-Fm6Tg2XhL9pZ4wNc8Ke1',
  mapping: 'bench-mapping-secret-Ua5Yq0BvS7rD3jHm',
  hospitable: 'bench-hospitable-secret-Gx4Nk8Cw2Pz6',
  'standard-webhooks': `whsec_${Buffer.from('bench-standard-webhooks-secret-32b').toString('base64')}`,
};

const config: ParitySyncConfig = parseConfig({
  version: 1,
  sources: SOURCE_KINDS.map((kind) => ({ id: `${kind}-bench`, kind, secrets: [{ value: SECRETS[kind] }] })),
});
const sources = prepareSources(config, adapterFor);
const BENCH_SETTINGS: IngestSettings = {
  maxBodyBytes: 1_048_576,
  dedupeWindowSeconds: 30 * 86_400,
  claimLeaseMs: 15_000,
  minLeaseLeftMs: 6_000,
};

/**
 * Ways to grow a sample to about `bytes` with a field the kind's schema tolerates (providers add fields
 * freely, but some envelopes are strict), tried in order until one normalises.
 */
function paddings(sample: Record<string, unknown>, bytes: number): Record<string, unknown>[] {
  const size = Buffer.byteLength(JSON.stringify(sample));
  const filler = 'x'.repeat(Math.max(0, bytes - size - 20));
  const data = sample.data;
  const inData =
    data && typeof data === 'object' && !Array.isArray(data)
      ? [{ ...sample, data: { ...data, notes: filler } }]
      : [];
  return [...inData, { ...sample, notes: filler }];
}

interface Case {
  readonly kind: SourceKind;
  readonly size: number;
  readonly body: Buffer;
  readonly headers: Record<string, string>;
  readonly secret: string;
}

function makeCase(kind: SourceKind, size: number, now: Date): Case {
  const sender = senderFor(kind);
  const type = sender.sampleTypes[0] ?? '';
  let lastError: unknown;
  for (const padded of paddings(sender.sample(type, now, randomUUID), size)) {
    const body = Buffer.from(JSON.stringify(padded));
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(sender.sign(body, { secret: SECRETS[kind], at: now }))) {
      headers[name.toLowerCase()] = value;
    }
    const candidate = { kind, size, body, headers, secret: SECRETS[kind] };
    try {
      edgeWork(candidate, now)();
      return candidate;
    } catch (error) {
      lastError = error;
    }
  }
  throw new Error(`cannot pad a ${kind} sample to ${size} bytes`, { cause: lastError });
}

/**
 * The work the edge does per delivery before any I/O, as the edge itself runs it (prepareDelivery): verify,
 * decode, parse, validate, normalise, the applicability contract, down to the canonical event. Serialising it
 * for SQS is part of enqueueing and is left out, as I/O is.
 */
function edgeWork(c: Case, now: Date): () => void {
  const source = sources.get(`${c.kind}-bench`);
  if (!source) throw new Error(`no ${c.kind} source`);
  const clock = fixedClock(now);
  const context = {
    source: source.config,
    secrets: [c.secret],
    toleranceSeconds: source.toleranceSeconds,
    clock,
    crypto: nodeCrypto,
  };
  const deps = { clock, crypto: nodeCrypto, settings: BENCH_SETTINGS };
  const request = { headers: c.headers, rawBody: c.body };
  return () => {
    prepareDelivery(request, source, context, deps);
  };
}

/** The floor any verifying webhook receiver pays: one HMAC over the body, a constant-time compare, JSON.parse. */
function bareWork(c: Case): () => void {
  const expected = createHmac('sha256', c.secret).update(c.body).digest();
  return () => {
    const mac = createHmac('sha256', c.secret).update(c.body).digest();
    if (!timingSafeEqual(mac, expected)) throw new Error('unreachable');
    JSON.parse(c.body.toString('utf8'));
  };
}

/**
 * Throughput of `fn`, timed over batches rather than per call: at a few microseconds per call, per-call timer
 * reads would dominate. Rounds alternate with the baseline so that both see the same machine load.
 */
function timeBatch(fn: () => void, iterations: number): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function calibrate(fn: () => void): number {
  let iterations = 100;
  while (timeBatch(fn, iterations) < ROUND_SECONDS) iterations *= 2;
  return iterations;
}

function compare(baseline: () => void, edge: () => void): { baseline: number; edge: number; ratio: number } {
  edge(); // Fail fast on a broken case rather than benchmarking an exception.
  const baselineIterations = calibrate(baseline);
  const edgeIterations = calibrate(edge);
  const rounds: { baseline: number; edge: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    rounds.push({
      baseline: baselineIterations / timeBatch(baseline, baselineIterations),
      edge: edgeIterations / timeBatch(edge, edgeIterations),
    });
  }
  const ratios = rounds.map((r) => r.edge / r.baseline);
  return {
    baseline: median(rounds.map((r) => r.baseline)),
    edge: median(rounds.map((r) => r.edge)),
    ratio: median(ratios),
  };
}

function hotPath(): boolean {
  const now = new Date();
  console.log('\nIngest hot path (in process, one core): ops/s, and ratio to the bare baseline');
  const rows: Record<string, string | number>[] = [];
  let meetsTarget = true;
  for (const size of SIZES) {
    for (const kind of SOURCE_KINDS) {
      const c = makeCase(kind, size, now);
      const { baseline, edge, ratio } = compare(bareWork(c), edgeWork(c, now));
      if (size === 1024 && ratio < TARGET_RATIO_AT_1KB) meetsTarget = false;
      rows.push({
        kind,
        body: `${(c.body.length / 1024).toFixed(1)} KB`,
        'baseline ops/s': Math.round(baseline),
        'edge ops/s': Math.round(edge),
        ratio: Number(ratio.toFixed(2)),
        ...(size === 1024 ? { target: `≥ ${TARGET_RATIO_AT_1KB}` } : {}),
      });
    }
  }
  console.table(rows);
  return meetsTarget;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function importMs(file: string, env: NodeJS.ProcessEnv): number {
  const script = `const t=performance.now();await import(${JSON.stringify(`file://${file}`)});console.log(performance.now()-t)`;
  const out = execFileSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], {
    env,
    encoding: 'utf8',
  });
  return Number(out.trim().split('\n').pop());
}

async function bundle(): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'paritysync-bench-'));
  try {
    const outfile = join(dir, 'ingest.mjs');
    await build({
      entryPoints: [resolve(__dirname, '../lambdas/ingest/handler.ts')],
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      external: ['@aws-sdk/*'],
      outfile,
      banner: {
        js: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
      },
      logLevel: 'error',
    });
    const empty = join(dir, 'empty.mjs');
    writeFileSync(empty, 'export {};\n');
    const env = {
      ...process.env,
      PARITYSYNC_CONFIG_JSON: JSON.stringify(config),
      LEDGER_TABLE_NAME: 'bench',
      REJECTIONS_TABLE_NAME: 'bench-rejections',
      EVENT_QUEUE_URL: 'http://127.0.0.1:1/000000000000/bench',
      AWS_REGION: 'us-east-1',
    };
    const kb = statSync(outfile).size / 1024;
    // Resolve @aws-sdk from the project, as the Lambda runtime provides it from its own layer.
    const linked = join(dir, 'node_modules');
    execFileSync('ln', ['-s', resolve(__dirname, '../node_modules'), linked]);
    const baseline = median(Array.from({ length: 5 }, () => importMs(empty, env)));
    const handler = median(Array.from({ length: 5 }, () => importMs(outfile, env)));
    console.log('\nIngest bundle (esbuild, minified, @aws-sdk external as in the Lambda runtime)');
    console.table([
      {
        'bundle KB': Number(kb.toFixed(1)),
        target: `≤ ${BUNDLE_TARGET_KB}`,
        'import ms (median of 5)': Number(handler.toFixed(1)),
        'empty module ms': Number(baseline.toFixed(1)),
      },
    ]);
    return kb <= BUNDLE_TARGET_KB;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  // BENCH_ONLY=load runs the edge under load on the local stack alone (a few minutes).
  if (process.env.BENCH_ONLY === 'load') {
    const load = await edgeUnderLoad();
    console.log(
      `\nEdge under load ${load.meetsTarget ? 'meets' : 'is BELOW'} the ${LOAD_TARGET_RATIO}× target at every concurrency.`,
    );
    return;
  }
  // BENCH_ONLY=reconcile runs the reconciliation bench alone: it needs no emulators either.
  if (process.env.BENCH_ONLY === 'reconcile') {
    const reconcile = await reconcileThroughput();
    console.log(
      `\nReconciliation time grows ${reconcile.linear ? 'linearly' : 'FASTER THAN LINEARLY'} with room nights.`,
    );
    return;
  }
  // BENCH_ONLY=parity counts parity's reads per change and times the full sweep's growth, in memory (about a minute).
  if (process.env.BENCH_ONLY === 'parity') {
    console.log(`\n${paritySummary(await parityCost())}`);
    return;
  }
  // BENCH_ONLY=reconcile-fanout runs the fanned-out reconciliation over a 300-property portfolio (a few minutes).
  if (process.env.BENCH_ONLY === 'reconcile-fanout') {
    const fanout = await reconcileFanout();
    const fastest = fanout.workers.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    console.log(
      `\nFanned-out reconciliation is ${fastest.speedUp.toFixed(1)}× faster with ${fastest.workers} workers than with one; ` +
        `the sweep of ${fanout.nights} room nights grows ${fanout.linear ? 'linearly' : 'FASTER THAN LINEARLY'}.`,
    );
    return;
  }
  // BENCH_ONLY=delivery-log pages the delivery log on DynamoDB Local alone (about a minute to fill the ledger).
  if (process.env.BENCH_ONLY === 'delivery-log') {
    const log = await deliveryLogPaging();
    console.log(
      `\nDelivery log paging at ${log.ratio.toFixed(2)}× a bare Query ${log.meetsTarget ? 'meets' : 'is BELOW'} the ` +
        `${DELIVERY_LOG_TARGET_RATIO}× target.`,
    );
    return;
  }
  // BENCH_ONLY=console times the console's first load in headless chromium on the local stack alone.
  if (process.env.BENCH_ONLY === 'console') {
    const first = await consoleFirstLoad();
    console.log(
      `\nConsole first row in ${Math.round(first.firstRenderMs)} ms with a ${first.scriptKb.toFixed(0)} KB script ` +
        `${first.meetsTarget ? 'meets' : 'MISSES'} the ${CONSOLE_FIRST_RENDER_TARGET_MS} ms / ${CONSOLE_SCRIPT_TARGET_KB} KB targets.`,
    );
    return;
  }
  const hot = hotPath();
  // BENCH_ONLY=ingest stops after the in-process hot path, which needs no emulators and takes seconds.
  if (process.env.BENCH_ONLY === 'ingest') {
    console.log(`\nHot path at 1 KB ${hot ? 'meets' : 'is BELOW'} the ${TARGET_RATIO_AT_1KB}× target.`);
    return;
  }
  const small = await bundle();
  const apply = await applyThroughput();
  const log = await deliveryLogPaging();
  const visibility = await visibilityLatency();
  const load = await edgeUnderLoad();
  const reconcile = await reconcileThroughput();
  const fanout = await reconcileFanout();
  const consoleLoad = await consoleFirstLoad();
  const parity = await parityCost();
  const growth = reconcile.growth[0];
  const largest = reconcile.sizes.at(-1);
  console.log(
    `\nHot path at 1 KB ${hot ? 'meets' : 'is BELOW'} the ${TARGET_RATIO_AT_1KB}× target; bundle ${small ? 'meets' : 'EXCEEDS'} ${BUNDLE_TARGET_KB} KB; ` +
      `apply writes at ${apply.ratio.toFixed(2)}× a plain PutItem ${apply.meetsTarget ? 'meet' : 'are BELOW'} the ${APPLY_TARGET_RATIO}× target; ` +
      `delivery log pages at ${log.ratio.toFixed(2)}× a bare Query ${log.meetsTarget ? 'meet' : 'are BELOW'} the ${DELIVERY_LOG_TARGET_RATIO}× target; ` +
      `a delivery is readable after ${Math.round(visibility.medianMs)} ms (median; p95 ${visibility.meetsTarget ? 'within' : 'OVER'} ${VISIBILITY_TARGET_MS} ms); ` +
      `under load the edge reaches ${load.ratios.map((r) => `${r.ratio.toFixed(2)}× (${r.inFlight} in flight)`).join(', ')} ` +
      `of the emulators' own rate (${load.meetsTarget ? 'meets' : 'BELOW'} the ${LOAD_TARGET_RATIO}× target); ` +
      `reconciliation compares ${Math.round(largest?.runNightsPerSecond ?? 0)} room nights/s and its time grows ` +
      `${growth?.timeRatio.toFixed(1)}× for ${growth?.linearRatio}× the nights (${reconcile.linear ? 'linear' : 'SUPERLINEAR'}); ` +
      `fanned out, it runs ${fanout.workers.map((w) => `${w.speedUp.toFixed(1)}× (${w.workers})`).join(', ')} as fast as one ` +
      `worker, and sweeps ${fanout.nights} room nights in ${Math.round(fanout.sweep.seconds)} s ` +
      `(${fanout.linear ? 'linear' : 'SUPERLINEAR'}); ` +
      `the console shows its first row in ${Math.round(consoleLoad.firstRenderMs)} ms with a ${consoleLoad.scriptKb.toFixed(0)} KB ` +
      `script (${consoleLoad.meetsTarget ? 'meets' : 'MISSES'} ${CONSOLE_FIRST_RENDER_TARGET_MS} ms / ${CONSOLE_SCRIPT_TARGET_KB} KB).`,
  );
  console.log(paritySummary(parity));
}

function paritySummary(parity: ParityBenchResult): string {
  const worst = Math.max(...parity.changes.map((row) => row.maxReadsPerChange - row.target));
  return (
    `Parity on change reads ${parity.changeReadsMeetTarget ? 'at most' : 'MORE than'} channels + 1 items per changed ` +
    `night at every horizon (worst ${worst >= 0 ? '+' : ''}${worst} against it); the full parity sweep's time grows ` +
    `${parity.sweepTimeRatio.toFixed(1)}× for ${parity.sweepSizeRatio.toFixed(0)}× the room nights ` +
    `(${parity.sweepLinear ? 'linear' : 'SUPERLINEAR'}).`
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
