import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/config/load';
import { READ_API_ROUTES } from '../../lambdas/shared/topology';
import { operatorRouteResources } from '../../lib/ingest-api';
import { ACCOUNT, logicalId, synthStack, TEST_CONFIG_INPUT } from './app';
import { toArray } from './iam';

type Statement = {
  Sid?: string;
  Effect: string;
  Action: string;
  Resource: string | string[];
  Principal: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

const READER = `arn:aws:iam::${ACCOUNT}:role/paritysync-reader`;
const ADMIN = `arn:aws:iam::${ACCOUNT}:role/ops/paritysync-admin-*`;

let statements: Statement[];

beforeAll(() => {
  const config = parseConfig({
    ...TEST_CONFIG_INPUT,
    apiAccess: { readRoles: [READER], adminRoles: [ADMIN] },
  });
  const { stack, template } = synthStack({ config });
  const api = template.toJSON().Resources[logicalId(stack.ingest.api)] as {
    Properties: { Policy: { Statement: Statement[] } };
  };
  statements = api.Properties.Policy.Statement;
});

const bySid = (sid: string) => {
  const statement = statements.find((s) => s.Sid === sid);
  if (!statement) throw new Error(`no statement ${sid}`);
  return statement;
};

/** Whether a policy resource pattern matches a requested ARN suffix, as IAM compares them. */
const matches = (pattern: string, requested: string) =>
  new RegExp(`^${pattern.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`).test(requested);

describe('read and admin roles in the API resource policy', () => {
  it('classifies every GET route as read and every other method as admin, so new routes fall in place', () => {
    const read = operatorRouteResources('read');
    const admin = operatorRouteResources('admin');
    expect(read.length + admin.length).toBe(READ_API_ROUTES.length);
    for (const route of READ_API_ROUTES) {
      const requested = `execute-api:/v1/${route.method}${route.resource.replace(/\{[^}]+\}/g, 'x')}`;
      const [mine, other] = route.method === 'GET' ? [read, admin] : [admin, read];
      expect(
        mine.some((pattern) => matches(pattern, requested)),
        requested,
      ).toBe(true);
      expect(
        other.some((pattern) => matches(pattern, requested)),
        requested,
      ).toBe(false);
    }
    // Mapping changes, hold and resume, DLQ redrive and delete are admin.
    for (const requested of [
      'PUT/mappings/pms-main/property/ext-1',
      'POST/sources/pms-main/hold',
      'POST/sources/pms-main/resume',
      'POST/dlq/events/redrive',
      'POST/dlq/events/delete',
    ]) {
      expect(
        admin.some((pattern) => matches(pattern, `execute-api:/v1/${requested}`)),
        requested,
      ).toBe(true);
    }
  });

  it('lets the read and admin roles read, and denies the read routes to every other principal', () => {
    const allow = bySid('AllowReaders');
    const deny = bySid('DenyOthersReaders');
    for (const statement of [allow, deny]) {
      expect(statement.Action).toBe('execute-api:Invoke');
      expect(statement.Principal).toEqual({ AWS: '*' });
      expect(toArray(statement.Resource).sort()).toEqual(operatorRouteResources('read').sort());
    }
    expect(allow.Effect).toBe('Allow');
    expect(allow.Condition).toEqual({ StringLike: { 'aws:PrincipalArn': [READER, ADMIN] } });
    expect(deny.Effect).toBe('Deny');
    expect(deny.Condition).toEqual({ StringNotLike: { 'aws:PrincipalArn': [READER, ADMIN] } });
  });

  it('lets only the admin roles call the admin routes: a reader is denied them', () => {
    const allow = bySid('AllowAdmins');
    const deny = bySid('DenyOthersAdmins');
    for (const statement of [allow, deny]) {
      expect(toArray(statement.Resource).sort()).toEqual(operatorRouteResources('admin').sort());
    }
    expect(allow.Condition).toEqual({ StringLike: { 'aws:PrincipalArn': [ADMIN] } });
    expect(deny.Effect).toBe('Deny');
    expect(deny.Condition).toEqual({ StringNotLike: { 'aws:PrincipalArn': [ADMIN] } });
  });

  it('never touches the public webhook route with a role condition', () => {
    for (const statement of statements.filter((s) => JSON.stringify(s).includes('aws:PrincipalArn'))) {
      expect(toArray(statement.Resource).filter((r) => r.includes('/webhooks/'))).toEqual([]);
    }
  });
});

describe('apiAccess configuration', () => {
  it('defaults to no roles: the routes stay with IAM identity policies alone', () => {
    expect(parseConfig(TEST_CONFIG_INPUT).apiAccess).toEqual({ readRoles: [], adminRoles: [] });
  });

  it('refuses anything but an IAM role ARN, naming the field', () => {
    expect(() =>
      parseConfig({
        ...TEST_CONFIG_INPUT,
        apiAccess: { adminRoles: [`arn:aws:iam::${ACCOUNT}:user/alice`] },
      }),
    ).toThrow(/apiAccess\.adminRoles\[0\].*IAM role ARN/s);
  });
});
