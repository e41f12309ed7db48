import { describe, expect, it } from 'vitest';
import type { SourceKind } from '../../lambdas/domain/canonical';
import { senderFor } from '../../local/senders';
import { createEdge } from '../contract/harness';

/**
 * The edge refuses what apply could not store: each case was once answered 200 and then dead-lettered, or
 * applied and froze state. Deliveries are signed as each kind's real sender signs them.
 */
const SECRETS: Record<string, string> = {
  'channel-manager': 'cm-applicability-secret-9f1c2e7a4b3d5e6f',
  ota: 'ota-applicability-secret-2b7e151628aed2a6',
  mapping: 'mapping-applicability-secret-abf7158809cf4f3c',
  'standard-webhooks': `whsec_${Buffer.from('applicability-standard-webhooks-secret!!').toString('base64')}`,
};
const KINDS = Object.keys(SECRETS) as SourceKind[];

function edge() {
  return createEdge(
    KINDS.map((kind) => ({ id: `${kind}-1`, kind, secrets: [{ value: SECRETS[kind] as string }] })),
  );
}

let unique = 0;

function sample(kind: SourceKind, at: Date, type?: string): Record<string, unknown> {
  const sender = senderFor(kind);
  return sender.sample(type ?? (sender.sampleTypes[0] as string), at, () => `applicable-${unique++}`);
}

async function send(target: ReturnType<typeof edge>, kind: SourceKind, body: Record<string, unknown>) {
  const raw = Buffer.from(JSON.stringify(body));
  const headers = senderFor(kind).sign(raw, { secret: SECRETS[kind] as string, at: target.clock.now() });
  return target.deliver({ sourceId: `${kind}-1`, body: raw, headers });
}

describe('the edge holds every event to the applicability contract', () => {
  it('accepts each kind’s sample, so the refusals below are about the mutation alone', async () => {
    const target = edge();
    for (const kind of KINDS) {
      const answer = await send(target, kind, sample(kind, target.clock.now()));
      expect(answer.status, `${kind}: ${JSON.stringify(answer.json)}`).toBe(200);
    }
  });

  it.each([
    ['9999-12-31', 'data.dateFrom'],
    ['0000-01-01', 'data.dateFrom'],
    ['2016-06-15', 'data.dateFrom'],
  ])('refuses an OTA stay date of %s with 422 not_applicable, queuing nothing', async (date, path) => {
    const target = edge();
    const body = { ...sample('ota', target.clock.now()), effective_date: date };
    const answer = await send(target, 'ota', body);
    expect(answer.status).toBe(422);
    expect(answer.json.error).toBe('not_applicable');
    expect(answer.json.fields).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
    expect(target.queue.messages).toHaveLength(0);
  });

  it.each([
    ['a lone UTF-16 surrogate', 'X\ud800Y', /lone UTF-16 surrogate/],
    ['200 CJK characters (600 bytes of UTF-8)', '中'.repeat(200), /at most 100 bytes of UTF-8; received 600/],
    ['a control character', 'CH\u0000', /control characters/],
  ])('refuses a channel_id holding %s with 422 naming the field', async (_name, channelId, message) => {
    const target = edge();
    const body = { ...sample('channel-manager', target.clock.now()), channel_id: channelId };
    const answer = await send(target, 'channel-manager', body);
    expect(answer.status).toBe(422);
    expect(answer.json.fields).toEqual([{ path: 'channel_id', message: expect.stringMatching(message) }]);
    expect(target.queue.messages).toHaveLength(0);
  });

  it.each([
    ['far in the future', '2999-01-01T00:00:00Z'],
    ['in 1970', '1970-01-01T00:00:00Z'],
  ])(
    'refuses a Standard Webhooks payload timestamp %s, which would outrank or trail every update',
    async (_name, timestamp) => {
      const target = edge();
      const body = { ...sample('standard-webhooks', target.clock.now()), timestamp };
      const answer = await send(target, 'standard-webhooks', body);
      expect(answer.status).toBe(422);
      expect(answer.json).toMatchObject({
        error: 'not_applicable',
        fields: [{ path: 'occurredAt', message: expect.any(String) }],
      });
      expect(target.queue.messages).toHaveLength(0);
    },
  );

  it.each([
    ['far in the future', '2999-01-01T00:00:00.000Z'],
    ['in 1970', '1970-01-01T00:00:00.000Z'],
  ])('refuses a mapping-service occurredAt %s', async (_name, occurredAt) => {
    const target = edge();
    const body = { ...sample('mapping', target.clock.now()), occurredAt };
    const answer = await send(target, 'mapping', body);
    expect(answer.status).toBe(422);
    expect(answer.json.error).toBe('not_applicable');
    expect(target.queue.messages).toHaveLength(0);
  });

  it('lets a genuine later update overwrite: a payload time within tolerance is accepted', async () => {
    const target = edge();
    const ahead = new Date(target.clock.now().getTime() + 299_000).toISOString();
    const body = { ...sample('standard-webhooks', target.clock.now()), timestamp: ahead };
    expect((await send(target, 'standard-webhooks', body)).status).toBe(200);
  });
});
