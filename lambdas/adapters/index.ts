import type { SourceKind } from '../domain/canonical';
import { channelManagerAdapter } from './channel-manager';
import { hospitableAdapter } from './hospitable';
import { mappingAdapter } from './mapping';
import { otaAdapter } from './ota';
import { pmsAdapter } from './pms';
import { standardWebhooksAdapter } from './standard-webhooks';
import type { ProviderAdapter } from './types';

const ADAPTERS: Readonly<Record<SourceKind, ProviderAdapter>> = {
  'channel-manager': channelManagerAdapter,
  ota: otaAdapter,
  pms: pmsAdapter,
  mapping: mappingAdapter,
  hospitable: hospitableAdapter,
  'standard-webhooks': standardWebhooksAdapter,
};

export function adapterFor(kind: SourceKind): ProviderAdapter {
  return ADAPTERS[kind];
}
