import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load';
import { ConfigurationError } from '../../lambdas/shared/errors';

const source = {
  id: 'ota-1',
  kind: 'ota',
  secrets: [{ value: '/Ni74w2/Vt7pImw7NaIgGnU3JC3LFocm6JUdA62usgc=' }],
};

function problemsOf(rejections: unknown): string[] {
  try {
    parseConfig({ version: 1, sources: [source], rejections });
    return [];
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    return error.problems.map((p) => p.path);
  }
}

describe('rejections settings', () => {
  it('default to 10 records per source and second, kept 7 days, whether the block is absent or partial', () => {
    expect(parseConfig({ version: 1, sources: [source] }).rejections).toEqual({
      recordsPerSecond: 10,
      retentionDays: 7,
    });
    expect(
      parseConfig({ version: 1, sources: [source], rejections: { retentionDays: 30 } }).rejections,
    ).toEqual({
      recordsPerSecond: 10,
      retentionDays: 30,
    });
  });

  it.each([
    [{ recordsPerSecond: 0 }, 'rejections.recordsPerSecond'],
    [{ recordsPerSecond: 1001 }, 'rejections.recordsPerSecond'],
    [{ recordsPerSecond: 2.5 }, 'rejections.recordsPerSecond'],
    [{ retentionDays: 0 }, 'rejections.retentionDays'],
    [{ retentionDays: 366 }, 'rejections.retentionDays'],
    [{ keepBodies: true }, 'rejections'],
  ])('refuses %j, naming %s', (rejections, path) => {
    expect(problemsOf(rejections)).toEqual([path]);
  });
});
