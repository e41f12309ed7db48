import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { CanonicalEvent } from '../domain/canonical';
import {
  type EventQueue,
  REPLAY_ATTRIBUTE,
  type ReplayEventQueue,
  type ReplayWorkQueue,
  type RetainedEvent,
} from './ports';
import { sendInBatches } from './sqs-batches';

/**
 * Puts canonical events on the events queue as JSON. The id, source and type also travel as message attributes
 * so that consumers and operators can route or filter without parsing the body.
 *
 * The body is ASCII: every other character is written as a JSON `\uXXXX` escape (a character outside the Basic
 * Multilingual Plane as its two surrogate escapes). SQS accepts any Unicode, but the local SQS emulator refuses
 * characters outside the BMP, and one body for both keeps local runs and AWS alike; JSON.parse reads it back
 * unchanged.
 */
export class SqsEventQueue implements EventQueue, ReplayEventQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(event: CanonicalEvent): Promise<{ readonly messageId: string; readonly body: string }> {
    const body = asciiJson(event);
    const { MessageId } = await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: body,
        MessageAttributes: {
          eventId: { DataType: 'String', StringValue: event.eventId },
          sourceId: { DataType: 'String', StringValue: event.sourceId },
          type: { DataType: 'String', StringValue: event.type },
        },
      }),
    );
    if (MessageId === undefined) {
      throw new Error(`SQS accepted event ${event.eventId} but returned no MessageId`);
    }
    return { messageId: MessageId, body };
  }

  /**
   * Ten events per SendMessageBatch. An entry SQS refuses fails the call once the other batches are sent: the
   * caller sends the whole page again, and the events already queued are absorbed by apply.
   */
  async replay(events: readonly RetainedEvent[], replay: string): Promise<void> {
    const refused = await sendInBatches(
      this.client,
      this.queueUrl,
      events,
      (event) => ({
        MessageBody: event.json,
        MessageAttributes: {
          eventId: { DataType: 'String', StringValue: event.eventId },
          sourceId: { DataType: 'String', StringValue: event.sourceId },
          type: { DataType: 'String', StringValue: event.type },
          [REPLAY_ATTRIBUTE]: { DataType: 'String', StringValue: replay },
        },
      }),
      (event, position) => event?.eventId ?? `#${position}`,
    );
    if (refused.length > 0) {
      throw new Error(`SQS refused ${refused.length} replayed events: ${refused.join(', ')}`);
    }
  }
}

/** The replay work queue: a message `{ "jobId": … }` per page still to do. */
export class SqsReplayWorkQueue implements ReplayWorkQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(jobId: string): Promise<void> {
    await this.client.send(
      new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify({ jobId }) }),
    );
  }
}

const NON_ASCII = /[\u0080-\uffff]/g;

/** JSON.stringify, with every non-ASCII UTF-16 unit escaped; JSON.stringify already escapes lone surrogates. */
export function asciiJson(value: unknown): string {
  const json = JSON.stringify(value);
  return json.replace(NON_ASCII, escapeUnit);
}

function escapeUnit(unit: string): string {
  return `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`;
}
