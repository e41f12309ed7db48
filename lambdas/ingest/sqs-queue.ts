import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { CanonicalEvent } from '../domain/canonical';
import type { EventQueue } from './ports';

/**
 * Puts canonical events on the events queue as JSON. The id, source and type also travel as message attributes
 * so that consumers and operators can route or filter without parsing the body.
 */
export class SqsEventQueue implements EventQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(event: CanonicalEvent): Promise<{ readonly messageId: string }> {
    const { MessageId } = await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(event),
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
    return { messageId: MessageId };
  }
}
