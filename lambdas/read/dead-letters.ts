import type { LedgerReader } from '../ledger/ports';
import type {
  DeadLetter,
  DeadLetterQueue,
  MoveTask,
  RedrivableDeadLetterQueue,
  RedriveAllResult,
} from '../queue/ports';
import { parseStreamBatchFailure } from '../queue/stream-failures';
import type { Clock } from '../shared/clock';
import { ConflictError, InvalidRequestError } from '../shared/errors';

/** SQS runs one move task per queue: a whole-queue redrive waits until the running one ends. */
export class RedriveInProgressError extends ConflictError {}

import { DEAD_LETTER_QUEUE_NAMES, type DeadLetterQueueName } from './dead-letter-queues';
import type { StreamBatchView } from './wire';

export { DEAD_LETTER_QUEUE_NAMES, type DeadLetterQueueName };

export interface DeadLetterQueues {
  /** The events queue's: events whose receives ran out, sent back to the events queue by a redrive. */
  readonly events: RedrivableDeadLetterQueue;
  /** The failed scheduled reconciliation runs: listed and deleted, never redriven (see redriveDeadLetters). */
  readonly reconcile: DeadLetterQueue;
  /**
   * Parity on change's stream failure destination: the batches of ARI stream records it gave up on, each as its
   * stream position. Listed and deleted, never redriven (see redriveDeadLetters).
   */
  readonly parity: DeadLetterQueue;
}

export interface DeadLetterDependencies {
  readonly deadLetters: DeadLetterQueues;
  /** Where an event's lastError comes from. */
  readonly deliveries: LedgerReader;
  readonly clock: Clock;
}

/**
 * How long one dead-letter request may keep receiving before it answers with what it did: well inside the read
 * function's 10 s timeout, leaving room for the batch in progress and for putting messages back in view.
 */
export const DEAD_LETTER_BUDGET_MS = 5_000;
/** Ids one redrive or delete request may name. */
export const MAX_CHOSEN_MESSAGES = 100;
/** Ledger reads in flight while a listing looks up lastError. */
const LEDGER_READS_IN_FLIGHT = 16;

export interface DeadLetterItem {
  readonly eventId?: string;
  readonly messageId: string;
  readonly receiveCount: number;
  readonly sentAt: string;
  /**
   * Why it failed: the ledger's lastError for an event, Lambda's error message for a reconciliation run, the
   * condition Lambda gave up on (and the function's error, if it failed) for a parity stream batch.
   */
  readonly lastError?: string;
  /** Where a parity stream batch was in the ARI table's stream: its records are not in the message. */
  readonly streamBatch?: StreamBatchView;
}

export interface DeadLetterListing {
  readonly approximateCount: number;
  readonly items: readonly DeadLetterItem[];
  /** The latest SQS move task from the queue, where move tasks are used. */
  readonly moveTask?: MoveTask;
}

/**
 * Up to `limit` messages from the head of the queue, left where they were. SQS has no peek: each is received,
 * hidden for a moment and put back in view, which adds one to its receive count.
 */
export async function listDeadLetters(
  name: DeadLetterQueueName,
  limit: number,
  deps: DeadLetterDependencies,
): Promise<DeadLetterListing> {
  const queue = deps.deadLetters[name];
  const [approximateCount, letters, moveTask] = await Promise.all([
    queue.approximateCount(),
    queue.peek(limit, deadline(deps)),
    name === 'events' ? deps.deadLetters.events.latestMoveTask() : Promise.resolve(undefined),
  ]);
  const items =
    name === 'events'
      ? await withLedgerErrors(letters, deps.deliveries)
      : name === 'parity'
        ? letters.map(streamBatchItem)
        : letters.map((letter) => item(letter, lambdaError(letter)));
  return {
    // The count is read while the listing waits for messages: one that arrives meanwhile is listed but may not
    // be counted, and a queue never holds fewer messages than were just listed from it.
    approximateCount: Math.max(approximateCount, letters.length),
    items,
    ...(moveTask === undefined ? {} : { moveTask }),
  };
}

