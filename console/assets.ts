import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { ConsoleContext } from './context';

/**
 * The operations console's static assets: one HTML page, one script and one style sheet, built from console/app
 * with esbuild in memory. The console is a single page that talks to the read / admin API on its own origin, so
 * whatever serves these three paths next to that API (the local runtime, `paritysync console`) serves it whole.
 * A fourth, `context.json`, tells the page where it runs (see ConsoleContext): each server gives its own.
 */

export const CONSOLE_PATH = '/console';
export const CONSOLE_CONTEXT_PATH = `${CONSOLE_PATH}/context.json`;

export interface ConsoleAsset {
  readonly contentType: string;
  readonly body: Buffer;
}

const APP_DIR = join(__dirname, 'app');

/** Every path the console is served under, each with its asset. */
export const CONSOLE_PATHS = [
  CONSOLE_PATH,
  `${CONSOLE_PATH}/`,
  `${CONSOLE_PATH}/app.js`,
  `${CONSOLE_PATH}/app.css`,
  CONSOLE_CONTEXT_PATH,
] as const;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ParitySync console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${CONSOLE_PATH}/app.css">
</head>
<body>
<div id="app"><p class="loading">Loading the ParitySync console…</p></div>
<noscript>The ParitySync console needs JavaScript.</noscript>
<script src="${CONSOLE_PATH}/app.js" defer></script>
</body>
</html>
`;

let built: Promise<ReadonlyMap<string, ConsoleAsset>> | undefined;

/**
 * Built once, on first use, so that starting the runtime does not wait for it; a failed build is not cached,
 * so that the next request tries again.
 */
export function consoleAssets(): Promise<ReadonlyMap<string, ConsoleAsset>> {
  built ??= buildAssets().catch((error: unknown) => {
    built = undefined;
    throw error;
  });
  return built;
}

/** The asset served at `path`, or undefined when the path is not the console's; `context` is what its server says. */
export async function consoleAsset(
  path: string,
  context: ConsoleContext = {},
): Promise<ConsoleAsset | undefined> {
  if (path === CONSOLE_CONTEXT_PATH) {
    return { contentType: 'application/json', body: Buffer.from(JSON.stringify(context)) };
  }
  return (await consoleAssets()).get(path);
}

async function buildAssets(): Promise<ReadonlyMap<string, ConsoleAsset>> {
  const result = await build({
    entryPoints: [join(APP_DIR, 'main.tsx')],
    absWorkingDir: APP_DIR,
    bundle: true,
    minify: true,
    write: false,
    outdir: 'out',
    entryNames: 'app',
    format: 'iife',
    platform: 'browser',
    target: ['es2022'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'silent',
    tsconfig: join(APP_DIR, 'tsconfig.json'),
  });
  const output = (extension: string) => {
    const file = result.outputFiles.find((candidate) => candidate.path.endsWith(extension));
    if (!file) throw new Error(`The console build produced no ${extension} file`);
    return Buffer.from(file.contents);
  };
  const html = { contentType: 'text/html; charset=utf-8', body: Buffer.from(PAGE) };
  return new Map<string, ConsoleAsset>([
    [CONSOLE_PATH, html],
    [`${CONSOLE_PATH}/`, html],
    [`${CONSOLE_PATH}/app.js`, { contentType: 'text/javascript; charset=utf-8', body: output('.js') }],
    [`${CONSOLE_PATH}/app.css`, { contentType: 'text/css; charset=utf-8', body: output('.css') }],
  ]);
}

/** Answers with an asset; built from source at each start, so never kept stale by a browser across restarts. */
export function sendConsoleAsset(response: ServerResponse, asset: ConsoleAsset): void {
  response
    .writeHead(200, {
      'content-type': asset.contentType,
      'content-length': asset.body.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    })
    .end(asset.body);
}
