import { randomUUID } from 'node:crypto';
import type { SourceConfig } from '../lambdas/config/schema';
import { createSecretResolver } from '../lambdas/config/secrets';
import { senderFor } from './senders';

export interface SendOptions {
  /** Base URL of a running ParitySync edge, e.g. http://127.0.0.1:3000 */
  readonly baseUrl: string;
  readonly source: SourceConfig;
  /** Event type in the provider's vocabulary; the sender's default when absent. */
  readonly type?: string;
  /** For RSA channel managers: the private key PEM that matches a configured public key. */
  readonly privateKey?: string;
  readonly now?: Date;
  /** How long the edge may take to answer. @default 30 */
  readonly timeoutSeconds?: number;
  /** Where `env:` secret references are read. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface SendResult {
  readonly url: string;
  readonly type: string;
  readonly status: number;
  readonly body: unknown;
}

/** Signs a fresh sample event exactly as the source's provider would, and posts it to the edge. */
export async function sendSample(options: SendOptions): Promise<SendResult> {
  const sender = senderFor(options.source.kind);
  const type = options.type ?? sender.sampleTypes[0];
  if (!type || !sender.sampleTypes.includes(type)) {
    throw new Error(
      `A ${options.source.kind} source sends ${sender.sampleTypes.join(', ')}; ${JSON.stringify(options.type)} is not one of them.`,
    );
  }
  const now = options.now ?? new Date();
  const secret =
    options.privateKey ??
    (await createSecretResolver(options.env ? { env: options.env } : {}).secretsFor(options.source))[0];
  if (!secret) throw new Error(`Source ${options.source.id} has no secret to sign with; pass a private key.`);
  const body = Buffer.from(JSON.stringify(sender.sample(type, now, randomUUID)));
  const headers = sender.sign(body, { secret, at: now });
  const url = `${options.baseUrl.replace(/\/$/, '')}/webhooks/${options.source.id}`;
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body,
    signal: AbortSignal.timeout((options.timeoutSeconds ?? 30) * 1000),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: shown as text.
  }
  return { url, type, status: response.status, body: parsed };
}
