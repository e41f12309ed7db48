import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { CanonicalEvent } from '../domain/canonical';
import type { EventQueue } from './ports';

/**
 * Puts canonical events on the events queue as JSON. The id, source and type also travel as message attributes
 * so that consumers and operators can route or filter without parsing the body.
 *
 * The body is ASCII: every other character is written as a JSON `\uXXXX` escape (a character outside the Basic
 * Multilingual Plane as its two surrogate escapes). SQS accepts any Unicode, but the local SQS emulator refuses
 * characters outside the BMP, and one body for both keeps local runs and AWS alike; JSON.parse reads it back
 * unchanged.
 */
export class SqsEventQueue implements EventQueue {
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
