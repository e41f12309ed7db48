import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load';
import { buildAllowlist, effectiveAllowedCidrs, isCidr } from '../../lambdas/config/schema';
import { ConfigurationError } from '../../lambdas/shared/errors';

const STRONG_SECRET = 'EivVh3t6tBFF0Aez+HnplG1SNbXh1jwZrHRBag10EVg=';
const hmacSource = { id: 'cm-1', kind: 'channel-manager', secrets: [{ value: STRONG_SECRET }] };

const ed25519 = generateKeyPairSync('ed25519').publicKey;
const WHPK = `whpk_${ed25519.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64')}`;
const ED25519_PEM = ed25519.export({ format: 'pem', type: 'spki' }).toString();
const rsaPair = (modulusLength: number) =>
  generateKeyPairSync('rsa', {
    modulusLength,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
const RSA_2048 = rsaPair(2048);

function problemsOf(input: unknown): string[] {
  try {
    parseConfig(input);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    return error.problems.map((p) => `${p.path}: ${p.message}`);
  }
}

describe('configuration', () => {
  it('fills defaults for ingest settings and source options', () => {
    const config = parseConfig({ version: 1, sources: [hmacSource] });
    expect(config.ingest).toEqual({ maxBodyBytes: 1_048_576, dedupeWindowDays: 30 });
    expect(config.sources[0]).toMatchObject({ options: { signature: 'hmac-sha256' } });
  });

  it.each([
    [{ version: 2, sources: [hmacSource] }, 'version'],
    [{ version: 1, sources: [] }, 'sources'],
    [{ version: 1, sources: [{ ...hmacSource, id: 'Bad Id' }] }, 'sources[0].id'],
    [{ version: 1, sources: [{ ...hmacSource, kind: 'fax' }] }, 'sources[0].kind'],
    [{ version: 1, sources: [{ ...hmacSource, secrets: [] }] }, 'sources[0].secrets'],
    [
      { version: 1, sources: [{ ...hmacSource, secrets: [{ env: 'has space' }] }] },
      'sources[0].secrets[0].env',
    ],
    [
      { version: 1, sources: [{ ...hmacSource, allowedCidrs: ['10.0.0.0/33'] }] },
      'sources[0].allowedCidrs[0]',
    ],
    [{ version: 1, sources: [hmacSource, hmacSource] }, 'sources[1].id'],
    [
      { version: 1, sources: [{ ...hmacSource, options: { signature: 'rsa-sha256' } }] },
      'sources[0].options.publicKeys',
    ],
    [{ version: 1, sources: [hmacSource], ingest: { maxBodyBytes: 10 } }, 'ingest.maxBodyBytes'],
    [{ version: 1, sources: [{ ...hmacSource, surprise: true }] }, 'sources[0]'],
  ])('names the offending field (%#: %s)', (input, path) => {
    const problems = problemsOf(input);
    expect(
      problems.some((p) => p.startsWith(`${path}:`)),
      problems.join('\n'),
    ).toBe(true);
  });

  it('lets an RSA channel manager or an ed25519 standard-webhooks source go without shared secrets', () => {
    const config = parseConfig({
      version: 1,
      sources: [
        {
          id: 'cm-rsa',
          kind: 'channel-manager',
          options: { signature: 'rsa-sha256', publicKeys: [RSA_2048.publicKey] },
        },
        { id: 'sw', kind: 'standard-webhooks', options: { publicKeys: [WHPK] } },
      ],
    });
    expect(config.sources.map((s) => s.id)).toEqual(['cm-rsa', 'sw']);
  });

  it('applies the published sender range to hospitable sources unless overridden', () => {
    const [hospitable, overridden, open] = parseConfig({
      version: 1,
      sources: [
        { id: 'h', kind: 'hospitable', secrets: [{ value: STRONG_SECRET }] },
        { id: 'h2', kind: 'hospitable', secrets: [{ value: STRONG_SECRET }], allowedCidrs: ['192.0.2.0/24'] },
        { id: 'o', kind: 'ota', secrets: [{ value: STRONG_SECRET }] },
      ],
    }).sources;
    expect(hospitable && effectiveAllowedCidrs(hospitable)).toEqual(['38.80.170.0/24']);
    expect(overridden && effectiveAllowedCidrs(overridden)).toEqual(['192.0.2.0/24']);
    expect(open && effectiveAllowedCidrs(open)).toBeUndefined();
  });
});

describe('allowlists', () => {
  it('matches IPv4 and IPv6 ranges and refuses non-addresses', () => {
    const allowed = buildAllowlist(['38.80.170.0/24', '2001:db8::/32']);
    expect(allowed('38.80.170.1')).toBe(true);
    expect(allowed('38.80.171.1')).toBe(false);
    expect(allowed('2001:db8::1')).toBe(true);
    expect(allowed('2001:db9::1')).toBe(false);
    expect(allowed('not-an-ip')).toBe(false);
  });

  it.each([
    ['38.80.170.0/24', true],
    ['::/0', true],
    ['38.80.170.0', false],
    ['38.80.170.0/33', false],
    ['38.80.170.0/24/1', false],
    ['host.example/24', false],
  ])('isCidr(%s) is %s', (text, valid) => {
    expect(isCidr(text)).toBe(valid);
  });
});

const polling = {
  baseUrl: 'https://api.example.com/v2',
  token: { value: 'polling-token' },
  rateLimit: { requestsPerSecond: 5, burst: 10 },
};

describe('reconciliation configuration', () => {
  it('fills the schedule, budget, drift and parity defaults', () => {
    const config = parseConfig({ version: 1, sources: [hmacSource] });
    expect(config.reconciliation).toEqual({
      scheduleMinutes: 15,
      budgetSeconds: 600,
      drift: { thresholdPercent: 0.5, dryRun: false, recordObserved: true },
      parityHorizonDays: 365,
      workers: 4,
      paritySweepHours: 24,
      auditRetentionDays: 90,
    });
    expect(config.parity).toEqual({ properties: [], defaultTolerance: {} });
  });

  it('refuses fewer than two workers, or a fraction of one, saying what it got', () => {
    for (const workers of [1, 2.5, 1001]) {
      expect(() => parseConfig({ version: 1, sources: [hmacSource], reconciliation: { workers } })).toThrow(
        /reconciliation\.workers/,
      );
    }
    expect(
      parseConfig({ version: 1, sources: [hmacSource], reconciliation: { workers: 8 } }).reconciliation
        .workers,
    ).toBe(8);
  });

  it('fills a polling block with the client and run defaults and leaves the channel to the source id', () => {
    const config = parseConfig({ version: 1, sources: [{ ...hmacSource, polling }] });
    expect(config.sources[0]?.polling).toEqual({
      ...polling,
      pageSize: 200,
      maxAttempts: 6,
      backoff: { baseMs: 200, capMs: 20_000 },
      requestTimeoutMs: 10_000,
      breaker: { failureThreshold: 5, coolDownMs: 60_000 },
      watermarkOverlapSeconds: 300,
      fullPassEveryHours: 24,
    });
  });

  it.each([
    [{ ...polling, baseUrl: 'ftp://api.example.com' }, 'sources[0].polling.baseUrl'],
    [{ ...polling, token: undefined }, 'sources[0].polling.token'],
    [{ ...polling, rateLimit: { requestsPerSecond: 5 } }, 'sources[0].polling.rateLimit.burst'],
    // Strict all the way down: a misspelt nested option is an error, not a silently ignored key.
    [
      { ...polling, rateLimit: { ...polling.rateLimit, perPropertyPerMinite: 10 } },
      'sources[0].polling.rateLimit',
    ],
    [{ ...polling, pageSize: 5000 }, 'sources[0].polling.pageSize'],
    [{ ...polling, channel: 'other-source:CH1' }, 'sources[0].polling.channel'],
    [{ ...polling, fullPassWindowDays: 0 }, 'sources[0].polling.fullPassWindowDays'],
    [{ ...polling, propertyIds: [] }, 'sources[0].polling.propertyIds'],
    [{ ...polling, propertyIds: ['H1', 'H1'] }, 'sources[0].polling.propertyIds'],
    // A per-property quota can only be kept by polling property by property.
    [
      { ...polling, rateLimit: { ...polling.rateLimit, perPropertyPerMinute: 10 } },
      'sources[0].polling.propertyIds',
    ],
  ])('names the offending polling field (%#: %s)', (block, path) => {
    const problems = problemsOf({ version: 1, sources: [{ ...hmacSource, polling: block }] });
    expect(
      problems.some((p) => p.startsWith(`${path}:`)),
      problems.join('\n'),
    ).toBe(true);
  });

  it('accepts a per-property quota with the properties to poll one by one', () => {
    const config = parseConfig({
      version: 1,
      sources: [
        {
          ...hmacSource,
          polling: {
            ...polling,
            rateLimit: { ...polling.rateLimit, perPropertyPerMinute: 10 },
            propertyIds: ['H1'],
          },
        },
      ],
    });
    expect(config.sources[0]?.polling?.propertyIds).toEqual(['H1']);
  });

  it('accepts a channel of the polled source, such as a channel manager channel', () => {
    const config = parseConfig({
      version: 1,
      sources: [{ ...hmacSource, polling: { ...polling, channel: 'cm-1:CH9' } }],
    });
    expect(config.sources[0]?.polling?.channel).toBe('cm-1:CH9');
  });

  it.each([
    [{ reconciliation: { scheduleMinutes: 481 } }, 'reconciliation.scheduleMinutes'],
    [{ reconciliation: { budgetSeconds: 900 } }, 'reconciliation.budgetSeconds'],
    [{ reconciliation: { drift: { thresholdPercent: 101 } } }, 'reconciliation.drift.thresholdPercent'],
    [
      { parity: { properties: [{ propertyId: 'h1', sourceOfTruth: 'nobody' }] } },
      'parity.properties[0].sourceOfTruth',
    ],
    [
      {
        parity: {
          properties: [
            { propertyId: 'h1', sourceOfTruth: 'cm-1' },
            { propertyId: 'h1', sourceOfTruth: 'cm-1:CH1' },
          ],
        },
      },
      'parity',
    ],
    [{ parity: { defaultTolerance: { percent: -1 } } }, 'parity.defaultTolerance.percent'],
  ])('names the offending reconciliation or parity field (%#: %s)', (section, path) => {
    const problems = problemsOf({ version: 1, sources: [hmacSource], ...section });
    expect(
      problems.some((p) => p.startsWith(`${path}:`)),
      problems.join('\n'),
    ).toBe(true);
  });

  it('names the configured sources when a parity source of truth names none of them', () => {
    const problems = problemsOf({
      version: 1,
      sources: [hmacSource],
      parity: { properties: [{ propertyId: 'h1', sourceOfTruth: 'cm-2' }] },
    });
    expect(problems.join('\n')).toContain('known: cm-1');
  });
});

describe('reconciliation schedule', () => {
  it('refuses a budget whose run would not end before the next one is due, naming both settings', () => {
    const problems = problemsOf({
      version: 1,
      sources: [hmacSource],
      reconciliation: { scheduleMinutes: 5, budgetSeconds: 600 },
    });
    expect(problems).toEqual([
      expect.stringMatching(/^reconciliation\.budgetSeconds: .*at most 240 or raise scheduleMinutes/),
    ]);
  });

  it('accepts a budget that ends, with its margin, exactly when the next run is due', () => {
    const config = parseConfig({
      version: 1,
      sources: [hmacSource],
      reconciliation: { scheduleMinutes: 5, budgetSeconds: 240 },
    });
    expect(config.reconciliation.budgetSeconds).toBe(240);
  });
});

function configurationError(input: unknown): ConfigurationError {
  try {
    parseConfig(input);
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

const whsec = (bytes: number) => `whsec_${Buffer.alloc(bytes, 0xa7).toString('base64')}`;

describe('signing secret strength', () => {
  it.each(['channel-manager', 'ota', 'pms', 'mapping', 'hospitable'])(
    'refuses a %s secret shorter than 32 characters, naming its length and never its value',
    (kind) => {
      const weak = 'hunter2-correct-horse-battery-9';
      const error = configurationError({
        version: 1,
        sources: [{ id: 's', kind, secrets: [{ value: weak }] }],
      });
      expect(error.problems).toEqual([
        {
          path: 'sources[0].secrets[0].value',
          message: expect.stringMatching(/^is 31 characters long; .*at least 32 .*openssl rand -base64 32/),
        },
      ]);
      expect(error.message).not.toContain(weak);
      expect(JSON.stringify(error.cause)).not.toContain(weak);
      const strong = parseConfig({
        version: 1,
        sources: [{ id: 's', kind, secrets: [{ value: `${weak}x` }] }],
      });
      expect(strong.sources[0]?.secrets).toEqual([{ value: `${weak}x` }]);
    },
  );

  it('refuses a one-character secret and a one-byte whsec_ key', () => {
    const problems = problemsOf({
      version: 1,
      sources: [
        { id: 'ota', kind: 'ota', secrets: [{ value: 'x' }] },
        { id: 'sw', kind: 'standard-webhooks', secrets: [{ value: whsec(1) }] },
      ],
    });
    expect(problems).toEqual([
      expect.stringMatching(/^sources\[0\]\.secrets\[0\]\.value: is 1 character long;/),
      expect.stringMatching(
        /^sources\[1\]\.secrets\[0\]\.value: decodes to 1 byte; .*at least 24 random bytes/,
      ),
    ]);
  });

  it('accepts a whsec_ secret of 24 or more bytes, with or without its prefix', () => {
    const secrets = [whsec(24), whsec(64), whsec(32).slice('whsec_'.length)].map((value) => ({ value }));
    const config = parseConfig({ version: 1, sources: [{ id: 'sw', kind: 'standard-webhooks', secrets }] });
    expect(config.sources[0]?.secrets).toEqual(secrets);
  });

  it.each([
    ['23 bytes', whsec(23), /^decodes to 23 bytes; /],
    [
      'not base64',
      'whsec_not base64 at all!!',
      /^is not "whsec_" followed by base64 \(received 25 characters;/,
    ],
    ['a trailing line break', `${whsec(32)}\n`, /^is not "whsec_" followed by base64/],
    [
      'base64url',
      `whsec_${Buffer.alloc(32, 0xfb).toString('base64url')}`,
      /^is not "whsec_" followed by base64/,
    ],
    ['the prefix alone', 'whsec_', /^is not "whsec_" followed by base64/],
  ])('refuses a standard-webhooks secret of %s, saying how to generate one', (_what, value, message) => {
    const error = configurationError({
      version: 1,
      sources: [{ id: 'sw', kind: 'standard-webhooks', secrets: [{ value }] }],
    });
    expect(error.problems).toEqual([
      { path: 'sources[0].secrets[0].value', message: expect.stringMatching(message) },
    ]);
    expect(error.problems[0]?.message).toContain('echo "whsec_$(openssl rand -base64 32)"');
  });

  it('accepts Ed25519 public keys as whpk_, bare base64 or PEM, and refuses anything else', () => {
    const source = (publicKeys: string[]) => ({
      id: 'sw',
      kind: 'standard-webhooks',
      options: { publicKeys },
    });
    const config = parseConfig({
      version: 1,
      sources: [source([WHPK, WHPK.slice('whpk_'.length), ED25519_PEM])],
    });
    expect(config.sources[0]?.options).toEqual({
      publicKeys: [WHPK, WHPK.slice('whpk_'.length), ED25519_PEM],
    });

    const problems = problemsOf({
      version: 1,
      sources: [source([`whpk_${Buffer.alloc(31, 1).toString('base64')}`, 'whpk_abc', RSA_2048.publicKey])],
    });
    expect(problems).toEqual([
      expect.stringMatching(/^sources\[0\]\.options\.publicKeys\[0\]: decodes to 31 bytes; .*exactly 32/),
      expect.stringMatching(/^sources\[0\]\.options\.publicKeys\[1\]: is not "whpk_" followed by base64/),
      expect.stringMatching(/^sources\[0\]\.options\.publicKeys\[2\]: is a PEM rsa key; /),
    ]);
  });

  it('refuses an rsa-sha256 key under 2048 bits, one that is not a PEM public key, and a private key', () => {
    const problems = problemsOf({
      version: 1,
      sources: [
        {
          id: 'cm',
          kind: 'channel-manager',
          options: {
            signature: 'rsa-sha256',
            publicKeys: [rsaPair(1024).publicKey, '-----BEGIN…', RSA_2048.privateKey, ED25519_PEM],
          },
        },
      ],
    });
    expect(problems).toEqual([
      expect.stringMatching(/^sources\[0\]\.options\.publicKeys\[0\]: is a 1024-bit RSA key; at least 2048/),
      expect.stringMatching(/^sources\[0\]\.options\.publicKeys\[1\]: is not a readable PEM public key/),
      expect.stringMatching(/^sources\[0\]\.options\.publicKeys\[2\]: is not a readable PEM public key/),
      expect.stringMatching(/^sources\[0\]\.options\.publicKeys\[3\]: is a PEM ed25519 key/),
    ]);
    expect(problems.join('\n')).not.toContain('PRIVATE KEY');
  });

  it('leaves secrets read from Secrets Manager or the environment to be checked when they are read', () => {
    const config = parseConfig({
      version: 1,
      sources: [
        { id: 'ota', kind: 'ota', secrets: [{ secretsManager: 'paritysync/ota' }, { env: 'OTA_SECRET' }] },
      ],
    });
    expect(config.sources[0]?.secrets).toHaveLength(2);
  });

  it('says which shapes a secret reference may take', () => {
    expect(
      problemsOf({ version: 1, sources: [{ ...hmacSource, secrets: [{ valeu: STRONG_SECRET }] }] }),
    ).toEqual([
      expect.stringMatching(
        /^sources\[0\]\.secrets\[0\]: must be one of \{ "secretsManager": .*\{ "env": .*\{ "value": /,
      ),
    ]);
  });
});

describe('every problem at once', () => {
  it('reports four independent errors in one file: an unknown option, a weak secret, a bad tolerance, a duplicate id', () => {
    const error = configurationError({
      version: 1,
      sources: [
        {
          id: 'cm',
          kind: 'channel-manager',
          secrets: [{ value: STRONG_SECRET }],
          options: { signatur: 'rsa-sha256' },
        },
        { id: 'ota', kind: 'ota', secrets: [{ value: 'short' }] },
        { id: 'pms', kind: 'pms', secrets: [{ value: STRONG_SECRET }], toleranceSeconds: 1.5 },
        { id: 'cm', kind: 'mapping', secrets: [{ value: STRONG_SECRET }] },
      ],
    });
    expect(error.problems.map((p) => p.path)).toEqual([
      'sources[0].options',
      'sources[1].secrets[0].value',
      'sources[2].toleranceSeconds',
      'sources[3].id',
    ]);
    expect(error.problems[2]?.message).toBe('must be a whole number; received 1.5');
    for (const { path } of error.problems) expect(error.message).toContain(`  - ${path}: `);
  });

  it('still checks fields against each other when others have the wrong type or an unknown value', () => {
    const problems = problemsOf({
      version: 1,
      sources: [
        {
          id: 'cm',
          kind: 'channel-manager',
          secrets: [{ value: STRONG_SECRET }],
          options: { signature: 'ed25519' },
        },
        { id: 'pms', kind: 'pms', secrets: [{ value: STRONG_SECRET }], toleranceSeconds: '300' },
        { id: 'cm', kind: 'fax' },
        { id: 'ota', kind: 'ota', polling: { ...polling, channel: 'elsewhere' } },
      ],
      reconciliation: { scheduleMinutes: 5 },
      parity: { properties: [{ propertyId: 'h1', sourceOfTruth: 'nobody' }] },
    }).map((p) => p.slice(0, p.indexOf(':')));
    expect(problems.sort()).toEqual(
      [
        'sources[0].options.signature',
        'sources[1].toleranceSeconds',
        'sources[2].kind',
        'sources[2].id',
        'sources[3].secrets',
        'sources[3].polling.channel',
        'reconciliation.budgetSeconds',
        'parity.properties[0].sourceOfTruth',
      ].sort(),
    );
  });

  it('does not repeat a field in error as a cross-field problem', () => {
    const problems = problemsOf({
      version: 1,
      sources: [hmacSource],
      reconciliation: { scheduleMinutes: 5, budgetSeconds: 900 },
    });
    expect(problems).toEqual([expect.stringMatching(/^reconciliation\.budgetSeconds: Too big/)]);
  });
});
