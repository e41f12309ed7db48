import type {
  DeadLetter,
  DeadLetterChoice,
  DeadLetterScan,
  MoveTask,
  RedrivableDeadLetterQueue,
  RedriveAllResult,
} from '../../lambdas/queue/ports';
import { REPLAY_ATTRIBUTE } from '../../lambdas/queue/ports';
import type { Clock } from '../../lambdas/shared/clock';

/** A message as the fake's queues hold it. */
export interface FakeMessage {
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/**
 * A dead-letter queue and the source queue it redrives to, in memory, with the SQS adapter's contract
 * (test/ports/dead-letter-queue.contract.ts): every look counts as a receive, messages come back in the order they
 * were sent, and the clock's deadline is honoured between batches of ten.
 */
export class InMemoryDeadLetterQueue implements RedrivableDeadLetterQueue {
  readonly letters: DeadLetter[] = [];
  /** What a redrive sent to the source queue. */
  readonly redriven: FakeMessage[] = [];
  private sent = 0;

  constructor(private readonly clock: Clock) {}

  /** Puts a message in the DLQ, as SQS does when its receives on the source queue run out. */
  add(message: FakeMessage): DeadLetter {
    this.sent++;
    const letter = {
      messageId: `dlq-msg-${this.sent}`,
      body: message.body,
      attributes: { ...message.attributes },
      receiveCount: 0,
      sentAt: this.clock.now().toISOString(),
    };
    this.letters.push(letter);
    return letter;
  }

  async approximateCount(): Promise<number> {
    return this.letters.length;
  }

  async peek(limit: number, deadlineMs: number): Promise<readonly DeadLetter[]> {
    const looked: DeadLetter[] = [];
    for (let index = 0; index < this.letters.length && looked.length < limit; index++) {
      if (index % 10 === 0 && this.clock.now().getTime() >= deadlineMs) break;
      looked.push(this.receive(index));
    }
    return looked;
  }

  async remove(choice: DeadLetterChoice, deadlineMs: number): Promise<DeadLetterScan> {
    return this.scan(choice, deadlineMs, () => undefined);
  }

  async redrive(choice: DeadLetterChoice, deadlineMs: number): Promise<DeadLetterScan> {
    return this.scan(choice, deadlineMs, (letter) =>
      this.redriven.push({
        body: letter.body,
        attributes: { ...letter.attributes, [REPLAY_ATTRIBUTE]: 'redrive' },
      }),
    );
  }

  async redriveAll(deadlineMs: number): Promise<RedriveAllResult> {
    const { taken, complete } = await this.redrive({ wants: () => true }, deadlineMs);
    return { via: 'resend', moved: taken.length, complete };
  }

  async latestMoveTask(): Promise<MoveTask | undefined> {
    return undefined;
  }

  private receive(index: number): DeadLetter {
    const letter = this.letters[index] as DeadLetter;
    const received = { ...letter, receiveCount: letter.receiveCount + 1 };
    this.letters[index] = received;
    return received;
  }

  private async scan(
    choice: DeadLetterChoice,
    deadlineMs: number,
    take: (letter: DeadLetter) => void,
  ): Promise<DeadLetterScan> {
    const taken: DeadLetter[] = [];
    let index = 0;
    let looked = 0;
    while (index < this.letters.length) {
      if (looked % 10 === 0 && (this.clock.now().getTime() >= deadlineMs || choice.satisfied?.())) {
        return { taken, complete: choice.satisfied?.() ?? false };
      }
      const letter = this.receive(index);
      looked++;
      if (choice.wants(letter)) {
        take(letter);
        taken.push(letter);
        this.letters.splice(index, 1);
      } else {
        index++;
      }
    }
    return { taken, complete: true };
  }
}
