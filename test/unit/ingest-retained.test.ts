import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SourceKind } from '../../lambdas/domain/canonical';
import { senderFor } from '../../local/senders';
import { createEdge } from '../contract/harness';

const SECRET = 'retained-event-test-secret-4Kq9Zx2Lm7Pw';

function signedSample(kind: SourceKind, sourceId: string, type: string, now: Date) {
  const sender = senderFor(kind);
  const body = Buffer.from(JSON.stringify(sender.sample(type, now, randomUUID)));
  return { sourceId, body, headers: sender.sign(body, { secret: SECRET, at: now }) };
}

describe('the edge keeps the queued event on its ledger entry, for replay', () => {
  const edge = () =>
    createEdge([
      { id: 'ota-1', kind: 'ota', secrets: [{ value: SECRET }] },
      { id: 'hosp-1', kind: 'hospitable', secrets: [{ value: SECRET }] },
    ]);

  it('keeps the very body it queued, not a second serialisation of the event', async () => {
    const { ledger, queue, clock, deliver } = edge();
    const sent: string[] = [];
    const enqueue = queue.enqueue.bind(queue);
    queue.enqueue = async (event) => {
      const answer = await enqueue(event);
      sent.push(answer.body);
      return answer;
    };

    const answer = await deliver(signedSample('ota', 'ota-1', 'rate_update', clock.now()));

    expect(answer.json).toMatchObject({ status: 'accepted', action: 'enqueued' });
    const eventId = answer.json.eventId as string;
    expect(await ledger.get(eventId)).toMatchObject({ status: 'enqueued', retained: true });
    expect(sent).toHaveLength(1);
    expect(ledger.events.get(eventId)).toBe(sent[0]);
    expect(JSON.parse(ledger.events.get(eventId) ?? 'null')).toEqual(queue.messages[0]);
  });

  it('keeps nothing for a type it only records, which was never queued', async () => {
    const { ledger, queue, clock, deliver } = edge();
    const answer = await deliver(signedSample('hospitable', 'hosp-1', 'message.created', clock.now()));
    expect(answer.json).toMatchObject({ status: 'accepted', action: 'recorded' });
    const eventId = answer.json.eventId as string;
    expect(await ledger.get(eventId)).not.toHaveProperty('retained');
    expect(ledger.events.has(eventId)).toBe(false);
    expect(queue.messages).toEqual([]);
  });
});
