import { Command, type CommanderError, Option } from 'commander';
import { ParitySyncError } from '../../lambdas/shared/errors';
import { positiveNumber } from './commands/common';
import { registerConsole } from './commands/console';
import { registerDeliveries } from './commands/deliveries';
import { registerDlq } from './commands/dlq';
import { registerMappings } from './commands/mappings';
import { registerParity } from './commands/parity';
import { registerReconcile } from './commands/reconcile';
import { registerReplay } from './commands/replay';
import { registerSend } from './commands/send';
import { registerSources } from './commands/sources';
import { NothingListeningError, TimedOutError } from './errors';
import { type CliIo, CliSession } from './io';
import { defaultLocalUrl } from './target';

const DEFAULT_TIMEOUT_SECONDS = 30;

/** The global options as commander parsed them, for the messages of a failure. */
interface GlobalOptions {
  readonly url?: string;
  readonly timeout: number;
}

/**
 * Runs the operations CLI once: `argv` are the arguments after the program's name. Answers the exit code and
 * never rejects: a failure is reported on `io.stderr` (usage errors and help as commander words them) with code 1,
 * --help and --version with 0. Each run builds its own program, so runs side by side share nothing.
 */
export async function runParitySync(argv: readonly string[], io: CliIo): Promise<number> {
  const cli = new CliSession(io);
  let exit: CommanderError | undefined;
  const program = new Command()
    // Before any subcommand is declared: each copies these settings when it is.
    .exitOverride((error) => {
      exit = error;
      throw error;
    })
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(text),
      // A terminal's width, else commander's own 80 columns. Colours stay commander's call: the help has none.
      getOutHelpWidth: () => (io.stdout.isTTY ? io.stdout.columns : undefined) ?? 80,
      getErrHelpWidth: () => (io.stderr.isTTY ? io.stderr.columns : undefined) ?? 80,
    })
    .name('paritysync')
    .description(
      'ParitySync operations CLI: the local runtime (default, or --url) or a deployed stack (--stack), through ' +
        'the same read / admin API',
    )
    .option('-u, --url <baseUrl>', `base URL of the local runtime (default ${defaultLocalUrl(io.env)})`)
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

  registerDeliveries(program, cli);
  registerDlq(program, cli);
  registerReplay(program, cli);
  registerSources(program, cli);
  registerMappings(program, cli);
  registerParity(program, cli);
  registerReconcile(program, cli);
  registerSend(program, cli);
  registerConsole(program, cli);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return cli.exitCode;
  } catch (error) {
    // Commander has written its message (or the help) already.
    if (error !== undefined && error === exit) return exit.exitCode;
    cli.tell(report(error, program.opts<GlobalOptions>(), io.env));
    return 1;
  }
}

/** What went wrong, as the operator reads it on stderr: the message, and the fields it names. */
function report(error: unknown, options: GlobalOptions, env: CliIo['env']): string {
  if (error instanceof ParitySyncError) {
    const fields = (error.fields ?? []).map((field) => `  - ${field.path}: ${field.message}`);
    return [error.message, ...fields].join('\n');
  }
  // A local call that did not go through the API client (send): the same advice.
  if (error instanceof Error && (error.cause as { code?: string } | undefined)?.code === 'ECONNREFUSED') {
    return new NothingListeningError(options.url ?? defaultLocalUrl(env)).message;
  }
  if (error instanceof Error && error.name === 'TimeoutError') {
    return new TimedOutError(options.url ?? defaultLocalUrl(env), options.timeout).message;
  }
  return error instanceof Error ? error.message : String(error);
}
