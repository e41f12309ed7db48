#!/usr/bin/env -S npx tsx
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { loadConfigFile } from '../lambdas/config/load';
import { ConfigurationError } from '../lambdas/shared/errors';
import { formatReport, reconcileNow } from '../local/reconcile-client';
import { sendSample } from '../local/send';
import { senderFor } from '../local/senders';

const DEFAULT_CONFIG = 'config/local.example.json';

const program = new Command()
  .name('paritysync')
  .description('ParitySync operations CLI')
  .showHelpAfterError();

program
  .command('send')
  .description('Sign a sample event exactly as the source’s provider would and post it to a running edge')
  .argument('<sourceId>', 'a source id from the configuration')
  .option('-t, --type <eventType>', 'event type in the provider’s vocabulary (default: the kind’s first)')
  .option('-u, --url <baseUrl>', 'base URL of the edge', `http://127.0.0.1:${process.env.PORT ?? '3000'}`)
  .addOption(
    new Option('-c, --config <path>', 'configuration file').default(
      process.env.PARITYSYNC_CONFIG ?? DEFAULT_CONFIG,
    ),
  )
  .option('-n, --count <n>', 'how many distinct events to send', (v) => Number.parseInt(v, 10), 1)
  .option('--private-key <pemFile>', 'RSA private key for an rsa-sha256 channel manager')
  .option('--list-types', 'list the event types this source can send, then exit')
  .action(async (sourceId: string, options) => {
    const config = await loadConfigFile(options.config);
    const source = config.sources.find((s) => s.id === sourceId);
    if (!source) {
      throw new ConfigurationError(
        `No source ${JSON.stringify(sourceId)} in ${options.config}. Configured: ${config.sources.map((s) => s.id).join(', ')}`,
      );
    }
    if (options.listTypes) {
      console.log(senderFor(source.kind).sampleTypes.join('\n'));
      return;
    }
    const privateKey = options.privateKey ? readFileSync(options.privateKey, 'utf8') : undefined;
    let failures = 0;
    for (let i = 0; i < options.count; i++) {
      const result = await sendSample({
        baseUrl: options.url,
        source,
        ...(options.type ? { type: options.type } : {}),
        ...(privateKey ? { privateKey } : {}),
      });
      console.log(
        `POST ${result.url} (${source.kind} ${result.type}) → ${result.status} ${JSON.stringify(result.body)}`,
      );
      if (result.status >= 300) failures++;
    }
    if (failures > 0) process.exitCode = 1;
  });

const mappings = program.command('mappings').description('Id mappings, through the read / admin API');

mappings
  .command('put')
  .description(
    'Map a provider’s external id to an internal id, then re-queue the events parked for want of it',
  )
  .argument('<scope>', 'a source id, or * for a mapping every source shares')
  .argument('<entity>', 'property, roomType or ratePlan')
  .argument('<externalId>', 'the id the provider sends')
  .argument('<internalId>', 'the internal id it stands for')
  .option(
    '-p, --property <propertyId>',
    'for a room type whose events name no property: its internal property',
  )
  .option('-u, --url <baseUrl>', 'base URL of the API', `http://127.0.0.1:${process.env.PORT ?? '3000'}`)
  .action(async (scope: string, entity: string, externalId: string, internalId: string, options) => {
    const path = [scope, entity, externalId].map(encodeURIComponent).join('/');
    const response = await fetch(`${String(options.url).replace(/\/$/, '')}/mappings/${path}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ internalId, ...(options.property ? { propertyId: options.property } : {}) }),
    });
    const body = (await response.json()) as {
      error?: string;
      message?: string;
      fields?: { path: string; message: string }[];
      released?: number;
    };
    if (!response.ok) {
      console.error(`${response.status} ${body.error}: ${body.message}`);
      for (const field of body.fields ?? []) console.error(`  - ${field.path}: ${field.message}`);
      process.exitCode = 1;
      return;
    }
    console.log(
      `Mapped ${entity} ${JSON.stringify(externalId)} (scope ${scope}) to ${JSON.stringify(internalId)}; ` +
        `${body.released} parked event(s) queued again.`,
    );
  });

program
  .command('reconcile')
  .description(
    'Run one reconciliation now on the local runtime (poll, measure and correct drift, check parity), with a progress bar',
  )
  .option('-s, --source <sourceId...>', 'only these polled sources (default: every polled source)')
  .option('--dry-run', 'measure and report drift without writing anything')
  .option('--no-parity', 'skip the rate parity check')
  .option('--json', 'print the full report as JSON instead of the summary')
  .option(
    '-u, --url <baseUrl>',
    'base URL of the local runtime',
    `http://127.0.0.1:${process.env.PORT ?? '3000'}`,
  )
  .action(async (options) => {
    const report = await reconcileNow(
      options.url,
      {
        ...(options.source ? { sourceIds: options.source } : {}),
        ...(options.dryRun ? { dryRun: true } : {}),
        parity: options.parity,
      },
      { progress: !options.json },
    );
    console.log(options.json ? JSON.stringify(report, null, 2) : formatReport(report));
    if (report.sources.some((source) => source.outcome === 'failed')) process.exitCode = 1;
  });

program.parseAsync().catch((error: unknown) => {
  if (error instanceof ConfigurationError) console.error(error.message);
  else if (
    error instanceof Error &&
    'cause' in error &&
    (error.cause as { code?: string })?.code === 'ECONNREFUSED'
  ) {
    console.error(`Nothing is listening there. Start the local runtime first with: npm start`);
  } else console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
