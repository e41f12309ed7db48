import type { DeliveryRequest, VerificationContext } from '../../lambdas/adapters/types';
import { type ParitySyncConfigInput, SourceConfigSchema } from '../../lambdas/config/schema';
import { fixedClock } from '../../lambdas/shared/clock';
import { nodeCrypto } from '../../lambdas/shared/crypto';

/** The instant every adapter unit test runs at. */
export const NOW = new Date('2026-11-01T12:00:00.000Z');
export const NOW_SECONDS = NOW.getTime() / 1000;

export function contextFor(
  source: ParitySyncConfigInput['sources'][number],
  secrets: readonly string[],
  toleranceSeconds = 300,
): VerificationContext {
  return {
    source: SourceConfigSchema.parse(source),
    secrets,
    toleranceSeconds,
    clock: fixedClock(NOW),
    crypto: nodeCrypto,
  };
}

/** Header names are lower-cased here, as the edge does before an adapter sees them. */
export function deliveryOf(
  body: string | Buffer,
  headers: Record<string, string | undefined>,
): DeliveryRequest {
  const lower: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) lower[name.toLowerCase()] = value;
  return { headers: lower, rawBody: typeof body === 'string' ? Buffer.from(body, 'utf8') : body };
}

/** The error `run` throws; fails the test when it returns normally. */
export function thrown(run: () => unknown): Error & { code?: string; fields?: { path: string }[] } {
  try {
    run();
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`threw a non-Error: ${String(error)}`);
  }
  throw new Error('expected an error, but none was thrown');
}

export function fieldPaths(error: { fields?: readonly { path: string }[] }): string[] {
  return (error.fields ?? []).map((field) => field.path);
}
