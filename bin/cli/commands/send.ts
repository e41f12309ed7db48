import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { loadConfigFile } from '../../../lambdas/config/load';
import { ConfigurationError } from '../../../lambdas/shared/errors';
import { sendSample } from '../../../local/send';
import { senderFor } from '../../../local/senders';
import { TargetOptionsError } from '../errors';
import type { CliSession } from '../io';
import { defaultLocalUrl } from '../target';

const DEFAULT_CONFIG = 'config/local.example.json';

export function registerSend(program: Command, cli: CliSession): void {
  program
    .command('send')
    .description('Sign a sample event exactly as the source’s provider would and post it to a running edge')
    .argument('<sourceId>', 'a source id from the configuration')
    .option('-t, --type <eventType>', 'event type in the provider’s vocabulary (default: the kind’s first)')
    .addOption(
      new Option('-c, --config <path>', 'configuration file').default(
        cli.io.env.PARITYSYNC_CONFIG ?? DEFAULT_CONFIG,
      ),
    )
    .option('-n, --count <n>', 'how many distinct events to send', (v) => Number.parseInt(v, 10), 1)
    .option('--private-key <pemFile>', 'RSA private key for an rsa-sha256 channel manager')
    .option('--list-types', 'list the event types this source can send, then exit')
    .action(async (sourceId: string, options, command: Command) => {
      const globals = command.optsWithGlobals<{ url?: string; stack?: string; timeout: number }>();
      if (globals.stack !== undefined) {
        throw new TargetOptionsError(
          'send_is_local',
          'send signs with the secrets of a local configuration file and posts to a local edge: use --url, not --stack.',
        );
      }
      const config = await loadConfigFile(options.config);
      const source = config.sources.find((s) => s.id === sourceId);
      if (!source) {
        throw new ConfigurationError(
          `No source ${JSON.stringify(sourceId)} in ${options.config}. Configured: ${config.sources.map((s) => s.id).join(', ')}`,
        );
      }
      if (options.listTypes) {
        cli.print(senderFor(source.kind).sampleTypes.join('\n'));
        return;
      }
      const privateKey = options.privateKey ? readFileSync(options.privateKey, 'utf8') : undefined;
      let failures = 0;
      for (let i = 0; i < options.count; i++) {
        const result = await sendSample({
          baseUrl: globals.url ?? defaultLocalUrl(cli.io.env),
          timeoutSeconds: globals.timeout,
          env: cli.io.env,
          source,
          ...(options.type ? { type: options.type } : {}),
          ...(privateKey ? { privateKey } : {}),
        });
        cli.print(
          `POST ${result.url} (${source.kind} ${result.type}) → ${result.status} ${JSON.stringify(result.body)}`,
        );
        if (result.status >= 300) failures++;
      }
      if (failures > 0) cli.fail();
    });
}