export type RedriveResult =
  | (RedriveAllResult & { readonly chosen?: undefined })
  | {
      readonly via: 'resend';
      readonly chosen: true;
      readonly moved: number;
      readonly complete: boolean;
      /** The chosen event ids no message was moved for: not in the queue, or not reached in time. */
      readonly notMoved: readonly string[];
    };

/**
 * Sends dead letters back to the events queue, where the consumer applies them again (an event already applied
 * is skipped, so a redrive never applies anything twice). With `eventIds`, only those: each message is received,
 * sent and deleted. Without, the whole queue: SQS's move task in AWS (in the background), receive and resend
 * locally, where the emulator has no move task.
 *
 * The reconciliation queue holds the events that started failed scheduled runs. They are not redriven: each run
 * resumes from the checkpoints the last one saved, so the next scheduled run (or one started by hand) does what
 * the failed one would have. Its messages are read, then deleted once understood.
 *
 * Nor is the parity queue: each message holds a stream position, not the changed nights, and the stream keeps its
 * records for 24 hours only. Every parity check reads a night's current state, so the scheduled reconciliation's
 * parity sweep, which checks every night of the parity properties, does what the failed checks would have.
 */
export async function redriveDeadLetters(
  name: DeadLetterQueueName,
  eventIds: readonly string[] | undefined,
  deps: DeadLetterDependencies,
): Promise<RedriveResult> {
  if (name === 'reconcile') {
    throw new InvalidRequestError(
      'redrive_not_supported',
      'The reconcile dead-letter queue holds the events that started failed reconciliation runs; there is no ' +
        'queue to send them back to. The next scheduled run resumes from the last checkpoint, so nothing is ' +
        'lost: run one now (npm run cli -- reconcile locally, or invoke the ReconcileFunctionName output), then ' +
        'delete the messages with POST /dlq/reconcile/delete.',
      { fields: [{ path: 'queue', message: 'only the events queue is redriven' }] },
    );
  }
  if (name === 'parity') {
    throw new InvalidRequestError(
      'redrive_not_supported',
      'The parity dead-letter queue holds the stream positions of ARI changes whose parity check failed, not ' +
        'the changes: there is nothing to send back. The parity sweep (every paritySweepHours, and in every run ' +
        'asked for by hand) re-checks every night of the parity properties from their current state: once the ' +
        "failure's cause is fixed, run one now (paritysync reconcile, or invoke the ReconcileFunctionName output) " +
        'or wait for the next sweep, ' +
        'then delete the messages with POST /dlq/parity/delete.',
      { fields: [{ path: 'queue', message: 'only the events queue is redriven' }] },
    );
  }
  const queue = deps.deadLetters.events;
  if (eventIds === undefined) {
    const running = await queue.latestMoveTask();
    if (running?.status === 'RUNNING') {
      throw new RedriveInProgressError(
        'redrive_in_progress',
        `A move task (${running.taskHandle ?? 'no handle'}) is already sending this queue back, ` +
          `${running.moved} message(s) moved so far; SQS runs one at a time. GET /dlq/events shows its progress.`,
      );
    }
    return queue.redriveAll(deadline(deps));
  }
  const wanted = new Set(eventIds);
  const seen = new Set<string>();
  const { taken, complete } = await queue.redrive(
    {
      wants: (letter) => {
        const eventId = eventIdOf(letter);
        if (eventId === undefined || !wanted.has(eventId)) return false;
        seen.add(eventId);
        return true;
      },
      satisfied: () => seen.size === wanted.size,
    },
    deadline(deps),
  );
  const moved = new Set(taken.flatMap((letter) => eventIdOf(letter) ?? []));
  return {
    via: 'resend',
    chosen: true,
    moved: taken.length,
    complete,
    notMoved: [...wanted].filter((eventId) => !moved.has(eventId)),
  };
}

