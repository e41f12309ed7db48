import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { startConsoleServer } from '../console-server';
import type { CliSession } from '../io';
import { defaultLocalUrl, openStackOf, targetOptionsOf } from '../target';

const DEFAULT_PORT = 3300;

function port(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > 65_535) {
    throw new InvalidArgumentError(
      `${JSON.stringify(value)} is not a port: give 1 to 65535, or 0 for any free one.`,
    );
  }
  return number;
}

export function registerConsole(program: Command, cli: CliSession): void {
  program
    .command('console')
    .description(
      'Serve the operations console on 127.0.0.1; with --stack its API calls go to the stack, signed with your ' +
        'AWS credentials (IAM decides what they may do)',
    )
    .option(
      '--port <port>',
      `the loopback port to serve on (0 for any free one; default ${DEFAULT_PORT})`,
      port,
    )
    .action(async (flags: { port?: number }, command: Command) => {
      const options = targetOptionsOf(command);
      let apiUrl: string;
      let signer: Parameters<typeof startConsoleServer>[0]['signer'];
      let name: string;
      let context: Parameters<typeof startConsoleServer>[0]['context'];
      if (options.stack === undefined) {
        apiUrl = options.url ?? defaultLocalUrl(cli.io.env);
        name = `the local runtime at ${apiUrl}`;
      } else {
        const stack = await openStackOf({ ...options, stack: options.stack });
        apiUrl = stack.readApiUrl;
        signer = stack.signer;
        name = `stack ${stack.stack} in ${stack.region}`;
        context = {
          stack: stack.stack,
          region: stack.region,
          ...(stack.dashboardUrl === undefined ? {} : { dashboardUrl: stack.dashboardUrl }),
        };
      }
      const server = await startConsoleServer({
        apiUrl,
        ...(signer === undefined ? {} : { signer }),
        ...(context === undefined ? {} : { context }),
        port: flags.port ?? DEFAULT_PORT,
        timeoutSeconds: options.timeout,
      });
      cli.print(`Operations console for ${name}: ${server.url}`);
      cli.print('Stop with Ctrl+C.');
      try {
        await cli.io.untilStopped?.();
      } finally {
        await server.close();
      }
    });
}
