#!/usr/bin/env -S npx tsx
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { loadConfigFile } from '../lambdas/config/load';
import { ConfigurationError } from '../lambdas/shared/errors';
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
