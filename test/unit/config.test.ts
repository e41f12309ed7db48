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
