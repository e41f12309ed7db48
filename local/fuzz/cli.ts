import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfigFile } from '../../lambdas/config/load';
import { DEFAULT_TOLERANCE_SECONDS, type ParitySyncConfig } from '../../lambdas/config/schema';
import { createSecretResolver } from '../../lambdas/config/secrets';
import { ConfigurationError } from '../../lambdas/shared/errors';
import { describeCase, FAMILIES, type Family, type FuzzTarget, materialise } from './generators';
import { judgeSettlement } from './invariants';
import { assertStackAnswers, formatReport, judgeSent, post, type ReproductionFile, runFuzz } from './run';

/**
 * `npm run fuzz`: hostile, correctly signed deliveries over HTTP against the local stack (`npm start`), then
 * every accepted event followed until apply settles it. Exits 1 on any invariant breach. Loopback only.
 */

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function wholeNumber(name: string, min: number, max: number) {
  return (text: string): number => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    }
    return value;
  };
}

function loopbackUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidArgumentError(`${JSON.stringify(text)} is not a URL; use e.g. http://127.0.0.1:3000`);
  }
  if (url.protocol !== 'http:' || !LOOPBACK_HOSTS.has(url.hostname)) {
    throw new InvalidArgumentError(
      `The fuzzer only sends to the local stack on this machine (http://127.0.0.1:PORT); received ${text}.`,
    );
  }
  return url.origin;
}

/** The configured sources the fuzzer can sign for: those whose first secret resolves here. */
async function targetsOf(config: ParitySyncConfig, sourceIds: readonly string[] | undefined) {
  const resolver = createSecretResolver({});
  const dedupeWindowSeconds = config.ingest.dedupeWindowDays * 86_400;
  const chosen = sourceIds
    ? sourceIds.map((id) => {
        const source = config.sources.find((s) => s.id === id);
        if (!source) {
          throw new ConfigurationError(
            `No source ${JSON.stringify(id)} in the configuration. Configured: ${config.sources.map((s) => s.id).join(', ')}`,
          );
        }
        return source;
      })
    : config.sources;
  const targets: FuzzTarget[] = [];
  for (const source of chosen) {
    const secret = await resolver
      .secretsFor(source)
      .then((secrets) => secrets[0])
      .catch(() => undefined);
    if (secret === undefined) {
      console.error(`Skipping ${source.id}: its signing secret cannot be read here.`);
      continue;
    }
    targets.push({
      sourceId: source.id,
      kind: source.kind,
      secret,
      bounds: { toleranceSeconds: source.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS, dedupeWindowSeconds },
    });
  }
  if (targets.length === 0) throw new ConfigurationError('No source to send to: none has a readable secret.');
  return targets;
}

