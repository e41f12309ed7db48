import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENTS_DLQ, EVENTS_QUEUE, type QueueDefinition } from '../lambdas/shared/topology';
import type { PersonalDataKey } from './personal-data-key';

export interface EventQueuesProps {
  /**
   * Keep the queues, and any events still in them, when the stack is deleted.
   * Set `false` only for throw-away development stacks.
   * @default true
   */
  readonly retain?: boolean;
  /**
   * Encrypts both queues: queued events carry guest ids for up to the queues' retention, so they sit under the
   * key that makes guest-linked data unreadable when disabled. Producers and consumers are granted its use.
   * @default SQS-managed encryption
   */
  readonly encryptionKey?: PersonalDataKey;
}

/**
 * The canonical events queue the edge enqueues to, and its dead-letter queue. Sizes, retention, visibility
 * and redrive come from the shared topology so that the local runtime's queues behave the same.
 */
export class EventQueues extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly encryptionKey?: PersonalDataKey;

  constructor(scope: Construct, id: string, props: EventQueuesProps = {}) {
    super(scope, id);
    const removalPolicy = (props.retain ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.encryptionKey = props.encryptionKey;
    const encryption: Partial<sqs.QueueProps> = props.encryptionKey
      ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.encryptionKey }
      : {};

    this.deadLetterQueue = new sqs.Queue(this, EVENTS_DLQ.id, {
      ...queueProps(EVENTS_DLQ),
      ...encryption,
      removalPolicy,
    });

    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason:
        'This is the dead-letter queue; operators inspect, redrive or delete its messages through the API',
    });

    const { maxReceiveCount } = EVENTS_QUEUE;
    if (maxReceiveCount === undefined || EVENTS_QUEUE.deadLetterQueue !== EVENTS_DLQ.id) {
      throw new Error(`topology: ${EVENTS_QUEUE.id} must redrive to ${EVENTS_DLQ.id} with a maxReceiveCount`);
    }
    this.queue = new sqs.Queue(this, EVENTS_QUEUE.id, {
      ...queueProps(EVENTS_QUEUE),
      ...encryption,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
      removalPolicy,
    });
  }

  /**
   * Lets the grantee send events to the events queue and nothing else. `sqs:SendMessage` also covers
   * SendMessageBatch. `grantSendMessages` would add GetQueueAttributes and GetQueueUrl, which a producer that
   * is given the queue URL never calls.
   */
  grantEnqueue(grantee: iam.IGrantable): iam.Grant {
    return this.withKey(this.queue.grant(grantee, 'sqs:SendMessage'), (key) => key.grantQueueSend(grantee));
  }

  /**
   * Lets the grantee put parked events back on the events queue once the mapping they wait for exists.
   * The same single action as `grantEnqueue`, named for the consumer's and the operator API's purpose.
   * Consuming is granted by the Lambda event source mapping itself.
   */
  grantRequeue(grantee: iam.IGrantable): iam.Grant {
    return this.grantEnqueue(grantee);
  }

  /**
   * Lets the grantee look at the DLQ and send its messages back: receive them (SQS has no peek) and put them
   * back in view, delete those sent back or given up, count them, and start and follow SQS's move task, which
   * receives, deletes and reads the queue's attributes with the caller's own rights. Sending to the events queue
   * is `grantRequeue`'s.
   */
  grantDeadLetterRedrive(grantee: iam.IGrantable): iam.Grant {
    const grant = this.deadLetterQueue.grant(
      grantee,
      ...DEAD_LETTER_INSPECT_ACTIONS,
      'sqs:StartMessageMoveTask',
      'sqs:ListMessageMoveTasks',
    );
    return this.withKey(grant, (key) => key.grantDecryptVia(grantee, 'sqs'));
  }

  /** A queue grant plus the key use it needs when the queues are under the personal-data key. */
  private withKey(grant: iam.Grant, keyGrant: (key: PersonalDataKey) => iam.Grant): iam.Grant {
    return this.encryptionKey ? grant.combine(keyGrant(this.encryptionKey)) : grant;
  }
}

/**
 * Looking at a dead-letter queue: receive its messages (SQS has no peek) and put them back in view, delete them,
 * count them.
 */
export const DEAD_LETTER_INSPECT_ACTIONS: readonly string[] = [
  'sqs:ReceiveMessage',
  'sqs:ChangeMessageVisibility',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
];

/** Queue settings from a topology definition, shared by every construct that owns a queue. */
export function queueProps(definition: QueueDefinition): sqs.QueueProps {
  return {
    maxMessageSizeBytes: definition.maximumMessageSizeBytes,
    retentionPeriod: Duration.seconds(definition.retentionSeconds),
    visibilityTimeout: Duration.seconds(definition.visibilityTimeoutSeconds),
    // SQS-managed SSE unless the owner names a key: encrypted at rest with no KMS key to grant.
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
  };
}
