import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type DeadLetter, REPLAY_ATTRIBUTE, type RedrivableDeadLetterQueue } from '../../lambdas/queue/ports';
import type { Clock } from '../../lambdas/shared/clock';

/** A message as a test puts it in the dead-letter queue, and as the source queue receives it back. */
export interface QueuedMessage {
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface DeadLetterSubject {
  /** A dead-letter queue of its own, empty, that redrives to a source queue of its own. */
  readonly queue: RedrivableDeadLetterQueue;
  readonly clock: Clock;
  /** Puts messages in the dead-letter queue, as SQS does once their receives on the source queue ran out. */
  add(messages: readonly QueuedMessage[]): Promise<void>;
  /** Takes every message the source queue received from redrives. */
  redriven(): Promise<QueuedMessage[]>;
}

/** Messages as the events queue carries them: a JSON body with the event id, which is also an attribute. */
function events(count: number): QueuedMessage[] {
  return Array.from({ length: count }, (_, index) => {
    const eventId = `evt_${randomUUID()}`;
    return {
      body: JSON.stringify({ eventId, n: index, note: 'Hôtel Zürich' }),
      attributes: { eventId, sourceId: 'pms-demo', type: 'reservation.change' },
    };
  });
}

const sortedBodies = (messages: readonly { readonly body: string }[]) =>
  messages.map((message) => message.body).sort();
const eventIdOf = (letter: DeadLetter) => letter.attributes.eventId;

/**
 * What every dead-letter queue must do for the operator API: look without taking, count, and take chosen messages
 * (or all of them) back to the source queue or away, within a deadline, leaving the rest in view.
 */
export function deadLetterQueueContract(name: string, create: () => Promise<DeadLetterSubject>): void {
  describe(`${name} keeps the dead-letter queue contract`, () => {
    const soon = (subject: DeadLetterSubject) => subject.clock.now().getTime() + 20_000;

    it('shows messages without taking them: a look adds a receive, and every message stays', async () => {
      const subject = await create();
      const messages = events(3);
      const before = subject.clock.now().getTime();
      await subject.add(messages);

      const first = await subject.queue.peek(10, soon(subject));
      expect(sortedBodies(first)).toEqual(sortedBodies(messages));
      for (const letter of first) {
        const sent = messages.find((message) => message.body === letter.body);
        expect(letter.attributes).toEqual(sent?.attributes);
        expect(letter.messageId).not.toBe('');
        expect(Date.parse(letter.sentAt)).toBeGreaterThanOrEqual(before - 5_000);
        expect(letter.receiveCount).toBe(1);
      }
      // In view again at once: a second look finds them all, each received once more.
      const second = await subject.queue.peek(10, soon(subject));
      expect(second.map((letter) => letter.messageId).sort()).toEqual(
        first.map((letter) => letter.messageId).sort(),
      );
      expect(second.map((letter) => letter.receiveCount)).toEqual([2, 2, 2]);
      expect(await subject.queue.approximateCount()).toBe(3);
      expect(await subject.redriven()).toEqual([]);
    });

    it('shows at most `limit` messages', async () => {
      const subject = await create();
      await subject.add(events(12));
      expect(await subject.queue.peek(4, soon(subject))).toHaveLength(4);
      expect(await subject.queue.peek(50, soon(subject))).toHaveLength(12);
    });

    it('redrives only the chosen messages, with their attributes and the redrive mark, and keeps the rest', async () => {
      const subject = await create();
      const messages = events(15);
      await subject.add(messages);
      const chosen = new Set(
        [messages[2], messages[9], messages[14]].map((message) => message?.attributes.eventId),
      );
      const found = new Set<string>();

      const scan = await subject.queue.redrive(
        {
          wants: (letter) => {
            const wanted = chosen.has(eventIdOf(letter));
            if (wanted) found.add(eventIdOf(letter) ?? '');
            return wanted;
          },
          satisfied: () => found.size === chosen.size,
        },
        soon(subject),
      );

      expect(scan.complete).toBe(true);
      expect(new Set(scan.taken.map(eventIdOf))).toEqual(chosen);
      const redriven = await subject.redriven();
      expect(sortedBodies(redriven)).toEqual(
        sortedBodies(messages.filter((message) => chosen.has(message.attributes.eventId))),
      );
      for (const message of redriven) {
        expect(message.attributes).toEqual({
          ...messages.find((sent) => sent.body === message.body)?.attributes,
          [REPLAY_ATTRIBUTE]: 'redrive',
        });
      }
      const left = await subject.queue.peek(50, soon(subject));
      expect(sortedBodies(left)).toEqual(
        sortedBodies(messages.filter((message) => !chosen.has(message.attributes.eventId))),
      );
    });

    it('redrives the whole queue by receiving and resending when no move task is configured', async () => {
      const subject = await create();
      const messages = events(25);
      await subject.add(messages);
      expect(await subject.queue.redriveAll(soon(subject))).toEqual({
        via: 'resend',
        moved: 25,
        complete: true,
      });
      expect(sortedBodies(await subject.redriven())).toEqual(sortedBodies(messages));
      expect(await subject.queue.peek(50, soon(subject))).toEqual([]);
      expect(await subject.queue.latestMoveTask()).toBeUndefined();
    });

    it('deletes only the chosen messages, sending nothing anywhere', async () => {
      const subject = await create();
      const messages = events(6);
      await subject.add(messages);
      const doomed = new Set([messages[0]?.attributes.eventId, messages[4]?.attributes.eventId]);
      const scan = await subject.queue.remove(
        { wants: (letter) => doomed.has(eventIdOf(letter)) },
        soon(subject),
      );
      expect(scan.complete).toBe(true);
      expect(new Set(scan.taken.map(eventIdOf))).toEqual(doomed);
      const left = await subject.queue.peek(50, soon(subject));
      expect(sortedBodies(left)).toEqual(
        sortedBodies(messages.filter((message) => !doomed.has(message.attributes.eventId))),
      );
      expect(await subject.redriven()).toEqual([]);
    });

    it('stops at the deadline, saying so, and leaves what it did not reach in view', async () => {
      const subject = await create();
      const messages = events(4);
      await subject.add(messages);
      const past = subject.clock.now().getTime() - 1;
      expect(await subject.queue.redriveAll(past)).toEqual({ via: 'resend', moved: 0, complete: false });
      expect(await subject.queue.peek(10, past)).toEqual([]);
      expect(sortedBodies(await subject.queue.peek(10, soon(subject)))).toEqual(sortedBodies(messages));
      expect(await subject.redriven()).toEqual([]);
    });
  });
}
