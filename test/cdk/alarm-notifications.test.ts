import { Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../lambdas/shared/errors';
import { synthStack } from './app';

const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:ops-pager';

function alarmsOf(template: Template) {
  return Object.values(template.findResources('AWS::CloudWatch::Alarm')) as {
    Properties: { AlarmActions?: unknown[]; OKActions?: unknown[] };
  }[];
}

describe('alarm notifications', () => {
  it('creates a topic with one email subscription per address, and every alarm notifies it both ways', () => {
    const { template } = synthStack({ alarmEmails: ['ops@example.com', 'revenue@example.com'] });
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::SNS::Subscription', 2);
    for (const email of ['ops@example.com', 'revenue@example.com']) {
      template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: email });
    }
    const topicId = Object.keys(template.findResources('AWS::SNS::Topic'))[0] as string;
    const alarms = alarmsOf(template);
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: topicId }]);
    }
    template.hasOutput('AlarmTopicArn', { Value: { Ref: topicId } });
  });

  it('refuses publishing to the new topic over plain HTTP', () => {
    const { template } = synthStack({ alarmEmails: ['ops@example.com'] });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('uses an existing topic as it is, creating none', () => {
    const { template } = synthStack({ alarmTopicArn: TOPIC_ARN });
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    for (const alarm of alarmsOf(template)) expect(alarm.Properties.AlarmActions).toEqual([TOPIC_ARN]);
    template.hasOutput('AlarmTopicArn', { Value: TOPIC_ARN });
  });

  it('creates no topic and no output when neither is given', () => {
    const { template } = synthStack();
    template.resourceCountIs('AWS::SNS::Topic', 0);
    expect(Object.keys(template.findOutputs('AlarmTopicArn'))).toEqual([]);
  });

  it('refuses addresses and a topic together, and says what to do instead', () => {
    expect(() => synthStack({ alarmEmails: ['ops@example.com'], alarmTopicArn: TOPIC_ARN })).toThrow(
      ConfigurationError,
    );
    expect(() => synthStack({ alarmEmails: ['ops@example.com'], alarmTopicArn: TOPIC_ARN })).toThrow(
      /either email addresses .* or an existing topic ARN/,
    );
  });

  it('refuses an address that is not one, naming it', () => {
    expect(() => synthStack({ alarmEmails: ['ops@example.com', 'not-an-address'] })).toThrow(
      /"not-an-address"/,
    );
  });
});
