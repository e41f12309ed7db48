import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runParitySync } from '../../bin/cli/program';
import { freeLoopbackPort } from '../../local/emulators';
import { senderFor } from '../../local/senders';
import { runCli } from '../support/cli';

/**
 * The operations CLI as a function: each run parses, reads its environment and writes its output on its own, and
 * answers its exit code instead of leaving it on the process.
 */

const NOTHING_LISTENING =
  'Start the local runtime with `npm start`, pass --url if it listens elsewhere, or --stack <name> to operate a ' +
  'deployed stack.';

describe('runParitySync', () => {
  it('takes nothing from the run before: its options, its environment and its exit code are its own', async () => {
    const [first, second] = await Promise.all([freeLoopbackPort(), freeLoopbackPort()]);
    const processExitCode = process.exitCode;

    const refused = await runCli(['--url', `http://127.0.0.1:${first}`, '--timeout', '5', 'review', 'list'], {
      env: { PORT: String(second) },
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `Nothing is listening at http://127.0.0.1:${first} (connection refused). ${NOTHING_LISTENING}\n`,
    );

    // No --url: the default address, from this run's PORT rather than the first run's --url.
    const byDefault = await runCli(['review', 'list'], { env: { PORT: String(second) } });
    expect(byDefault.code).toBe(1);
    expect(byDefault.stderr).toBe(
      `Nothing is listening at http://127.0.0.1:${second} (connection refused). ${NOTHING_LISTENING}\n`,
    );

    const listed = await runCli(['send', 'channel-manager-demo', '--list-types'], {
      env: { PARITYSYNC_CONFIG: 'config/local.example.json' },
    });
    expect(listed).toEqual({
      code: 0,
      stdout: `${senderFor('channel-manager').sampleTypes.join('\n')}\n`,
      stderr: '',
    });
    // The configuration file named by the run before is not this run's default.
    const elsewhere = await runCli(['send', 'channel-manager-demo', '--list-types'], {
      env: { PARITYSYNC_CONFIG: 'config/no-such-file.json' },
    });
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain('config/no-such-file.json');

    expect(process.exitCode).toBe(processExitCode);
  });

  it('runs side by side without mixing output', async () => {
    const ports = await Promise.all([freeLoopbackPort(), freeLoopbackPort(), freeLoopbackPort()]);
    const runs = await Promise.all(
      ports.map((port) => runCli(['review', 'list'], { env: { PORT: String(port) } })),
    );
    expect(runs.map((run) => run.stderr)).toEqual(
      ports.map(
        (port) =>
          `Nothing is listening at http://127.0.0.1:${port} (connection refused). ${NOTHING_LISTENING}\n`,
      ),
    );
  });

  it("answers a usage error with code 1 and commander's message, then the command's help, on stderr", async () => {
    const run = await runCli(['deliveries', 'list', '--limit', 'x']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const [message, , usage] = run.stderr.split('\n');
    expect(message).toBe(
      `error: option '--limit <n>' argument 'x' is invalid. "x" is not a page size: give a whole number from 1 ` +
        'to 500, and --all for more.',
    );
    expect(usage).toBe('Usage: paritysync deliveries list [options]');

    const unknown = await runCli(['nonsense']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: unknown command 'nonsense'\n/);

    // A command that needs a subcommand shows its help, on stderr, as a usage error.
    const bare = await runCli(['dlq']);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toMatch(/^Usage: paritysync dlq \[options\] \[command\]\n/);
  });

  it('answers --help with code 0 and the help on stdout', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^Usage: paritysync \[options\] \[command\]\n/);
    // The default address with no PORT in the run's environment, wrapped at 80 columns as no terminal is.
    expect(run.stdout).toMatch(/base URL of the local runtime\s+\(default\s+http:\/\/127\.0\.0\.1:3000\)/);
    expect(run.stdout).toMatch(/\n {2}deliveries {2,}The delivery ledger/);

    const command = await runCli(['help', 'replay']);
    expect(command.code).toBe(0);
    expect(command.stdout).toMatch(/^Usage: paritysync replay \[options\] \[command\]\n/);
  });

  it('serves the console until the caller says stop, then closes it', async () => {
    const api = await freeLoopbackPort();
    const output = collector();
    let stop: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const run = runParitySync(['--url', `http://127.0.0.1:${api}`, 'console', '--port', '0'], {
      stdout: output.stream,
      stderr: output.stream,
      env: {},
      untilStopped: () => stopped,
    });
    const consoleUrl = await new Promise<URL>((found, failed) => {
      const poll = setInterval(() => {
        const url = /: (http:\/\/127\.0\.0\.1:\d+)\/console\n/.exec(output.text())?.[1];
        if (url) {
          clearInterval(poll);
          found(new URL(url));
        }
      }, 10);
      void run.then((code) => {
        clearInterval(poll);
        failed(new Error(`console ended with ${code} before serving: ${output.text()}`));
      });
    });
    expect(output.text()).toBe(
      `Operations console for the local runtime at http://127.0.0.1:${api}: ${consoleUrl.origin}/console\n` +
        'Stop with Ctrl+C.\n',
    );

    // Not the page (built on first request) but a call forwarded to the API, which nothing answers.
    const forwarded = await fetch(new URL('/sources/pms-demo/hold', consoleUrl), {
      method: 'POST',
      body: '{}',
    });
    expect(forwarded.status).toBe(502);
    expect(((await forwarded.json()) as { error: string }).error).toBe('console_forward_failed');

    stop();
    expect(await run).toBe(0);
    await expect(fetch(new URL('/sources', consoleUrl), { method: 'POST' })).rejects.toThrow();
  });
});

function collector(): { readonly stream: Writable; text(): string } {
  let text = '';
  return {
    stream: new Writable({
      decodeStrings: false,
      write(chunk: string, _encoding, done) {
        text += chunk;
        done();
      },
    }),
    text: () => text,
  };
}
