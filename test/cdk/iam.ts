import type { Template } from 'aws-cdk-lib/assertions';

type Json = Record<string, unknown>;

export interface PolicyStatementJson {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Json;
}

/** One allowed action on one resource, as a comparable string: `action on <resource JSON>[ if <condition>]`. */
export type Permission = string;

export function toArray<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

/** Every statement of every inline policy attached to a function's execution role. */
export function functionStatements(template: Template, functionLogicalId: string): PolicyStatementJson[] {
  const fn = template.toJSON().Resources[functionLogicalId] as { Properties: Json } | undefined;
  if (!fn) throw new Error(`no resource ${functionLogicalId}`);
  const roleRef = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Array<{ Properties: Json }>;
  return policies
    .filter((policy) =>
      (policy.Properties.Roles as Array<{ Ref: string }>).some((role) => role.Ref === roleRef),
    )
    .flatMap(
      (policy) => (policy.Properties.PolicyDocument as { Statement: PolicyStatementJson[] }).Statement,
    );
}

/**
 * A function's allowed (action, resource, condition) triples, independent of how CDK happened to merge them
 * into statements. Throws on a Deny, which none of these roles has.
 */
export function functionPermissions(template: Template, functionLogicalId: string): Permission[] {
  return functionStatements(template, functionLogicalId)
    .flatMap((statement) => {
      if (statement.Effect !== 'Allow') throw new Error(`unexpected ${statement.Effect} statement`);
      return toArray(statement.Action).flatMap((action) =>
        toArray(statement.Resource).map((resource) => permission(action, resource, statement.Condition)),
      );
    })
    .sort();
}

export function permission(action: string, resource: unknown, condition?: Json): Permission {
  const base = `${action} on ${JSON.stringify(resource)}`;
  return condition === undefined ? base : `${base} if ${JSON.stringify(condition)}`;
}

/** `{ "Fn::GetAtt": [id, "Arn"] }`: the ARN of a resource in the template. */
export function arnOf(logicalId: string): Json {
  return { 'Fn::GetAtt': [logicalId, 'Arn'] };
}

/** The ARN of a table's global secondary index, as CDK renders `${table.tableArn}/index/<name>`. */
export function indexArnOf(tableLogicalId: string, indexName: string): Json {
  return { 'Fn::Join': ['', [arnOf(tableLogicalId), `/index/${indexName}`]] };
}

/** The condition `PersonalDataKey` grants carry: use through the service's endpoint in any region. */
export function viaService(service: 'dynamodb' | 'sqs'): Json {
  return {
    StringLike: { 'kms:ViaService': { 'Fn::Join': ['', [`${service}.*.`, { Ref: 'AWS::URLSuffix' }]] } },
  };
}

/**
 * What active tracing adds to a function's role: X-Ray has no resource-level permissions for these, so `*` is
 * the only resource they take.
 */
export const XRAY_PERMISSIONS: readonly Permission[] = [
  permission('xray:PutTelemetryRecords', '*'),
  permission('xray:PutTraceSegments', '*'),
];

/** Whether a statement is the X-Ray one active tracing adds. */
export function isXrayStatement(statement: { Action: string | string[] }): boolean {
  return toArray(statement.Action).every((action) => action.startsWith('xray:'));
}