/** Deletes the named messages from the queue: a dead letter understood and not to be applied or run again. */
export async function deleteDeadLetters(
  name: DeadLetterQueueName,
  messageIds: readonly string[],
  deps: DeadLetterDependencies,
): Promise<{ readonly deleted: number; readonly complete: boolean; readonly notDeleted: readonly string[] }> {
  const wanted = new Set(messageIds);
  const seen = new Set<string>();
  const { taken, complete } = await deps.deadLetters[name].remove(
    {
      wants: (letter) => {
        if (!wanted.has(letter.messageId)) return false;
        seen.add(letter.messageId);
        return true;
      },
      satisfied: () => seen.size === wanted.size,
    },
    deadline(deps),
  );
  const deleted = new Set(taken.map((letter) => letter.messageId));
  return {
    deleted: taken.length,
    complete,
    notDeleted: [...wanted].filter((messageId) => !deleted.has(messageId)),
  };
}

/** The event id of an events-queue message: its body's, or else its `eventId` attribute. */
export function eventIdOf(letter: DeadLetter): string | undefined {
  try {
    const body: unknown = JSON.parse(letter.body);
    if (typeof body === 'object' && body !== null) {
      const { eventId } = body as { eventId?: unknown };
      if (typeof eventId === 'string' && eventId !== '') return eventId;
    }
  } catch {
    // Not JSON: the attribute may still name it.
  }
  return letter.attributes.eventId;
}

function deadline(deps: Pick<DeadLetterDependencies, 'clock'>): number {
  return deps.clock.now().getTime() + DEAD_LETTER_BUDGET_MS;
}

function item(letter: DeadLetter, lastError: string | undefined, eventId?: string): DeadLetterItem {
  return {
    ...(eventId === undefined ? {} : { eventId }),
    messageId: letter.messageId,
    receiveCount: letter.receiveCount,
    sentAt: letter.sentAt,
    ...(lastError === undefined ? {} : { lastError }),
  };
}

/** A parity stream batch: where it was in the stream and why Lambda gave up on it. */
function streamBatchItem(letter: DeadLetter): DeadLetterItem {
  const failure = parseStreamBatchFailure(letter.body);
  if (failure === undefined) return item(letter, 'not a stream batch failure record');
  const { requestContext, responseContext, DDBStreamBatchInfo: batch } = failure;
  const functionError = responseContext?.functionError;
  return {
    ...item(
      letter,
      functionError === undefined
        ? requestContext.condition
        : `${requestContext.condition} (${functionError})`,
    ),
    streamBatch: {
      shardId: batch.shardId,
      startSequenceNumber: batch.startSequenceNumber,
      endSequenceNumber: batch.endSequenceNumber,
      batchSize: batch.batchSize,
      ...(batch.approximateArrivalOfFirstRecord === undefined
        ? {}
        : { firstArrivedAt: batch.approximateArrivalOfFirstRecord }),
      ...(batch.approximateArrivalOfLastRecord === undefined
        ? {}
        : { lastArrivedAt: batch.approximateArrivalOfLastRecord }),
    },
  };
}

/** Lambda (ErrorMessage) and EventBridge (ERROR_MESSAGE) say why in an attribute of the message they dead-letter. */
function lambdaError(letter: DeadLetter): string | undefined {
  return letter.attributes.ErrorMessage ?? letter.attributes.ERROR_MESSAGE;
}

async function withLedgerErrors(
  letters: readonly DeadLetter[],
  ledger: LedgerReader,
): Promise<DeadLetterItem[]> {
  const items: DeadLetterItem[] = new Array(letters.length);
  let next = 0;
  const worker = async () => {
    while (next < letters.length) {
      const index = next++;
      const letter = letters[index] as DeadLetter;
      const eventId = eventIdOf(letter);
      const entry = eventId === undefined ? undefined : await ledger.get(eventId);
      items[index] = item(letter, entry?.lastError, eventId);
    }
  };
  await Promise.all(Array.from({ length: Math.min(LEDGER_READS_IN_FLIGHT, letters.length) }, worker));
  return items;
}
