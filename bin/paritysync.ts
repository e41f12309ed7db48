#!/usr/bin/env -S npx tsx
import { Command, Option } from 'commander';
import { ParitySyncError } from '../lambdas/shared/errors';
import { positiveNumber } from './cli/commands/common';
import { registerConsole } from './cli/commands/console';
import { registerDeliveries } from './cli/commands/deliveries';
import { registerDlq } from './cli/commands/dlq';
import { registerMappings } from './cli/commands/mappings';
import { registerParity } from './cli/commands/parity';
import { registerReconcile } from './cli/commands/reconcile';
import { registerReplay } from './cli/commands/replay';
import { registerSend } from './cli/commands/send';
import { registerSources } from './cli/commands/sources';
import { NothingListeningError, TimedOutError } from './cli/errors';
import { defaultLocalUrl } from './cli/target';

const DEFAULT_TIMEOUT_SECONDS = 30;

const program = new Command()
  .name('paritysync')
  .description(
    'ParitySync operations CLI: the local runtime (default, or --url) or a deployed stack (--stack), through ' +
      'the same read / admin API',
  )
  .option('-u, --url <baseUrl>', `base URL of the local runtime (default ${defaultLocalUrl()})`)
  .addOption(
    new Option(
      '--stack <name>',
      'a deployed CloudFormation stack: its ReadApiUrl output, called with SigV4-signed requests',
    ).conflicts('url'),
  )
  .option('--region <region>', "the stack's region (default: AWS_REGION or the profile's)")
  .option('--profile <name>', 'an AWS profile of ~/.aws/config for the credentials (SSO included)')
  .option('--timeout <seconds>', 'how long each API call may take', positiveNumber, DEFAULT_TIMEOUT_SECONDS)
  .showHelpAfterError();

registerDeliveries(program);
registerDlq(program);
registerReplay(program);
registerSources(program);
registerMappings(program);
registerParity(program);
registerReconcile(program);
registerSend(program);
registerConsole(program);

function report(error: unknown): string {
  if (error instanceof ParitySyncError) {
    const fields = (error.fields ?? []).map((field) => `  - ${field.path}: ${field.message}`);
    return [error.message, ...fields].join('\n');
  }
  // A local call that did not go through the API client (send): the same advice.
  if (error instanceof Error && (error.cause as { code?: string } | undefined)?.code === 'ECONNREFUSED') {
    const options = program.opts<{ url?: string }>();
    return new NothingListeningError(options.url ?? defaultLocalUrl()).message;
  }
  if (error instanceof Error && error.name === 'TimeoutError') {
    const options = program.opts<{ url?: string; timeout: number }>();
    return new TimedOutError(options.url ?? defaultLocalUrl(), options.timeout).message;
  }
  return error instanceof Error ? error.message : String(error);
}

program.parseAsync().catch((error: unknown) => {
  console.error(report(error));
  process.exitCode = 1;
});
