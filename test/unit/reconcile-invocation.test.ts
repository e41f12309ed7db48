import { describe, expect, it } from 'vitest';
import { InvalidInvocationError, parseInvocation } from '../../lambdas/reconcile/invocation';
import { InvalidRequestError } from '../../lambdas/shared/errors';

function rejection(payload: unknown): InvalidInvocationError {
  try {
    parseInvocation(payload);
  } catch (error) {
    if (error instanceof InvalidInvocationError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(payload)} to be rejected`);
}

describe('parseInvocation', () => {
  it('reads {} (and a missing payload) as a run of everything with the configured defaults', () => {
    expect(parseInvocation({})).toEqual({});
    expect(parseInvocation(undefined)).toEqual({});
    expect(parseInvocation(null)).toEqual({});
  });

  it("accepts the schedule's fixed input", () => {
    expect(parseInvocation({ trigger: 'schedule' })).toEqual({});
  });

  it('passes manual options through', () => {
    expect(
      parseInvocation({ trigger: 'manual', sourceIds: ['ota-a', 'cm'], dryRun: true, parity: false }),
    ).toEqual({ sourceIds: ['ota-a', 'cm'], dryRun: true, parity: false });
    expect(parseInvocation({ dryRun: false })).toEqual({ dryRun: false });
    expect(parseInvocation({ parity: true })).toEqual({ parity: true });
  });

  it.each([
    {
      name: 'a misspelt option',
      payload: { sourceID: ['ota-a'] },
      path: '(root)',
      message: /Unrecognized key: "sourceID"/,
    },
    {
      name: 'the full scheduled event instead of the fixed input',
      payload: { 'detail-type': 'Scheduled Event', source: 'aws.events' },
      path: '(root)',
      message: /"detail-type".*"source"/,
    },
    { name: 'an empty source list', payload: { sourceIds: [] }, path: 'sourceIds', message: />=1 items/ },
    {
      name: 'an empty source id',
      payload: { sourceIds: ['ota-a', ''] },
      path: 'sourceIds[1]',
      message: />=1/,
    },
    {
      name: 'sourceIds as a string',
      payload: { sourceIds: 'ota-a' },
      path: 'sourceIds',
      message: /expected array, received string/,
    },
    {
      name: 'a non-string id',
      payload: { sourceIds: [7] },
      path: 'sourceIds[0]',
      message: /expected string/,
    },
    {
      name: 'dryRun as a string',
      payload: { dryRun: 'yes' },
      path: 'dryRun',
      message: /expected boolean, received string/,
    },
    { name: 'parity as a number', payload: { parity: 1 }, path: 'parity', message: /expected boolean/ },
    {
      name: 'an unknown trigger',
      payload: { trigger: 'cron' },
      path: 'trigger',
      message: /"schedule"\|"manual"/,
    },
    { name: 'a string', payload: 'reconcile', path: '(root)', message: /expected object, received string/ },
    { name: 'an array', payload: [], path: '(root)', message: /expected object, received array/ },
  ])('rejects $name naming the field', ({ payload, path, message }) => {
    const error = rejection(payload);
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.code).toBe('invalid_invocation');
    expect(error.fields).toHaveLength(1);
    expect(error.fields[0]?.path).toBe(path);
    expect(error.fields[0]?.message).toMatch(message);
    expect(error.message).toContain(`${path}: `);
    expect(error.message).toContain('Send {}');
    expect(error.toBody()).toMatchObject({ error: 'invalid_invocation', fields: error.fields });
  });

  it('names every wrong field at once', () => {
    const error = rejection({ sourceIds: [], dryRun: 'no', extra: 1 });
    expect(error.fields.map((field) => field.path).sort()).toEqual(['(root)', 'dryRun', 'sourceIds']);
  });
});
