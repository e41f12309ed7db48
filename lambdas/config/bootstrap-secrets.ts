import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type AwsClientRole, awsClientConfig } from '../shared/aws-clients';
import type { SecretRef } from './schema';
import { createSecretResolver, type SecretResolver } from './secrets';

/**
 * Resolves secret references, Secrets Manager values cached for `maxAgeSeconds` so that a rotated secret takes
 * effect within that time without a deploy. No Secrets Manager client is built unless one of `references` names
 * Secrets Manager. A module of its own, apart from `bootstrapFunction`: esbuild keeps every import of the SDK (left
 * out of the bundle) whether used or not, and a function reading no secrets would load the Secrets Manager
 * client at each cold start for nothing.
 */
export function secretResolver(
  role: AwsClientRole,
  references: readonly SecretRef[],
  maxAgeSeconds: number,
): SecretResolver {
  if (!references.some((ref) => 'secretsManager' in ref)) return createSecretResolver({});
  const provider = new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient(awsClientConfig(role)) });
  return createSecretResolver({
    fetchSecretsManager: (id: string) => provider.get(id, { maxAge: maxAgeSeconds }),
  });
}
