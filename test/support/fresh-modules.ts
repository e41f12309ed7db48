import { afterAll, vi } from 'vitest';

/**
 * Runs before every file of a project whose files share a worker process: each file loads the project's own
 * modules afresh (a local stack sets process.env and then loads the functions, which read it when they load), and
 * leaves process.env as it found it. Packages from node_modules stay loaded: the worker pays for the SDK, zod and
 * Powertools once rather than once per file.
 */
vi.resetModules();

const environment = { ...process.env };

afterAll(() => {
  for (const name of Object.keys(process.env)) {
    if (!(name in environment)) delete process.env[name];
  }
  Object.assign(process.env, environment);
});
