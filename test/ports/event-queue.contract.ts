import { describe, expect, it } from 'vitest';
import type { EventQueue } from '../../lambdas/queue/ports';
import { ariUpdate } from '../support/events';

export interface ReceivedEvent {
  readonly messageId: string;
  /** The body as the consumer parses it. */
  readonly event: unknown;
}

export interface EventQueueSubject {
  readonly queue: EventQueue;
  /** Takes the next `count` messages off the queue, as the apply pipeline would receive them. */
  receive(count: number): Promise<readonly ReceivedEvent[]>;
}

/** What every EventQueue must do: hand the consumer exactly the event, under the message id it answered. */
export function eventQueueContract(name: string, create: () => EventQueueSubject): void {
  describe(`${name} keeps the EventQueue contract`, () => {
    it('hands the consumer exactly the event enqueued, under the message id it answered', async () => {
      const { queue, receive } = create();
      const event = ariUpdate();
      const { messageId, body } = await queue.enqueue(event);
      expect(messageId).toEqual(expect.any(String));
      expect(messageId).not.toBe('');
      // The body it answers is what the ledger keeps for replay.
      expect(JSON.parse(body)).toEqual(event);
      expect(await receive(1)).toEqual([{ messageId, event }]);
    });

    it('carries text outside the Basic Multilingual Plane and line separators unchanged', async () => {
      const { queue, receive } = create();
      const event = ariUpdate({
        data: { propertyExternalId: '🏨 Hôtel Zürich 東京', ratePlanExternalId: 'BAR\u2028🛏️' },
      });
      await queue.enqueue(event);
      expect((await receive(1)).map((message) => message.event)).toEqual([event]);
    });

    it('queues each enqueue of the same event as a message of its own', async () => {
      const { queue, receive } = create();
      const event = ariUpdate();
      const first = await queue.enqueue(event);
      const second = await queue.enqueue(event);
      expect(first.messageId).not.toBe(second.messageId);
      const received = await receive(2);
      expect(received.map((message) => message.messageId).sort()).toEqual(
        [first.messageId, second.messageId].sort(),
      );
      expect(received.map((message) => message.event)).toEqual([event, event]);
    });
  });
}
