import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load';
import { buildAllowlist, effectiveAllowedCidrs, isCidr } from '../../lambdas/config/schema';
import { ConfigurationError } from '../../lambdas/shared/errors';

const hmacSource = { id: 'cm-1', kind: 'channel-manager', secrets: [{ value: 's3cret' }] };

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
          options: { signature: 'rsa-sha256', publicKeys: ['-----BEGIN…'] },
        },
        { id: 'sw', kind: 'standard-webhooks', options: { publicKeys: ['whpk_abc'] } },
      ],
    });
    expect(config.sources.map((s) => s.id)).toEqual(['cm-rsa', 'sw']);
  });

  it('applies the published sender range to hospitable sources unless overridden', () => {
    const [hospitable, overridden, open] = parseConfig({
      version: 1,
      sources: [
        { id: 'h', kind: 'hospitable', secrets: [{ value: 'x' }] },
        { id: 'h2', kind: 'hospitable', secrets: [{ value: 'x' }], allowedCidrs: ['192.0.2.0/24'] },
        { id: 'o', kind: 'ota', secrets: [{ value: 'x' }] },
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
      auditRetentionDays: 90,
    });
    expect(config.parity).toEqual({ properties: [], defaultTolerance: {} });
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
