import type { CanonicalEvent } from '../domain/canonical';

/** Where the edge puts a verified event for the apply pipeline; SQS in AWS and locally. */
export interface EventQueue {
  /** Queues the event; answers with its message id and the body exactly as queued (the event's JSON). */
  enqueue(event: CanonicalEvent): Promise<{ readonly messageId: string; readonly body: string }>;
}

/** A message waiting in a dead-letter queue. */
export interface DeadLetter {
  readonly messageId: string;
  readonly body: string;
  /** Its string message attributes: the events queue's messages carry eventId, sourceId and type. */
  readonly attributes: Readonly<Record<string, string>>;
  /** SQS's ApproximateReceiveCount: the receives on the source queue and here, looks at the DLQ included. */
  readonly receiveCount: number;
  /** When the message was first sent, ISO-8601. */
  readonly sentAt: string;
}

/** Which messages an operation takes; the scan stops early once `satisfied` says nothing more is wanted. */
export interface DeadLetterChoice {
  readonly wants: (message: DeadLetter) => boolean;
  readonly satisfied?: () => boolean;
}

export interface DeadLetterScan {
  /** The messages the operation took (moved or deleted). */
  readonly taken: readonly DeadLetter[];
  /** False when the deadline came before the queue was looked through (or the choice satisfied). */
  readonly complete: boolean;
}

/**
 * A dead-letter queue. SQS has no peek and no delete by id: every operation receives messages, hidden for a
 * short while, and puts those it does not take back in view before it answers.
 */
export interface DeadLetterQueue {
  /** SQS's approximate count of the messages in the queue, in view or not. */
  approximateCount(): Promise<number>;
  /**
   * Up to `limit` messages from the head of the queue, all put back in view: the queue is left as it was, except
   * that each look counts as a receive. Stops at `deadlineMs` (epoch ms) with what it has.
   */
  peek(limit: number, deadlineMs: number): Promise<readonly DeadLetter[]>;
  /** Deletes the chosen messages. */
  remove(choice: DeadLetterChoice, deadlineMs: number): Promise<DeadLetterScan>;
}

export type RedriveAllResult =
  /** SQS moves the messages itself, in the background, at up to 500 a second. */
  | { readonly via: 'move-task'; readonly taskHandle: string }
  /** Received and sent again by this call; `complete` is false when the deadline came first. */
  | { readonly via: 'resend'; readonly moved: number; readonly complete: boolean };

/** An SQS message move task, as ListMessageMoveTasks reports it. */
export interface MoveTask {
  readonly taskHandle?: string;
  /** RUNNING, COMPLETED, CANCELLING, CANCELLED or FAILED. */
  readonly status: string;
  readonly moved: number;
  readonly toMove?: number;
  readonly startedAt: string;
  readonly failureReason?: string;
}

/** A dead-letter queue whose messages can go back to the queue they came from. */
export interface RedrivableDeadLetterQueue extends DeadLetterQueue {
  /**
   * Sends the chosen messages back to the source queue with their body and attributes (plus
   * `paritysync-replay` = `redrive`), deleting each here once sent.
   */
  redrive(choice: DeadLetterChoice, deadlineMs: number): Promise<DeadLetterScan>;
  /** Every message back to the source queue: SQS's own move task where configured, else receive and resend. */
  redriveAll(deadlineMs: number): Promise<RedriveAllResult>;
  /** The latest move task from this queue; undefined where move tasks are not configured or none ran. */
  latestMoveTask(): Promise<MoveTask | undefined>;
}

/** The message attribute that marks a message sent again by a redrive (or a replay job, with its id). */
export const REPLAY_ATTRIBUTE = 'paritysync-replay';
/** The replay attribute's value on a message a redrive sent back: a mark for the logs, not a replay job. */
export const REDRIVE_MARK = 'redrive';

/** A retained canonical event as the ledger kept it, with the fields the events queue's attributes carry. */
export interface RetainedEvent {
  readonly eventId: string;
  readonly sourceId: string;
  readonly type: string;
  /** The event's JSON exactly as it was first queued. */
  readonly json: string;
}

/** Sends retained events back to the events queue, each marked with REPLAY_ATTRIBUTE = `replay`. */
export interface ReplayEventQueue {
  replay(events: readonly RetainedEvent[], replay: string): Promise<void>;
}

/** The replay jobs' work queue: each message asks the worker to do the next page of one job. */
export interface ReplayWorkQueue {
  send(jobId: string): Promise<void>;
}
