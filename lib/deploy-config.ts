import type { ParitySyncConfig, SecretRef } from '../lambdas/config/schema';
import { ConfigurationError, type FieldProblem } from '../lambdas/shared/errors';

/**
 * Refuses a configuration that cannot be deployed. In AWS every secret must be a Secrets Manager reference:
 * `value` and `env` references would put secret material into the CloudFormation template, the Lambda bundle
 * or the function's environment, all of which are readable by anyone who can read the stack.
 */
export function assertDeployableConfig(config: ParitySyncConfig): void {
  const problems: FieldProblem[] = [];
  for (const { path, ref, sourceId, purpose } of secretReferences(config)) {
    if ('secretsManager' in ref) {
      if (isMalformedSecretArn(ref.secretsManager)) {
        problems.push({
          path,
          message:
            `"${ref.secretsManager}" is not a Secrets Manager secret ARN ` +
            '(arn:<partition>:secretsmanager:<region>:<account>:secret:<name>); give the ARN or the secret name',
        });
      }
      continue;
    }
    problems.push({
      path,
      message:
        `source "${sourceId}" uses ${describeLocalRef(ref)}, which is for local runs only. In AWS use ` +
        `{ "secretsManager": "paritysync/${sourceId}/${purpose}" } (a Secrets Manager secret name or ARN) ` +
        'so that no secret value is written into the template or the function bundle',
    });
  }
  if (problems.length === 0) return;
  const lines = problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n');
  throw new ConfigurationError(`ParitySync configuration cannot be deployed to AWS:\n${lines}`, problems);
}

interface SecretReference {
  readonly path: string;
  readonly ref: SecretRef;
  readonly sourceId: string;
  readonly purpose: 'signing-secret' | 'polling-token';
}

/** Every secret reference in the configuration: signing secrets, then polling tokens, with their paths. */
export function secretReferences(config: ParitySyncConfig): readonly SecretReference[] {
  const references: SecretReference[] = [];
  config.sources.forEach((source, sourceIndex) => {
    source.secrets.forEach((ref, secretIndex) => {
      const path = `sources[${sourceIndex}].secrets[${secretIndex}]`;
      references.push({ path, ref, sourceId: source.id, purpose: 'signing-secret' });
    });
    if (source.polling) {
      const path = `sources[${sourceIndex}].polling.token`;
      references.push({ path, ref: source.polling.token, sourceId: source.id, purpose: 'polling-token' });
    }
  });
  return references;
}

/** Names the kind of reference without ever repeating an inline secret value. */
function describeLocalRef(ref: SecretRef): string {
  if ('env' in ref) return `an environment variable reference ({ "env": "${ref.env}" })`;
  return 'an inline secret value ({ "value": ... })';
}

/**
 * What an IAM grant for a `secretsManager` reference must name. A name is formatted into an ARN in the
 * stack's own account and region, with the `-??????` wildcard for the random suffix Secrets Manager appends.
 */
export type SecretGrantTarget =
  | { readonly by: 'name'; readonly name: string }
  | { readonly by: 'arn'; readonly resourceArns: readonly string[] };

const SECRET_ARN = /^arn:[a-z-]+:secretsmanager:[a-z0-9-]+:\d{12}:secret:(.+)$/;
/** Secrets Manager appends `-` and six random letters or digits to a secret's name to form its complete ARN. */
const RANDOM_SUFFIX = /-[A-Za-z0-9]{6}$/;

/**
 * A partial ARN (no random suffix) is granted with the `-??????` wildcard. An ARN that ends in `-` and six
 * letters or digits is ambiguous: `…:secret:prod-AbC123` is a complete ARN, but so is the shape of the
 * partial `…:secret:signing-secret`. Both readings are granted then; the second pattern can only match a
 * secret whose own name ends in what looks like a random suffix, so nothing else is opened up.
 */
export function secretGrantTarget(reference: string): SecretGrantTarget {
  if (!reference.startsWith('arn:')) return { by: 'name', name: reference };
  const name = SECRET_ARN.exec(reference)?.[1];
  if (name === undefined) {
    throw new ConfigurationError(
      `"${reference}" is not a Secrets Manager secret ARN ` +
        '(arn:<partition>:secretsmanager:<region>:<account>:secret:<name>); give the ARN or the secret name',
    );
  }
  const resourceArns = RANDOM_SUFFIX.test(name)
    ? [reference, `${reference}-??????`]
    : [`${reference}-??????`];
  return { by: 'arn', resourceArns };
}

function isMalformedSecretArn(reference: string): boolean {
  return reference.startsWith('arn:') && !SECRET_ARN.test(reference);
}

/** Every distinct Secrets Manager reference among the signing secrets, in first-seen order: what ingest reads. */
export function referencedSecrets(config: ParitySyncConfig): readonly string[] {
  return distinctSecretsManagerNames(secretReferences(config).filter((r) => r.purpose === 'signing-secret'));
}

/** Every distinct Secrets Manager reference among the polling tokens: what reconciliation reads, and only it. */
export function referencedPollingTokens(config: ParitySyncConfig): readonly string[] {
  return distinctSecretsManagerNames(secretReferences(config).filter((r) => r.purpose === 'polling-token'));
}

function distinctSecretsManagerNames(references: readonly SecretReference[]): readonly string[] {
  const seen = new Set<string>();
  for (const { ref } of references) if ('secretsManager' in ref) seen.add(ref.secretsManager);
  return [...seen];
}
