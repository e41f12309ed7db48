import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type { ParitySyncConfig } from '../lambdas/config/schema';
import { assertDeployableConfig } from './deploy-config';

/**
 * The configuration as a function reads it back: already validated (defaults applied), without the
 * editor-only `$schema` pointer.
 */
export function bundledConfigJson(config: ParitySyncConfig): string {
  const { $schema: _schema, ...runtimeConfig } = config;
  return JSON.stringify(runtimeConfig);
}

/**
 * esbuild options shared by every ParitySync function, with the configuration compiled in. Re-checks that the
 * configuration is deployable: whatever is compiled in is readable by anyone who can read the asset.
 */
export function lambdaBundling(config: ParitySyncConfig): nodejs.BundlingOptions {
  assertDeployableConfig(config);
  return {
    minify: true,
    sourceMap: true,
    // Line mappings are enough for stack traces; embedded sources would only enlarge the asset.
    sourcesContent: false,
    format: nodejs.OutputFormat.ESM,
    target: 'node22',
    mainFields: ['module', 'main'],
    externalModules: ['@aws-sdk/*'],
    // CommonJS dependencies bundled into an ES module still call require() for Node built-ins.
    banner:
      "import { createRequire as __paritysyncCreateRequire } from 'node:module';" +
      'const require = __paritysyncCreateRequire(import.meta.url);',
    // Compiled in rather than set as an environment variable: Lambda caps all variables at 4 KB together,
    // which a deployment with many sources (PEM public keys, mapping seeds) exceeds. Secret references only.
    define: { 'process.env.PARITYSYNC_CONFIG_JSON': JSON.stringify(bundledConfigJson(config)) },
  };
}
