import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Imports only run downwards: domain ← shared ← config ← adapters / ledger / queue / state ←
 * ingest / apply / read / reconcile / replay / parity ← lib ← console ← local ← bin. A module may import its own folder and any lower layer: the
 * stack's constructs use the functions' topology, the local runtime reads the stack's deploy configuration, and the
 * CLI entry points drive both.
 */
const LAYERS: Readonly<Record<string, number>> = {
  'lambdas/domain': 0,
  'lambdas/shared': 1,
  'lambdas/config': 2,
  'lambdas/adapters': 3,
  'lambdas/ledger': 3,
  'lambdas/queue': 3,
  'lambdas/state': 3,
  'lambdas/ingest': 4,
  'lambdas/apply': 4,
  'lambdas/read': 4,
  'lambdas/reconcile': 4,
  'lambdas/replay': 4,
  'lambdas/parity': 4,
  lib: 5,
  console: 6,
  local: 7,
  bin: 8,
};

/** Edges allowed between folders of one layer, each with its reason: none today. */
const SIBLING_EDGES: ReadonlySet<string> = new Set<string>();

const root = resolve(__dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

function layerOf(file: string): string {
  const folder = dirname(file).split(sep).join('/');
  const match = Object.keys(LAYERS)
    .filter((layer) => folder === layer || folder.startsWith(`${layer}/`))
    .sort((a, b) => b.length - a.length)[0];
  if (match === undefined) throw new Error(`${file} is in no layer: add its folder to LAYERS`);
  return match;
}

const IMPORT = /(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

function edges(): { from: string; to: string; file: string; spec: string }[] {
  return ['lambdas', 'lib', 'console', 'local', 'bin'].flatMap((dir) =>
    sourceFiles(dir).flatMap((file) =>
      [...readFileSync(join(root, file), 'utf8').matchAll(IMPORT)].map((match) => {
        const spec = match[1] as string;
        const target = resolve(root, dirname(file), spec);
        const isFolder = existsSync(target) && statSync(target).isDirectory();
        const module = relative(
          root,
          isFolder
            ? join(target, 'index.ts')
            : existsSync(`${target}.tsx`)
              ? `${target}.tsx`
              : `${target}.ts`,
        );
        return { from: layerOf(file), to: layerOf(module), file, spec };
      }),
    ),
  );
}

describe('module layering', () => {
  it('puts every lambdas folder in a layer', () => {
    const folders = readdirSync(join(root, 'lambdas'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `lambdas/${entry.name}`);
    expect(folders.filter((folder) => LAYERS[folder] === undefined)).toEqual([]);
  });

  it('has no import from a lower layer to a higher one, nor between sibling folders', () => {
    const offending = edges()
      .filter(({ from, to }) => from !== to)
      .filter(({ from, to }) => {
        const rankFrom = LAYERS[from] as number;
        const rankTo = LAYERS[to] as number;
        return rankTo > rankFrom || (rankTo === rankFrom && !SIBLING_EDGES.has(`${from} -> ${to}`));
      })
      .map(({ file, spec, from, to }) => `${file} imports ${spec} (${from} -> ${to})`);
    expect(offending).toEqual([]);
  });

  it('keeps the console page to HTTP: from outside console/app it imports types, its UI libraries and data alone', () => {
    // A module that imports nothing at run time is data (the ledger's statuses, say): the page may take it as it
    // is, without dragging any of the functions' code into its bundle.
    const importsAtRunTime = (file: string) =>
      [
        ...readFileSync(file, 'utf8').matchAll(
          /^(?:import|export)\s+(type\s+)?[^'";]*\bfrom\s+['"]|^import\s+['"]/gm,
        ),
      ].filter(([, typeOnly]) => !typeOnly).length > 0;
    const outside = sourceFiles('console/app').flatMap((file) =>
      [...readFileSync(join(root, file), 'utf8').matchAll(/^import\s+(type\s+)?[^'"]*['"]([^'"]+)['"]/gm)]
        .filter(([, typeOnly, spec]) => {
          if (typeOnly) return false;
          if (!spec?.startsWith('.')) return !/^(preact|uplot)(\/|$)/.test(spec ?? '');
          const target = resolve(root, dirname(file), spec);
          if (target.startsWith(join(root, 'console/app'))) return false;
          return !existsSync(`${target}.ts`) || importsAtRunTime(`${target}.ts`);
        })
        .map(([, , spec]) => `${file} imports ${spec}`),
    );
    expect(outside).toEqual([]);
  });

  it('keeps the allowed sibling edges in use, so the list cannot go stale', () => {
    const used = new Set(edges().map(({ from, to }) => `${from} -> ${to}`));
    expect([...SIBLING_EDGES].filter((edge) => !used.has(edge))).toEqual([]);
  });
});
