import { UnavailableError } from '../shared/errors';
import type { SecretRef, SourceConfig } from './schema';
import { signingSecretProblem } from './secret-strength';

/** Resolves a source's secret references to the values that verify its signatures. */
export interface SecretResolver {
  secretsFor(source: SourceConfig): Promise<readonly string[]>;
  /** One reference, e.g. a polling token. */
  resolve(ref: SecretRef): Promise<string>;
}

/** Fetches one Secrets Manager secret; caching is the fetcher's concern (Powertools caches with a max age). */
export type SecretsManagerFetcher = (secretId: string) => Promise<string | Uint8Array | undefined>;

/** A secret reference cannot be resolved to a usable value right now (unset, unreadable, empty or too weak). */
export class SecretUnavailableError extends UnavailableError {
  constructor(
    readonly reference: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('secret_unavailable', message, options);
  }
}

/**
 * `value` and `env` references are local-only conveniences; in AWS the deploy check admits `secretsManager`
 * references alone. Errors name the reference (an ARN, secret name or variable name), never a value.
 */
export function createSecretResolver(options: {
  readonly fetchSecretsManager?: SecretsManagerFetcher;
  readonly env?: NodeJS.ProcessEnv;
}): SecretResolver {
  const env = options.env ?? process.env;

  const resolve = async (ref: SecretRef): Promise<string> => {
    if ('value' in ref) return ref.value;
    if ('env' in ref) {
      const value = env[ref.env];
      if (!value) throw new SecretUnavailableError(ref.env, `environment variable ${ref.env} is not set`);
      return value;
    }
    if (!options.fetchSecretsManager) {
      throw new SecretUnavailableError(
        ref.secretsManager,
        'Secrets Manager is not available in this runtime',
      );
    }
    let value: string | undefined;
    try {
      const fetched = await options.fetchSecretsManager(ref.secretsManager);
      // A binary secret is taken as UTF-8 text, the form in which providers hand out signing secrets.
      value = fetched instanceof Uint8Array ? Buffer.from(fetched).toString('utf8') : fetched;
    } catch (cause) {
      throw new SecretUnavailableError(ref.secretsManager, `cannot read secret ${ref.secretsManager}`, {
        cause,
      });
    }
    if (!value)
      throw new SecretUnavailableError(
        ref.secretsManager,
        `secret ${ref.secretsManager} has no string value`,
      );
    return value;
  };

  // A weak secret fails the whole source rather than being skipped: a sender signing with it would be told
  // 401 and might give up, while the edge's 503 makes it retry until the secret is replaced. The load-time
  // check covers inline values; this one covers what Secrets Manager and the environment hold.
  const resolveSigningSecret = async (source: SourceConfig, ref: SecretRef, index: number) => {
    const value = await resolve(ref);
    const problem = signingSecretProblem(source.kind, value);
    if (problem) {
      throw new SecretUnavailableError(
        referenceOf(ref),
        `the signing secret of source ${source.id} (secrets[${index}], ${describeRef(ref)}) ${problem}`,
      );
    }
    return value;
  };

  return {
    secretsFor: (source) =>
      Promise.all(source.secrets.map((ref, index) => resolveSigningSecret(source, ref, index))),
    resolve,
  };
}

function referenceOf(ref: SecretRef): string {
  if ('secretsManager' in ref) return ref.secretsManager;
  return 'env' in ref ? ref.env : '(inline value)';
}

/** Names where a secret came from, never the secret. */
function describeRef(ref: SecretRef): string {
  if ('secretsManager' in ref) return `Secrets Manager secret ${ref.secretsManager}`;
  return 'env' in ref ? `environment variable ${ref.env}` : 'inline value';
}
