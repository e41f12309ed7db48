import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfig } from '../../lambdas/config/load';
import { effectiveAllowedCidrs, type ParitySyncConfigInput, SOURCE_KINDS } from '../../lambdas/config/schema';
import { ConfigurationError } from '../../lambdas/shared/errors';
import { assertDeployableConfig, referencedSecrets, secretGrantTarget } from '../../lib/deploy-config';
import { bundledConfigJson } from '../../lib/ingest-api';
import { webhookOutputIds } from '../../lib/paritysync-stack';
import { COMPLETE_SECRET_ARN, PARTIAL_SECRET_ARN, TEST_CONFIG } from './app';

function configWith(secrets: ParitySyncConfigInput['sources'][number]['secrets']) {
  return parseConfig({
    version: 1,
    sources: [
      { id: 'ota', kind: 'ota', secrets: [{ secretsManager: 'paritysync/ota/signing-secret' }] },
      { id: 'pms', kind: 'pms', secrets },
    ],
  });
}

function deployError(config: ReturnType<typeof configWith>): ConfigurationError {
  try {
    assertDeployableConfig(config);
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error('expected assertDeployableConfig to refuse the configuration');
}

describe('assertDeployableConfig', () => {
  it('accepts Secrets Manager references by name, complete ARN and partial ARN', () => {
    expect(() =>
      assertDeployableConfig(
        configWith([
          { secretsManager: 'paritysync/pms/signing-secret' },
          { secretsManager: COMPLETE_SECRET_ARN },
          { secretsManager: PARTIAL_SECRET_ARN },
        ]),
      ),
    ).not.toThrow();
  });

  it('refuses an inline value, naming the field and never repeating the value', () => {
    const error = deployError(
      configWith([{ secretsManager: 'paritysync/pms/a' }, { value: 'whsec_topsecret-9fQ2vX7bN4mK1pR8sT6' }]),
    );
    expect(error.problems.map((p) => p.path)).toEqual(['sources[1].secrets[1]']);
    expect(error.message).toContain('sources[1].secrets[1]');
    expect(error.message).toContain('secretsManager');
    expect(error.message).not.toContain('whsec_topsecret');
  });

  it('refuses an environment variable reference, naming the field and the variable', () => {
    const error = deployError(configWith([{ env: 'PMS_SIGNING_SECRET' }]));
    expect(error.problems).toEqual([
      { path: 'sources[1].secrets[0]', message: expect.stringContaining('PMS_SIGNING_SECRET') },
    ]);
  });

  it('reports every offending secret at once', () => {
    const error = deployError(configWith([{ env: 'A' }, { value: 'b'.repeat(32) }]));
    expect(error.problems.map((p) => p.path)).toEqual(['sources[1].secrets[0]', 'sources[1].secrets[1]']);
  });

  it('refuses an ARN that is not a Secrets Manager secret ARN', () => {
    const error = deployError(
      configWith([{ secretsManager: 'arn:aws:ssm:eu-west-1:111122223333:parameter/x' }]),
    );
    expect(error.problems.map((p) => p.path)).toEqual(['sources[1].secrets[0]']);
    expect(error.message).toContain('arn:aws:ssm:eu-west-1:111122223333:parameter/x');
  });
});

describe('secretGrantTarget', () => {
  it('leaves a name to be formatted in the stack account and region', () => {
    expect(secretGrantTarget('paritysync/ota/signing-secret')).toEqual({
      by: 'name',
      name: 'paritysync/ota/signing-secret',
    });
  });

  it('grants a partial ARN with the wildcard for the random suffix', () => {
    const arn = 'arn:aws-us-gov:secretsmanager:us-gov-west-1:111122223333:secret:x/signing-key';
    expect(secretGrantTarget(arn)).toEqual({ by: 'arn', resourceArns: [`${arn}-??????`] });
    expect(secretGrantTarget(PARTIAL_SECRET_ARN)).toEqual({
      by: 'arn',
      resourceArns: [`${PARTIAL_SECRET_ARN}-??????`],
    });
  });

  it('grants both readings of an ARN that may already end in a random suffix', () => {
    expect(secretGrantTarget(COMPLETE_SECRET_ARN)).toEqual({
      by: 'arn',
      resourceArns: [COMPLETE_SECRET_ARN, `${COMPLETE_SECRET_ARN}-??????`],
    });
    // "-secret" has the shape of a suffix, yet this is the partial ARN of a secret named ".../signing-secret".
    const partial = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:paritysync/ota/signing-secret';
    expect(secretGrantTarget(partial)).toEqual({ by: 'arn', resourceArns: [partial, `${partial}-??????`] });
  });

  it('throws a ConfigurationError for a malformed ARN', () => {
    expect(() => secretGrantTarget('arn:aws:secretsmanager:eu-west-1:123:secret:x')).toThrow(
      ConfigurationError,
    );
  });
});

describe('referencedSecrets', () => {
  it('lists each referenced secret once, in order of first use', () => {
    expect(referencedSecrets(TEST_CONFIG)).toEqual([
      'paritysync/hospitable/signing-secret',
      'paritysync/pms/signing-secret',
      COMPLETE_SECRET_ARN,
      'paritysync/shared/rotation',
      PARTIAL_SECRET_ARN,
    ]);
  });
});

describe('bundledConfigJson', () => {
  it('round-trips through the runtime parser to the same configuration, without $schema', () => {
    const config = parseConfig({ $schema: './paritysync.schema.json', ...TEST_CONFIG });
    const json = bundledConfigJson(config);
    expect(JSON.parse(json)).not.toHaveProperty('$schema');
    const { $schema: _schema, ...expected } = config;
    expect(parseConfig(JSON.parse(json))).toEqual(expected);
  });
});

describe('webhookOutputIds', () => {
  it('derives PascalCase output ids from source ids', () => {
    expect(webhookOutputIds(['hospitable', 'pms-main', 'channel-manager-2'])).toEqual(
      new Map([
        ['hospitable', 'WebhookUrlHospitable'],
        ['pms-main', 'WebhookUrlPmsMain'],
        ['channel-manager-2', 'WebhookUrlChannelManager2'],
      ]),
    );
  });

  it('disambiguates ids that collapse to the same form, independently of order', () => {
    const forward = webhookOutputIds(['a-1', 'a1', 'b']);
    const backward = webhookOutputIds(['b', 'a1', 'a-1']);
    expect(new Set(forward.values()).size).toBe(3);
    expect(forward.get('a-1')).toMatch(/^WebhookUrlA1[0-9a-f]{8}$/);
    expect(forward.get('a-1')).not.toBe(forward.get('a1'));
    expect(forward.get('b')).toBe('WebhookUrlB');
    expect([...backward.entries()].sort()).toEqual([...forward.entries()].sort());
  });
});

describe('config/aws.example.json', () => {
  const examplePath = join(__dirname, '..', '..', 'config', 'aws.example.json');

  it('is a valid, deployable configuration with one source of every kind', async () => {
    const config = await loadConfigFile(examplePath);
    expect(() => assertDeployableConfig(config)).not.toThrow();
    expect(config.sources.map((s) => s.kind).sort()).toEqual([...SOURCE_KINDS].sort());
    for (const source of config.sources) {
      expect(source.secrets).toEqual([{ secretsManager: `paritysync/${source.id}/webhook-signing` }]);
    }
  });

  it('shows both kinds of allowlist: a published default and explicit ranges', async () => {
    const config = await loadConfigFile(examplePath);
    const byId = new Map(config.sources.map((s) => [s.id, s]));
    const hospitable = byId.get('hospitable');
    const pms = byId.get('pms');
    expect(hospitable && effectiveAllowedCidrs(hospitable)).toEqual(['38.80.170.0/24']);
    expect(pms?.allowedCidrs?.length).toBeGreaterThan(0);
  });
});
