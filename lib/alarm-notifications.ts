import { Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import * as z from 'zod/mini';
import { ConfigurationError } from '../lambdas/shared/errors';

export interface AlarmNotificationsProps {
  /**
   * Addresses subscribed by email to a topic this construct creates. Each address receives a confirmation
   * message from AWS and gets nothing until it confirms.
   * @default no new topic
   */
  readonly emails?: readonly string[];
  /**
   * An existing SNS topic (for a pager, chat or ticketing integration) the alarms notify instead.
   * @default no existing topic
   */
  readonly topicArn?: string;
}

const EmailSchema = z.email();

/**
 * Where ParitySync's alarms send their notifications: a new SNS topic with email subscriptions, or an existing
 * topic. With neither, the alarms show on the dashboard and in the CloudWatch console only.
 */
export class AlarmNotifications extends Construct {
  /** The topic the alarms notify, when there is one. */
  readonly topic?: sns.ITopic;
  /** The alarm and OK action every alarm takes, when there is a topic. */
  readonly action?: cloudwatch.IAlarmAction;

  constructor(scope: Construct, id: string, props: AlarmNotificationsProps = {}) {
    super(scope, id);
    const emails = props.emails ?? [];
    if (emails.length > 0 && props.topicArn !== undefined) {
      throw new ConfigurationError(
        'Alarm notifications take either email addresses (a new topic) or an existing topic ARN, not both. ' +
          'Subscribe the addresses to the existing topic instead, or drop the topic ARN.',
      );
    }
    const invalid = emails.filter((email) => !z.safeParse(EmailSchema, email).success);
    if (invalid.length > 0) {
      throw new ConfigurationError(
        `Alarm email addresses must be addresses such as ops@example.com; received ${invalid.map((e) => JSON.stringify(e)).join(', ')}.`,
      );
    }
    if (props.topicArn !== undefined) {
      this.topic = sns.Topic.fromTopicArn(this, 'Topic', props.topicArn);
    } else if (emails.length > 0) {
      const topic = new sns.Topic(this, 'Topic', {
        displayName: 'ParitySync alarms',
        // Alarm messages carry metric names and thresholds only; TLS is still required of every publisher.
        enforceSSL: true,
      });
      for (const email of emails) topic.addSubscription(new subscriptions.EmailSubscription(email));
      Validations.of(topic).acknowledge({
        id: 'NIST.800.53.R5-SNSEncryptedKMS',
        reason:
          'Alarm notifications carry alarm names, states and metric values, never guest data; CloudWatch would ' +
          'need a key policy of its own to publish to an encrypted topic',
      });
      Validations.of(topic).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason: 'Email subscriptions: SNS retries delivery itself, and the alarm stays visible in CloudWatch',
      });
      this.topic = topic;
    }
    if (this.topic !== undefined) this.action = new cloudwatchActions.SnsAction(this.topic);
  }
}