/** Sends one reproduction's plan again, signed now, and follows the event if it is accepted. */
async function replay(file: string, baseUrl: string, targets: readonly FuzzTarget[]): Promise<boolean> {
  const saved = JSON.parse(readFileSync(file, 'utf8')) as ReproductionFile;
  const index = targets.findIndex((t) => t.sourceId === saved.sourceId);
  if (index < 0)
    throw new ConfigurationError(`The configuration has no source ${saved.sourceId} to replay to.`);
  let next = 0;
  const stamp = Date.now().toString(36);
  const fuzzCase = materialise(
    { ...saved.plan, target: 0 },
    { targets: [targets[index] as FuzzTarget], now: new Date(), uniqueId: () => `replay${stamp}-${++next}` },
  );
  console.log(`Replaying #${saved.index} (${saved.steps.join('; ') || 'the sample as sent'})`);
  console.log(describeCase(fuzzCase, { maxBase64: 600 }));
  const sent = await post(new URL(baseUrl), fuzzCase);
  const verdict = judgeSent(fuzzCase, sent);
  console.log(`\n→ ${verdict.outcome}${sent.kind === 'answer' ? `: ${sent.answer.body.slice(0, 500)}` : ''}`);
  const breaches = [...verdict.breaches];
  if (verdict.accepted) {
    for (let attempt = 0; attempt < 60; attempt++) {
      const entry = (await (await fetch(`${baseUrl}/deliveries/${verdict.accepted.eventId}`)).json()) as {
        status: string;
        reason?: string;
        lastError?: string;
      };
      const settled = judgeSettlement(entry);
      if (settled.final || settled.breaches.length > 0) {
        console.log(`→ ledger: ${JSON.stringify(entry)}`);
        breaches.push(...settled.breaches);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
  console.log(breaches.length === 0 ? '\nNo invariant breached.' : `\n${breaches.join('\n')}`);
  return breaches.length === 0;
}

const program = new Command()
  .name('npm run fuzz --')
  .description(
    'Send hostile, correctly signed webhooks of every configured source to the local stack, follow each accepted event until apply settles it, and report any breach of the edge’s invariants',
  )
  .option('-n, --requests <count>', 'deliveries to send', wholeNumber('--requests', 1, 10_000_000), 1_000)
  .option(
    '-u, --url <baseUrl>',
    'the local stack (loopback only)',
    loopbackUrl,
    `http://127.0.0.1:${process.env.PORT ?? '3000'}`,
  )
  .option(
    '-s, --seed <n>',
    'seed of the generated plans (the same seed sends the same plans)',
    wholeNumber('--seed', 0, 2 ** 31 - 1),
  )
  .option('-c, --concurrency <n>', 'requests in flight', wholeNumber('--concurrency', 1, 256), 16)
  .addOption(
    new Option('-f, --family <family...>', 'which parts of a delivery to attack (default: all)').choices(
      FAMILIES,
    ),
  )
  .option('--source <sourceId...>', 'only these sources (default: every configured source)')
  .addOption(
    new Option('--config <path>', 'configuration the stack runs with').default(
      process.env.PARITYSYNC_CONFIG ?? 'config/local.example.json',
    ),
  )
  .option(
    '--pid <pid>',
    'the local stack’s process id, for its memory (default: whatever listens on the port)',
    wholeNumber('--pid', 1, 2 ** 31),
  )
  .option('--max-seconds <s>', 'stop sending after this long', wholeNumber('--max-seconds', 1, 86_400), 1_800)
  .option(
    '--settle-seconds <s>',
    'how long accepted events may take to settle after sending',
    wholeNumber('--settle-seconds', 1, 3_600),
    60,
  )
  .option(
    '-o, --out <dir>',
    'where breach reproductions are written (default: a new folder under the temp dir)',
  )
  .option('--replay <file>', 'send one reproduction file’s delivery again, signed now, and exit')
  .showHelpAfterError()
  .action(async (options) => {
    const config = await loadConfigFile(options.config);
    const targets = await targetsOf(config, options.source);
    await assertStackAnswers(options.url);
    if (options.replay) {
      if (!(await replay(options.replay, options.url, targets))) process.exitCode = 1;
      return;
    }
    const seed: number = options.seed ?? Math.floor(Math.random() * 2 ** 31);
    const families: Family[] = options.family ?? [...FAMILIES];
    const outDir: string =
      options.out ?? join(tmpdir(), `paritysync-fuzz-${seed}-${Date.now().toString(36)}`);
    console.error(
      `Fuzzing ${options.url} with ${options.requests} deliveries (seed ${seed}; ${families.join(', ')}) to ` +
        `${targets.map((t) => t.sourceId).join(', ')}`,
    );
    const report = await runFuzz({
      baseUrl: options.url,
      targets,
      families,
      requests: options.requests,
      seed,
      concurrency: options.concurrency,
      maxSeconds: options.maxSeconds,
      settleSeconds: options.settleSeconds,
      outDir,
      ...(options.pid ? { pid: options.pid } : {}),
      log: (line) => console.error(line),
    });
    console.log(formatReport(report));
    console.log(`\nSeed ${seed}: run again with --seed ${seed}; replay one breach with --replay <file>.`);
    if (report.breaches.length > 0) process.exitCode = 1;
  });

program.parseAsync().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
