import type { SourceKind } from '../../lambdas/domain/canonical';
import { channelManagerSender } from './channel-manager';
import { hospitableSender } from './hospitable';
import { mappingSender } from './mapping';
import { otaSender } from './ota';
import { pmsSender } from './pms';
import { standardWebhooksSender } from './standard-webhooks';
import type { Sender } from './types';

const SENDERS: Readonly<Record<SourceKind, Sender>> = {
  'channel-manager': channelManagerSender,
  ota: otaSender,
  pms: pmsSender,
  mapping: mappingSender,
  hospitable: hospitableSender,
  'standard-webhooks': standardWebhooksSender,
};

export function senderFor(kind: SourceKind): Sender {
  return SENDERS[kind];
}

export type { Sender };
