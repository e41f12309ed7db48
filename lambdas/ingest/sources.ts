import type { ProviderAdapter } from '../adapters/types';
import {
  buildAllowlist,
  DEFAULT_TOLERANCE_SECONDS,
  effectiveAllowedCidrs,
  type ParitySyncConfig,
  type SourceConfig,
} from '../config/schema';

/** A configured source with everything the edge derives from it once, at start-up rather than per request. */
export interface PreparedSource {
  readonly config: SourceConfig;
  readonly adapter: ProviderAdapter;
  readonly toleranceSeconds: number;
  /** Undefined when any sender address is allowed. */
  readonly isAllowedSender?: (address: string) => boolean;
}

export type AdapterLookup = (kind: SourceConfig['kind']) => ProviderAdapter;

export function prepareSources(
  config: ParitySyncConfig,
  adapterFor: AdapterLookup,
): ReadonlyMap<string, PreparedSource> {
  const prepared = new Map<string, PreparedSource>();
  for (const source of config.sources) {
    const cidrs = effectiveAllowedCidrs(source);
    prepared.set(source.id, {
      config: source,
      adapter: adapterFor(source.kind),
      toleranceSeconds: source.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS,
      ...(cidrs ? { isAllowedSender: buildAllowlist(cidrs) } : {}),
    });
  }
  return prepared;
}
